"""Compression to size targets: presets, quality search, dimension steps, PNG palettes, auto."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from PIL import Image
from pixels import opened, rgba

from image_service.imaging import compress as compression
from image_service.imaging.compress import SYSTEM_PRESETS, compress
from image_service.imaging.decode import Decoded, decode
from image_service.imaging.encode import avif_quality_for, encode
from image_service.imaging.metadata import read_metadata
from imagetools_common.contracts.image import CompressionSettings
from imagetools_common.errors import ValidationFailed

KIB = 1024


@pytest.fixture(scope="module")
def upload(big_photo_jpeg: bytes) -> Decoded:
    """The 12 MP phone photo, decoded as an upload would be."""
    return decode(big_photo_jpeg, max_pixels=50_000_000)


@pytest.fixture(scope="module")
def medium(make_photo: Callable[..., Image.Image]) -> Image.Image:
    """A 1200x900 photo-like image for the quicker cases."""
    return make_photo(1200, 900, seed=5)


def test_system_presets_are_exactly_the_upstream_ones() -> None:
    """Email, Web and Web HQ carry upstream's box, quality, target and format."""
    assert {key: (name, s.max_width, s.max_height, s.quality, s.target_kb, s.format, s.keep_aspect)
            for key, (name, s) in SYSTEM_PRESETS.items()} == {
        "email": ("Email", 800, 800, 85, 500, "jpeg", True),
        "web": ("Web", 1920, 1920, 90, 500, "jpeg", True),
        "web_hq": ("Web HQ", 2560, 2560, 95, 1000, "webp", True),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("preset", "size", "fmt"),
    [("email", (800, 600), "JPEG"), ("web", (1920, 1440), "JPEG"), ("web_hq", (2560, 1920), "WEBP")],
)
def test_presets_meet_their_targets_on_a_12mp_photo(
    upload: Decoded, preset: str, size: tuple[int, int], fmt: str
) -> None:
    """Each preset fits the 12 MP photo in its box and under its size target, and says so."""
    _, settings = SYSTEM_PRESETS[preset]
    data, outcome = compress(upload.image, settings, exif=upload.exif, icc_profile=upload.icc_profile)
    assert settings.target_kb is not None
    assert outcome.target_met and len(data) <= settings.target_kb * KIB
    assert outcome.bytes == len(data)
    assert (outcome.width, outcome.height) == size == opened(data).size
    assert opened(data).format == fmt
    assert outcome.quality is not None and 30 <= outcome.quality <= settings.quality
    assert read_metadata(data).camera == "Apple iPhone 15 Pro"  # EXIF survives compression


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
@pytest.mark.parametrize("target_kb", [60, 120, 200])
def test_search_finds_the_highest_quality_that_fits(medium: Image.Image, fmt: str, target_kb: int) -> None:
    """The chosen quality fits and one step higher would not, whichever neighbours the sample's
    forecast had the full-size search encode first."""
    settings = CompressionSettings(quality=95, target_kb=target_kb, format=fmt)  # type: ignore[arg-type]
    data, outcome = compress(medium, settings)
    assert outcome.target_met and len(data) <= target_kb * KIB
    assert outcome.quality is not None and outcome.quality < 95
    assert (outcome.width, outcome.height) == medium.size
    one_higher = encode(medium, fmt, quality=outcome.quality + 1, progressive=compression.PROGRESSIVE)
    assert len(one_higher) > target_kb * KIB


def test_without_a_target_one_encode_at_the_quality(medium: Image.Image) -> None:
    """No target means the requested quality, as is, and target_met true."""
    data, outcome = compress(medium, CompressionSettings(quality=77, format="webp"))
    assert outcome.target_met and outcome.quality == 77 and outcome.format == "webp"
    assert data == encode(medium, "webp", quality=77)


def test_dimensions_step_down_when_the_floor_quality_misses(medium: Image.Image) -> None:
    """A target too small for any quality at full size is met by shrinking the picture."""
    data, outcome = compress(medium, CompressionSettings(quality=85, target_kb=15, format="jpeg"))
    assert outcome.target_met and len(data) <= 15 * KIB
    assert outcome.width < medium.width and outcome.height < medium.height
    assert abs(outcome.width / outcome.height - medium.width / medium.height) < 0.02
    assert opened(data).size == (outcome.width, outcome.height)


