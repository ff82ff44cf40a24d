"""Decode an upload safely: type from content, size checked before pixels, orientation applied.

The order matters for safety: the header is parsed first (cheap), the pixel count is checked
against the limit before anything is decompressed, and only then are the pixels loaded in full
so that a truncated file fails here rather than half-way through an operation.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from PIL import Image, ImageOps, JpegImagePlugin

from imagetools_common.contracts.image import ImageFormat
from imagetools_common.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from imagetools_common.logs import get_logger

from . import _shrink, formats, modes
from .operations import scale_to

log = get_logger(__name__)

_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
# In a TIFF the "EXIF" is the file's own directory, full of strip offsets and sizes that mean
# nothing once the pixels are written elsewhere; only these descriptive tags travel on.
_TIFF_DESCRIPTIVE_TAGS = (0x010E, 0x010F, 0x0110, 0x0112, 0x0131, 0x0132, 0x013B, 0x8298, _EXIF_IFD, _GPS_IFD)

Shrink = Callable[[int, int], tuple[int, int]]
"""(upright width, height) -> the (width, height) the caller wants the picture at."""
T = TypeVar("T")
# EXIF orientation -> the transpose that makes the stored pixels upright.
_TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded upload: upright, loaded pixels plus what encoders need to keep from the source."""

    image: Image.Image
    format: ImageFormat
    width: int
    height: int
    animated: bool
    exif: bytes | None
    icc_profile: bytes | None
    quantization: dict[int, list[int]] | None
    subsampling: int | None
    mode: str
    """The source's pixel mode before normalisation (e.g. CMYK, I;16, P)."""
    reoriented: bool = False
    """The pixels were turned or mirrored to honour an EXIF Orientation other than 1."""

    @property
    def has_alpha(self) -> bool:
        """Whether the decoded image carries an alpha channel."""
        return modes.has_alpha(self.image)


def unsupported() -> UnsupportedMediaType:
    """The error for bytes that are not an image we accept, listing what we do accept."""
    return UnsupportedMediaType(f"Not a supported image. Accepted types: {formats.ACCEPTED_DESCRIPTION}.")


def too_large(width: int, height: int, max_pixels: int) -> PayloadTooLarge:
    """The error for an image with more pixels than the limit, naming the limit in megapixels."""
    return PayloadTooLarge(
        f"The image is {width}x{height} ({width * height / 1e6:.1f} megapixels); "
        f"the limit is {max_pixels / 1e6:g} megapixels."
    )


def _bomb(error: Exception, max_pixels: int | None) -> PayloadTooLarge:
    # Pillow's message carries the pixel count ("Image size (400000000 pixels) exceeds ...").
    match = re.search(r"\((\d+) pixels\)", str(error))
    found = f" ({int(match.group(1)) / 1e6:.0f} megapixels)" if match else ""
    limit = max_pixels if max_pixels is not None else Image.MAX_IMAGE_PIXELS or 0
    return PayloadTooLarge(f"The image has too many pixels{found}; the limit is {limit / 1e6:g} megapixels.")


def open_image(data: bytes, *, max_pixels: int | None = None) -> Image.Image:
    """Parse only the header of an accepted image; raises UnsupportedMediaType for anything else."""
    formats.register()
    try:
        # Pillow's own bomb check fires here, on the header; turn its warning into an error too.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(formats.PILLOW_OPEN_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _bomb(error, max_pixels) from None
    except MemoryError:
        raise
    except Exception as error:
        # UnidentifiedImageError, or a recognised but malformed header (plugins raise OSError,
        # ValueError, SyntaxError, RuntimeError from libavif, ...): to the user, not an image.
        log.debug("image header rejected", exc_info=error)
        raise unsupported() from None
    if formats.from_pillow(image.format) is None:
        raise unsupported()
    return image


