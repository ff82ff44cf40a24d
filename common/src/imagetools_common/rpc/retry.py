"""Retrying only what is safe to send again.

A request that timed out may or may not have been applied (the replica may have died after its
commit, before its reply), and "service unavailable" may come from a service as well as from
the bus. Sending it again is safe only for

- reads (``Endpoint.read_only``): asking twice changes nothing, and
- keyed mutations (a ``Keyed`` request with an ``idempotency_key``): the service records the key
  with the change in one transaction and answers a repeat with the first reply.

Everything else is tried once (besides the no-responders retry every call gets, which is safe
because nobody received the message). The pauses are few and short: a user is waiting, and one
replica dying leaves others in the same queue group ready at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from imagetools_common.contracts.base import Endpoint, Keyed, Req, Resp
from imagetools_common.errors import ServiceUnavailable, UpstreamTimeout
from imagetools_common.logs import get_logger
from imagetools_common.rpc.client import RpcClient
from imagetools_common.rpc.connection import on_reconnect

log = get_logger("imagetools.rpc")
T = TypeVar("T")

# Pauses before the second and third attempt, in seconds.
RETRY_PAUSES = (0.2, 1.0)
RETRYABLE = (ServiceUnavailable, UpstreamTimeout)


def safe_to_retry(endpoint: Endpoint[Any, Any], request: BaseModel) -> bool:
    """Whether sending ``request`` again can never apply it twice."""
    return endpoint.read_only or (isinstance(request, Keyed) and request.idempotency_key is not None)


class RetryingRpcClient(RpcClient):
    """An ``RpcClient`` that retries reads and keyed mutations on unavailability and timeouts."""

    def __init__(self, *args: Any, pauses: tuple[float, ...] = RETRY_PAUSES, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pauses = pauses
        # Set when the bus connection is back; pauses taken while it was down wait on it.
        self._link_back = asyncio.Event()
        on_reconnect(self._nc, self._link_back.set)

    async def call(
        self, endpoint: Endpoint[Req, Resp], request: Req, *, timeout: float | None = None
    ) -> Resp:
        return await self._retrying(
            endpoint, request, lambda: RpcClient.call(self, endpoint, request, timeout=timeout)
        )

    async def send(
        self, endpoint: Endpoint[Req, Resp], request: Req, body: bytes, *, timeout: float | None = None
    ) -> Resp:
        return await self._retrying(
            endpoint, request, lambda: RpcClient.send(self, endpoint, request, body, timeout=timeout)
        )

    # ``fetch`` goes through ``exchange``, so downloads are covered here too.
    async def exchange(
        self, endpoint: Endpoint[Req, Resp], request: Req, body: bytes | None, *, timeout: float | None = None
    ) -> tuple[Resp, bytes]:
        return await self._retrying(
            endpoint, request, lambda: RpcClient.exchange(self, endpoint, request, body, timeout=timeout)
        )

    async def _retrying(
        self, endpoint: Endpoint[Any, Any], request: BaseModel, attempt: Callable[[], Awaitable[T]]
    ) -> T:
        if not safe_to_retry(endpoint, request):
            return await attempt()
        for number, pause in enumerate(self._pauses, start=1):
            try:
                return await attempt()
            except RETRYABLE as error:
                log.warning(
                    "rpc retry", subject=endpoint.subject, attempt=number, reason=error.code, pause=pause
                )
                await self._pause(pause)
        return await attempt()

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the bus connection was down and is back sooner.

        A node failover or a whole-bus restart reconnects in 0.2-0.4 s: resending as soon as the
        connection is back, not at a fixed pause, is what keeps that outage that short.
        """
        if self._nc.is_connected:
            await asyncio.sleep(seconds)
            return
        if self._link_back.is_set():  # from an earlier outage
            self._link_back.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._link_back.wait()
