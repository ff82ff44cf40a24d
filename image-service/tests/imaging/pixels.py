"""Reading pixels back in the imaging tests."""

from __future__ import annotations

import io
from typing import cast

from PIL import Image


def opened(data: bytes) -> Image.Image:
    """Encoded bytes as a loaded image."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def rgba(image: Image.Image, xy: tuple[int, int]) -> tuple[int, int, int, int]:
    """The pixel at xy as RGBA, whatever the image's mode."""
    return cast(tuple[int, int, int, int], image.convert("RGBA").getpixel(xy))


def grey(image: Image.Image, xy: tuple[int, int]) -> int:
    """The pixel at xy as an 8-bit grey level."""
    return cast(int, image.convert("L").getpixel(xy))
