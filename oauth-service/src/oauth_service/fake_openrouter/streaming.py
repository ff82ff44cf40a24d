"""A completion streamed as OpenRouter streams it (Server-Sent Events).

Keep-alive comments, deltas of a few words, the images, a usage chunk and ``[DONE]``; or, in the
mid-stream failure mode, half the text and then the error event.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web

from oauth_service.fake_openrouter.answers import Answer, ChatRequest
from oauth_service.fake_openrouter.envelopes import MIDSTREAM_ERROR, Generation, usage
from oauth_service.fake_openrouter.state import RECORD, STATE, ApiKey

WORDS_PER_CHUNK = 3
KEEPALIVE = b": OPENROUTER PROCESSING\n\n"


async def _event(response: web.StreamResponse, chunk: dict[str, Any]) -> None:
    # One `data:` line per event, however long: an image arrives as a single multi-MB line.
    await response.write(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")


def _pieces(text: str) -> list[str]:
    words = re.findall(r"\S+\s*", text)
    return ["".join(words[i : i + WORDS_PER_CHUNK]) for i in range(0, len(words), WORDS_PER_CHUNK)]


async def stream(
    request: web.Request,
    chat: ChatRequest,
    generation: Generation,
    result: Answer,
    api_key: ApiKey,
    *,
    midstream: bool,
) -> web.StreamResponse:
    """SSE as OpenRouter sends it: keep-alive comments, deltas, a usage chunk, then ``[DONE]``."""
    state = request.app[STATE]
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Generation-Id": generation.id,
    })  # fmt: skip
    await response.prepare(request)
    pieces = _pieces(result.text)
    try:
        await response.write(KEEPALIVE)
        for piece in pieces[: max(1, len(pieces) // 2)] if midstream else pieces:
            await _event(response, generation.chunk({"content": piece}))
            await asyncio.sleep(state.stream_delay)
        if midstream:
            failed = {"index": 0, "delta": {"content": ""}, "finish_reason": "error"}
            await _event(response, {**generation.envelope("chat.completion.chunk"), "error": MIDSTREAM_ERROR,
                                    "choices": [failed]})  # fmt: skip
            return response  # the stream ends after the error event: no usage chunk, no [DONE]
        if result.images:
            await response.write(KEEPALIVE)
            images = [{"type": "image_url", "image_url": {"url": url}, "index": index}
                      for index, url in enumerate(result.images)]  # fmt: skip
            await _event(response, generation.chunk({"content": "", "images": images}))
        finish = generation.chunk({"content": ""}, finish_reason="stop")
        await _event(response, finish)
        # Per the streaming docs, OpenRouter repeats the finishing choice on the usage chunk rather
        # than sending the `choices: []` OpenAI does; clients must accept both.
        used = usage(chat.model, result)
        await _event(response, {**finish, "usage": used})
        await response.write(b"data: [DONE]\n\n")
        api_key.usage += used["cost"]
    except ConnectionResetError:  # the client went away between two writes
        request[RECORD].aborted = True
    except asyncio.CancelledError:  # the client went away and the server cancelled this handler
        request[RECORD].aborted = True
        raise
    return response
