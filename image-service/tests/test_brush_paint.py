"""The brush's pure core: strokes on a mask, re-composition over each background, and when it refuses."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from PIL import Image

from image_service.brush import paint
from image_service.imaging import budget
from image_service.records import VersionRow
from imagetools_common.contracts import image as contract
from imagetools_common.errors import PayloadTooLarge
from imagetools_common.testing import media

MAX_PIXELS = 50_000_000


def version(operation: str = "remove_background", fmt: str = "png", **params: Any) -> VersionRow:
    return VersionRow(
        number=3, operation=operation, params={"background": {"kind": "transparent"}} | params, format=fmt,
        width=200, height=100, bytes=1, compression=None, created_at=datetime.now(UTC), has_location=False,
    )  # fmt: skip


def mask_png(value: int, size: tuple[int, int] = (200, 100)) -> bytes:
    return media.encoded(Image.new("L", size, value), "PNG")


def brushed(
    painted_on: VersionRow, mask: bytes, source: Image.Image, *strokes: contract.BrushStroke
) -> Image.Image:
    op = contract.BrushOp(version=painted_on.number, strokes=list(strokes))
    made = paint.brushed(op, painted_on, mask, 1, media.encoded(source, "PNG"), None, MAX_PIXELS)
    assert made.mask_source == 1 and made.params["source_version"] == 1
    image = Image.open(io.BytesIO(made.data))
    image.load()
    return image


def test_a_restore_brings_back_the_source_at_the_cut_outs_size_and_an_erase_shows_the_fill() -> None:
    """Restored pixels are the source's (scaled to the cut-out's size); erased ones the chosen colour."""
    source = Image.new("RGB", (400, 200), (200, 30, 40))  # the cut-out was made at half size
    restore = contract.BrushStroke(mode="restore", radius=0.05, points=[(0.25, 0.5)])
    restored = np.asarray(brushed(version(), mask_png(0), source, restore), dtype=int)
    assert restored[50, 50].tolist() == [200, 30, 40, 255]  # the stroke's centre
    assert restored[50, 150, 3] == 0 and restored[5, 5, 3] == 0  # elsewhere still clear

    filled = version(fmt="png", background={"kind": "colour", "colour": "#00ff00"})
    erase = contract.BrushStroke(mode="erase", radius=0.05, points=[(0.25, 0.5), (0.75, 0.5)])
    shown = np.asarray(brushed(filled, mask_png(255), source, erase).convert("RGB"), dtype=int)
    assert shown[50, 50].tolist() == [0, 255, 0] and shown[50, 100].tolist() == [0, 255, 0]  # the line too
    assert shown[10, 100].tolist() == [200, 30, 40]


def test_a_restore_keeps_what_the_source_had_transparent() -> None:
    """Restoring over a source that was transparent there brings back its transparency, not hidden colours."""
    source = Image.new("RGBA", (200, 100), (10, 20, 30, 0))
    source.paste((10, 20, 30, 255), (0, 0, 100, 100))
    restore = contract.BrushStroke(mode="restore", radius=0.5, points=[(0.5, 0.5)])
    alpha = np.asarray(brushed(version(), mask_png(0), source, restore).getchannel("A"))
    assert alpha[50, 40] == 255 and alpha[50, 160] == 0


def test_strokes_apply_in_order() -> None:
    """A restore over an erase brings the pixels back; the later stroke wins."""
    mask = Image.new("L", (100, 100), 255)
    erase = contract.BrushStroke(mode="erase", radius=0.1, points=[(0.5, 0.5)])
    restore = contract.BrushStroke(mode="restore", radius=0.05, points=[(0.5, 0.5)])
    painted = np.asarray(paint.paint(mask, [erase, restore], 255))
    assert painted[50, 50] == 255 and painted[50, 42] == 0 and painted[0, 0] == 255


def test_the_brush_says_why_a_version_cannot_be_brushed() -> None:
    """Other operations, masks from before the brush, and cut-outs over another image are explained."""
    assert paint.unavailable(version(), 1) is None
    assert paint.unavailable(version("brush"), 1) is None
    assert "made by resize" in str(paint.unavailable(version("resize"), None))
    assert "before the brush existed" in str(paint.unavailable(version(), None))
    over_image = version(background={"kind": "image", "image_id": "00000000-0000-0000-0000-000000000000"})
    assert "over another image" in str(paint.unavailable(over_image, 1))


def test_the_pixel_budget_is_planned_before_any_pixel_work() -> None:
    """A touch-up is re-composed at its version's size: over MAX_IMAGE_MEGAPIXELS it is refused up front."""
    op = contract.BrushOp(
        version=3, strokes=[contract.BrushStroke(mode="erase", radius=0.1, points=[(0.5, 0.5)])]
    )
    assert budget.planned(op, 4000, 3000, "webp", 12_000_000) == budget.Output(4000, 3000, "webp")
    with pytest.raises(PayloadTooLarge, match="limit is 10 megapixels"):
        budget.planned(op, 4000, 3000, "webp", 10_000_000)
