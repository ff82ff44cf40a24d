"""The hand-written metadata parsers, fuzzed: any bytes give a result or the defined error, and
stripping never changes a pixel.

Seeds are real files made here (JPEG, PNG, WebP, TIFF, HEIF/AVIF containers with EXIF, GPS and
XMP), then mutated: bytes overwritten, cut short, or spliced. Example counts are kept small so
the whole module takes seconds; hypothesis' database keeps a failing case for the next run.
"""

from __future__ import annotations

import contextlib
import io
import os
from fractions import Fraction
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from image_service.imaging import _exif, _isobmff, _jpeg, _strip, _xmp, formats, metadata
from imagetools_common.contracts.image import ImageFormat
from imagetools_common.errors import DomainError

# FUZZ_EXAMPLES=5000 FUZZ_RANDOM=1 explores much further (minutes) when a parser changes.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow],
)
PIXELS = settings(
    max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
# Pillow warns about the corrupt EXIF the mutations make; that is expected here, not a finding.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
WHAT: tuple[Literal["all", "gps"], ...] = ("all", "gps")
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    b' exif:GPSLatitude="48,51.492N"><exif:GPSVersionID>2.2.0.0</exif:GPSVersionID>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def exif_with(make: str = "Camera", orientation: int = 1, latitude: int = 48) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (Fraction(latitude), Fraction(51), Fraction(2964, 100)), 3: "E"}
    return exif


def save(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def seeds() -> dict[ImageFormat, bytes]:
    """One small, valid file per container, each carrying EXIF with GPS and (where it can) XMP."""
    formats.register()
    picture = Image.linear_gradient("L").resize((24, 16)).convert("RGB")
    exif = exif_with().tobytes()
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    made = {
        ImageFormat.JPEG: save(picture, "JPEG", exif=exif, xmp=XMP, comment=b"hi"),
        ImageFormat.PNG: save(picture, "PNG", exif=exif, pnginfo=info),
        ImageFormat.WEBP: save(picture, "WEBP", exif=exif, xmp=XMP, lossless=True),
        ImageFormat.TIFF: save(picture, "TIFF", exif=exif),
        ImageFormat.GIF: save(picture.convert("P"), "GIF", comment=b"hi"),
        ImageFormat.HEIF: save(picture, "HEIF", exif=exif, xmp=XMP, quality=90),
    }
    if formats.pillow_supports_save(ImageFormat.AVIF):
        made[ImageFormat.AVIF] = save(picture, "AVIF", exif=exif, xmp=XMP)
    return made


SEEDS = seeds()


@st.composite
def mutated(draw: st.DrawFn) -> tuple[ImageFormat, bytes]:
    """A seed file with a few bytes overwritten, a slice cut out, a random tail, or cut short."""
    fmt = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[fmt])
    for _ in range(draw(st.integers(0, 6))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    mode = draw(st.sampled_from(["keep", "cut", "splice", "truncate"]))
    if mode == "cut":
        start = draw(st.integers(0, len(data) - 1))
        del data[start : start + draw(st.integers(1, 64))]
    elif mode == "splice":
        data[draw(st.integers(0, len(data))) : 0] = draw(st.binary(max_size=64))
    elif mode == "truncate":
        del data[draw(st.integers(0, len(data) - 1)) :]
    return fmt, bytes(data)


ANY_BYTES = st.binary(max_size=512)
INPUTS = st.one_of(ANY_BYTES, mutated().map(lambda pair: pair[1]))


# The private parsers: a result or ValueError --------------------------------------------------


def _value_error_or_result(call: Any, *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(ValueError):
        call(*args, **kwargs)


@FUZZ
@given(INPUTS, st.sampled_from(WHAT))
def test_exif_editing_raises_only_value_error(data: bytes, what: Literal["all", "gps"]) -> None:
    """EXIF blocks and TIFF files: scrubbed, or ValueError; Orientation is read or None."""
    block = data[_exif.tiff_start(data) :]
    _value_error_or_result(_exif.scrub_exif, block, what)
    _value_error_or_result(_exif.scrub_tiff_file, data, what, xmp_filter=_xmp.blank_gps)
    assert _exif.orientation(block) in (None, *range(1, 9))


@FUZZ
@given(INPUTS)
def test_container_walkers_raise_only_value_error(data: bytes) -> None:
    """JPEG segments, ISOBMFF boxes and XMP packets: parsed, or ValueError."""
    _value_error_or_result(_jpeg.parse, data)
    _value_error_or_result(_xmp.has_gps, data)
    _value_error_or_result(_xmp.blank_gps, data)
    try:
        items = _isobmff.metadata_items(data)
    except ValueError:
        return
    for item in items:
        assert 0 <= item.start <= item.end <= len(data)
        if item.kind == "exif":
            _value_error_or_result(_isobmff.exif_tiff_offset, data, item)


@FUZZ
@given(mutated(), st.sampled_from(WHAT), st.integers(1, 8))
def test_format_strippers_raise_only_value_error(
    seed: tuple[ImageFormat, bytes], what: Literal["all", "gps"], orientation: int
) -> None:
    """Each container's stripper edits the file or raises ValueError, whatever the damage."""
    fmt, data = seed
    strippers = {
        ImageFormat.JPEG: lambda: _strip.jpeg(data, what, orientation),
        ImageFormat.PNG: lambda: _strip.png(data, what, orientation),
        ImageFormat.WEBP: lambda: _strip.webp(data, what, orientation),
        ImageFormat.GIF: lambda: _strip.gif(data, what),
        ImageFormat.TIFF: lambda: _strip.tiff(data, what),
        ImageFormat.HEIF: lambda: _strip.isobmff(data, what),
        ImageFormat.AVIF: lambda: _strip.isobmff(data, what),
    }
    _value_error_or_result(strippers[fmt])


def test_an_exif_item_too_short_for_its_offset_is_a_value_error() -> None:
    """Found by reading what the fuzzing reaches: a 1-byte EXIF item at the end of the file."""
    with pytest.raises(ValueError, match="shorter"):
        _isobmff.exif_tiff_offset(b"x" * 10, _isobmff.Item("exif", 9, 10))


# The public layer: results, or domain errors ----------------------------------------------------


@FUZZ
@given(st.one_of(ANY_BYTES.map(lambda b: (ImageFormat.JPEG, b)), mutated()), st.sampled_from(WHAT))
def test_reading_and_stripping_never_raise_anything_but_domain_errors(
    seed: tuple[ImageFormat, bytes], what: Literal["all", "gps"]
) -> None:
    """read_metadata and has_location never raise; strip answers bytes or a DomainError (a 4xx)."""
    fmt, data = seed
    assert metadata.read_metadata(data) is not None
    assert metadata.has_location(data) in (True, False)
    try:
        stripped = metadata.strip(data, fmt, what)
    except DomainError:
        return
    assert not metadata.has_location(stripped)


# Stripping leaves every pixel as it was -------------------------------------------------------

_LOSSLESS_SAVES: dict[ImageFormat, dict[str, Any]] = {
    ImageFormat.JPEG: {"quality": 80},
    ImageFormat.PNG: {},
    ImageFormat.WEBP: {"lossless": True},
    ImageFormat.TIFF: {},
}


@PIXELS
@given(
    fmt=st.sampled_from(sorted(_LOSSLESS_SAVES)),
    make=st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=40),
    orientation=st.integers(1, 8),
    latitude=st.integers(0, 89),
    xmp=st.booleans(),
    what=st.sampled_from(WHAT),
    seed=st.integers(0, 1000),
)
def test_stripping_never_changes_a_pixel(
    fmt: ImageFormat,
    make: str,
    orientation: int,
    latitude: int,
    xmp: bool,
    what: Literal["all", "gps"],
    seed: int,
) -> None:
    """An image with random EXIF (and XMP) decodes to the same pixels before and after stripping."""
    picture = Image.effect_noise((20, 14), 40 + seed % 60).convert("RGB")
    exif = exif_with(make, orientation, latitude)
    options = dict(_LOSSLESS_SAVES[fmt])
    options["exif"] = exif.tobytes()
    if xmp and fmt in (ImageFormat.JPEG, ImageFormat.WEBP):
        options["xmp"] = XMP
    data = save(picture, formats.format_info(fmt).pillow, **options)
    stripped = metadata.strip(data, fmt, what)
    before, after = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(stripped))
    assert after.size == before.size and after.tobytes() == before.tobytes()
    assert not metadata.has_location(stripped)


@pytest.mark.parametrize("fmt", [fmt for fmt in sorted(SEEDS) if fmt != ImageFormat.GIF])  # GIF: no EXIF
def test_every_seed_is_a_valid_image_with_a_location(fmt: ImageFormat) -> None:
    """The fuzz seeds are real files that carry a location (else the mutations would test little)."""
    assert metadata.has_location(SEEDS[fmt])