def decode(data: bytes, *, max_pixels: int, shrink_to: Shrink | None = None) -> Decoded:
    """Decode bytes into an upright, fully loaded image in an encodable mode.

    ``shrink_to`` maps the picture's upright size to the (never larger) size the caller wants it
    at: the image then comes back resampled to that size with Lanczos, a JPEG decoded straight
    to it (``_shrink``). ``width`` and ``height`` stay the picture's own size.
    """
    image = open_image(data, max_pixels=max_pixels)
    fmt = formats.from_pillow(image.format)
    assert fmt is not None  # open_image refuses anything else
    width, height = image.size
    if width * height > max_pixels:
        raise too_large(width, height, max_pixels)
    # A JPEG is decoded straight to the size wanted (its EXIF, orientation included, comes
    # before the pixels); anything else is decoded in full and resampled at the end.
    jpeg_box = None
    if shrink_to is not None and isinstance(image, JpegImagePlugin.JpegImageFile):
        upright_size = _upright_size(image)
        if (wanted := shrink_to(*upright_size)) != upright_size:
            jpeg_box = (wanted[1], wanted[0]) if upright_size != image.size else wanted

    # EXIF is read after loading (PNG may keep its eXIf chunk after the pixels), except from
    # a TIFF, whose sub-directories Pillow can only read while the file is still unread.
    exif = _exif_of(image) if fmt == ImageFormat.TIFF else None
    pixels: Image.Image = image
    if jpeg_box is None:
        _load(image.load, fmt, max_pixels)
    else:
        assert isinstance(image, JpegImagePlugin.JpegImageFile)
        source, box = image, jpeg_box
        pixels = _load(lambda: _shrink.jpeg(source, data, box), fmt, max_pixels)
    if fmt != ImageFormat.TIFF:
        exif = _exif_of(image)
    # MPO is one picture plus depth maps or previews, not an animation.
    animated = bool(getattr(image, "is_animated", False)) and image.format != "MPO"
    quantization, subsampling = _jpeg_tables(image)
    source_mode = image.mode
    icc_profile = image.info.get("icc_profile") or None
    pixels, reoriented = _upright(image, pixels)
    normalised, icc_profile = modes.normalise(pixels, icc_profile)
    size = upright_size if jpeg_box is not None else normalised.size
    if jpeg_box is None and shrink_to is not None and (wanted := shrink_to(*size)) != size:
        normalised = scale_to(normalised, *wanted)
    # Metadata travels explicitly (exif=, icc_profile=), never by accident through info.
    normalised.info.clear()
    return Decoded(
        image=normalised,
        format=fmt,
        width=size[0],
        height=size[1],
        animated=animated,
        exif=exif,
        icc_profile=icc_profile,
        quantization=quantization,
        subsampling=subsampling,
        mode=source_mode,
        reoriented=reoriented,
    )


def _load(load: Callable[[], T], fmt: ImageFormat, max_pixels: int) -> T:
    # A full load is what detects truncation; LOAD_TRUNCATED_IMAGES stays off on purpose.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _bomb(error, max_pixels) from None
    except MemoryError:
        raise
    except Exception as error:  # decoders raise OSError, ValueError, SyntaxError, EOFError, ...
        log.debug("image body rejected", exc_info=error)
        name = formats.format_info(fmt).pillow
        raise ValidationFailed(
            f"The {name} file is truncated or corrupt.", details={"field": "file"}
        ) from None


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """The size once the EXIF orientation is applied (read from the header, before any pixel)."""
    try:
        turned = image.getexif().get(_ORIENTATION, 1) in (5, 6, 7, 8)
    except Exception:  # garbage EXIF: _upright will keep the stored orientation too
        turned = False
    return (image.height, image.width) if turned else image.size


def _upright(image: Image.Image, pixels: Image.Image) -> tuple[Image.Image, bool]:
    """The pixels turned as the EXIF orientation of ``image`` says; whether anything moved.

    ``pixels`` is ``image`` itself, turned in place, or its pixels shrunk by ``_shrink``.
    """
    # In place: a 12 MP copy costs as much as decoding it. exif_transpose also drops the
    # orientation it applied from the image's own EXIF, so it cannot be applied twice.
    try:
        orientation = image.getexif().get(_ORIENTATION, 1)
        if pixels is image:
            ImageOps.exif_transpose(image, in_place=True)
        elif orientation in _TRANSPOSES:
            pixels = pixels.transpose(_TRANSPOSES[orientation])
    except Exception:  # garbage EXIF must not make a readable picture unreadable
        log.debug("EXIF orientation unreadable; keeping the stored orientation", exc_info=True)
        return pixels, False
    return pixels, orientation in range(2, 9)


def _jpeg_tables(image: Image.Image) -> tuple[dict[int, list[int]] | None, int | None]:
    if not isinstance(image, JpegImagePlugin.JpegImageFile):
        return None, None
    tables = getattr(image, "quantization", None) or None
    quantization = {index: list(table) for index, table in tables.items()} if tables else None
    sampling = JpegImagePlugin.get_sampling(image)
    return quantization, (sampling if sampling >= 0 else None)


def _exif_of(image: Image.Image) -> bytes | None:
    """The source's EXIF as bytes to re-attach, with Orientation 1 since we rotate the pixels."""
    try:
        exif = image.getexif()
        if image.format == "TIFF":
            exif = _descriptive_subset(exif)
        else:
            # Sub-directories are loaded lazily; touching them makes tobytes() write them back.
            for pointer in (_EXIF_IFD, _GPS_IFD):
                if pointer in exif:
                    exif.get_ifd(pointer)
        if not exif:
            return None
        data = exif.tobytes()
        if exif.get(_ORIENTATION, 1) != 1:
            # A fresh copy: the image's own Exif must keep the orientation until it is applied.
            upright = Image.Exif()
            upright.load(data)
            upright[_ORIENTATION] = 1
            data = upright.tobytes()
    except Exception:  # unparseable EXIF is dropped rather than failing the upload
        log.debug("EXIF unreadable; dropping it", exc_info=True)
        return None
    return data if len(data) > len(b"Exif\x00\x00") + 8 else None


def _descriptive_subset(exif: Image.Exif) -> Image.Exif:
    subset = Image.Exif()
    for tag in _TIFF_DESCRIPTIVE_TAGS:
        if tag in (_EXIF_IFD, _GPS_IFD):
            ifd: dict[int, Any] = dict(exif.get_ifd(tag))
            if ifd:
                subset[tag] = ifd
        elif tag in exif:
            subset[tag] = exif[tag]
    return subset
