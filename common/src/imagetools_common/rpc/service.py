"""Declaring a service on ``nats.micro`` with typed handlers.

A handler is a plain ``async def handler(request: Req) -> Resp`` on contract models. This
wrapper decodes the body, binds the request id and subject for logging, runs the handler
concurrently (micro itself would serialise requests per subscription), and turns domain errors
into the micro error headers. Unexpected exceptions are logged and answered as ``internal``
without their text: stack traces never cross the bus. A heartbeat endpoint's caller hears a
keep-alive every second from receipt to reply (see rpc.streaming), and a database that went away
mid-request costs a repeat or a 503, never a 500 (see ``_call``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

import structlog
from nats.aio.client import Client as NATS
from nats.micro import add_service
from nats.micro.request import Request
from nats.micro.service import Service
from pydantic import BaseModel, ValidationError

from imagetools_common import db
from imagetools_common.contracts.base import (
    HEARTBEAT_INTERVAL,
    Endpoint,
    Event,
    Payload,
    ServiceSpec,
    StreamEndpoint,
)
from imagetools_common.errors import BadRequest, DomainError, Internal
from imagetools_common.logs import get_logger
from imagetools_common.rpc import frames
from imagetools_common.rpc.events import Subscriptions
from imagetools_common.rpc.headers import REQUEST_ID_HEADER, accept_request_id
from imagetools_common.rpc.retry import safe_to_retry
from imagetools_common.rpc.streaming import HEARTBEAT_HEADER, Emit, heartbeat, serve_stream, valid_inbox
from imagetools_common.rpc.wire_errors import encode_error

log = get_logger("imagetools.rpc")

# Lets the event loop see every pooled connection a restarted server closed before trying again.
_DB_RETRY_PAUSE = 0.1

# How long a stopping instance lets in-flight requests finish (compose's stop_grace_period is longer).
DRAIN_SECONDS = 30.0

# (request) -> reply, with a bytes argument and/or a (reply, bytes) result on binary endpoints.
Handler = Callable[..., Awaitable[Any]]
StreamHandler = Callable[[Any, Emit], Coroutine[Any, Any, Any]]


class RpcService:
    """One service instance: register typed handlers, ``start``, and ``stop`` to drain."""

    def __init__(self, nc: NATS, spec: ServiceSpec, *, max_concurrency: int = 64) -> None:
        self._nc = nc
        self._spec = spec
        self._handlers: list[tuple[Endpoint[Any, Any], Handler]] = []
        self._streams: list[tuple[StreamEndpoint[Any, Any, Any], Handler]] = []
        # A queue event reaches one replica of this service: the group is the service's name.
        self._events = Subscriptions(nc, spec.name)
        self._slots = asyncio.Semaphore(max_concurrency)
        self._inflight: set[asyncio.Task[None]] = set()
        self._micro: Service | None = None
        # Announced in $SRV.PING/INFO answers; set before ``start`` (e.g. "model", or "problem",
        # which makes the gateway's /health report this instance unhealthy with that reason).
        self.metadata: dict[str, str] = {}

    def add(self, endpoint: Endpoint[Any, Any], handler: Handler) -> None:
        if endpoint.service != self._spec:
            raise ValueError(f"{endpoint.subject} belongs to {endpoint.service.name}, not {self._spec.name}")
        self._handlers.append((endpoint, handler))

    def add_stream(
        self,
        endpoint: StreamEndpoint[Any, Any, Any],
        handler: Callable[[Any, Emit], Coroutine[Any, Any, Any]],
    ) -> None:
        """A streaming handler: ``async def handler(request, emit) -> end``; ``emit(chunk)`` sends chunks."""
        if endpoint.service != self._spec:
            raise ValueError(f"{endpoint.subject} belongs to {endpoint.service.name}, not {self._spec.name}")
        self._streams.append((endpoint, handler))

    def on(self, event: Event[Payload], handler: Callable[[Payload], Awaitable[None]]) -> None:
        """Handle ``event``: ``async def handler(payload) -> None`` (see rpc.events)."""
        self._events.add(event, handler)

    @property
    def id(self) -> str | None:
        return self._micro.id if self._micro else None

    async def start(self) -> None:
        self._micro = await add_service(
            self._nc,
            name=self._spec.name,
            version=self._spec.version,
            description=self._spec.description,
            metadata=self.metadata,
        )
        for endpoint, handler in self._handlers:
            await self._micro.add_endpoint(
                name=endpoint.name, subject=endpoint.subject, handler=self._dispatcher(endpoint, handler)
            )
        for stream, stream_handler in self._streams:
            await self._micro.add_endpoint(
                name=stream.name, subject=stream.subject, handler=self._dispatcher(stream, stream_handler)
            )
        await self._events.start()
        # Only report started once the server has every subscription: a caller may call at once.
        await self._nc.flush()
        count = len(self._handlers) + len(self._streams)
        log.info(
            "service started",
            name=self._spec.name,
            id=self._micro.id,
            endpoints=count,
            events=len(self._events),
        )

    async def stop(self, grace: float = DRAIN_SECONDS) -> None:
        """Stop taking requests (replicas take over), let in-flight ones finish, then stop hearing events."""
        if self._micro is not None:
            await self._stop_taking_requests(self._micro)
        if self._inflight:
            log.info("draining", inflight=len(self._inflight))
            _, pending = await asyncio.wait(self._inflight, timeout=grace)
            for task in pending:
                task.cancel()
        # Events last: a request still running may need one (a cancel) until it ends.
        await self._events.stop(grace)

    @staticmethod
    async def _stop_taking_requests(micro: Service) -> None:
        """Unsubscribe every endpoint without losing a request the server already routed here.

        micro's ``stop()`` unsubscribes endpoints at once, which drops requests already on their
        way (in the socket or the subscription's queue): each would wait out its caller's timeout.
        Draining first (UNSUB, a round trip, then every queued request is dispatched) hands each of
        them to a handler. nats-py has no public drain for micro endpoints, hence the private names.
        """
        endpoints, micro._endpoints = micro._endpoints, []
        await asyncio.gather(*(e._subscription.drain() for e in endpoints if e._subscription is not None))
        await micro.stop()  # the $SRV.PING/INFO/STATS subscriptions

    async def __aenter__(self) -> RpcService:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    @staticmethod
    def _decode(endpoint: Endpoint[Any, Any], data: bytes) -> tuple[Any, bytes | None]:
        """The request model as the contract says, and the raw body on binary endpoints."""
        if endpoint.request_body:
            return frames.unpack(data, endpoint.request)
        try:
            return endpoint.request.model_validate_json(data), None
        except ValidationError as error:
            raise BadRequest(
                f"malformed {endpoint.subject} request",
                details={"errors": error.errors(include_url=False, include_input=False)},
            ) from None

    @classmethod
    async def _call(cls, endpoint: Endpoint[Any, Any], handler: Handler, data: bytes) -> bytes:
        """Decode the request, run the handler (once more after a database blip when that is safe),
        encode its reply. An unsafe repeat becomes a 503: the unit of work was rolled back or not."""
        payload, body = cls._decode(endpoint, data)
        args = (payload,) if body is None else (payload, body)
        try:
            result = await handler(*args)
        except Exception as error:
            if not db.is_transient(error):
                raise
            safe = safe_to_retry(endpoint, payload)
            log.warning("database connection lost", error=type(error).__name__, trying_again=safe)
            if not safe:
                raise db.unavailable() from None
            await asyncio.sleep(_DB_RETRY_PAUSE)
            try:
                result = await handler(*args)
            except Exception as again:
                if db.is_transient(again):
                    raise db.unavailable() from None
                raise
        if endpoint.reply_body:
            model, blob = result
            return frames.pack(model, blob)
        reply: BaseModel = result
        return reply.model_dump_json().encode()

    def _dispatcher(
        self, endpoint: Endpoint[Any, Any] | StreamEndpoint[Any, Any, Any], handler: Handler
    ) -> Callable[[Request], Awaitable[None]]:
        async def on_request(request: Request) -> None:
            task = asyncio.create_task(self._handle(endpoint, handler, request))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

        return on_request

    async def _handle(
        self, endpoint: Endpoint[Any, Any] | StreamEndpoint[Any, Any, Any], handler: Handler, request: Request
    ) -> None:
        headers = request.headers or {}
        request_id = accept_request_id(headers.get(REQUEST_ID_HEADER))
        beats: contextlib.AbstractAsyncContextManager[None] = contextlib.nullcontext()
        inbox = headers.get(HEARTBEAT_HEADER, "")
        if isinstance(endpoint, Endpoint) and endpoint.heartbeat and valid_inbox(inbox):
            # From receipt, waiting for a slot included: the caller must not think this replica died.
            beats = heartbeat(self._nc, inbox, request_id, HEARTBEAT_INTERVAL)
        with structlog.contextvars.bound_contextvars(request_id=request_id, subject=endpoint.subject):
            async with beats, self._slots:
                started = time.perf_counter()
                outcome = "ok"
                try:
                    if isinstance(endpoint, StreamEndpoint):

                        async def respond(data: bytes) -> None:
                            await request.respond(data, headers={REQUEST_ID_HEADER: request_id})

                        outcome = await serve_stream(
                            self._nc, endpoint, cast(StreamHandler, handler), request.data, headers, respond,
                            request_id,
                        )  # fmt: skip
                    else:
                        reply = await self._call(endpoint, handler, request.data)
                        await request.respond(reply, headers={REQUEST_ID_HEADER: request_id})
                except DomainError as error:
                    outcome = error.code
                    await request.respond_error(*encode_error(error))
                except Exception:
                    outcome = "internal"
                    log.exception("handler failed")
                    await request.respond_error(*encode_error(Internal("internal error")))
                log.debug("rpc", outcome=outcome, ms=round((time.perf_counter() - started) * 1000, 1))
