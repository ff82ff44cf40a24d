"""Decoding: type from content, limits before pixels, orientation, and odd pixel modes."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pixels import grey, rgba

from image_service.imaging import formats
from image_service.imaging.decode import decode
from imagetools_common.contracts.image import ImageFormat
from imagetools_common.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_PIXELS = 50_000_000
Save = Callable[..., bytes]


@pytest.fixture(scope="module")
def sample(make_photo: Callable[..., Image.Image]) -> Image.Image:
    """A small photo-like image."""
    return make_photo(96, 64, seed=3)


@pytest.mark.parametrize(
    ("pillow_format", "options", "expected"),
    [
        ("JPEG", {"quality": 90}, ImageFormat.JPEG),
        ("PNG", {}, ImageFormat.PNG),
        ("WEBP", {"quality": 80}, ImageFormat.WEBP),
        ("GIF", {}, ImageFormat.GIF),
        ("BMP", {}, ImageFormat.BMP),
        ("TIFF", {"compression": "tiff_lzw"}, ImageFormat.TIFF),
        ("HEIF", {"quality": 80}, ImageFormat.HEIF),
        ("AVIF", {"quality": 70}, ImageFormat.AVIF),
    ],
)
def test_every_accepted_format_decodes(
    sample: Image.Image,
    encode_as: Save,
    pillow_format: str,
    options: dict[str, object],
    expected: ImageFormat,
) -> None:
    """Each accepted format decodes to a loaded image of the right size and format."""
    decoded = decode(encode_as(sample, pillow_format, **options), max_pixels=MAX_PIXELS)
    assert decoded.format == expected
    assert not decoded.reoriented
    assert (decoded.width, decoded.height) == (96, 64) == decoded.image.size
    assert decoded.image.mode in ("RGB", "L", "RGBA")
    assert not decoded.animated


def test_type_comes_from_content_not_the_name(sample: Image.Image, encode_as: Save) -> None:
    """A PNG renamed .jpg is still a PNG (decode never sees the name; the download name follows content)."""
    renamed_upload = encode_as(sample, "PNG")
    decoded = decode(renamed_upload, max_pixels=MAX_PIXELS)
    assert decoded.format == ImageFormat.PNG
    assert formats.download_name("holiday.jpg", decoded.format) == "holiday.png"


@pytest.mark.parametrize(
    "content",
    [
        b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
        b"",
        b"\x89PNG\r\n\x1a\n",  # a signature and nothing else
    ],
)
def test_non_images_are_unsupported_media(content: bytes) -> None:
    """HTML, SVG, empty and header-only bytes give 415 with the accepted types listed."""
    with pytest.raises(UnsupportedMediaType) as caught:
        decode(content, max_pixels=MAX_PIXELS)
    assert formats.ACCEPTED_DESCRIPTION in caught.value.message
    assert caught.value.status == 415


def _peak_rss_bytes() -> int:
    """This process's peak resident memory so far (VmHWM)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) * 1024


def test_pixel_bomb_is_refused_from_its_header(bomb: bytes) -> None:
    """A 20000x20000 PNG of a few tens of KB is refused before any pixel is allocated: the process's
    peak memory does not move by the 1.2 GB its pixels would take."""
    assert len(bomb) < 100_000
    peak_before = _peak_rss_bytes()
    with pytest.raises(PayloadTooLarge) as caught:
        decode(bomb, max_pixels=MAX_PIXELS)
    assert _peak_rss_bytes() - peak_before < 200 * 1024 * 1024
    assert "50 megapixels" in caught.value.message
    assert caught.value.status == 413


def test_image_over_the_limit_names_it_in_megapixels(sample: Image.Image, encode_as: Save) -> None:
    """An image with more pixels than max_pixels (but not a Pillow bomb) is refused naming the limit."""
    with pytest.raises(PayloadTooLarge) as caught:
        decode(encode_as(sample, "PNG"), max_pixels=5000)
    assert "0.005 megapixels" in caught.value.message
    assert "96x64" in caught.value.message


