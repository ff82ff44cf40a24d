"""Read the EXIF a user cares about, and remove metadata without re-encoding the picture.

Reading never raises: cameras and editors write every kind of odd value (zero denominators,
strings padded with NULs, lists where a number belongs), and a missing or unreadable field is
simply left out.

Stripping edits the container (see ``_strip``) and leaves the coded pixels byte-identical:

- JPEG: marker segments are walked; "all" drops APP1 (EXIF, XMP), APP3-APP13, APP15, COM,
  non-ICC APP2 (MPF, FlashPix) and everything after EOI; "gps" rewrites the EXIF GPS directory
  out in place and blanks GPS in XMP and in whatever follows EOI.
- PNG: chunks are walked; "all" drops eXIf, tEXt/zTXt/iTXt and tIME; "gps" rewrites eXIf and
  the XMP text chunk.
- WebP: RIFF chunks are walked; EXIF/XMP chunks dropped or rewritten, VP8X flags and the RIFF
  size fixed.
- GIF: comment and metadata application blocks are dropped (animation and ICC blocks kept).
- TIFF: the directories are edited in place on every page; strips and tiles do not move.
- HEIF/AVIF: the EXIF and XMP items are found through ``meta/iinf/iloc`` and overwritten in
  place with same-length scrubbed versions.
- BMP holds no metadata: returned unchanged.

Whenever the Orientation is not 1 (the stored pixels are meant to be shown rotated) "all"
keeps a minimal EXIF with just the Orientation, or the picture would turn sideways. Every
result is read back and checked; if metadata that should be gone is still there the operation
fails rather than pretending.

The location has its own helpers (``has_location``, ``location``, ``with_location``): the privacy
rule needs to find it, carry it from the original into a re-encoded version, or strip it alone.

Why one module of over 350 lines: reading, stripping and the location are one concept, a file's
metadata as the user sees it. They share the tag table and the one test of "located" (EXIF GPS or
XMP GPS) that the read-back check also uses; the per-container work is already apart
(``_strip``, ``_exif``, ``_xmp``, ``_isobmff``, ``_jpeg``).
"""

from __future__ import annotations

import math
import struct
import zlib
from typing import Any, Literal

from PIL import Image

from imagetools_common.contracts.image import GpsPosition, ImageFormat, ImageMetadata
from imagetools_common.errors import DomainError, ValidationFailed
from imagetools_common.logs import get_logger

from . import _exif, _strip, _xmp
from .decode import open_image

log = get_logger(__name__)

_IFD0 = {"make": 0x010F, "model": 0x0110, "orientation": 0x0112, "software": 0x0131, "datetime": 0x0132}
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_EXPOSURE_TIME, _F_NUMBER, _ISO = 0x829A, 0x829D, 0x8827
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED, _OFFSET_ORIGINAL = 0x9003, 0x9004, 0x9011
_SHUTTER_APEX, _APERTURE_APEX = 0x9201, 0x9202
_FOCAL_LENGTH, _FOCAL_35MM = 0x920A, 0xA405
_LENS_MAKE, _LENS_MODEL = 0xA433, 0xA434
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON, _GPS_ALT_REF, _GPS_ALT = 1, 2, 3, 4, 5, 6
_MAX_TEXT = 200


def read_metadata(data: bytes) -> ImageMetadata:
    """Camera, exposure, date, orientation and GPS position from the image's EXIF; never raises."""
    try:
        image = open_image(data)
        exif = image.getexif()
    except DomainError:
        return ImageMetadata()
    except Exception:
        log.debug("EXIF unreadable", exc_info=True)
        return ImageMetadata()
    if not exif:
        return ImageMetadata()
    details = _ifd(exif, _EXIF_IFD)
    return ImageMetadata(
        camera=_guard(_camera, exif),
        lens=_guard(_lens, details),
        exposure=_guard(_exposure, details),
        aperture=_guard(_aperture, details),
        iso=_guard(_iso, details),
        focal_length=_guard(_focal_length, details),
        taken_at=_guard(_taken_at, exif, details),
        orientation=_guard(_orientation, exif),
        software=_guard(_text, exif.get(_IFD0["software"])),
        gps=_guard(_gps, _ifd(exif, _GPS_IFD)),
        has_exif=True,
    )


def _guard(reader: Any, *args: Any) -> Any:
    # One odd field must not cost the user every other field.
    try:
        return reader(*args)
    except Exception:
        log.debug("EXIF field unreadable", exc_info=True)
        return None


def _ifd(exif: Image.Exif, tag: int) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(tag))
    except Exception:
        return {}


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(char for char in value if char.isprintable()).strip()
    return cleaned[:_MAX_TEXT] or None


def _number(value: Any) -> float | None:
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    if value is None or isinstance(value, str | bytes):
        return None
    number = float(value)  # IFDRational with a zero denominator becomes nan
    return number if math.isfinite(number) else None


