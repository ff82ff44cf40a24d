"""Encoding: JPEG table reuse, flattening, metadata kept, quality scales, thumbnails."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image, ImageCms
from pixels import grey, opened, rgba

from image_service.imaging import encode as encoding
from image_service.imaging.decode import decode
from image_service.imaging.encode import encode
from image_service.imaging.metadata import read_metadata
from image_service.imaging.operations import rotate
from image_service.imaging.thumbnail import thumbnail
from imagetools_common.contracts.image import OutputFormat, RotateOp

MAX_PIXELS = 50_000_000
Save = Callable[..., bytes]


@pytest.fixture(scope="module")
def q70_jpeg(make_photo: Callable[..., Image.Image], encode_as: Save) -> bytes:
    """A 1600x1200 photo saved as a q70 JPEG, like a typical phone's output."""
    return encode_as(make_photo(1600, 1200, seed=7), "JPEG", quality=70)


def test_rotating_a_jpeg_with_its_own_tables_adds_almost_no_loss(
    q70_jpeg: bytes, measure_psnr: Callable[[Image.Image, Image.Image], float]
) -> None:
    """Re-encoding a rotated q70 JPEG with the source's tables keeps its size and fidelity; q95 balloons."""
    source = decode(q70_jpeg, max_pixels=MAX_PIXELS)
    turned = rotate(source.image, RotateOp(degrees=90))
    reused = encode(turned, "jpeg", like=source)
    fixed_q95 = encode(turned, "jpeg", quality=95)

    # Within 10 % of the source (optimised Huffman tables usually make it a little smaller),
    # where a fixed q95 re-encode costs at least 40 % more bytes for the same picture.
    assert 0.85 * len(q70_jpeg) <= len(reused) <= 1.1 * len(q70_jpeg)
    assert len(fixed_q95) > 1.4 * len(reused)
    # Fidelity to the pixels the user saw: one more generation at the same tables costs little.
    assert measure_psnr(opened(reused), turned) > 40
    assert decode(reused, max_pixels=MAX_PIXELS).quantization == source.quantization


def test_explicit_quality_wins_over_the_source_tables(q70_jpeg: bytes) -> None:
    """With a quality given, the source's tables are not reused."""
    source = decode(q70_jpeg, max_pixels=MAX_PIXELS)
    assert len(encode(source.image, "jpeg", quality=95, like=source)) > 1.4 * len(q70_jpeg)


def test_jpeg_quality_is_estimated_from_its_tables(
    make_photo: Callable[..., Image.Image], encode_as: Save
) -> None:
    """The IJG quality of a JPEG is recovered from its quantisation tables."""
    image = make_photo(64, 64)
    for quality in (30, 50, 70, 85, 95):
        decoded = decode(encode_as(image, "JPEG", quality=quality), max_pixels=MAX_PIXELS)
        assert encoding.estimate_jpeg_quality(decoded.quantization) == quality
    assert encoding.estimate_jpeg_quality(None) is None


def test_converting_a_jpeg_keeps_its_quality_level(q70_jpeg: bytes) -> None:
    """JPEG to WebP without a quality uses the JPEG's own (70), not a high fixed default."""
    source = decode(q70_jpeg, max_pixels=MAX_PIXELS)
    assert len(encode(source.image, "webp", like=source)) < len(encode(source.image, "webp", quality=90))


def test_avif_equivalence_mapping_is_monotonic() -> None:
    """The JPEG-to-AVIF quality mapping rises with quality and hits its anchor points."""
    mapped = [encoding.avif_quality_for(q) for q in range(1, 101)]
    assert mapped == sorted(mapped)
    assert encoding.avif_quality_for(75) == 50
    assert encoding.avif_quality_for(90) == 66


def test_transparency_is_flattened_onto_the_background_for_jpeg() -> None:
    """A transparent pixel becomes the background colour in a JPEG; opaque ones stay."""
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (16, 0, 32, 32))
    result = opened(encode(image, "jpeg", quality=95, background="#ff0000"))
    assert result.mode == "RGB"
    red, green, blue, _ = rgba(result, (4, 16))
    assert red > 240 and green < 20 and blue < 20
    red, green, blue, _ = rgba(result, (28, 16))
    assert blue > 240 and red < 20


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
def test_alpha_is_kept_where_the_format_has_it(fmt: OutputFormat) -> None:
    """PNG, WebP and AVIF keep transparency."""
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    image.paste((0, 200, 0, 255), (0, 0, 16, 32))
    result = opened(encode(image, fmt, quality=90))
    assert rgba(result, (28, 16))[3] == 0
    assert rgba(result, (4, 16))[3] == 255


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_exif_and_icc_are_kept_when_given(
    make_gps_exif: Callable[..., Image.Exif], make_photo: Callable[..., Image.Image], fmt: OutputFormat
) -> None:
    """EXIF (GPS included) and an ICC profile given to encode end up in every output format."""
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(make_photo(48, 32), fmt, exif=make_gps_exif().tobytes(), icc_profile=icc)
    meta = read_metadata(data)
    assert meta.camera == "Apple iPhone 15 Pro"
    assert meta.gps is not None
    assert opened(data).info.get("icc_profile") == icc


def test_metadata_is_not_carried_by_accident(
    make_gps_exif: Callable[..., Image.Exif], encode_as: Save
) -> None:
    """A decoded image encoded without exif= has none, even though its source had some."""
    image = Image.new("RGB", (40, 30), "white")
    source = decode(
        encode_as(image, "JPEG", exif=make_gps_exif().tobytes(), comment=b"hi"), max_pixels=MAX_PIXELS
    )
    data = encode(source.image, "jpeg")
    assert not read_metadata(data).has_exif
    assert "comment" not in opened(data).info


def test_oversized_exif_loses_its_maker_note_to_fit_a_jpeg(make_gps_exif: Callable[..., Image.Exif]) -> None:
    """EXIF beyond one JPEG segment is trimmed of its maker note instead of failing the encode."""
    exif = make_gps_exif()
    exif[0x8769] = {**exif[0x8769], 0x927C: b"\x01" * 70_000}
    data = encode(Image.new("RGB", (16, 16)), "jpeg", exif=exif.tobytes())
    assert read_metadata(data).camera == "Apple iPhone 15 Pro"


def test_thumbnail_is_a_small_webp_with_alpha(make_photo: Callable[..., Image.Image]) -> None:
    """Thumbnails are WebP, 320 px on the long side, and keep transparency."""
    photo = make_photo(1200, 900)
    result = opened(thumbnail(photo))
    assert result.format == "WEBP"
    assert result.size == (320, 240)

    clear = Image.new("RGBA", (900, 1200), (0, 0, 0, 0))
    transparent = opened(thumbnail(clear))
    assert transparent.size == (240, 320)
    assert rgba(transparent, (10, 10))[3] == 0


def test_thumbnail_never_enlarges(make_photo: Callable[..., Image.Image]) -> None:
    """A picture smaller than a thumbnail keeps its size."""
    assert opened(thumbnail(make_photo(100, 60))).size == (100, 60)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_images_not_from_decode_are_normalised_first(fmt: OutputFormat) -> None:
    """A 16-bit grey image handed straight to encode is scaled to 8 bits, not clipped to white."""
    deep = Image.new("I", (32, 32), 30000).convert("I;16")
    result = opened(encode(deep, fmt, quality=95))
    assert 110 <= grey(result, (8, 8)) <= 124
