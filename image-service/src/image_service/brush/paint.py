"""The brush on decoded pixels: strokes painted on a mask, the cut-out re-composed from its source.

Pure functions on bytes and Pillow images (no I/O, no event loop); the use case runs them in its
worker pool. Strokes are resolution-independent (0..1 coordinates, a radius as a fraction of the
longer side), so the browser paints a reduced preview and the server the full-size mask alike.
Edges are hard, the same in both: a touch-up shows exactly where it changed the picture.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw
from pydantic import TypeAdapter

from image_service.background import removal
from image_service.imaging import metadata, modes, thumbnail
from image_service.imaging.decode import decode
from image_service.imaging.operations import scale_to
from image_service.records import NewVersion, VersionRow
from imagetools_common.contracts import image as contract

BRUSHABLE = ("remove_background", "brush")
_BACKGROUND: TypeAdapter[contract.Background] = TypeAdapter(contract.Background)


def unavailable(version: VersionRow, source: int | None) -> str | None:
    """Why ``version`` cannot be brushed (``source``: the version its mask was cut from), or None."""
    if version.operation not in BRUSHABLE:
        return (
            f"version {version.number} was made by {version.operation}: the brush works on versions "
            "made by background removal or by an earlier brush"
        )
    if source is None:
        return (
            f"version {version.number} was cut out before the brush existed: remove the background "
            "again to touch it up"
        )
    if version.params.get("background", {}).get("kind") == "image":
        return (
            f"version {version.number} is set over another image, which may have changed since: "
            "remove the background again (transparent, a colour or a blur) to touch it up"
        )
    return None


def paint(
    mask: Image.Image, strokes: Sequence[contract.BrushStroke], restored: Image.Image | int
) -> Image.Image:
    """``mask`` (L) with the strokes painted in order: erase to 0, restore to ``restored``."""
    width, height = mask.size
    side = max(width, height)
    for stroke in strokes:
        radius = stroke.radius * side
        path = [(x * width, y * height) for x, y in stroke.points]
        # Only the stroke's own rectangle is drawn and pasted: a dab on 12 MP costs its size, not 12 MP.
        left = max(0, math.floor(min(x for x, _ in path) - radius))
        top = max(0, math.floor(min(y for _, y in path) - radius))
        right = min(width, math.ceil(max(x for x, _ in path) + radius) + 1)
        bottom = min(height, math.ceil(max(y for _, y in path) + radius) + 1)
        if left >= right or top >= bottom:
            continue
        cover = Image.new("L", (right - left, bottom - top), 0)
        draw = ImageDraw.Draw(cover)
        local = [(x - left, y - top) for x, y in path]
        for x, y in local:  # round caps and joins
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
        if len(local) > 1:
            draw.line(local, fill=255, width=max(1, round(2 * radius)))
        box = (left, top, right, bottom)
        if stroke.mode == "erase":
            mask.paste(0, box, cover)
        elif isinstance(restored, Image.Image):
            mask.paste(restored.crop(box), box, cover)
        else:
            mask.paste(restored, box, cover)
    return mask


def brushed(
    op: contract.BrushOp,
    painted_on: VersionRow,
    mask_png: bytes,
    source_number: int,
    source_data: bytes,
    gps: metadata.Location | None,
    max_pixels: int,
) -> NewVersion:
    """The version the strokes make of ``painted_on``: its mask painted, re-composed from the source's pixels.

    Colours come from the source version, never from the cut-out's own file, so a restore brings
    back the original pixels whatever the cut-out's format dropped under its transparent parts.
    """
    decoded = decode(source_data, max_pixels=max_pixels)
    with Image.open(io.BytesIO(mask_png)) as stored:
        mask = stored.convert("L")
    # The removal scaled the source to the result's size (max_edge) the same way before cutting it.
    source = scale_to(decoded.image, *mask.size) if decoded.image.size != mask.size else decoded.image
    # A restore brings back what the source had: its own transparency stays transparent.
    restored: Image.Image | int = source.getchannel(source.mode[-1]) if modes.has_alpha(source) else 255
    mask = paint(mask, op.strokes, restored)
    background: dict[str, Any] = painted_on.params["background"]
    image = removal.compose(source, mask, _BACKGROUND.validate_python(background), None)
    fmt = painted_on.format
    body = removal.encode_result(
        image, fmt, exif=metadata.with_location(decoded.exif, gps), icc_profile=decoded.icc_profile
    )
    erased = sum(1 for stroke in op.strokes if stroke.mode == "erase")
    return NewVersion(
        operation=op.type,
        params={
            "background": background,
            "format": fmt,
            "strokes": len(op.strokes),
            "erased": erased,
            "restored": len(op.strokes) - erased,
        },
        format=fmt,
        width=image.width,
        height=image.height,
        data=body,
        thumbnail=thumbnail.thumbnail(image),
        mask=removal.encode_mask(mask),
    ).cut_from(source_number)
