"""Events: fire-and-forget messages declared in the contracts (``contracts.base.Event``).

``publish`` sends the payload model with the current request id in the headers, as a request
carries it. ``Subscriptions`` (held by ``RpcService``, filled by ``RpcService.on``) decodes each
message into the event's model, binds request id and subject to the log context and runs the
handler as its own task, so a use case never sees a NATS message. A malformed payload is logged
at warning and dropped; a failing handler is logged with its name and the exception's type and
place, never the exception's text or a traceback (payloads hold user data); the subscription
lives on either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import ValidationError

from imagetools_common.contracts.base import Delivery, Event, Payload
from imagetools_common.logs import get_logger
from imagetools_common.rpc.headers import (
    REQUEST_ID_HEADER,
    accept_request_id,
    current_request_id,
    new_request_id,
)

log = get_logger("imagetools.rpc")

EventHandler = Callable[[Any], Awaitable[None]]

_BUS_DOWN = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionDrainingError,
    nats.errors.OutboundBufferLimitError,
)


async def publish(nc: NATS, event: Event[Payload], payload: Payload) -> None:
    """Send ``payload`` as ``event``; with the bus gone it is logged and lost (events are fire and forget)."""
    headers = {REQUEST_ID_HEADER: current_request_id() or new_request_id()}
    try:
        await nc.publish(event.subject, payload.model_dump_json().encode(), headers=headers)
    except _BUS_DOWN as error:
        log.warning("event not published", subject=event.subject, reason=type(error).__name__)


class Subscriptions:
    """The events one service instance handles; a queue event is shared by the service's replicas."""

    def __init__(self, nc: NATS, group: str) -> None:
        self._nc = nc
        self._group = group
        self._handlers: list[tuple[Event[Any], EventHandler]] = []
        self._subscriptions: list[Subscription] = []
        self._running: set[asyncio.Task[None]] = set()

    def add(self, event: Event[Any], handler: EventHandler) -> None:
        self._handlers.append((event, handler))

    def __len__(self) -> int:
        return len(self._handlers)

    async def start(self) -> None:
        for event, handler in self._handlers:
            queue = self._group if event.delivery is Delivery.QUEUE else ""
            self._subscriptions.append(
                await self._nc.subscribe(event.subject, queue=queue, cb=self._dispatcher(event, handler))
            )

    async def stop(self, grace: float) -> None:
        """Handle what already arrived, then stop listening and give running handlers ``grace`` seconds."""
        subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            with contextlib.suppress(*_BUS_DOWN):  # the connection is gone, and the subscription with it
                await subscription.drain()
        if self._running:
            _, pending = await asyncio.wait(self._running, timeout=grace)
            for task in pending:
                task.cancel()

    def _dispatcher(self, event: Event[Any], handler: EventHandler) -> Callable[[Msg], Awaitable[None]]:
        async def on_message(msg: Msg) -> None:
            task = asyncio.create_task(_handle(event, handler, msg))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

        return on_message


async def _handle(event: Event[Any], handler: EventHandler, msg: Msg) -> None:
    request_id = accept_request_id((msg.headers or {}).get(REQUEST_ID_HEADER))
    with structlog.contextvars.bound_contextvars(request_id=request_id, subject=event.subject):
        try:
            payload = event.payload.model_validate_json(msg.data)
        except ValidationError as error:
            fields = sorted({".".join(map(str, e["loc"])) or "(body)" for e in error.errors()})
            log.warning("malformed event dropped", fields=fields)
            return
        try:
            await handler(payload)
        except Exception as error:
            where = traceback.extract_tb(error.__traceback__)[-1]
            log.error(
                "event handler failed",
                handler=getattr(handler, "__qualname__", repr(handler)),
                error=type(error).__name__,
                at=f"{where.filename}:{where.lineno}",
            )
