"""Streamed replies over NATS: chunks to the caller's inbox, then an end or an error; cancellable.

One stream, in order:

1. The caller subscribes to a fresh inbox and sends a normal micro request to the endpoint's
   subject with that inbox in the ``Stream-Inbox`` header (so "no responders" and malformed
   requests fail the way request/reply does).
2. The service answers that request at once with ``{"cancel": <subject>}`` and starts the work.
3. It publishes to the inbox, each message numbered (``Stream-Seq``, from 1) and typed
   (``Stream-Event``): ``chunk`` (a chunk model), ``keepalive`` (while the work is silent), and
   finally one ``end`` (the end model) or ``error`` (micro's error headers, as in request/reply).
4. Any message on the cancel subject makes the service cancel the work; nothing more is sent.

The caller treats a gap in the numbering or a silence longer than the endpoint's
``idle_timeout`` as a failure, and cancels the work whenever it stops listening early.

Heartbeat calls (``Endpoint.heartbeat``) are request/reply calls that borrow step 3's keep-alives:
the caller names an inbox in the ``Heartbeat-Inbox`` header, the service publishes ``keepalive``
messages to it every ``HEARTBEAT_INTERVAL`` seconds from the moment it receives the request, and
answers as usual. The caller gives the responder up after ``HEARTBEAT_LOST_AFTER`` seconds of
silence (a replica that was killed, or lost the bus), which a retrying client treats as a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, TypeVar

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from pydantic import BaseModel, ValidationError

from imagetools_common import db
from imagetools_common.contracts.base import Chunk, End, Req, StreamEndpoint, WireModel
from imagetools_common.errors import BadGateway, BadRequest, DomainError, Internal, UpstreamTimeout
from imagetools_common.logs import get_logger
from imagetools_common.rpc.headers import ERROR_CODE_HEADER, ERROR_HEADER, REQUEST_ID_HEADER
from imagetools_common.rpc.wire_errors import decode_error, encode_error

log = get_logger("imagetools.rpc.stream")

INBOX_HEADER = "Stream-Inbox"
HEARTBEAT_HEADER = "Heartbeat-Inbox"
EVENT_HEADER = "Stream-Event"
SEQ_HEADER = "Stream-Seq"
_INBOX_PREFIX = "_INBOX."

# What a streaming handler gets to send chunks with.
Emit = Callable[[BaseModel], Awaitable[None]]
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Started(WireModel):
    """The immediate reply to a stream request."""

    cancel: str


def valid_inbox(subject: str) -> bool:
    """Only a plain inbox: a caller must not make a service publish onto arbitrary subjects."""
    return (
        subject.startswith(_INBOX_PREFIX)
        and len(subject) <= 256
        and not any(c in subject for c in " \t\r\n*>")
    )


class _Outbox:
    """The service's side of one stream: numbered, typed messages to the caller's inbox."""

    def __init__(self, nc: NATS, inbox: str, request_id: str) -> None:
        self._nc = nc
        self._inbox = inbox
        self._request_id = request_id
        self._seq = 0

    async def send(self, event: str, data: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self._seq += 1
        await self._nc.publish(
            self._inbox,
            data,
            headers={
                EVENT_HEADER: event,
                SEQ_HEADER: str(self._seq),
                REQUEST_ID_HEADER: self._request_id,
                **(headers or {}),
            },
        )


@contextlib.asynccontextmanager
async def heartbeat(nc: NATS, inbox: str, request_id: str, interval: float) -> AsyncIterator[None]:
    """Keep-alive messages to ``inbox`` every ``interval`` seconds while the block runs."""
    outbox = _Outbox(nc, inbox, request_id)

    async def beat() -> None:
        # A bus that went away ends the beating: the caller then gives this call up, as it should.
        with contextlib.suppress(nats.errors.Error):
            while True:
                await outbox.send("keepalive")
                await asyncio.sleep(interval)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class Heartbeats:
    """The caller's side of a heartbeat call: an inbox to name, and a watch on the silence."""

    def __init__(self, nc: NATS, lost_after: float) -> None:
        self._nc = nc
        self._lost_after = lost_after
        self._heard = 0.0
        self.inbox = nc.new_inbox()

    async def __aenter__(self) -> Heartbeats:
        self._sub = await self._nc.subscribe(self.inbox, cb=self._on_beat)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        with contextlib.suppress(nats.errors.Error):
            await self._sub.unsubscribe()

    async def _on_beat(self, _msg: Msg) -> None:
        self._heard = asyncio.get_running_loop().time()

    async def watch(self, call: Awaitable[T], service: str) -> T:
        """``call``'s result, or UpstreamTimeout once the service was silent for ``lost_after``."""
        loop = asyncio.get_running_loop()
        self._heard = loop.time()  # the first beat leaves the service as soon as it has the request
        task = asyncio.ensure_future(call)
        try:
            while True:
                silent_for = loop.time() - self._heard
                if silent_for >= self._lost_after:
                    raise UpstreamTimeout(
                        f"{service} stopped answering ({self._lost_after:g} s without a heartbeat)"
                    )
                await asyncio.wait({task}, timeout=self._lost_after - silent_for)
                if task.done():
                    return task.result()
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


