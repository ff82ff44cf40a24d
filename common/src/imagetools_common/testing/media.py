"""Test images made on the spot: photo-like content, EXIF, orientation, and hostile files."""

from __future__ import annotations

import io
import random
from fractions import Fraction

from PIL import Image, ImageDraw, ImageFilter

ORIENTATION = 0x0112
GPS_IFD = 0x8825


def photo(width: int = 1600, height: int = 1200, seed: int = 1, grain: float = 0.12) -> Image.Image:
    """Something that compresses like a photo: smooth gradients, shapes and sensor-like noise.

    ``grain`` 0.25 gives what a phone gives: about 5 MB as a 12 MP JPEG at quality 90.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test pictures, not secrets
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge(
        "RGB",
        (
            gradient,
            gradient.rotate(90).resize((width, height)),
            gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        ),
    )
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(width // 40 + 1, width // 6 + 2)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    image = image.filter(ImageFilter.GaussianBlur(2))
    noise = Image.effect_noise((width, height), 24 if grain <= 0.12 else 60).convert("RGB")
    return Image.blend(image, noise, grain)


def jpeg(image: Image.Image | None = None, *, quality: int = 90, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    (image or photo()).save(out, "JPEG", quality=quality, exif=exif.tobytes() if exif else b"")
    return out.getvalue()


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def camera_exif(*, orientation: int = 1, gps: bool = True) -> Image.Exif:
    """EXIF as a phone writes it: camera, exposure, and (optionally) where it was taken."""
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15"
    exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = {
            1: "N", 2: (Fraction(48), Fraction(51), Fraction(2964, 100)),
            3: "E", 4: (Fraction(2), Fraction(17), Fraction(4020, 100)),
        }  # fmt: skip
    return exif


def decompression_bomb(side: int = 20_000) -> bytes:
    """A tiny PNG that declares side×side pixels."""
    return encoded(Image.new("1", (side, side)), "PNG", optimize=True)