def _camera(exif: Image.Exif) -> str | None:
    make, model = _text(exif.get(_IFD0["make"])), _text(exif.get(_IFD0["model"]))
    if make and model and model.lower().startswith(make.split()[0].lower()):
        return model  # "Canon" + "Canon EOS R5"
    return " ".join(part for part in (make, model) if part) or None


def _lens(details: dict[int, Any]) -> str | None:
    make, model = _text(details.get(_LENS_MAKE)), _text(details.get(_LENS_MODEL))
    if make and model and make.lower() not in model.lower():
        return f"{make} {model}"
    return model or make


def _exposure(details: dict[int, Any]) -> str | None:
    seconds = _number(details.get(_EXPOSURE_TIME))
    if seconds is None and (apex := _number(details.get(_SHUTTER_APEX))) is not None and abs(apex) < 64:
        seconds = 2.0**-apex
    if seconds is None or seconds <= 0 or seconds > 1e5:
        return None
    if seconds >= 1:
        return f"{round(seconds, 1):g} s"
    denominator = round(1 / seconds)
    if abs(1 / denominator - seconds) <= seconds * 0.05:
        return f"1/{denominator} s"
    return f"{seconds:.2g} s"


def _aperture(details: dict[int, Any]) -> str | None:
    f_number = _number(details.get(_F_NUMBER))
    if f_number is None and (apex := _number(details.get(_APERTURE_APEX))) is not None and 0 <= apex < 64:
        f_number = math.sqrt(2) ** apex
    if f_number is None or not 0.5 <= f_number <= 1000:
        return None
    return f"f/{round(f_number, 1):g}"


def _iso(details: dict[int, Any]) -> int | None:
    iso = _number(details.get(_ISO))
    return int(iso) if iso is not None and 0 < iso < 10_000_000 else None


def _focal_length(details: dict[int, Any]) -> str | None:
    focal = _number(details.get(_FOCAL_LENGTH))
    equivalent = _number(details.get(_FOCAL_35MM))
    focal = focal if focal is not None and 0 < focal < 10_000 else None
    equivalent = equivalent if equivalent is not None and 0 < equivalent < 10_000 else None
    if focal is None:
        return f"{equivalent:g} mm (35 mm equiv.)" if equivalent else None
    text = f"{round(focal, 1):g} mm"
    if equivalent and round(equivalent) != round(focal):
        text += f" ({equivalent:g} mm equiv.)"  # phones: a 6.9 mm lens frames like a 26 mm one
    return text


def _taken_at(exif: Image.Exif, details: dict[int, Any]) -> str | None:
    original = details.get(_DATETIME_ORIGINAL)
    for raw in (
        original,
        details.get(_DATETIME_DIGITIZED),
        exif.get(_IFD0["datetime"]),
    ):
        text = _text(raw)
        if not text or text.startswith("0000"):
            continue
        # "2024:05:01 12:34:56" is EXIF's spelling; the same wall-clock time reads better ISO-style.
        if len(text) >= 19 and text[4] == ":" and text[7] == ":":
            text = f"{text[:4]}-{text[5:7]}-{text[8:]}"
        offset = _text(details.get(_OFFSET_ORIGINAL))
        return f"{text}{offset}" if offset and raw is original else text
    return None


def _orientation(exif: Image.Exif) -> int | None:
    value = _number(exif.get(_IFD0["orientation"]))
    return int(value) if value is not None and 1 <= value <= 8 else None


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    if isinstance(value, tuple | list):
        parts = [_number(part) for part in value[:3]]
        if not parts or any(part is None for part in parts):
            return None
        degrees = math.fsum(part / 60.0**index for index, part in enumerate(parts) if part is not None)
    else:
        number = _number(value)  # some writers store a single decimal value
        if number is None:
            return None
        degrees = number
    ref_text = _text(ref) or ""
    return -abs(degrees) if ref_text.upper().startswith(negative) else degrees


def _gps(gps: dict[int, Any]) -> GpsPosition | None:
    latitude = _degrees(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF), "S")
    longitude = _degrees(gps.get(_GPS_LON), gps.get(_GPS_LON_REF), "W")
    if latitude is None or longitude is None or abs(latitude) > 90 or abs(longitude) > 180:
        return None
    if latitude == 0 and longitude == 0:
        return None  # devices without a fix write zeros; nobody photographs from Null Island
    latitude, longitude = round(latitude, 6), round(longitude, 6)
    altitude = _number(gps.get(_GPS_ALT))
    if altitude is not None:
        ref = gps.get(_GPS_ALT_REF)
        below = ref in (1, b"\x01") or (isinstance(ref, bytes | tuple) and len(ref) > 0 and ref[0] == 1)
        altitude = round(-abs(altitude) if below else altitude, 1)
        if abs(altitude) > 100_000:
            altitude = None
    lat, lon = _coordinate(latitude), _coordinate(longitude)
    return GpsPosition(
        latitude=latitude,
        longitude=longitude,
        altitude_m=altitude,
        map_url=f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}",
    )


