"""The pixel budget: every operation's output size is planned from its parameters and checked first."""

from __future__ import annotations

import io
import typing

import pytest
from PIL import Image

from image_service.imaging import budget, compress
from imagetools_common.contracts import image as contract
from imagetools_common.errors import PayloadTooLarge, ValidationFailed

MAX_PIXELS = 50_000_000


def test_every_operation_of_the_contract_has_a_planner() -> None:
    """A new operation added to the contract without declaring its output size fails here."""
    union = typing.get_args(typing.get_args(contract.Operation)[0])
    assert set(union) == set(budget.PLANNERS)


def test_an_upscale_to_400_megapixels_is_refused_naming_the_limit() -> None:
    """100x80 stretched to 20000x20000 is refused as 413 with the size it would have and the limit."""
    op = contract.ResizeOp(width=20000, height=20000, keep_aspect=False, allow_upscale=True)
    with pytest.raises(PayloadTooLarge, match=r"20000x20000 px \(400.0 megapixels\).*50 megapixels"):
        budget.planned(op, 100, 80, "jpeg", MAX_PIXELS)


def test_percent_1000_of_a_big_image_is_refused() -> None:
    """Ten times a 12 MP photo (1200 MP) is refused; ten times a thumbnail-sized one is allowed."""
    op = contract.ResizeOp(percent=1000, allow_upscale=True)
    with pytest.raises(PayloadTooLarge, match="40000x30000"):
        budget.planned(op, 4000, 3000, "jpeg", MAX_PIXELS)
    assert budget.planned(op, 400, 300, "jpeg", MAX_PIXELS) == budget.Output(4000, 3000, "jpeg")


def test_converting_a_tall_strip_to_webp_names_webps_limit() -> None:
    """A 20000x200 image (4 MP, well inside the budget) cannot become a WebP: 422 on the format."""
    with pytest.raises(ValidationFailed, match="WebP holds at most 16383 px") as caught:
        budget.planned(contract.ConvertOp(format="webp"), 20000, 200, "png", MAX_PIXELS)
    assert caught.value.details["field"] == "format"
    assert budget.planned(contract.ConvertOp(format="jpeg"), 20000, 200, "png", MAX_PIXELS).width == 20000


def test_an_edit_that_would_widen_a_webp_past_its_limit_is_413() -> None:
    """Resizing a WebP (saved as WebP) past 16383 px is refused; the format was not a parameter."""
    op = contract.ResizeOp(width=17000, allow_upscale=True)
    with pytest.raises(PayloadTooLarge, match="WebP holds at most 16383"):
        budget.planned(op, 10000, 100, "webp", MAX_PIXELS)


def test_rotation_sizes_follow_the_expanded_bounding_box() -> None:
    """Quarter turns swap the sides exactly; other angles grow the box that holds the whole picture."""
    assert budget.plan(contract.RotateOp(degrees=90), 300, 200, "jpeg") == budget.Output(200, 300, "jpeg")
    assert budget.rotated_size(300, 200, 180) == (300, 200)
    assert budget.rotated_size(100, 100, 45) == (142, 142)


def test_background_removal_to_webp_of_a_wide_image_is_refused() -> None:
    """Background removal declares its result (and mask) at the source's size in the chosen format."""
    op = contract.RemoveBackgroundOp(format="webp")
    with pytest.raises(ValidationFailed, match="16383"):
        budget.planned(op, 17000, 300, "jpeg", MAX_PIXELS)


def test_compression_plans_its_box_and_never_enlarges() -> None:
    """Compression starts from the box fit (never larger than the source)."""
    settings = contract.CompressionSettings(max_width=800, max_height=800, format="webp")
    assert budget.plan(contract.CompressOp(settings=settings), 4000, 3000, "jpeg").width == 800
    stretched = contract.CompressionSettings(max_width=9000, max_height=10, keep_aspect=False)
    assert budget.compressed_size(400, 300, stretched) == (400, 10)


def test_auto_compression_of_a_strip_too_wide_for_webp_picks_a_format_that_holds_it() -> None:
    """format=auto skips WebP for a 17000 px wide strip instead of failing in the encoder."""
    strip = Image.linear_gradient("L").resize((17000, 8)).convert("RGB")
    data, outcome = compress.compress(strip, contract.CompressionSettings(format="auto", quality=80))
    assert outcome.format != "webp" and Image.open(io.BytesIO(data)).size == (17000, 8)
