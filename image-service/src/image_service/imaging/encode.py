"""Encode an image into one of the output formats, keeping metadata only when asked to.

Quality numbers are the encoder's own scale (libjpeg, libwebp, libavif). They do not mean the
same thing: AVIF at 50 looks roughly like JPEG at 75. ``avif_quality_for`` maps a JPEG-scale
quality to AVIF's, for callers that compare formats at the same visual quality.

Speed settings were measured on this project's 2-core machine with a 12 MP photo-like image:
JPEG (optimised, progressive) 0.3-0.5 s; WebP method 4 1.7-2.5 s (method 6 is three times
slower for at most 2 % smaller files); AVIF speed 6 (libavif's default) 10 s, speed 7 4.5 s,
speed 8 1.4-1.9 s, speed 9 1.0 s. Speed 8 is the knee: its files were no bigger than speed 6's,
while speed 9 grows them ~3 %. At the sizes compression usually produces (1920-2560 px) an AVIF
encode at speed 8 takes 0.2-0.5 s. PNG is always optimised (zlib level 9): 0.6 s at 1 MP,
1.1 s at 2.8 MP.
"""

from __future__ import annotations

import io
from bisect import bisect_left
from typing import TYPE_CHECKING

from PIL import Image

from imagetools_common.contracts.image import ImageFormat, OutputFormat
from imagetools_common.logs import get_logger

from . import modes

if TYPE_CHECKING:
    from .decode import Decoded

log = get_logger(__name__)

DEFAULT_QUALITY: dict[str, int] = {"jpeg": 90, "webp": 90, "avif": 66}
AVIF_SPEED = 8
WEBP_METHOD = 4
# A JPEG APP1 segment holds at most 65535 bytes including its length and the Exif header.
_JPEG_MAX_EXIF = 65533
_MAKER_NOTE = 0x927C
_EXIF_IFD = 0x8769

# JPEG-scale quality → AVIF quality at about the same PSNR on photo-like content (measured
# with libavif/aom at speed 8 against libjpeg-turbo), anchored on Squoosh's defaults, which pair
# MozJPEG 75 with AVIF ~50. Points in between are interpolated linearly.
_AVIF_EQUIVALENT: tuple[tuple[int, int], ...] = (
    (1, 1),
    (30, 25),
    (50, 38),
    (75, 50),
    (85, 58),
    (90, 66),
    (95, 78),
    (100, 95),
)

# The IJG base tables (natural order), which libjpeg scales by quality; most encoders use them.
_IJG_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip


def avif_quality_for(jpeg_quality: int) -> int:
    """The AVIF quality that looks about like this JPEG quality."""
    points = _AVIF_EQUIVALENT
    jpeg_quality = max(1, min(100, jpeg_quality))
    index = bisect_left([jpeg for jpeg, _ in points], jpeg_quality)
    if points[index][0] == jpeg_quality:
        return points[index][1]
    (x0, y0), (x1, y1) = points[index - 1], points[index]
    return round(y0 + (y1 - y0) * (jpeg_quality - x0) / (x1 - x0))


def estimate_jpeg_quality(quantization: dict[int, list[int]] | None) -> int | None:
    """The IJG quality whose luminance table is closest to this JPEG's, or None without tables."""
    if not quantization or 0 not in quantization or len(quantization[0]) != 64:
        return None
    # Compare sorted values: encoders store tables in natural or zig-zag order.
    actual = sorted(quantization[0])
    best, best_error = None, None
    for quality in range(1, 101):
        scale = 5000 / quality if quality < 50 else 200 - 2 * quality
        table = sorted(max(1, min(255, int((value * scale + 50) // 100))) for value in _IJG_LUMA)
        error = sum(abs(a - b) for a, b in zip(actual, table, strict=True))
        if best_error is None or error < best_error:
            best, best_error = quality, error
    return best


def encode(
    image: Image.Image,
    fmt: OutputFormat,
    *,
    quality: int | None = None,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    like: Decoded | None = None,
    background: str = "#ffffff",
    progressive: bool = True,
) -> bytes:
    """The image as bytes in ``fmt``; with ``like`` a JPEG source and no quality, its tables are reused.

    ``progressive`` applies to JPEG only: a progressive file is ~3 % smaller and shows early on a
    slow page, but takes ~2.5 times as long to encode (optimised Huffman tables either way).
    """
    if image.mode not in modes.ENCODABLE_MODES and image.mode != "P":
        image, _ = modes.normalise(image)  # CMYK, 16-bit and friends; decode() already did this
    if fmt == "jpeg":
        return _jpeg(image, quality, exif, icc_profile, like, background, progressive)
    if fmt == "png":
        return _save(image, "PNG", optimize=True, exif=exif or b"", icc_profile=icc_profile)
    if fmt == "webp":
        quality = quality if quality is not None else _source_quality(like, "webp")
        return _save(
            _rgb_or_rgba(image),
            "WEBP",
            quality=quality,
            method=WEBP_METHOD,
            exif=exif or b"",
            icc_profile=icc_profile,
        )
    if fmt == "avif":
        quality = quality if quality is not None else _source_quality(like, "avif")
        return _save(
            _rgb_or_rgba(image),
            "AVIF",
            quality=quality,
            speed=AVIF_SPEED,
            exif=exif or b"",
            icc_profile=icc_profile,
        )
    raise ValueError(f"cannot encode {fmt!r}")


def _source_quality(like: Decoded | None, fmt: str) -> int:
    # Converting a JPEG keeps about its visual quality rather than jumping to a fixed default.
    estimated = estimate_jpeg_quality(like.quantization) if like and like.format == ImageFormat.JPEG else None
    if estimated is None:
        return DEFAULT_QUALITY[fmt]
    return avif_quality_for(estimated) if fmt == "avif" else estimated


def _jpeg(
    image: Image.Image,
    quality: int | None,
    exif: bytes | None,
    icc_profile: bytes | None,
    like: Decoded | None,
    background: str,
    progressive: bool,
) -> bytes:
    image = modes.flatten(image, background)
    options: dict[str, object] = {"optimize": True, "progressive": progressive, "icc_profile": icc_profile}
    if quality is None and like is not None and like.format == ImageFormat.JPEG and like.quantization:
        # The source's own tables re-quantise already-quantised blocks to nearly the same values,
        # so a rotate or crop of a JPEG loses almost nothing, unlike any fixed quality.
        options["qtables"] = like.quantization
        if like.subsampling is not None:
            options["subsampling"] = like.subsampling
    else:
        options["quality"] = quality if quality is not None else DEFAULT_QUALITY["jpeg"]
    options["exif"] = _fit_jpeg_exif(exif) if exif else b""
    return _save(image, "JPEG", **options)


def _fit_jpeg_exif(exif: bytes) -> bytes:
    """EXIF that fits one APP1 segment: without the maker note if need be, else nothing."""
    if len(exif) <= _JPEG_MAX_EXIF:
        return exif
    try:
        parsed = Image.Exif()
        parsed.load(exif)
        parsed.get_ifd(_EXIF_IFD).pop(_MAKER_NOTE, None)
        smaller = parsed.tobytes()
    except Exception:
        log.debug("oversized EXIF unparseable; dropping it", exc_info=True)
        return b""
    return smaller if len(smaller) <= _JPEG_MAX_EXIF else b""


def _rgb_or_rgba(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image
    return image.convert("RGBA" if modes.has_alpha(image) else "RGB")


def _save(image: Image.Image, pillow_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **options)
    return buffer.getvalue()
