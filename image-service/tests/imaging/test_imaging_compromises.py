"""What meeting a size target cost: shrinking below half the box, or a JPEG-scale quality below 60."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image

from image_service.imaging import compress as compression
from image_service.imaging.compress import compress
from image_service.imaging.encode import encode
from image_service.imaging.operations import scale_to
from imagetools_common.contracts.image import CompressionSettings

KIB = 1024


@pytest.fixture(scope="module")
def photo(make_photo: Callable[..., Image.Image]) -> Image.Image:
    """A 1600x1200 photo-like image: a 1280 px box fits it to 1280x960."""
    return make_photo(1600, 1200, seed=7)


def test_a_tiny_target_reports_the_shrink_from_the_box(photo: Image.Image) -> None:
    """3 KB from a photo in a 1280 px box: met, but far below half the box, and the outcome says from what."""
    settings = CompressionSettings(max_width=1280, max_height=1280, quality=85, target_kb=3, format="jpeg")
    data, outcome = compress(photo, settings)
    assert outcome.target_met and len(data) <= 3 * KIB
    assert (outcome.fitted_width, outcome.fitted_height) == (1280, 960)
    assert outcome.width * 2 < 1280
    assert outcome.shrunk_for_target


def test_a_target_met_by_low_quality_alone_says_so(photo: Image.Image) -> None:
    """A target that quality in the 40s meets at the full box size: no shrink, low quality reported."""
    at_45 = len(encode(scale_to(photo, 1280, 960), "jpeg", quality=45, progressive=compression.PROGRESSIVE))
    settings = CompressionSettings(
        max_width=1280, max_height=1280, quality=85, target_kb=at_45 // KIB + 1, format="jpeg"
    )
    _, outcome = compress(photo, settings)
    assert outcome.target_met
    assert (outcome.width, outcome.height) == (1280, 960) and not outcome.shrunk_for_target
    assert outcome.jpeg_quality == outcome.quality and outcome.quality is not None
    assert compression.FLOOR_QUALITY <= outcome.quality < compression.LOW_QUALITY
    assert outcome.low_quality_for_target


def test_a_comfortable_target_claims_no_compromise(photo: Image.Image) -> None:
    settings = CompressionSettings(max_width=1280, max_height=1280, quality=85, target_kb=2000, format="jpeg")
    _, outcome = compress(photo, settings)
    assert outcome.target_met and outcome.quality == 85 and outcome.jpeg_quality == 85
    assert not outcome.shrunk_for_target and not outcome.low_quality_for_target


def test_a_low_quality_asked_for_is_no_compromise(photo: Image.Image) -> None:
    """Quality 40 chosen by the person (no target) is what they wanted: nothing to warn about."""
    _, outcome = compress(
        photo, CompressionSettings(max_width=1280, max_height=1280, quality=40, format="webp")
    )
    assert outcome.jpeg_quality == 40 and not outcome.low_quality_for_target


def test_avif_quality_is_reported_on_the_jpeg_scale(photo: Image.Image) -> None:
    _, outcome = compress(
        photo, CompressionSettings(max_width=640, max_height=640, quality=85, format="avif")
    )
    assert outcome.format == "avif" and outcome.quality is not None
    assert outcome.jpeg_quality is not None and outcome.jpeg_quality > outcome.quality


def test_lossless_png_has_no_jpeg_quality(photo: Image.Image) -> None:
    _, outcome = compress(photo, CompressionSettings(max_width=320, max_height=320, format="png"))
    assert outcome.quality is None and outcome.jpeg_quality is None and not outcome.low_quality_for_target