async def serve_stream(
    nc: NATS,
    endpoint: StreamEndpoint[Any, Any, Any],
    handler: Callable[[Any, Emit], Coroutine[Any, Any, BaseModel]],
    data: bytes,
    headers: dict[str, str],
    respond: Callable[[bytes], Awaitable[None]],
    request_id: str,
) -> str:
    """Run one streaming handler for a request; returns the outcome for the log line.

    Errors before the stream starts (no inbox, malformed request) are raised for the caller to
    answer as request/reply errors; every later failure travels as the stream's ``error``.
    """
    inbox = headers.get(INBOX_HEADER, "")
    if not valid_inbox(inbox):
        raise BadRequest(f"{endpoint.subject} needs a {INBOX_HEADER} header naming a reply inbox")
    try:
        request = endpoint.request.model_validate_json(data)
    except ValidationError as error:
        raise BadRequest(
            f"malformed {endpoint.subject} request",
            details={"errors": error.errors(include_url=False, include_input=False)},
        ) from None
    outbox = _Outbox(nc, inbox, request_id)

    async def emit(chunk: BaseModel) -> None:
        await outbox.send("chunk", chunk.model_dump_json().encode())

    cancelled = asyncio.Event()
    cancel_subject = nc.new_inbox()

    async def on_cancel(_msg: Msg) -> None:
        cancelled.set()

    sub = await nc.subscribe(cancel_subject, cb=on_cancel)
    work: asyncio.Task[BaseModel] = asyncio.create_task(handler(request, emit))
    try:
        await respond(Started(cancel=cancel_subject).model_dump_json().encode())
        waiter = asyncio.create_task(cancelled.wait())
        try:
            while not work.done():
                await asyncio.wait({work, waiter}, timeout=endpoint.idle_timeout / 3,
                                   return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                if cancelled.is_set():
                    work.cancel()
                    await asyncio.gather(work, return_exceptions=True)
                    return "cancelled"
                if not work.done():
                    await outbox.send("keepalive")
        finally:
            waiter.cancel()
        try:
            end = work.result()
        except DomainError as error:
            await outbox.send("error", *_error_parts(error))
            return error.code
        except Exception as error:
            if db.is_transient(error):  # part of a stream may have reached the caller: not repeated
                log.warning("database connection lost", error=type(error).__name__)
                await outbox.send("error", *_error_parts(db.unavailable()))
                return "service_unavailable"
            log.exception("stream handler failed")
            await outbox.send("error", *_error_parts(Internal("internal error")))
            return "internal"
        await outbox.send("end", end.model_dump_json().encode())
        return "ok"
    finally:
        await sub.unsubscribe()
        if not work.done():
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)


def _error_parts(error: DomainError) -> tuple[bytes, dict[str, str]]:
    code, message, body = encode_error(error)
    return body, {ERROR_CODE_HEADER: code, ERROR_HEADER: message}


class Stream(Generic[Req, Chunk, End]):
    """The caller's side: ``async with client.stream(endpoint, request) as s: async for chunk in s``.

    After the loop, ``result`` holds the end model. A failure the service reports is raised as
    its domain error; leaving the block before the end cancels the work at the service.
    """

    def __init__(
        self,
        nc: NATS,
        endpoint: StreamEndpoint[Req, Chunk, End],
        request: Req,
        send: Callable[[str, bytes, dict[str, str]], Awaitable[Msg]],
        request_id: str,
        on_keepalive: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._nc = nc
        self._endpoint = endpoint
        self._request = request
        self._send = send
        self._request_id = request_id
        self._on_keepalive = on_keepalive
        self._queue: asyncio.Queue[Msg] = asyncio.Queue()
        self._cancel: str | None = None
        self._seq = 0
        self._finished = False
        self.result: End | None = None

    async def __aenter__(self) -> Stream[Req, Chunk, End]:
        inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(inbox, cb=self._queue.put)
        try:
            headers = {REQUEST_ID_HEADER: self._request_id, INBOX_HEADER: inbox}
            msg = await self._send(self._endpoint.subject, self._request.model_dump_json().encode(), headers)
            error = decode_error(msg.headers or {}, msg.data)
            if error is not None:
                raise error
            try:
                self._cancel = Started.model_validate_json(msg.data).cancel
            except ValidationError:
                raise BadGateway(f"{self._endpoint.service.name} did not start the stream") from None
        except BaseException:
            await self._sub.unsubscribe()
            raise
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        try:
            if not self._finished:
                await self.cancel()
        finally:
            await self._sub.unsubscribe()

    async def cancel(self) -> None:
        """Ask the service to stop the work (it sends nothing more)."""
        self._finished = True
        if self._cancel is not None and self._nc.is_connected:
            await self._nc.publish(self._cancel, b"")

    def __aiter__(self) -> Stream[Req, Chunk, End]:
        return self

    async def __anext__(self) -> Chunk:
        endpoint = self._endpoint
        while not self._finished:
            try:
                msg = await asyncio.wait_for(self._queue.get(), endpoint.idle_timeout)
            except TimeoutError:
                await self.cancel()
                raise UpstreamTimeout(
                    f"{endpoint.service.name} went silent for {endpoint.idle_timeout:g} s"
                ) from None
            headers = msg.headers or {}
            self._seq += 1
            if headers.get(SEQ_HEADER) != str(self._seq):
                await self.cancel()
                raise BadGateway(f"the {endpoint.name} stream lost messages")
            event = headers.get(EVENT_HEADER)
            if event == "keepalive":
                if self._on_keepalive is not None:
                    await self._on_keepalive()
                continue
            if event == "chunk":
                return self._decode(endpoint.chunk, msg.data)
            self._finished = True
            if event == "end":
                self.result = self._decode(endpoint.end, msg.data)
                break
            raise decode_error(headers, msg.data) or BadGateway(f"the {endpoint.name} stream ended oddly")
        raise StopAsyncIteration

    def _decode(self, model: type[M], data: bytes) -> M:
        try:
            return model.model_validate_json(data)
        except ValidationError:
            name = self._endpoint.service.name
            raise BadGateway(f"{name} sent a malformed {self._endpoint.name} message") from None