def test_truncated_jpeg_is_corrupt(sample: Image.Image, encode_as: Save) -> None:
    """A JPEG cut in half fails with a 422 saying it is truncated or corrupt."""
    data = encode_as(sample, "JPEG", quality=90)
    with pytest.raises(ValidationFailed) as caught:
        decode(data[: len(data) // 2], max_pixels=MAX_PIXELS)
    assert "truncated or corrupt" in caught.value.message
    assert caught.value.details == {"field": "file"}


def test_truncated_png_is_corrupt(make_photo: Callable[..., Image.Image], encode_as: Save) -> None:
    """A PNG missing the end of its image data fails as truncated rather than decoding half."""
    data = encode_as(make_photo(300, 200), "PNG")
    with pytest.raises(ValidationFailed, match="truncated or corrupt"):
        decode(data[: int(len(data) * 0.6)], max_pixels=MAX_PIXELS)


def test_exif_orientation_is_applied_and_reset(
    encode_as: Save, make_gps_exif: Callable[..., Image.Exif]
) -> None:
    """A JPEG stored sideways with Orientation 6 comes out upright and its kept EXIF says 1."""
    stored = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(stored).rectangle((0, 0, 49, 49), fill="red")  # top-left as stored
    data = encode_as(stored, "JPEG", quality=95, exif=make_gps_exif(orientation=6).tobytes())
    decoded = decode(data, max_pixels=MAX_PIXELS)
    assert decoded.reoriented
    assert decoded.image.size == (200, 400)
    red, green, blue, _ = rgba(decoded.image, (175, 25))
    assert red > 200 and green < 60 and blue < 60  # rotated 90° clockwise: now top-right
    exif = Image.Exif()
    assert decoded.exif is not None
    exif.load(decoded.exif)
    assert exif[0x0112] == 1
    assert exif.get_ifd(0x8825)  # everything else, GPS included, is kept for the caller to decide


def test_jpeg_quantisation_and_subsampling_are_recorded(sample: Image.Image, encode_as: Save) -> None:
    """A JPEG's quantisation tables and chroma subsampling travel with the decoded image."""
    decoded = decode(encode_as(sample, "JPEG", quality=70, subsampling="4:2:0"), max_pixels=MAX_PIXELS)
    assert decoded.quantization is not None and len(decoded.quantization[0]) == 64
    assert decoded.subsampling == 2
    png = decode(encode_as(sample, "PNG"), max_pixels=MAX_PIXELS)
    assert png.quantization is None and png.subsampling is None


def test_animated_gif_keeps_first_frame(encode_as: Save) -> None:
    """An animated GIF decodes to its first frame and says it was animated."""
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "green", "blue")]
    data = encode_as(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    decoded = decode(data, max_pixels=MAX_PIXELS)
    assert decoded.animated
    assert decoded.format == ImageFormat.GIF
    red, green, blue, _ = rgba(decoded.image, (10, 10))
    assert red > 200 and green < 50 and blue < 50


def test_mpo_is_a_still_jpeg(sample: Image.Image, encode_as: Save) -> None:
    """A multi-picture JPEG (as phones write) is a JPEG and not an animation."""
    data = encode_as(sample, "MPO", save_all=True, append_images=[sample.rotate(90)])
    decoded = decode(data, max_pixels=MAX_PIXELS)
    assert decoded.format == ImageFormat.JPEG
    assert not decoded.animated


def test_cmyk_jpeg_becomes_rgb(sample: Image.Image, encode_as: Save) -> None:
    """A CMYK JPEG decodes into RGB with about the right colours."""
    data = encode_as(Image.new("RGB", (64, 64), (200, 30, 30)).convert("CMYK"), "JPEG", quality=95)
    decoded = decode(data, max_pixels=MAX_PIXELS)
    assert decoded.mode == "CMYK"
    assert decoded.image.mode == "RGB"
    red, green, blue, _ = rgba(decoded.image, (32, 32))
    assert red > 150 and green < 80 and blue < 80


def test_sixteen_bit_grey_png_is_scaled_not_clipped(encode_as: Save) -> None:
    """A 16-bit greyscale PNG becomes 8-bit L with its mid-grey intact (not clipped to white)."""
    deep = Image.new("I", (32, 32), 32768).convert("I;16")
    data = encode_as(deep, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    decoded = decode(data, max_pixels=MAX_PIXELS)
    assert decoded.image.mode == "L"
    assert 126 <= grey(decoded.image, (5, 5)) <= 129


def test_sixteen_bit_rgb_png_decodes(encode_as: Save, sample: Image.Image) -> None:
    """A 16-bit-per-channel RGB PNG decodes into 8-bit RGB."""
    # Pillow cannot write 48-bit PNGs, so build one: same pixels, each byte doubled big-endian.
    width, height = sample.size
    rows = b"".join(
        b"\x00" + bytes(b for value in sample.crop((0, y, width, y + 1)).tobytes() for b in (value, value))
        for y in range(height)
    )

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    decoded = decode(data, max_pixels=MAX_PIXELS)
    assert decoded.image.mode == "RGB"
    assert decoded.image.tobytes() == sample.tobytes()


def test_palette_with_transparency_becomes_rgba(encode_as: Save) -> None:
    """A palette PNG with a transparent index decodes into RGBA with the hole kept."""
    palette = Image.new("P", (20, 20), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.paste(1, (0, 0, 10, 20))
    data = encode_as(palette, "PNG", transparency=1)
    decoded = decode(data, max_pixels=MAX_PIXELS)
    assert decoded.image.mode == "RGBA"
    assert rgba(decoded.image, (2, 2))[3] == 0
    assert decoded.image.getpixel((15, 2)) == (255, 0, 0, 255)
    assert decoded.has_alpha


@pytest.mark.parametrize(("mode", "expected"), [("L", "L"), ("LA", "LA"), ("RGBA", "RGBA"), ("1", "L")])
def test_simple_modes_decode_to_encodable_modes(encode_as: Save, mode: str, expected: str) -> None:
    """Greyscale, grey+alpha, RGBA and bilevel PNGs decode into modes every encoder writes."""
    image = Image.new(mode, (16, 16))
    decoded = decode(encode_as(image, "PNG"), max_pixels=MAX_PIXELS)
    assert decoded.image.mode == expected


def test_heic_keeps_exif_and_icc(
    sample: Image.Image, encode_as: Save, make_gps_exif: Callable[..., Image.Exif]
) -> None:
    """A HEIC's EXIF (GPS included) is available to re-attach after decoding."""
    data = encode_as(sample, "HEIF", quality=80, exif=make_gps_exif().tobytes())
    decoded = decode(data, max_pixels=MAX_PIXELS)
    assert decoded.format == ImageFormat.HEIF
    assert decoded.exif is not None
    exif = Image.Exif()
    exif.load(decoded.exif)
    assert exif[0x010F] == "Apple"
