"""The pixel budget: every output's size is planned from its parameters and checked before pixel work.

One rule for every operation, present and future: an operation declares the width, height and
format of what it will produce from its parameters and the source's stored size alone (``plan``),
and the dispatcher refuses it (``check``) before a single pixel is decoded when the result would
exceed ``MAX_IMAGE_MEGAPIXELS`` or what its format can hold. ``plan`` has an entry for every
operation of the contract (a test enforces it), and the store checks each finished version again,
so nothing the service keeps can fail its own decode guard later.

Without this a 100x80 JPEG resized to 20000x20000 cost 30 s and 2.8 GB of memory, and the stored
result then failed every later operation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imagetools_common.contracts import image as contract
from imagetools_common.errors import PayloadTooLarge, ValidationFailed

from .operations import fit_dimensions, resize_dimensions

# The largest side each format's encoder (and decoder) handles.
FORMAT_MAX_SIDE: dict[str, int] = {
    "jpeg": 65_500,  # libjpeg(-turbo)'s JPEG_MAX_DIMENSION, a little under the 16-bit header field
    "webp": 16_383,  # VP8/VP8L store each side in 14 bits
    "avif": 32_768,  # libavif's default decoder dimension limit
    "png": 2**31 - 1,
    "gif": 65_535,
}
# libavif's decoder also refuses more than 16384x16384 pixels by default.
AVIF_MAX_PIXELS = 16_384 * 16_384
_NAMES = {"jpeg": "JPEG", "webp": "WebP", "avif": "AVIF", "png": "PNG", "gif": "GIF"}


@dataclass(frozen=True, slots=True)
class Output:
    """What an operation will produce: its size and format ("auto" lets compression choose)."""

    width: int
    height: int
    format: str
    format_field: str | None = None
    """The parameter that chose the format, if any: exceeding the format's limit is then a 422 on it."""

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6


def fits(fmt: str, width: int, height: int) -> bool:
    """Whether a format can hold an image of this size (ignoring the megapixel budget)."""
    if fmt == "avif" and width * height > AVIF_MAX_PIXELS:
        return False
    return max(width, height) <= FORMAT_MAX_SIDE.get(fmt, 2**31 - 1)


def check(output: Output, max_pixels: int) -> None:
    """Refuse an output over the megapixel budget or its format's limit (413; 422 on a format parameter)."""
    size = f"{output.width}x{output.height} px"
    if output.width * output.height > max_pixels:
        raise PayloadTooLarge(
            f"The result would be {size} ({output.megapixels:.1f} megapixels); the limit is "
            f"{max_pixels / 1e6:g} megapixels (MAX_IMAGE_MEGAPIXELS). Nothing was changed.",
            details={"width": output.width, "height": output.height, "limit_megapixels": max_pixels / 1e6},
        )
    if output.format == "auto" or fits(output.format, output.width, output.height):
        return
    name = _NAMES.get(output.format, output.format)
    limit = FORMAT_MAX_SIDE[output.format]
    message = f"The result would be {size}, and {name} holds at most {limit} px a side"
    if output.format == "avif" and max(output.width, output.height) <= limit:
        message = f"The result would be {size}, and AVIF holds at most {AVIF_MAX_PIXELS / 1e6:g} megapixels"
    details = {"width": output.width, "height": output.height, "format": output.format}
    if output.format_field is not None:
        raise ValidationFailed(
            f"{output.format_field}: {message}; choose another format or make the image smaller first.",
            details=details | {"field": output.format_field},
        )
    raise PayloadTooLarge(
        f"{message}; convert it or make it smaller first. Nothing was changed.", details=details
    )


def editable_format(fmt: str) -> contract.OutputFormat:
    """The format an edit is saved in: the source's own, or PNG for a (static) GIF, BMP, TIFF or HEIF."""
    for candidate in ("jpeg", "png", "webp", "avif"):
        if fmt == candidate:
            return candidate
    return "png"


