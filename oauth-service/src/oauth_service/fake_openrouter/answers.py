"""What the fake models say and draw (pure): the canned behaviours behind a chat completion.

Text models describe the newest image they decoded (its size and average colour), so a test can
tell the image really arrived. Image-output models return that image with its colours inverted.
A request body is checked the way OpenRouter rejects bad ones (400) before any of that.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, ImageStat

from oauth_service.fake_openrouter.catalogue import MODELS_BY_ID
from oauth_service.fake_openrouter.state import OpenRouterError

# What Gemini bills per input image and per generated image, so the usage looks like a real one.
IMAGE_INPUT_TOKENS = 258
IMAGE_OUTPUT_TOKENS = 1290
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}
DATA_URL = re.compile(r"data:(?P<type>[\w.+/-]+);base64,(?P<data>.*)", re.DOTALL)


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