def test_impossible_target_is_reported_honestly() -> None:
    """1 KB from pure noise cannot be reached: target_met is false and the smallest result comes back."""
    # Coarse noise: shrinking averages fine noise away, but not 12-px blocks of it (until 64 px,
    # where a baseline JPEG of it is still over 1 KB at the floor quality).
    rnd = random.Random(1)
    noise = Image.frombytes("RGB", (64, 64), rnd.randbytes(64 * 64 * 3)).resize(
        (800, 800), Image.Resampling.NEAREST
    )
    data, outcome = compress(noise, CompressionSettings(quality=85, target_kb=1, format="jpeg"))
    assert not outcome.target_met
    assert outcome.bytes == len(data) > 1 * KIB
    assert max(outcome.width, outcome.height) == compression.MIN_SIDE
    assert outcome.quality == compression.FLOOR_QUALITY
    assert len(data) < len(encode(noise, "jpeg", quality=compression.FLOOR_QUALITY)) / 20


def test_exact_box_without_aspect(medium: Image.Image) -> None:
    """keep_aspect false with both sides stretches to exactly that box."""
    settings = CompressionSettings(max_width=400, max_height=400, keep_aspect=False, format="jpeg")
    data, outcome = compress(medium, settings)
    assert (outcome.width, outcome.height) == (400, 400) == opened(data).size


def test_one_side_box_keeps_aspect(medium: Image.Image) -> None:
    """Only max_width given: the height follows the aspect ratio, never enlarged."""
    _, outcome = compress(medium, CompressionSettings(max_width=600, format="jpeg"))
    assert (outcome.width, outcome.height) == (600, 450)
    _, outcome = compress(medium, CompressionSettings(max_width=5000, format="jpeg"))
    assert (outcome.width, outcome.height) == medium.size


def test_png_stays_lossless_when_it_fits(medium: Image.Image) -> None:
    """A PNG under its target is the lossless optimised encode (no palette, quality None)."""
    data, outcome = compress(medium, CompressionSettings(target_kb=10_000, format="png"))
    assert outcome.target_met and outcome.quality is None
    assert opened(data).mode == "RGB"
    assert opened(data).tobytes() == medium.tobytes()


def test_png_over_target_is_quantised_to_a_palette(medium: Image.Image) -> None:
    """A PNG over its target is reduced to a palette, at full size when that is enough."""
    lossless = len(encode(medium, "png"))
    target_kb = lossless // KIB // 2
    data, outcome = compress(medium, CompressionSettings(target_kb=target_kb, format="png"))
    assert outcome.target_met and len(data) <= target_kb * KIB
    assert opened(data).mode == "P"
    assert (outcome.width, outcome.height) == medium.size


def test_png_quantisation_keeps_transparency(medium: Image.Image) -> None:
    """Quantising an image with real transparency keeps its transparent pixels."""
    translucent = medium.convert("RGBA")
    translucent.putalpha(Image.linear_gradient("L").resize(medium.size))
    target_kb = len(encode(translucent, "png")) // KIB // 3
    data, outcome = compress(translucent, CompressionSettings(target_kb=target_kb, format="png"))
    assert outcome.target_met
    result = opened(data).convert("RGBA")
    # A palette has few alpha levels, so the gradient bands, but transparent stays transparent.
    assert rgba(result, (10, 0))[3] < 40
    assert rgba(result, (10, result.height - 1))[3] > 200


def test_png_steps_down_dimensions_after_the_palette(make_photo: Callable[..., Image.Image]) -> None:
    """A PNG target even 32 colours cannot meet is reached with smaller dimensions."""
    image = make_photo(600, 450, seed=9)
    data, outcome = compress(image, CompressionSettings(target_kb=20, format="png"))
    assert outcome.target_met and len(data) <= 20 * KIB
    assert outcome.width < image.width
    assert opened(data).mode == "P"


def test_auto_picks_the_smallest_at_equivalent_quality(medium: Image.Image) -> None:
    """Without a target, auto returns the smallest of JPEG, WebP and AVIF at the same visual quality."""
    data, outcome = compress(medium, CompressionSettings(quality=85, format="auto"))
    candidates = {
        "jpeg": len(encode(medium, "jpeg", quality=85, progressive=compression.PROGRESSIVE)),
        "webp": len(encode(medium, "webp", quality=85)),
        "avif": len(encode(medium, "avif", quality=avif_quality_for(85))),
    }
    assert outcome.format == min(candidates, key=lambda fmt: candidates[fmt])
    assert outcome.bytes == len(data) == min(candidates.values())


def test_auto_with_transparency_never_picks_jpeg() -> None:
    """An image with real transparency is compared as PNG, WebP and AVIF, keeping its alpha."""
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    image.paste((255, 128, 0, 255), (0, 0, 150, 200))
    data, outcome = compress(image, CompressionSettings(quality=85, target_kb=50, format="auto"))
    assert outcome.format in ("png", "webp", "avif")
    assert rgba(opened(data), (290, 10))[3] == 0