def rotated_size(width: int, height: int, degrees: float) -> tuple[int, int]:
    """The bounding box of a width x height image turned by ``degrees`` (expanded to hold it all)."""
    radians = math.radians(degrees % 360)
    cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
    # Rounding noise (cos 90° = 6e-17) must not add a pixel to exact quarter turns.
    cos, sin = round(cos, 12), round(sin, 12)
    return math.ceil(width * cos + height * sin), math.ceil(width * sin + height * cos)


def compressed_size(width: int, height: int, settings: contract.CompressionSettings) -> tuple[int, int]:
    """The size compression starts from: the box fit (never enlarged); rounds only shrink further."""
    if not settings.keep_aspect and settings.max_width and settings.max_height:
        return min(settings.max_width, width), min(settings.max_height, height)
    return fit_dimensions(width, height, settings.max_width, settings.max_height)


# One planner per operation type: (operation, source width, height, format, compression settings).
_Planner = Callable[[Any, int, int, str, "contract.CompressionSettings | None"], Output]


def _compress(op: contract.CompressOp, w: int, h: int, fmt: str, settings: Any) -> Output:
    chosen = settings or op.settings
    assert chosen is not None, "a preset is resolved to its settings before planning"
    width, height = compressed_size(w, h, chosen)
    field = "settings.format" if op.settings is not None else "preset"
    return Output(width, height, chosen.format, field)


def _resize(op: contract.ResizeOp, w: int, h: int, fmt: str, _: Any) -> Output:
    return Output(
        *resize_dimensions(w, h, op), op.format or editable_format(fmt), "format" if op.format else None
    )


def _rotate(op: contract.RotateOp, w: int, h: int, fmt: str, _: Any) -> Output:
    return Output(*rotated_size(w, h, op.degrees), editable_format(fmt))


def _same(op: Any, w: int, h: int, fmt: str, _: Any) -> Output:
    return Output(w, h, editable_format(fmt))


def _crop(op: contract.CropOp, w: int, h: int, fmt: str, _: Any) -> Output:
    # Never larger than the source; a rectangle leaving it is refused by the operation itself.
    return Output(min(op.width, w), min(op.height, h), editable_format(fmt))


def _convert(op: contract.ConvertOp, w: int, h: int, fmt: str, _: Any) -> Output:
    return Output(w, h, op.format, "format")


def _strip(op: contract.StripMetadataOp, w: int, h: int, fmt: str, _: Any) -> Output:
    return Output(w, h, fmt)  # the same bytes less metadata


def _remove_background(op: contract.RemoveBackgroundOp, w: int, h: int, fmt: str, _: Any) -> Output:
    # A long-edge cap fits both sides into a square box; the mask beside it is a PNG of the same size.
    return Output(*fit_dimensions(w, h, op.max_edge, op.max_edge), op.output_format, "format")


def _brush(op: contract.BrushOp, w: int, h: int, fmt: str, _: Any) -> Output:
    # Re-composed at the painted version's own size and in its format.
    return Output(w, h, fmt)


PLANNERS: dict[type, _Planner] = {
    contract.CompressOp: _compress,
    contract.ResizeOp: _resize,
    contract.RotateOp: _rotate,
    contract.FlipOp: _same,
    contract.CropOp: _crop,
    contract.ConvertOp: _convert,
    contract.StripMetadataOp: _strip,
    contract.RemoveBackgroundOp: _remove_background,
    contract.BrushOp: _brush,
}


def plan(
    op: contract.Operation,
    width: int,
    height: int,
    fmt: str,
    *,
    compression: contract.CompressionSettings | None = None,
) -> Output:
    """What ``op`` will produce from a width x height source in ``fmt``, computed without pixels."""
    planner = PLANNERS.get(type(op))
    if planner is None:  # an operation without a planner is a bug, not something to run unchecked
        raise ValidationFailed(f"type: unknown operation {op.type!r}", details={"field": "type"})
    return planner(op, width, height, fmt, compression)


def planned(
    op: contract.Operation,
    width: int,
    height: int,
    fmt: str,
    max_pixels: int,
    *,
    compression: contract.CompressionSettings | None = None,
) -> Output:
    """``plan`` then ``check``: the output an operation may go on to make, or the error refusing it."""
    output = plan(op, width, height, fmt, compression=compression)
    check(output, max_pixels)
    return output
