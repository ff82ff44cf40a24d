"""Real images made with Pillow for the imaging tests: photo-like content, EXIF with GPS, odd modes.

Helpers are fixtures returning functions, so test modules need no imports from here.
"""

from __future__ import annotations

import io
import math
import random
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter
from PIL.TiffImagePlugin import IFDRational

from image_service.imaging import formats

# The Eiffel Tower: 48°51'29.52" N, 2°17'40.2" E, 35 m.
EIFFEL_LATITUDE, EIFFEL_LONGITUDE = 48.8582, 2.2945

XMP_WITH_GPS = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    b' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    b' exif:GPSLatitude="48,51.492N" exif:GPSLongitude="2,17.67E" dc:format="image/jpeg">'
    b"<exif:GPSVersionID>2.2.0.0</exif:GPSVersionID>"
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """A photo-like RGB image: smooth shapes and gradients, mid-frequency texture, sensor noise."""
    rnd = random.Random(seed)
    channels = []
    for _ in range(3):
        low = Image.effect_noise((width // 64 + 2, height // 64 + 2), 64).resize(
            (width, height), Image.Resampling.BICUBIC
        )
        mid = Image.effect_noise((max(1, width // 6), max(1, height // 6)), 40).resize(
            (width, height), Image.Resampling.BICUBIC
        )
        gradient = Image.linear_gradient("L").rotate(rnd.randrange(360)).resize((width, height))
        channels.append(Image.blend(Image.blend(low, gradient, 0.5), mid, 0.3))
    image = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(25):
        x, y, r = rnd.randrange(width), rnd.randrange(height), rnd.randrange(width // 40 + 1, width // 8 + 2)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(*(rnd.randrange(256) for _ in range(3)), 160))
    image = image.filter(ImageFilter.GaussianBlur(1.5))
    noise = Image.effect_noise((width, height), 6).convert("RGB")
    return ImageChops.add(image, noise, scale=1.0, offset=-128)


def gps_exif(orientation: int = 1) -> Image.Exif:
    """EXIF like a phone writes: camera, exposure, date and the Eiffel Tower's position."""
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15 Pro"
    exif[0x0112] = orientation
    exif[0x0131] = "17.1"
    exif[0x0132] = "2024:05:01 12:34:56"
    exif[0x8769] = {
        0x829A: IFDRational(1, 120),
        0x829D: IFDRational(178, 100),
        0x8827: 200,
        0x9003: "2024:05:01 12:34:56",
        0x9011: "+02:00",
        0x920A: IFDRational(686, 100),
        0xA405: 26,
        0xA433: "Apple",
        0xA434: "iPhone 15 Pro back camera 6.86mm f/1.78",
    }
    exif[0x8825] = {
        1: "N",
        2: (IFDRational(48, 1), IFDRational(51, 1), IFDRational(2952, 100)),
        3: "E",
        4: (IFDRational(2, 1), IFDRational(17, 1), IFDRational(402, 10)),
        5: b"\x00",
        6: IFDRational(35, 1),
    }
    return exif


def save(image: Image.Image, pillow_format: str, **options: Any) -> bytes:
    """The image saved in memory."""
    formats.register()
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **options)
    return buffer.getvalue()


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB between two same-size RGB images (99 when identical)."""
    a, b = a.convert("RGB"), b.convert("RGB")
    assert a.size == b.size
    histogram = ImageChops.difference(a, b).histogram()
    mse = sum((index % 256) ** 2 * count for index, count in enumerate(histogram)) / (a.width * a.height * 3)
    return 99.0 if mse == 0 else 10 * math.log10(255**2 / mse)


def jpeg_scans(data: bytes) -> bytes:
    """The entropy-coded data of a JPEG: from the first SOS marker of the main image to EOI."""
    position = 2
    while True:
        while data[position + 1] == 0xFF:
            position += 1
        marker = data[position + 1]
        if marker == 0xDA:
            break
        position += 2 + struct.unpack_from(">H", data, position + 2)[0]
    end = data.index(b"\xff\xd9", position) + 2
    return data[position:end]


def png_bomb(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of side x side pixels, all black: a few tens of KB that decode to ~400 MP."""
    row = b"\x00" * (1 + (side + 7) // 8)
    compressor = zlib.compressobj(9)
    chunks = [compressor.compress(row) for _ in range(side)]
    idat = b"".join(chunks) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="session")
def make_photo() -> Callable[..., Image.Image]:
    """Build a photo-like image of a given size."""
    return photo


@pytest.fixture(scope="session")
def big_photo() -> Image.Image:
    """A 4000x3000 (12 MP) photo-like image, made once per run."""
    return photo(4000, 3000, seed=12)


@pytest.fixture(scope="session")
def big_photo_jpeg(big_photo: Image.Image) -> bytes:
    """The 12 MP photo as a q90 JPEG with phone-like EXIF, as a phone would upload it."""
    return save(big_photo, "JPEG", quality=90, exif=gps_exif().tobytes())


@pytest.fixture(scope="session")
def make_gps_exif() -> Callable[..., Image.Exif]:
    """Build phone-like EXIF with GPS (and an orientation)."""
    return gps_exif


@pytest.fixture(scope="session")
def encode_as() -> Callable[..., bytes]:
    """Save an image in memory with Pillow (HEIF via pillow-heif)."""
    return save


@pytest.fixture(scope="session")
def measure_psnr() -> Callable[[Image.Image, Image.Image], float]:
    """PSNR in dB between two images."""
    return psnr


@pytest.fixture(scope="session")
def scans_of() -> Callable[[bytes], bytes]:
    """The entropy-coded scan data of a JPEG."""
    return jpeg_scans


@pytest.fixture(scope="session")
def bomb() -> bytes:
    """A 20000x20000 PNG of a few tens of KB."""
    return png_bomb()


@pytest.fixture(scope="session")
def xmp_with_gps() -> bytes:
    """An XMP packet holding a GPS position both as attributes and as an element."""
    return XMP_WITH_GPS


@pytest.fixture(scope="session")
def eiffel() -> tuple[float, float]:
    """The latitude and longitude written by ``make_gps_exif``."""
    return EIFFEL_LATITUDE, EIFFEL_LONGITUDE