def test_auto_with_target_prefers_quality_over_a_few_bytes(upload: Decoded) -> None:
    """With a target, auto keeps a candidate that met it at full size and near the requested quality."""
    settings = CompressionSettings(max_width=1920, max_height=1920, quality=85, target_kb=500, format="auto")
    data, outcome = compress(upload.image, settings)
    assert outcome.target_met and len(data) <= 500 * KIB
    assert (outcome.width, outcome.height) == (1920, 1440)


def test_transparency_flattened_on_white_for_jpeg() -> None:
    """Compressing an RGBA image to JPEG puts transparent areas on white."""
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    data, outcome = compress(image, CompressionSettings(format="jpeg", quality=90))
    assert outcome.format == "jpeg"
    assert opened(data).getpixel((32, 32)) == (255, 255, 255)


# Decoding straight to the box (compress_data) ------------------------------------------------------


@pytest.mark.parametrize("preset", ["email", "web", "web_hq"])
def test_from_bytes_looks_like_compressing_the_full_decode(
    big_photo_jpeg: bytes, upload: Decoded, measure_psnr: Callable[..., float], preset: str
) -> None:
    """Decoding a 12 MP JPEG straight to the box gives the same picture, size and metadata."""
    _, settings = SYSTEM_PRESETS[preset]
    fast, outcome = compression.compress_data(big_photo_jpeg, settings, max_pixels=50_000_000)
    slow, _ = compress(upload.image, settings, exif=upload.exif, icc_profile=upload.icc_profile)
    assert outcome.target_met and outcome.bytes == len(fast)
    assert opened(fast).size == opened(slow).size == (outcome.width, outcome.height)
    assert measure_psnr(opened(fast), opened(slow)) > 38
    assert read_metadata(fast).camera == "Apple iPhone 15 Pro"


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_from_bytes_honours_the_exif_orientation(
    make_photo: Callable[..., Image.Image],
    make_gps_exif: Callable[..., Image.Exif],
    encode_as: Callable[..., bytes],
    measure_psnr: Callable[..., float],
    orientation: int,
) -> None:
    """A sideways-stored phone photo comes out upright and box-fitted, as from a full decode."""
    stored = encode_as(make_photo(1600, 1200, seed=3), "JPEG", quality=90, exif=make_gps_exif(orientation))
    settings = CompressionSettings(max_width=400, max_height=400, quality=90, format="jpeg")
    data, outcome = compression.compress_data(stored, settings, max_pixels=50_000_000)
    full = decode(stored, max_pixels=50_000_000)
    expected, _ = compress(full.image, settings)
    assert (
        (outcome.width, outcome.height)
        == opened(expected).size
        == ((400, 300) if orientation == 3 else (300, 400))
    )
    assert measure_psnr(opened(data), opened(expected)) > 35
    assert opened(data).getexif().get(0x0112, 1) == 1


@pytest.mark.parametrize(
    ("mode", "pillow_format", "fmt"),
    [("L", "JPEG", "jpeg"), ("CMYK", "JPEG", "jpeg"), ("RGBA", "PNG", "webp"), ("RGB", "HEIF", "jpeg")],
)
def test_from_bytes_other_modes_and_formats(
    make_photo: Callable[..., Image.Image],
    encode_as: Callable[..., bytes],
    mode: str,
    pillow_format: str,
    fmt: str,
) -> None:
    """Greyscale and CMYK JPEGs, PNG with alpha and HEIC reach the box too, alpha kept."""
    image = make_photo(1200, 900, seed=4).convert(mode)
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").resize(image.size))  # transparent at the top
    settings = CompressionSettings(max_width=600, max_height=600, quality=85, target_kb=60, format=fmt)  # type: ignore[arg-type]
    data, outcome = compression.compress_data(
        encode_as(image, pillow_format), settings, max_pixels=50_000_000
    )
    result = opened(data)
    assert outcome.target_met and result.size == (600, 450)
    assert result.mode == {"L": "L", "CMYK": "RGB", "RGBA": "RGBA", "RGB": "RGB"}[mode]


def test_from_bytes_refuses_a_truncated_jpeg(big_photo_jpeg: bytes) -> None:
    """A JPEG cut short is a precise client error, not half a picture."""
    _, settings = SYSTEM_PRESETS["email"]
    with pytest.raises(ValidationFailed, match="truncated or corrupt"):
        compression.compress_data(big_photo_jpeg[: len(big_photo_jpeg) // 2], settings, max_pixels=50_000_000)
