"""Reading EXIF for people, and stripping metadata without touching the pixels."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import Literal

import pytest
from PIL import Image, ImageCms, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational
from pixels import opened

from image_service.imaging import _exif, _xmp
from image_service.imaging.decode import decode
from image_service.imaging.metadata import location, read_metadata, strip, with_location
from imagetools_common.contracts.image import ImageFormat
from imagetools_common.errors import ValidationFailed

Save = Callable[..., bytes]
GPS_IFD = 0x8825


@pytest.fixture(scope="module")
def sample(make_photo: Callable[..., Image.Image]) -> Image.Image:
    """A small photo-like image."""
    return make_photo(160, 120, seed=11)


@pytest.fixture(scope="module")
def srgb() -> bytes:
    """An sRGB ICC profile."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.fixture(scope="module")
def phone_jpeg(
    sample: Image.Image,
    encode_as: Save,
    make_gps_exif: Callable[..., Image.Exif],
    xmp_with_gps: bytes,
    srgb: bytes,
) -> bytes:
    """A JPEG like a phone's: EXIF with GPS and Orientation 6, XMP with GPS, an ICC profile, a comment."""
    return encode_as(
        sample,
        "JPEG",
        quality=85,
        exif=make_gps_exif(orientation=6).tobytes(),
        xmp=xmp_with_gps,
        icc_profile=srgb,
        comment=b"taken at home",
    )


def gps_directory(data: bytes) -> dict[int, object]:
    exif = Image.open(io.BytesIO(data)).getexif()
    return dict(exif.get_ifd(GPS_IFD)) if GPS_IFD in exif else {}


# Reading ---------------------------------------------------------------------------------------


def test_read_metadata_of_a_phone_photo(phone_jpeg: bytes, eiffel: tuple[float, float]) -> None:
    """Camera, lens, exposure, aperture, ISO, focal length, date and orientation read as people write them."""
    meta = read_metadata(phone_jpeg)
    assert meta.has_exif
    assert meta.camera == "Apple iPhone 15 Pro"
    assert meta.lens == "Apple iPhone 15 Pro back camera 6.86mm f/1.78"
    assert meta.exposure == "1/120 s"
    assert meta.aperture == "f/1.8"
    assert meta.iso == 200
    assert meta.focal_length == "6.9 mm (26 mm equiv.)"
    assert meta.taken_at == "2024-05-01 12:34:56+02:00"
    assert meta.orientation == 6
    assert meta.software == "17.1"


def test_gps_position_is_decimal_degrees_with_a_map_link(
    phone_jpeg: bytes, eiffel: tuple[float, float]
) -> None:
    """Degrees/minutes/seconds become signed decimal degrees, with altitude and an OpenStreetMap link."""
    gps = read_metadata(phone_jpeg).gps
    assert gps is not None
    assert (gps.latitude, gps.longitude) == pytest.approx(eiffel, abs=1e-6)
    assert gps.altitude_m == 35.0
    assert gps.map_url == "https://www.openstreetmap.org/?mlat=48.8582&mlon=2.2945#map=16/48.8582/2.2945"


def test_southern_and_western_positions_are_negative(encode_as: Save) -> None:
    """S and W references make latitude and longitude negative; altitude below sea level too."""
    exif = Image.Exif()
    exif[GPS_IFD] = {
        1: "S",
        2: (IFDRational(33, 1), IFDRational(51, 1), IFDRational(3576, 100)),
        3: "W",
        4: (IFDRational(70, 1), IFDRational(40, 1), IFDRational(0, 1)),
        5: b"\x01",
        6: IFDRational(12, 1),
    }
    gps = read_metadata(encode_as(Image.new("RGB", (8, 8)), "JPEG", exif=exif.tobytes())).gps
    assert gps is not None
    assert gps.latitude == pytest.approx(-(33 + 51 / 60 + 35.76 / 3600), abs=1e-6)
    assert gps.longitude == pytest.approx(-(70 + 40 / 60), abs=1e-6)
    assert gps.altitude_m == -12.0


