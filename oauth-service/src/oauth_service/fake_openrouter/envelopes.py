"""The shapes OpenRouter wraps a completion in (pure): ids, chunks, ``usage`` and the mid-stream error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oauth_service.fake_openrouter.answers import IMAGE_OUTPUT_TOKENS, Answer

PROVIDER = "FakeProvider"

# The shape docs/api_reference/streaming.mdx gives; errors-and-debugging.mdx shows a numeric `code`
# for the same event, so a client must not rely on the type of `code`, only on `error` being there.
MIDSTREAM_ERROR = {
    "code": "server_error",
    "message": "Provider disconnected unexpectedly",
    "metadata": {"error_type": "provider_unavailable"},
}


def usage(model: dict[str, Any], result: Answer) -> dict[str, Any]:
    """``usage`` as OpenRouter reports it, with ``cost`` in USD from the model's prices."""
    pricing = model["pricing"]
    cost = result.prompt_tokens * float(pricing["prompt"]) + result.completion_tokens * float(
        pricing["completion"]
    )
    return {
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "total_tokens": result.prompt_tokens + result.completion_tokens,
        "cost": round(cost, 10),
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0, "audio_tokens": 0},
        "cost_details": {"upstream_inference_cost": None},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "image_tokens": IMAGE_OUTPUT_TOKENS * len(result.images),
        },
    }


@dataclass(frozen=True)
class Generation:
    """The envelope every completion and chunk of one request shares."""

    id: str
    created: int
    model: str

    def envelope(self, kind: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": PROVIDER,
            "model": self.model,
            "object": kind,
            "created": self.created,
        }

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {
            "index": 0,
            "delta": {"role": "assistant", **delta},
            "finish_reason": finish_reason,
            "native_finish_reason": finish_reason,
            "logprobs": None,
        }
        return {**self.envelope("chat.completion.chunk"), "choices": [choice]}
