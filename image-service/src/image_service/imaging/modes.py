"""Pixel modes: bring whatever a decoder produced into the few modes every encoder can write.

After ``normalise`` an image is ``L``, ``LA``, ``RGB`` or ``RGBA`` with 8 bits per channel, so
resizing uses real resampling (Pillow falls back to nearest-neighbour for palettes) and every
output format can take it.
"""

from __future__ import annotations

import io
from typing import cast

from PIL import Image, ImageCms, ImageColor

from imagetools_common.logs import get_logger

log = get_logger(__name__)

ENCODABLE_MODES = frozenset({"L", "LA", "RGB", "RGBA"})
_ALPHA_MODES = frozenset({"LA", "RGBA", "PA", "La", "RGBa"})


def normalise(image: Image.Image, icc_profile: bytes | None = None) -> tuple[Image.Image, bytes | None]:
    """The image in an encodable 8-bit mode, and the ICC profile that still describes it."""
    mode = image.mode
    if mode in ENCODABLE_MODES:
        if mode in ("L", "RGB") and "transparency" in image.info:
            return image.convert("LA" if mode == "L" else "RGBA"), icc_profile
        return image, icc_profile
    if mode == "CMYK":
        return _cmyk_to_rgb(image, icc_profile), None
    if mode == "P" or mode == "PA":
        has_alpha = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB"), icc_profile
    if mode == "1":
        return image.convert("L"), icc_profile
    if mode in ("La", "RGBa"):  # premultiplied alpha
        return image.convert("LA" if mode == "La" else "RGBA"), icc_profile
    if mode.startswith(("I", "F")):
        return _deep_grey_to_l(image), icc_profile
    # RGBX, YCbCr, LAB, HSV and friends: their profile (if any) no longer applies after conversion.
    return image.convert("RGBA" if mode in _ALPHA_MODES else "RGB"), None


def _cmyk_to_rgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    # A print profile is the only way to get the colours right; without one Pillow's naive
    # formula is the best guess (and what every browser does too).
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(
                image,
                source,
                ImageCms.createProfile("sRGB"),
                renderingIntent=ImageCms.Intent.PERCEPTUAL,
                outputMode="RGB",
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            log.debug("CMYK profile unusable; converting without it", exc_info=True)
    return image.convert("RGB")


def _deep_grey_to_l(image: Image.Image) -> Image.Image:
    # Pillow's own I;16 -> L conversion clips at 255 (almost everything turns white), so scale.
    if image.mode.startswith("I;16"):
        return image.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    low, high = cast(tuple[float, float], image.getextrema())
    if image.mode == "F" and low >= 0 and high <= 1:
        return image.point(lambda v: v * 255).convert("L")
    if low >= 0 and high <= 255:
        return image.convert("L")
    if low >= 0 and high <= 65535:
        return image.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    span = (high - low) or 1
    return image.point(lambda v: (v - low) * (255 / span)).convert("L")


def has_alpha(image: Image.Image) -> bool:
    """Whether the mode carries an alpha channel (used or not)."""
    return image.mode in _ALPHA_MODES or (image.mode == "P" and "transparency" in image.info)


def has_transparency(image: Image.Image) -> bool:
    """Whether any pixel is not fully opaque (an alpha channel that is all 255 does not count)."""
    if image.mode in ("P", "L", "RGB") and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode not in _ALPHA_MODES:
        return False
    low, _ = cast(tuple[int, int], image.getchannel(image.mode[-1]).getextrema())
    return bool(low < 255)


def flatten(image: Image.Image, background: str = "#ffffff") -> Image.Image:
    """The image composited onto a solid colour, without alpha (L stays L on a grey background)."""
    if not has_alpha(image):
        return image if image.mode in ("L", "RGB") else image.convert("RGB")
    rgba = image.convert("RGBA")
    colour = ImageColor.getrgb(background)[:3]
    base = Image.new("RGB", rgba.size, colour)
    base.paste(rgba, mask=rgba.getchannel("A"))
    if image.mode in ("LA", "La") and len(set(colour)) == 1:
        return base.convert("L")
    return base