def test_garbage_exif_never_raises(encode_as: Save) -> None:
    """Zero denominators, text for numbers, out-of-range values and NUL padding leave fields empty."""
    ascii_, short, rational, srational, byte = 2, 3, 5, 10, 1
    block = tiff_block(
        ifd0={
            0x010F: (ascii_, b"\x00\x00"),
            0x0110: (ascii_, b"Model\x00\x00\x00"),
            0x0112: (short, b"\x00\x2a"),
        },
        exif={
            0x829A: (rational, struct.pack(">II", 1, 0)),
            0x829D: (rational, struct.pack(">II", 0, 0)),
            0x8827: (ascii_, b"lots\x00"),
            0x920A: (srational, struct.pack(">ii", -5, 1)),
            0x9003: (ascii_, b"0000:00:00 00:00:00\x00"),
        },
        gps={
            1: (ascii_, b"N\x00"),
            2: (rational, struct.pack(">IIIIII", 1, 0, 3, 1, 4, 1)),
            3: (ascii_, b"E\x00"),
            4: (ascii_, b"garbage\x00"),
            5: (byte, b"\x07"),
            6: (ascii_, b"high\x00"),
        },
    )
    meta = read_metadata(encode_as(Image.new("RGB", (8, 8)), "JPEG", exif=b"Exif\x00\x00" + block))
    assert meta.has_exif
    assert meta.camera == "Model"
    assert meta.exposure is None and meta.aperture is None and meta.iso is None
    assert meta.focal_length is None and meta.taken_at is None and meta.orientation is None
    assert meta.gps is None


def tiff_block(**directories: dict[int, tuple[int, bytes]]) -> bytes:
    """A big-endian EXIF TIFF block built by hand, so it can hold values no camera library would write."""
    sizes = {1: 1, 2: 1, 3: 2, 5: 8, 10: 8}
    pointers = {"exif": 0x8769, "gps": 0x8825}

    def directory(entries: dict[int, tuple[int, bytes]], start: int) -> bytes:
        data_start = start + 2 + 12 * len(entries) + 4
        head, data = struct.pack(">H", len(entries)), b""
        for tag in sorted(entries):
            kind, payload = entries[tag]
            if len(payload) <= 4:
                value = payload.ljust(4, b"\x00")
            else:
                value = struct.pack(">I", data_start + len(data))
                data += payload + b"\x00" * (len(payload) % 2)
            head += struct.pack(">HHI", tag, kind, len(payload) // sizes[kind]) + value
        return head + b"\x00\x00\x00\x00" + data

    ifd0 = dict(directories["ifd0"])
    for tag in pointers.values():
        ifd0[tag] = (4, b"\x00\x00\x00\x00")  # placeholder, same size as the real pointer
    sizes[4] = 4
    position = 8 + len(directory(ifd0, 8))
    blocks = []
    for name, tag in pointers.items():
        ifd0[tag] = (4, struct.pack(">I", position))
        blocks.append(directory(directories[name], position))
        position += len(blocks[-1])
    return b"MM\x00\x2a\x00\x00\x00\x08" + directory(ifd0, 8) + b"".join(blocks)


def test_null_island_is_no_position(encode_as: Save) -> None:
    """A 0,0 position (written by devices without a fix) is not reported."""
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (0, 0, 0), 3: "E", 4: (0, 0, 0)}
    assert read_metadata(encode_as(Image.new("RGB", (8, 8)), "JPEG", exif=exif.tobytes())).gps is None


def test_no_exif_and_not_an_image_give_empty_metadata(encode_as: Save) -> None:
    """An image without EXIF, and bytes that are no image, both read as empty metadata."""
    assert read_metadata(encode_as(Image.new("RGB", (8, 8)), "PNG")).has_exif is False
    assert read_metadata(b"<html></html>").has_exif is False


# Stripping JPEG --------------------------------------------------------------------------------


def test_strip_all_from_jpeg_keeps_scans_icc_and_orientation(
    phone_jpeg: bytes, scans_of: Callable[[bytes], bytes], srgb: bytes
) -> None:
    """Stripping everything keeps the scan data byte-identical, the ICC profile and Orientation only."""
    stripped = strip(phone_jpeg, ImageFormat.JPEG, "all")
    assert scans_of(stripped) == scans_of(phone_jpeg)
    image = opened(stripped)
    assert dict(image.getexif()) == {0x0112: 6}
    assert "xmp" not in image.info and "comment" not in image.info
    assert image.info.get("icc_profile") == srgb
    assert b"taken at home" not in stripped and b"Apple" not in stripped
    meta = read_metadata(stripped)
    assert meta.orientation == 6 and meta.gps is None and meta.camera is None
    assert len(stripped) < len(phone_jpeg)


def test_strip_all_without_orientation_leaves_no_exif(
    sample: Image.Image, encode_as: Save, make_gps_exif: Callable[..., Image.Exif]
) -> None:
    """When the pixels are stored upright, stripping everything leaves no EXIF at all."""
    data = encode_as(sample, "JPEG", exif=make_gps_exif(orientation=1).tobytes())
    stripped = strip(data, ImageFormat.JPEG, "all")
    assert b"Exif\x00\x00" not in stripped
    assert not read_metadata(stripped).has_exif


