"""``POST /api/v1/chat/completions`` as OpenRouter answers it, and the models the fake answers as.

Text models describe the newest image they decoded (its size and average colour), so a test can
tell the image really arrived. Image-output models return that image with its colours inverted.
The response shapes, the SSE framing, the final usage chunk and the mid-stream error chunk follow
OpenRouter's streaming, errors and limits docs.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from PIL import Image, ImageOps, ImageStat

from oauth_service.fake_openrouter.state import RECORD, RELEASE, STATE, ApiKey, Mode, OpenRouterError

PROVIDER = "FakeProvider"
# What Gemini bills per input image and per generated image, so the usage looks like a real one.
IMAGE_INPUT_TOKENS = 258
IMAGE_OUTPUT_TOKENS = 1290
WORDS_PER_CHUNK = 3
KEEPALIVE = b": OPENROUTER PROCESSING\n\n"
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}
DATA_URL = re.compile(r"data:(?P<type>[\w.+/-]+);base64,(?P<data>.*)", re.DOTALL)
CHAT_MODES = frozenset(Mode) - {Mode.OK}

# The shape docs/api_reference/streaming.mdx gives; errors-and-debugging.mdx shows a numeric `code`
# for the same event, so a client must not rely on the type of `code`, only on `error` being there.
MIDSTREAM_ERROR = {
    "code": "server_error",
    "message": "Provider disconnected unexpectedly",
    "metadata": {"error_type": "provider_unavailable"},
}


def _model(
    model_id: str, name: str, inputs: list[str], outputs: list[str], prompt: str, completion: str
) -> dict[str, Any]:
    """One catalogue entry in the shape of ``GET /api/v1/models``; prices are USD per token, as strings."""
    return {
        "id": model_id,
        "canonical_slug": model_id,
        "hugging_face_id": "",
        "name": name,
        "created": 1750000000,
        "description": f"{name}, as served by the fake OpenRouter.",
        "context_length": 131072,
        "architecture": {
            "modality": f"{'+'.join(inputs)}->{'+'.join(outputs)}",
            "input_modalities": inputs,
            "output_modalities": outputs,
            "tokenizer": "Other",
            "instruct_type": None,
        },
        "pricing": {
            "prompt": prompt,
            "completion": completion,
            "request": "0",
            "image": "0",
            "web_search": "0",
            "internal_reasoning": "0",
        },
        "top_provider": {"context_length": 131072, "max_completion_tokens": 32768, "is_moderated": False},
        "per_request_limits": None,
        "supported_parameters": ["max_completion_tokens", "max_tokens", "seed", "stop", "temperature"],
    }


# Real ids, so a configured default model works against the fake and the real service alike;
# the prices are fixed test data, not OpenRouter's.
MODELS = (
    _model("openai/gpt-4o-mini", "OpenAI: GPT-4o-mini", ["text", "image", "file"], ["text"],
           "0.00000015", "0.0000006"),
    _model("google/gemini-2.5-flash", "Google: Gemini 2.5 Flash", ["text", "image", "file"], ["text"],
           "0.0000003", "0.0000025"),
    _model("google/gemini-2.5-flash-image", "Google: Gemini 2.5 Flash Image", ["image", "text"],
           ["image", "text"], "0.0000003", "0.00003"),
    _model("black-forest-labs/flux.2-pro", "Black Forest Labs: FLUX.2 Pro", ["text", "image"], ["image"],
           "0", "0.00004"),
    _model("meta-llama/llama-3.3-70b-instruct", "Meta: Llama 3.3 70B Instruct", ["text"], ["text"],
           "0.0000001", "0.00000032"),
)  # fmt: skip
MODELS_BY_ID = {model["id"]: model for model in MODELS}


def _modalities(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


def filter_models(output_modalities: str | None, input_modalities: str | None) -> list[dict[str, Any]]:
    """The catalogue as ``GET /models`` filters it; output defaults to ``text``, as at OpenRouter.

    Undocumented, so chosen here: a model matches an output list when it produces any of them
    ("all" matches every model), and an input list when it accepts all of them.
    """
    outputs = _modalities(output_modalities) or {"text"}
    inputs = _modalities(input_modalities)
    return [
        model
        for model in MODELS
        if ("all" in outputs or outputs & set(model["architecture"]["output_modalities"]))
        and inputs <= set(model["architecture"]["input_modalities"])
    ]


@dataclass(frozen=True)
class ChatRequest:
    model: dict[str, Any]
    prompt: str  # the text of the last user message
    image_urls: list[str]  # every image_url in the conversation, oldest first
    text_chars: int  # all message text, for the token estimate
    stream: bool
    wants_image: bool  # `modalities` asks for images and the model can make them


def _invalid(message: str, error_type: str = "invalid_request") -> OpenRouterError:
    return OpenRouterError(400, message, {"error_type": error_type})


def _parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        return content
    raise _invalid("Each message needs `content`: a string or a list of parts", "invalid_prompt")


def parse_chat(body: Any) -> ChatRequest:
    """Validate a chat request body the way OpenRouter rejects bad ones (400)."""
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object")
    model = MODELS_BY_ID.get(str(body.get("model")))
    if model is None:
        raise _invalid(f"{body.get('model')} is not a valid model ID")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _invalid('Input required: specify "prompt" or "messages"')
    prompt, urls, chars = "", [], 0
    for message in messages:
        if not isinstance(message, dict):
            raise _invalid("Each message must be an object", "invalid_prompt")
        parts = _parts(message.get("content"))
        text = " ".join(str(part.get("text", "")) for part in parts if part.get("type") == "text")
        for part in parts:
            if part.get("type") == "image_url":
                url = (part.get("image_url") or {}).get("url")
                if not isinstance(url, str):
                    raise _invalid("An image_url part needs image_url.url", "invalid_prompt")
                urls.append(url)
        chars += len(text)
        if message.get("role") == "user":
            prompt = text
    modalities = body.get("modalities") or ["text"]
    # Without "image" in `modalities` an image model answers in text only (the docs' troubleshooting).
    wants_image = "image" in modalities and "image" in model["architecture"]["output_modalities"]
    return ChatRequest(model, prompt, urls, chars, body.get("stream") is True, wants_image)


def decode_image(url: str) -> Image.Image:
    """An input image from its data: URL; the declared type must match the bytes."""
    match = DATA_URL.fullmatch(url)
    if match is None:
        # OpenRouter would fetch an https URL; the fake never touches the network, and the
        # service must send only data: URLs it built itself anyway.
        raise _invalid("The fake OpenRouter accepts only data: image URLs", "invalid_image")
    image_format = IMAGE_FORMATS.get(match["type"])
    if image_format is None:
        raise _invalid(f"Unsupported image type {match['type']}", "unsupported_image_format")
    try:
        image = Image.open(io.BytesIO(base64.b64decode(match["data"], validate=True)), formats=[image_format])
        image.load()
    except (ValueError, OSError, Image.DecompressionBombError) as error:
        raise _invalid(f"Could not decode the {match['type']} image: {error}", "invalid_image") from error
    return image


def describe(image: Image.Image) -> str:
    """Size, format and average colour: enough for a test to know which image arrived."""
    colour = "".join(f"{round(channel):02x}" for channel in ImageStat.Stat(image.convert("RGB")).mean)
    return f"{image.width} × {image.height} {image.format} image, average colour #{colour}"


def invert(image: Image.Image) -> Image.Image:
    """The visible "edit": every colour inverted, transparency kept."""
    if not image.has_transparency_data:
        return ImageOps.invert(image.convert("RGB"))
    rgba = image.convert("RGBA")
    inverted = ImageOps.invert(rgba.convert("RGB"))
    inverted.putalpha(rgba.getchannel("A"))
    return inverted


def png_data_url(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@dataclass(frozen=True)
class Answer:
    text: str
    images: list[str]  # image URLs, data: unless the url_image mode is on
    prompt_tokens: int
    completion_tokens: int


def answer(chat: ChatRequest, url_image: str | None) -> Answer:
    """What the model says (and draws); CPU-bound, so the handler runs it in a thread."""
    decoded = [decode_image(url) for url in chat.image_urls]
    latest = decoded[-1] if decoded else None
    images: list[str] = []
    if chat.wants_image:
        if latest is None:  # generation from text alone: a plain square in a colour the prompt picks
            colour = tuple(hashlib.sha256(chat.prompt.encode()).digest()[:3])
            edited = Image.new("RGB", (256, 256), colour)
        else:
            edited = invert(latest)
        images.append(url_image or png_data_url(edited))
        text = f'I inverted the colours ({edited.width} × {edited.height}), as asked: "{chat.prompt}"'
        if "text" not in chat.model["architecture"]["output_modalities"]:
            text = ""
    elif latest is not None:
        text = f'I see a {describe(latest)}. You asked: "{chat.prompt}"'
    else:
        text = f'No image arrived. You asked: "{chat.prompt}"'
    return Answer(
        text,
        images,
        prompt_tokens=chat.text_chars // 4 + 1 + IMAGE_INPUT_TOKENS * len(decoded),
        completion_tokens=len(text) // 4 + 1 + IMAGE_OUTPUT_TOKENS * len(images),
    )


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
        return await _stream(request, chat, generation, result, api_key, midstream=mode is Mode.MIDSTREAM)
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


async def _event(response: web.StreamResponse, chunk: dict[str, Any]) -> None:
    # One `data:` line per event, however long: an image arrives as a single multi-MB line.
    await response.write(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")


def _pieces(text: str) -> list[str]:
    words = re.findall(r"\S+\s*", text)
    return ["".join(words[i : i + WORDS_PER_CHUNK]) for i in range(0, len(words), WORDS_PER_CHUNK)]


async def _stream(
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
