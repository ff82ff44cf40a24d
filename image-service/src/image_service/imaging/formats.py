"""The image formats we accept and write: Pillow names, MIME types, extensions, and file names.

The format of an upload is always decided from its content (see ``decode``); names matter only
for what we hand back to the browser, so they are sanitised here once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from PIL import Image

from imagetools_common.contracts.image import ImageFormat


@dataclass(frozen=True, slots=True)
class FormatInfo:
    """How one ``ImageFormat`` is spelled for Pillow, HTTP and the file system."""

    pillow: str
    mime: str
    extension: str


FORMATS: dict[ImageFormat, FormatInfo] = {
    ImageFormat.JPEG: FormatInfo("JPEG", "image/jpeg", ".jpg"),
    ImageFormat.PNG: FormatInfo("PNG", "image/png", ".png"),
    ImageFormat.WEBP: FormatInfo("WEBP", "image/webp", ".webp"),
    ImageFormat.GIF: FormatInfo("GIF", "image/gif", ".gif"),
    ImageFormat.BMP: FormatInfo("BMP", "image/bmp", ".bmp"),
    ImageFormat.TIFF: FormatInfo("TIFF", "image/tiff", ".tiff"),
    # pillow-heif decodes HEVC-coded HEIF only, which is what phones write and call .heic.
    ImageFormat.HEIF: FormatInfo("HEIF", "image/heic", ".heic"),
    ImageFormat.AVIF: FormatInfo("AVIF", "image/avif", ".avif"),
}

# Pillow names the plugin that opened a file; MPO is a JPEG with extra pictures after it
# (many phones write one), so it counts as JPEG.
_BY_PILLOW_NAME: dict[str, ImageFormat] = {info.pillow: fmt for fmt, info in FORMATS.items()} | {
    "MPO": ImageFormat.JPEG
}

# What ``Image.open(formats=...)`` may try; MPO is opened through the JPEG plugin.
PILLOW_OPEN_FORMATS: tuple[str, ...] = tuple(info.pillow for info in FORMATS.values())

ACCEPTED_DESCRIPTION = "JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC/HEIF, AVIF"

_registered = False


def register() -> None:
    """Teach Pillow to open HEIF/HEIC through pillow-heif; safe to call any number of times."""
    global _registered
    if _registered:
        return
    from pillow_heif import register_heif_opener

    # Thumbnails, depth maps and auxiliary images are never shown; skipping them saves work.
    register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
    _registered = True


def format_info(fmt: ImageFormat | str) -> FormatInfo:
    """The Pillow name, MIME type and extension of a format (also accepts an output-format string)."""
    return FORMATS[ImageFormat(fmt)]


def mime_type(fmt: ImageFormat | str) -> str:
    """The Content-Type to serve a format with."""
    return format_info(fmt).mime


def from_pillow(name: str | None) -> ImageFormat | None:
    """The ``ImageFormat`` for a Pillow plugin name, or None when we do not accept it."""
    return _BY_PILLOW_NAME.get(name or "")


def pillow_supports_save(fmt: ImageFormat | str) -> bool:
    """Whether this Pillow build can write the format (AVIF and HEIF depend on optional codecs)."""
    register()
    return format_info(fmt).pillow in Image.SAVE


# File names ------------------------------------------------------------------------------------

MAX_NAME_LENGTH = 120
_FALLBACK_NAME = "image"
# Reserved by Windows whatever the extension; a download called CON.jpg cannot be saved there.
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}
# Characters that are illegal in file names on some system or break a Content-Disposition header.
_FORBIDDEN = set('<>:"/\\|?*')
_WHITESPACE = re.compile(r"\s+")
_EXTENSION = re.compile(r"\.[0-9A-Za-z]{1,10}$")


def _keep(char: str) -> bool:
    # Category C covers control, format (bidi overrides that disguise extensions), surrogate,
    # private-use and unassigned code points: none belongs in a name shown to a user.
    return char not in _FORBIDDEN and not unicodedata.category(char).startswith("C")


def sanitize_filename(name: str) -> str:
    """A safe display and download name: no directories, control characters or odd whitespace."""
    name = unicodedata.normalize("NFC", name or "")
    # Browsers on Windows send full paths; either separator may appear whatever the server OS.
    name = re.split(r"[\\/]", name)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)  # a drive prefix left on "C:photo.jpg"
    # Turn whitespace of any kind (tabs, newlines, NBSP) into plain spaces before dropping
    # control characters, so "a\tb" stays two words.
    name = _WHITESPACE.sub(" ", name)
    name = "".join(char for char in name if _keep(char))
    name = _WHITESPACE.sub(" ", name).strip()
    # Leading dots hide files or form "..", trailing dots and spaces are dropped by Windows.
    name = name.lstrip(". ").rstrip(". ")
    if not name:
        return _FALLBACK_NAME
    stem, extension = _split_extension(name)
    if not stem:
        stem = _FALLBACK_NAME
    if stem.upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    stem = stem[: MAX_NAME_LENGTH - len(extension)].rstrip(". ")
    return f"{stem or _FALLBACK_NAME}{extension}"


def _split_extension(name: str) -> tuple[str, str]:
    match = _EXTENSION.search(name)
    if match is None or match.start() == 0:
        return name, ""
    return name[: match.start()].rstrip(". "), match.group()


def download_name(original: str, fmt: ImageFormat | str) -> str:
    """The original's stem with the extension of the format the bytes are in now."""
    stem, _ = _split_extension(sanitize_filename(original))
    extension = format_info(fmt).extension
    return f"{stem[: MAX_NAME_LENGTH - len(extension)]}{extension}"