def test_strip_gps_from_jpeg_keeps_everything_else(
    phone_jpeg: bytes, scans_of: Callable[[bytes], bytes]
) -> None:
    """Stripping the location keeps scans, camera, date, orientation and non-GPS XMP, and the file length."""
    stripped = strip(phone_jpeg, ImageFormat.JPEG, "gps")
    assert scans_of(stripped) == scans_of(phone_jpeg)
    assert len(stripped) == len(phone_jpeg)  # edited in place
    meta = read_metadata(stripped)
    assert meta.gps is None
    assert meta.camera == "Apple iPhone 15 Pro" and meta.orientation == 6 and meta.exposure == "1/120 s"
    assert gps_directory(stripped) == {}
    xmp = opened(stripped).info["xmp"]
    assert not _xmp.has_gps(xmp) and b'dc:format="image/jpeg"' in xmp
    assert b"48,51.492N" not in stripped


def test_strip_gps_reaches_pictures_after_the_jpeg(
    sample: Image.Image,
    encode_as: Save,
    make_gps_exif: Callable[..., Image.Exif],
    scans_of: Callable[[bytes], bytes],
) -> None:
    """In a multi-picture JPEG the second picture's GPS goes too, and the MPF offsets stay valid."""
    exif = make_gps_exif().tobytes()
    data = encode_as(sample, "MPO", save_all=True, append_images=[sample.rotate(90)], exif=exif)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2
    assert data.count(b"Exif\x00\x00") == 2
    stripped = strip(data, ImageFormat.JPEG, "gps")
    reopened = Image.open(io.BytesIO(stripped))
    assert getattr(reopened, "n_frames", 1) == 2
    reopened.seek(1)
    reopened.load()
    assert GPS_IFD not in reopened.getexif()
    assert scans_of(stripped) == scans_of(data)


def test_strip_all_drops_pictures_after_the_jpeg(sample: Image.Image, encode_as: Save) -> None:
    """Stripping everything also drops MPF pictures and anything else after the main image."""
    data = encode_as(sample, "MPO", save_all=True, append_images=[sample.rotate(90)])
    stripped = strip(data, ImageFormat.JPEG, "all")
    assert getattr(Image.open(io.BytesIO(stripped)), "n_frames", 1) == 1
    assert stripped.endswith(b"\xff\xd9")


# Stripping other formats -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pillow_format", "fmt", "options"),
    [
        ("PNG", ImageFormat.PNG, {}),
        ("WEBP", ImageFormat.WEBP, {"quality": 80}),
        ("WEBP", ImageFormat.WEBP, {"lossless": True}),
        ("TIFF", ImageFormat.TIFF, {}),
        ("HEIF", ImageFormat.HEIF, {"quality": 80}),
        ("AVIF", ImageFormat.AVIF, {"quality": 70}),
    ],
)
@pytest.mark.parametrize("what", ["gps", "all"])
def test_strip_other_formats_without_touching_pixels(
    sample: Image.Image,
    encode_as: Save,
    make_gps_exif: Callable[..., Image.Exif],
    xmp_with_gps: bytes,
    pillow_format: str,
    fmt: ImageFormat,
    options: dict[str, object],
    what: Literal["all", "gps"],
) -> None:
    """PNG, WebP, TIFF, HEIC and AVIF lose GPS (or everything) while decoding to identical pixels."""
    exif = make_gps_exif().tobytes()
    # Pillow writes XMP into WebP, HEIF and AVIF with xmp=, and into a TIFF as its tag 700;
    # its PNG writer has no XMP option (test_strip_png_text_chunks covers PNG's XMP).
    with_xmp = pillow_format != "PNG"
    xmp_option = {"xmp": xmp_with_gps} if pillow_format in ("WEBP", "HEIF", "AVIF") else {}
    if pillow_format == "TIFF":
        loaded = Image.Exif()
        loaded.load(exif)
        loaded[0x02BC] = xmp_with_gps
        exif = loaded.tobytes()
    data = encode_as(sample, pillow_format, exif=exif, **xmp_option, **options)
    assert read_metadata(data).gps is not None
    stripped = strip(data, fmt, what)
    meta = read_metadata(stripped)
    assert meta.gps is None
    assert gps_directory(stripped) == {}
    assert meta.camera == (None if what == "all" else "Apple iPhone 15 Pro")
    assert _xmp.has_gps(opened(data).info.get("xmp")) == with_xmp
    assert not _xmp.has_gps(opened(stripped).info.get("xmp"))
    assert opened(stripped).tobytes() == opened(data).tobytes()
    assert decode(stripped, max_pixels=10**7).format == fmt


