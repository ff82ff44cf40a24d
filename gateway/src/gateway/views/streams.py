"""A NATS stream relayed to the browser as Server-Sent Events (the AI chat, batches).

An error before the first message is an ordinary JSON error (so 4xx statuses and Retry-After
reach the browser as such); a later one is an ``error`` event. When the browser goes away the
NATS stream is left, which cancels the work at the service.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from pydantic import BaseModel, Field

from gateway import keys
from gateway.http import ErrorDetail, retry_after
from gateway.views.common import cancel_on_disconnect
from imagetools_common.contracts.base import Chunk, End, Req, StreamEndpoint
from imagetools_common.errors import DomainError, Internal
from imagetools_common.logs import get_logger

log = get_logger("gateway.streams")

# An event name and its body.
SseEvent = tuple[str, BaseModel]


class StreamErrorDetail(ErrorDetail):
    retry_after: int | None = Field(
        description="Seconds to wait before asking again; null when any time will do"
    )


class StreamError(BaseModel):
    """A stream's `error` event: it failed after it began (what was not finished was not saved)."""

    error: StreamErrorDetail


def sse(event: str, data: BaseModel) -> bytes:
    return f"event: {event}\ndata: {data.model_dump_json()}\n\n".encode()


def _error_event(error: DomainError, request_id: str | None) -> bytes:
    detail = StreamErrorDetail(
        code=error.code, message=error.message, request_id=request_id, retry_after=retry_after(error)
    )
    return sse("error", StreamError(error=detail))


async def relay(
    request: web.Request,
    endpoint: StreamEndpoint[Req, Chunk, End],
    wanted: Req,
    chunk_event: Callable[[Chunk], SseEvent],
    end_event: Callable[[End], SseEvent],
) -> web.StreamResponse:
    """Run ``endpoint``'s stream and relay each chunk, then the end, as SSE events."""
    request_id = request.get(keys.REQUEST_ID)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )

    async def keep_alive() -> None:
        if response.prepared:  # a comment line: keeps proxies from timing the stream out
            await response.write(b": keep-alive\n\n")

    async with (
        cancel_on_disconnect(request),
        request.app[keys.RPC].stream(endpoint, wanted, on_keepalive=keep_alive) as stream,
    ):
        chunks = aiter(stream)
        first = await anext(chunks, None)  # an error before the first message is a JSON error
        await response.prepare(request)
        try:
            if first is not None:
                await response.write(sse(*chunk_event(first)))
            async for chunk in chunks:
                await response.write(sse(*chunk_event(chunk)))
            assert stream.result is not None
            await response.write(sse(*end_event(stream.result)))
        except DomainError as error:
            await response.write(_error_event(error, request_id))
        except ConnectionResetError:
            # The browser stopped reading (stop, cancel, a closed tab): leaving the block cancels the work.
            log.info("browser went away; stopping its stream", path=request.path)
            return response
        except Exception:
            log.exception("stream relay failed")
            await response.write(_error_event(Internal("something went wrong on our side"), request_id))
    await response.write_eof()
    return response
