"""Format table, file-name sanitising and download names."""

from __future__ import annotations

import pytest

from image_service.imaging import formats
from imagetools_common.contracts.image import ImageFormat


def test_every_format_has_pillow_name_mime_and_extension() -> None:
    """Each accepted format maps to a Pillow plugin, an image/* MIME type and a dotted extension."""
    for fmt in ImageFormat:
        info = formats.format_info(fmt)
        assert info.pillow and info.mime.startswith("image/") and info.extension.startswith(".")
    assert formats.mime_type("heif") == "image/heic"
    assert formats.format_info("jpeg").extension == ".jpg"


def test_accepted_description_lists_every_family() -> None:
    """The human list of accepted types names JPEG through AVIF, HEIC included."""
    assert formats.ACCEPTED_DESCRIPTION == "JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC/HEIF, AVIF"


def test_mpo_counts_as_jpeg_and_unknown_plugins_are_refused() -> None:
    """Pillow's MPO plugin name maps to JPEG; a plugin we do not accept maps to None."""
    assert formats.from_pillow("MPO") == ImageFormat.JPEG
    assert formats.from_pillow("ICO") is None
    assert formats.from_pillow(None) is None


def test_register_is_idempotent_and_enables_heif_writes() -> None:
    """Registering twice is harmless and this build can write HEIF and AVIF."""
    formats.register()
    formats.register()
    assert formats.pillow_supports_save("heif")
    assert formats.pillow_supports_save("avif")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\IMG.JPG", "IMG.JPG"),
        ("C:IMG.JPG", "IMG.JPG"),
        ("/home/me/holiday photo.png", "holiday photo.png"),
        ("a\x00b\x07c\x1b[31m.jpg", "abc[31m.jpg"),
        ("  lots \t of\n  space  .jpg", "lots of space.jpg"),
        ("Éléphant_日本.heic", "Éléphant_日本.heic"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ('what?*<>|".png', "what.png"),
        ("..", "image"),
        ("", "image"),
        ("\x00\x01", "image"),
        (".hidden.jpg", "hidden.jpg"),
        ("CON.jpg", "_CON.jpg"),
        ("photo.", "photo"),
        (".jpg", "jpg"),
    ],
)
def test_sanitize_filename_cases(raw: str, expected: str) -> None:
    """Directories, control and bidi characters, odd whitespace and reserved names are cleaned."""
    assert formats.sanitize_filename(raw) == expected


def test_sanitize_filename_caps_length_and_keeps_extension() -> None:
    """A 300-character name is cut to 120 characters, keeping its extension."""
    name = formats.sanitize_filename("x" * 300 + ".jpeg")
    assert len(name) == formats.MAX_NAME_LENGTH
    assert name.endswith(".jpeg")
    assert formats.sanitize_filename("é" * 300) == "é" * formats.MAX_NAME_LENGTH


def test_download_name_uses_the_current_format_extension() -> None:
    """The download keeps the original stem and takes the extension of the bytes' format."""
    assert formats.download_name("IMG_1234.HEIC", ImageFormat.JPEG) == "IMG_1234.jpg"
    assert formats.download_name("holiday.jpg", "webp") == "holiday.webp"
    assert formats.download_name("no extension", ImageFormat.AVIF) == "no extension.avif"
    assert formats.download_name("../../x.tar.gz", "png") == "x.tar.png"
    assert formats.download_name("", "png") == "image.png"
    assert len(formats.download_name("y" * 300 + ".jpg", "webp")) <= formats.MAX_NAME_LENGTH