def test_strip_png_text_chunks(
    sample: Image.Image, encode_as: Save, make_gps_exif: Callable[..., Image.Exif], xmp_with_gps: bytes
) -> None:
    """PNG XMP and text chunks go with "all"; with "gps" the XMP loses only its location."""
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp_with_gps.decode(), zip=True)
    info.add_text("Comment", "at home")
    data = encode_as(sample, "PNG", pnginfo=info, exif=make_gps_exif().tobytes())
    assert _xmp.has_gps(opened(data).info["XML:com.adobe.xmp"])

    only_gps = opened(strip(data, ImageFormat.PNG, "gps"))
    assert not _xmp.has_gps(only_gps.info["XML:com.adobe.xmp"])
    assert "dc:format" in only_gps.info["XML:com.adobe.xmp"]
    assert only_gps.info["Comment"] == "at home"

    everything = opened(strip(data, ImageFormat.PNG, "all"))
    assert "XML:com.adobe.xmp" not in everything.info and "Comment" not in everything.info
    assert not everything.getexif()


def test_strip_gif_comments(encode_as: Save) -> None:
    """A GIF's comment goes with "all" and its animation is kept."""
    frames = [Image.new("RGB", (10, 10), colour) for colour in ("red", "green", "blue")]
    data = encode_as(
        frames[0], "GIF", save_all=True, append_images=frames[1:], comment=b"secret place", loop=0
    )
    stripped = strip(data, ImageFormat.GIF, "all")
    assert b"secret place" not in stripped
    assert getattr(Image.open(io.BytesIO(stripped)), "n_frames", 1) == 3


def test_strip_bmp_is_a_no_op(sample: Image.Image, encode_as: Save) -> None:
    """BMP has nowhere to keep metadata, so it comes back unchanged."""
    data = encode_as(sample, "BMP")
    assert strip(data, ImageFormat.BMP, "all") == data


def test_unparseable_container_is_a_validation_error(encode_as: Save, sample: Image.Image) -> None:
    """A file whose container cannot be edited fails clearly instead of pretending."""
    data = encode_as(sample, "PNG")
    with pytest.raises(ValidationFailed) as caught:
        strip(data[:-12], ImageFormat.PNG, "all")  # IEND cut off
    assert caught.value.details == {"field": "what"}


def test_exif_scrub_keeps_length_and_other_tags(make_gps_exif: Callable[..., Image.Exif]) -> None:
    """The in-place EXIF editor keeps the block's length, removes GPS, and keeps Orientation for "all"."""
    block = make_gps_exif(orientation=8).tobytes()[6:]
    without_gps = _exif.scrub_exif(block, "gps")
    assert len(without_gps) == len(block)
    exif = Image.Exif()
    exif.load(b"Exif\x00\x00" + without_gps)
    assert GPS_IFD not in exif and exif[0x010F] == "Apple" and exif.get_ifd(0x8769)[0x8827] == 200

    nothing = _exif.scrub_exif(block, "all")
    exif = Image.Exif()
    exif.load(b"Exif\x00\x00" + nothing)
    assert dict(exif) == {0x0112: 8}
    assert b"Apple" not in nothing
    with pytest.raises(ValueError, match="TIFF"):
        _exif.scrub_exif(b"not a tiff at all", "gps")


def test_xmp_blanking_keeps_length() -> None:
    """GPS properties are blanked to spaces; a blank packet is valid XMP of the same length."""
    packet = b'<rdf:Description exif:GPSLatitude="1,2N" drone-dji:GpsLongitude="+3.4" dc:x="y"/>'
    blanked = _xmp.blank_gps(packet)
    assert len(blanked) == len(packet) and not _xmp.has_gps(blanked) and b'dc:x="y"' in blanked
    assert len(_xmp.blank(400)) == 400 and _xmp.blank(400).endswith(b'<?xpacket end="w"?>')


# Carrying a location into a re-encode ----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "AVIF"])
def test_a_kept_location_joins_the_other_exif_on_encode(
    fmt: str, sample: Image.Image, encode_as: Save, phone_jpeg: bytes
) -> None:
    """The original's GPS directory is written beside the EXIF a version already carries."""
    camera = Image.Exif()
    camera[0x010F] = "Canon"
    gps = location(phone_jpeg)
    assert gps
    saved = encode_as(sample, fmt, exif=with_location(camera.tobytes(), gps))
    assert gps_directory(saved) == gps_directory(phone_jpeg)
    assert read_metadata(saved).camera == "Canon"
    assert read_metadata(saved).gps == read_metadata(phone_jpeg).gps


def test_no_location_changes_nothing_and_unreadable_exif_gives_the_location_alone(
    sample: Image.Image, encode_as: Save, phone_jpeg: bytes
) -> None:
    assert location(encode_as(sample, "JPEG")) is None
    assert with_location(b"Exif\x00\x00MM", None) == b"Exif\x00\x00MM"
    gps = location(phone_jpeg)
    assert gps_directory(encode_as(sample, "PNG", exif=with_location(b"Exif\x00\x00junk", gps))) == gps