def _coordinate(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


# Stripping -------------------------------------------------------------------------------------


def strip(data: bytes, fmt: ImageFormat, what: Literal["all", "gps"]) -> bytes:
    """The same image without metadata ("all") or without its location ("gps"), pixels untouched."""
    orientation = read_metadata(data).orientation or 1
    try:
        stripped = _strip_as(data, ImageFormat(fmt), what, orientation)
        _check(stripped, what)
    except (ValueError, IndexError, struct.error, zlib.error) as error:  # malformed container
        log.debug("metadata removal failed", exc_info=error)
        raise _cannot_strip() from None
    return stripped


def _strip_as(data: bytes, fmt: ImageFormat, what: Literal["all", "gps"], orientation: int) -> bytes:
    if fmt == ImageFormat.JPEG:
        return _strip.jpeg(data, what, orientation)
    if fmt == ImageFormat.PNG:
        return _strip.png(data, what, orientation)
    if fmt == ImageFormat.WEBP:
        return _strip.webp(data, what, orientation)
    if fmt == ImageFormat.GIF:
        return _strip.gif(data, what)
    if fmt == ImageFormat.TIFF:
        return _strip.tiff(data, what)
    if fmt in (ImageFormat.HEIF, ImageFormat.AVIF):
        return _strip.isobmff(data, what)
    return data  # BMP has nowhere to keep metadata


def has_location(data: bytes) -> bool:
    """Whether the file holds a location: an EXIF GPS directory or XMP GPS properties (never raises)."""
    try:
        image = open_image(data)
        exif = image.getexif()
    except Exception:  # not an image we read, so nothing we could show or strip either
        log.debug("metadata unreadable while looking for a location", exc_info=True)
        return False
    try:
        return _located(image, exif)
    except ValueError:
        return True  # more XMP GPS properties than we are willing to look at: assume the worst


Location = dict[int, Any]
"""An EXIF GPS directory (tag → value), as Pillow reads and writes it."""


def location(data: bytes) -> Location | None:
    """The file's EXIF GPS directory, or None without one (never raises).

    XMP GPS properties are not carried over: re-encoded versions hold no XMP at all.
    """
    try:
        gps = open_image(data).getexif().get_ifd(_GPS_IFD)
    except Exception:
        log.debug("metadata unreadable while reading the location", exc_info=True)
        return None
    return dict(gps) or None


def with_location(exif: bytes | None, gps: Location | None) -> bytes | None:
    """``exif`` (bytes for an encoder) with ``gps`` as its GPS directory; the rest is kept.

    EXIF that Pillow cannot rewrite gives way to the location alone, which is what was asked for.
    """
    if not gps:
        return exif
    merged = Image.Exif()
    try:
        if exif:
            merged.load(exif)
            if _EXIF_IFD in merged:  # sub-directories load lazily; only touched ones are written back
                merged.get_ifd(_EXIF_IFD)
        merged.get_ifd(_GPS_IFD).clear()
        merged.get_ifd(_GPS_IFD).update(gps)
        return merged.tobytes()
    except Exception:
        log.debug("EXIF unwritable with the location; writing the location alone", exc_info=True)
        alone = Image.Exif()
        alone.get_ifd(_GPS_IFD).update(gps)
        return alone.tobytes()


def _located(image: Image.Image, exif: Image.Exif) -> bool:
    return _GPS_IFD in exif or _xmp.has_gps(image.info.get("xmp"))


def _check(data: bytes, what: Literal["all", "gps"]) -> None:
    """Read the result back: the image must still open and the metadata must really be gone."""
    try:
        image = open_image(data)
        exif = image.getexif()
        located = _located(image, exif)
        leftover = [tag for tag in exif if _counts_as_metadata(tag, image.format)] if what == "all" else []
        xmp = image.info.get("xmp")
    except DomainError:
        raise
    except Exception as error:
        raise ValueError("stripped file unreadable") from error
    if located or leftover or (what == "all" and _has_xmp_content(xmp)):
        log.warning("metadata still present after stripping", what=what)
        raise _cannot_strip()


def _counts_as_metadata(tag: int, pillow_format: str | None) -> bool:
    if pillow_format == "TIFF":  # a TIFF's directory also describes its pixels
        return tag in _exif.TIFF_FILE_METADATA
    return tag != _IFD0["orientation"]


def _cannot_strip() -> ValidationFailed:
    return ValidationFailed(
        "The metadata could not be removed from this file without re-encoding it; "
        "convert it to another format first.",
        details={"field": "what"},
    )


def _has_xmp_content(xmp: bytes | str | None) -> bool:
    if not xmp:
        return False
    text = xmp.encode() if isinstance(xmp, str) else xmp
    return b"rdf:Description" in text
