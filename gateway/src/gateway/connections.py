"""Slow and silent clients: deadlines on every connection, enforced where aiohttp reads the socket.

aiohttp closes idle keep-alive connections, but waits as long as a client likes for a request
body that trickles in. ``GuardedRequestHandler`` (aiohttp's per-connection protocol) adds:

- a head deadline: the request line and headers must be complete within ``header_timeout`` of
  the connection opening, or of the first byte of the next request on a kept-alive connection;
- a body pace: while a handler is reading a body, every ``body_idle`` window must bring at least
  ``body_min_rate`` bytes a second on average, and at least one byte (a stalled upload). A window
  in which the gateway itself stopped reading (flow control, while a handler is busy with the
  previous file) does not count against the client.

- a response pace: while the client leaves a response unread (the socket's send buffer is full, so
  writing is paused), every ``body_idle`` window must see it take ``body_min_rate`` bytes a second
  on average, or the connection is closed (a client that asks for a large download and never reads
  it would otherwise hold the socket and the response's bytes forever).

A response the gateway is slow to produce (AI chat streams, ZIP downloads, background removal) is
never cut: only a client that stops reading is; idle keep-alive stays aiohttp's own ``keepalive_timeout``.
The protocol also answers aiohttp's own parse errors (a header line over 8 KiB, a malformed
request line: 400, text/plain) with the neutral ``Server`` header, logged at info without a
traceback: they are the client's mistake. See docs/SECURITY.md, "Slow and silent clients".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler, RequestPayloadError

from gateway import keys
from gateway.settings import GatewaySettings
from imagetools_common.logs import get_logger

log = get_logger("gateway.connections")

# Names the product, not the software and its version (nothing to look up in a CVE list).
SERVER_NAME = "ImageTools"


@dataclass(frozen=True)
class ClientLimits:
    header_timeout: float
    keepalive: float
    body_idle: float
    body_min_rate: int

    @classmethod
    def of(cls, settings: GatewaySettings) -> ClientLimits:
        return cls(
            header_timeout=settings.http_header_timeout_seconds,
            keepalive=settings.http_keepalive_seconds,
            body_idle=settings.http_body_idle_seconds,
            body_min_rate=settings.http_body_min_bytes_per_second,
        )


class GuardedRequestHandler(RequestHandler):
    """aiohttp's protocol for one connection, with the head deadline and the body pace above."""

    def __init__(self, manager: web.Server, limits: ClientLimits, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._limits = limits
        self._received = 0  # bytes read from the socket so far
        self._in_request = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._window_start = 0  # ``_received`` when the current body window began
        self._read_paused = False  # reading is paused by flow control now...
        self._held = False  # ...or was at some point in the current body window
        self._write_timer: asyncio.TimerHandle | None = None
        self._unsent = 0  # bytes waiting in the send buffer when the current write window began

    # Head deadline ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._start_head_deadline()

    def data_received(self, data: bytes) -> None:
        self._received += len(data)
        if data and not self._in_request and self._head_timer is None:
            self._start_head_deadline()  # the first byte of the next request on this connection
        super().data_received(data)

    def _start_head_deadline(self) -> None:
        self._head_timer = self._loop.call_later(self._limits.header_timeout, self._head_overdue)

    def _head_overdue(self) -> None:
        self._head_timer = None
        if not self._in_request:
            log.info(
                "closed a connection: no complete request head in time", seconds=self._limits.header_timeout
            )
            self.force_close()

    # Body pace ----------------------------------------------------------------------------

    def pause_reading(self) -> None:
        self._read_paused = self._held = True
        super().pause_reading()

    def resume_reading(self, resume_parser: bool = True) -> None:
        self._read_paused = False
        super().resume_reading(resume_parser)

    async def _handle_request(
        self,
        request: web.BaseRequest,
        start_time: float | None,
        request_handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]],
    ) -> tuple[web.StreamResponse, bool]:
        self._in_request = True
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if not request.content.is_eof():
            self._next_body_window(request.content)
        try:
            return await super()._handle_request(request, start_time, request_handler)
        finally:
            self._in_request = False
            if self._body_timer is not None:
                self._body_timer.cancel()
                self._body_timer = None

    def _next_body_window(self, body: StreamReader) -> None:
        self._window_start, self._held = self._received, self._read_paused
        self._body_timer = self._loop.call_later(self._limits.body_idle, self._check_body, body)

    def _check_body(self, body: StreamReader) -> None:
        self._body_timer = None
        if body.is_eof() or self.transport is None:
            return
        brought = self._received - self._window_start
        wanted = max(1.0, self._limits.body_min_rate * self._limits.body_idle)
        if brought < wanted and not self._held:
            log.info(
                "closed a connection: request body too slow",
                bytes=brought,
                seconds=self._limits.body_idle,
                min_bytes_per_second=self._limits.body_min_rate,
            )
            self.force_close()
            return
        self._next_body_window(body)

    # Response pace ------------------------------------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        self._next_write_window()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        super().connection_lost(exc)

    def _next_write_window(self) -> None:
        self._unsent = self.transport.get_write_buffer_size() if self.transport is not None else 0
        self._write_timer = self._loop.call_later(self._limits.body_idle, self._check_write)

    def _check_write(self) -> None:
        self._write_timer = None
        if self.transport is None:
            return
        taken = self._unsent - self.transport.get_write_buffer_size()
        if taken < max(1.0, self._limits.body_min_rate * self._limits.body_idle):
            log.info(
                "closed a connection: response read too slowly",
                bytes=max(taken, 0),
                seconds=self._limits.body_idle,
                min_bytes_per_second=self._limits.body_min_rate,
            )
            # abort, not close: a plain close waits to flush the very bytes the client will not read.
            self.transport.abort()
            self.force_close()
            return
        self._next_write_window()

    # aiohttp's own errors -----------------------------------------------------------------

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        response = super().handle_error(request, status, exc, message)
        response.headers[hdrs.SERVER] = SERVER_NAME
        return response

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        if isinstance(error, HttpProcessingError) and 400 <= error.code < 500:
            # The first line names the problem; the rest quotes the client's bytes.
            log.info(
                "refused a malformed request", status=error.code, reason=error.message.split("\n")[0][:200]
            )
            return
        if isinstance(error, RequestPayloadError):
            # The rest of an undecodable body, read after the 400 (aiohttp drains what is left).
            log.info("dropped an undecodable request body")
            return
        super().log_exception(*args, **kwargs)


class GuardedServer(web.Server):
    """aiohttp's server whose connections are ``GuardedRequestHandler``s."""

    def __init__(self, handler: Any, *, limits: ClientLimits, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.limits = limits

    def __call__(self) -> RequestHandler:
        return GuardedRequestHandler(self, self.limits, loop=self._loop, **self._kwargs)


class GuardedRunner(web.AppRunner):
    """An AppRunner serving through ``GuardedServer``: ``python -m gateway`` and the tests use it."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        self.limits = ClientLimits.of(app[keys.SETTINGS])
        super().__init__(app, keepalive_timeout=self.limits.keepalive, **kwargs)

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()  # runs the app's start-up and freezes it
        return GuardedServer(
            plain.request_handler, request_factory=plain.request_factory, limits=self.limits, **self._kwargs
        )
