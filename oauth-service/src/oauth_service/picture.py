"""Images to and from models: what is sent (downscaled, re-encoded) and what is accepted back.

Pure and CPU-bound: callers run these in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

from PIL import Image, ImageOps

from imagetools_common.errors import BadGateway, UpstreamRefused

# OpenRouter's vision models take up to about this much; larger only costs more tokens and time.
MAX_SIDE = 1536
JPEG_QUALITY = 85
# Model output we accept: the type comes from the data: URL and must match the decoded bytes.
ACCEPTED = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
_DATA_URL = re.compile(r"data:(?P<type>[a-z0-9.+/-]+);base64,", re.IGNORECASE)
_MAX_PIXELS = 50_000_000


def for_model(data: bytes) -> str:
    """The image as a data: URL no larger than MAX_SIDE: JPEG, or PNG when it has transparency."""
    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened)
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if image.has_transparency_data:
        image.convert("RGBA").save(out, "PNG", optimize=False)
        mime = "image/png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY)
        mime = "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(out.getvalue()).decode()}"


def from_model(url: str, max_bytes: int) -> bytes:
    """The bytes of an image a model returned, after proving they decode as the type declared.

    Only ``data:`` URLs of PNG, JPEG or WebP are accepted; a link is refused and never fetched.
    """
    match = _DATA_URL.match(url)
    if match is None:
        shown = url.split(",", 1)[0][:60]
        raise BadGateway(
            f"The model answered with a link ({shown}) instead of an image; links are never fetched."
        )
    fmt = ACCEPTED.get(match["type"].lower())
    if fmt is None:
        kind = match["type"][:40]
        raise BadGateway(f"The model answered with a {kind} image; only PNG, JPEG and WebP are kept.")
    encoded = url[match.end() :]
    if len(encoded) > max_bytes * 4 // 3 + 4:
        raise BadGateway(f"The model's image is larger than the {max_bytes // (1024 * 1024)} MiB allowed.")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BadGateway("The model's image is not valid base64.") from None
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            if image.width * image.height > _MAX_PIXELS:
                raise BadGateway("The model's image has too many pixels.")
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise BadGateway(f"The model's image does not decode as {match['type']}.") from None
    return data


def refused_without_image(text: str) -> UpstreamRefused:
    said = f" It said: {text[:300]}" if text.strip() else ""
    return UpstreamRefused(f"The model did not return an image.{said}")
