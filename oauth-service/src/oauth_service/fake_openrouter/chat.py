"""``POST /api/v1/chat/completions`` as OpenRouter answers it: the route that ties the fake together.

It parses the body (``answers.parse_chat``), applies the failure mode a test set (refusals before
any work, a slow answer, a mid-stream error), runs the canned behaviour (``answers.answer``) in a
thread and replies as JSON or as SSE (``streaming``). The response shapes, the SSE framing, the
final usage chunk and the mid-stream error chunk follow OpenRouter's streaming, errors and limits
docs (see ``envelopes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any

from aiohttp import web

from oauth_service.fake_openrouter.answers import answer, parse_chat
from oauth_service.fake_openrouter.envelopes import MIDSTREAM_ERROR, PROVIDER, Generation, usage
from oauth_service.fake_openrouter.state import RECORD, RELEASE, STATE, ApiKey, Mode, OpenRouterError
from oauth_service.fake_openrouter.streaming import stream

CHAT_MODES = frozenset(Mode) - {Mode.OK}


def _refuse(mode: Mode, api_key: ApiKey) -> None:
    """Raise the pre-stream error this mode (or an exhausted key) calls for."""
    if mode is Mode.UNAUTHORIZED:
        raise OpenRouterError(401, "User not found.")
    if mode is Mode.PAYMENT_REQUIRED:
        raise OpenRouterError(
            402,
            "Insufficient credits. Add more using https://openrouter.ai/credits",
            {
                "limit_source": "openrouter_credits",
                "remedy_hint": "Add credits at https://openrouter.ai/credits.",
            },
        )
    if api_key.limit_remaining is not None and api_key.limit_remaining <= 0:
        raise OpenRouterError(
            402,
            "Key limit exceeded. Raise the key's credit limit or wait for it to reset.",
            {
                "limit_source": "openrouter_key_limit",
                "remedy_hint": "Raise this key's limit at openrouter.ai.",
            },
        )
    if mode is Mode.RATE_LIMITED:
        raise OpenRouterError(
            429, "Rate limit exceeded", {"error_type": "rate_limit_exceeded"}, headers={"Retry-After": "2"}
        )
    if mode is Mode.UPSTREAM:
        raise OpenRouterError(
            502, "Provider returned error", {"error_type": "provider_unavailable", "provider_name": PROVIDER}
        )


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """Answer a chat completion, streamed as SSE when the body says ``"stream": true``."""
    state = request.app[STATE]
    api_key = state.key_for(request.headers.get("Authorization"))
    chat = parse_chat(request[RECORD].body)
    mode = state.take_mode(CHAT_MODES if chat.wants_image else CHAT_MODES - {Mode.URL_IMAGE})
    _refuse(mode, api_key)
    if mode is Mode.SLOW:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(request.app[RELEASE].wait(), state.slow_seconds)
    result = await asyncio.to_thread(answer, chat, state.url_image if mode is Mode.URL_IMAGE else None)
    created = int(state.clock())
    generation = Generation(f"gen-{created}-{secrets.token_hex(10)}", created, chat.model["id"])
    headers = {"X-Generation-Id": generation.id}
    if chat.stream:
        return await stream(request, chat, generation, result, api_key, midstream=mode is Mode.MIDSTREAM)
    if mode is Mode.MIDSTREAM:
        # The docs only say the error then comes in a 200 body; this mirrors the streamed error event.
        failed = {"index": 0, "message": {"role": "assistant", "content": ""}, "finish_reason": "error"}
        body = {**generation.envelope("chat.completion"), "error": MIDSTREAM_ERROR, "choices": [failed]}
        return web.json_response(body, headers=headers)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": result.text,
        "refusal": None,
        "reasoning": None,
    }
    if result.images:
        message["images"] = [{"type": "image_url", "image_url": {"url": url}} for url in result.images]
    choice = {"logprobs": None, "finish_reason": "stop", "native_finish_reason": "stop", "index": 0,
              "message": message}  # fmt: skip
    used = usage(chat.model, result)
    api_key.usage += used["cost"]
    body = {**generation.envelope("chat.completion"), "choices": [choice], "usage": used}
    return web.json_response(body, headers=headers)
