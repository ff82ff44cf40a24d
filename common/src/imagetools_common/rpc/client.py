"""The typed caller: one ``call`` per endpoint, errors rebuilt as domain errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from pydantic import ValidationError

from imagetools_common.contracts.base import (
    HEARTBEAT_LOST_AFTER,
    Chunk,
    End,
    Endpoint,
    Event,
    Payload,
    Req,
    Resp,
    StreamEndpoint,
)
from imagetools_common.errors import BadGateway, BadRequest, ServiceUnavailable, UpstreamTimeout
from imagetools_common.rpc import events, frames
from imagetools_common.rpc.connection import on_disconnect
from imagetools_common.rpc.headers import REQUEST_ID_HEADER, current_request_id, new_request_id
from imagetools_common.rpc.streaming import HEARTBEAT_HEADER, Heartbeats, Stream
from imagetools_common.rpc.wire_errors import decode_error

_BUS_DOWN = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.errors.OutboundBufferLimitError,
)

# Pauses between attempts while nats-server reports no responders (see _request_with_responders).
_NO_RESPONDER_RETRIES = (0.01, 0.03, 0.1)


class RpcClient:
    """Calls endpoints over a NATS connection with the endpoint's timeout and the current request id."""

    def __init__(self, nc: NATS) -> None:
        self._nc = nc
        # One scope per request waiting for its reply, so that losing the connection ends them all.
        self._waiting: set[asyncio.Timeout] = set()
        on_disconnect(nc, self._abandon_waiting)

    def _abandon_waiting(self) -> None:
        """The connection dropped: the replies in flight went to its old inbox and never come.

        Measured with the gateway's NATS node killed under load: without this every request in
        flight waited 3.6-3.9 s (heartbeats) or its whole timeout. Ending them now turns them into
        "bus unavailable" errors, which the retrying client sends again where that is safe.
        """
        now = asyncio.get_running_loop().time()
        for scope in self._waiting:
            scope.reschedule(now)

    async def call(
        self, endpoint: Endpoint[Req, Resp], request: Req, *, timeout: float | None = None
    ) -> Resp:
        """A JSON request and a JSON reply."""
        data = await self._request(endpoint, request.model_dump_json().encode(), timeout)
        return self._decode(endpoint, data)

    async def send(
        self, endpoint: Endpoint[Req, Resp], request: Req, body: bytes, *, timeout: float | None = None
    ) -> Resp:
        """A request carrying raw bytes after its model (an upload), and a JSON reply."""
        data = await self._request(endpoint, frames.pack(request, body), timeout)
        return self._decode(endpoint, data)

    async def fetch(
        self, endpoint: Endpoint[Req, Resp], request: Req, *, timeout: float | None = None
    ) -> tuple[Resp, bytes]:
        """A JSON request and a reply carrying raw bytes after its model (a download)."""
        return await self.exchange(endpoint, request, None, timeout=timeout)

    async def exchange(
        self, endpoint: Endpoint[Req, Resp], request: Req, body: bytes | None, *, timeout: float | None = None
    ) -> tuple[Resp, bytes]:
        """Bytes both ways: the request's body (when the endpoint takes one) and the reply's."""
        if endpoint.request_body:
            payload = frames.pack(request, body or b"")
        else:
            payload = request.model_dump_json().encode()
        data = await self._request(endpoint, payload, timeout)
        try:
            return frames.unpack(data, endpoint.reply)
        except BadRequest:
            raise BadGateway(f"{endpoint.service.name} sent a malformed {endpoint.name} reply") from None

    async def publish(self, event: Event[Payload], payload: Payload) -> None:
        """Fire and forget ``event`` with the current request id (see rpc.events)."""
        await events.publish(self._nc, event, payload)

    def stream(
        self,
        endpoint: StreamEndpoint[Req, Chunk, End],
        request: Req,
        *,
        on_keepalive: Callable[[], Awaitable[None]] | None = None,
    ) -> Stream[Req, Chunk, End]:
        """A streamed reply: ``async with rpc.stream(ep, req) as s: async for chunk in s: ...``."""

        async def send(subject: str, payload: bytes, headers: dict[str, str]) -> Msg:
            return await self._send_checked(
                endpoint.service.name, subject, payload, endpoint.idle_timeout, headers
            )

        request_id = current_request_id() or new_request_id()
        return Stream(self._nc, endpoint, request, send, request_id, on_keepalive)

    async def _request(self, endpoint: Endpoint[Any, Any], payload: bytes, timeout: float | None) -> bytes:
        headers = {REQUEST_ID_HEADER: current_request_id() or new_request_id()}
        name, wait = endpoint.service.name, timeout or endpoint.timeout
        if endpoint.heartbeat:
            async with Heartbeats(self._nc, HEARTBEAT_LOST_AFTER) as beats:
                headers[HEARTBEAT_HEADER] = beats.inbox
                sent = self._send_checked(name, endpoint.subject, payload, wait, headers)
                msg = await beats.watch(sent, name)
        else:
            msg = await self._send_checked(name, endpoint.subject, payload, wait, headers)
        error = decode_error(msg.headers or {}, msg.data)
        if error is not None:
            raise error
        return bytes(msg.data)

    async def _send_checked(
        self, service: str, subject: str, payload: bytes, wait: float, headers: dict[str, str]
    ) -> Msg:
        """One request, with bus failures turned into domain errors."""
        if not self._nc.is_connected:
            # Fail fast: a request made while reconnecting would only sit in a buffer until it times out.
            raise ServiceUnavailable("the message bus is unavailable")
        lost = asyncio.timeout(None)  # expired by _abandon_waiting when the connection drops
        self._waiting.add(lost)
        try:
            async with lost:
                return await self._request_with_responders(subject, payload, wait, headers)
        except nats.errors.NoRespondersError:
            raise ServiceUnavailable(f"{service} is not available") from None
        except nats.errors.TimeoutError:
            raise UpstreamTimeout(f"{service} did not answer within {wait:g} s") from None
        except _BUS_DOWN:
            raise ServiceUnavailable("the message bus is unavailable") from None
        except TimeoutError:
            if lost.expired():
                raise ServiceUnavailable("the connection to the message bus was lost") from None
            raise
        finally:
            self._waiting.discard(lost)

    async def _request_with_responders(
        self, subject: str, payload: bytes, timeout: float, headers: dict[str, str]
    ) -> Msg:
        """``request``, retried briefly while the server reports no responders.

        nats-server can answer "no responders" for a few milliseconds after another connection's
        subscription was flushed (measured: under CPU load about 1 request in 15 right after a
        replica starts; a retry 10 ms later always reached it). The status guarantees nobody
        received the message, so sending it again is safe for any endpoint.
        """
        for pause in _NO_RESPONDER_RETRIES:
            try:
                return await self._nc.request(subject, payload, timeout=timeout, headers=headers)
            except nats.errors.NoRespondersError:
                await asyncio.sleep(pause)
        return await self._nc.request(subject, payload, timeout=timeout, headers=headers)

    @staticmethod
    def _decode(endpoint: Endpoint[Req, Resp], data: bytes) -> Resp:
        try:
            return endpoint.reply.model_validate_json(data)
        except ValidationError:
            raise BadGateway(f"{endpoint.service.name} sent a malformed {endpoint.name} reply") from None
