"""A corpus of hostile image files, made in memory: what a malicious or broken client may upload.

Every item is named and labelled with its category, so a test can upload them all (through
image-service or the gateway) and report by category. The files are small (the largest, the ICC
abuse, is a few MB): the hostility is in what they declare, not in their size.

Categories: ``polyglot`` (an image that is also a ZIP or HTML), ``icc`` (huge, malformed or
zlib-bomb colour profiles), ``exif`` (directory loops, offsets past the end, huge counts,
orientations out of range), ``metadata`` (a text chunk inflating to 200 MB), ``animation``
(GIF, WebP and APNG with thousands of frames),
``mode`` (CMYK, 16-bit, float, LA, palette with transparency, 1-bit), ``bomb`` (huge declared
dimensions over tiny data), ``truncated``, ``empty`` and ``disguised`` (not an image at all,
named like one).

One module on purpose, although it is over the 350-line mark: it is one catalogue, a maker per
hostile file and the list that names them, read top to bottom like a table; splitting it by
category would scatter the list the tests iterate.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from PIL import Image, PngImagePlugin

__all__ = ["CATEGORIES", "HostileFile", "hostile_images"]

CATEGORIES = (
    "polyglot", "icc", "exif", "metadata", "animation", "mode", "bomb", "truncated", "empty", "disguised",
)  # fmt: skip
# Enough frames to make a careless decoder walk them all (or allocate for them all).
MANY_FRAMES = 2000


@dataclass(frozen=True, slots=True)
class HostileFile:
    """One hostile upload: a unique name, its category, the file name it is sent with, its bytes."""

    name: str
    category: str
    filename: str
    data: bytes


def hostile_images() -> list[HostileFile]:
    """Every item of the corpus (made once per process; the list is a fresh copy each call)."""
    return list(_corpus())


@cache
def _corpus() -> tuple[HostileFile, ...]:
    items = [HostileFile(name, category, filename, make()) for name, category, filename, make in _RECIPES]
    assert len({item.name for item in items}) == len(items), "names must be unique"
    assert {item.category for item in items} == set(CATEGORIES)
    return tuple(items)


# Building blocks ----------------------------------------------------------------------------------


def _picture(width: int = 64, height: int = 48, mode: str = "RGB") -> Image.Image:
    image = Image.linear_gradient("L").resize((width, height))
    return image.convert(mode) if mode != "L" else image


def _save(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _jpeg(**options: Any) -> bytes:
    return _save(_picture(), "JPEG", quality=80, **options)


def _png(**options: Any) -> bytes:
    return _save(_picture(), "PNG", **options)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_insert(png: bytes, chunk: bytes) -> bytes:
    """``chunk`` right after IHDR (where metadata and colour chunks belong)."""
    at = 8 + 12 + struct.unpack(">I", png[8:12])[0]
    return png[:at] + chunk + png[at:]


def _jpeg_with_app1(payload: bytes) -> bytes:
    """A small JPEG whose first segment is an APP1 holding ``payload``."""
    body = _jpeg()
    return body[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + body[2:]


def _tiff_block(entries: list[tuple[int, int, int, int]], next_ifd: int = 0, tail: bytes = b"") -> bytes:
    """A little-endian TIFF header and one directory at offset 8: (tag, type, count, value) entries."""
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack("<HHII", tag, kind, count, value)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", next_ifd) + tail


def _exif(entries: list[tuple[int, int, int, int]], next_ifd: int = 0, tail: bytes = b"") -> bytes:
    return _jpeg_with_app1(b"Exif\x00\x00" + _tiff_block(entries, next_ifd, tail))


_MAKE, _ORIENTATION, _EXIF_IFD, _GPS_IFD = 0x010F, 0x0112, 0x8769, 0x8825
_ASCII, _SHORT, _LONG, _RATIONAL = 2, 3, 4, 5


# Recipes --------------------------------------------------------------------------------------------


def _jpeg_zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("payload.html", "<script>alert(document.cookie)</script>")
    return _jpeg() + archive.getvalue()


def _png_html() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<html><script>alert(1)</script></html>")
    return _png(pnginfo=info) + b"<html><body><script>alert(document.domain)</script></body></html>"


def _html_png() -> bytes:
    return b"<!doctype html><script>alert(1)</script><!--" + _png() + b"-->"


def _huge_icc() -> bytes:
    # A 3 MB "profile": JPEG splits it over ~50 APP2 segments, all to be reassembled by the reader.
    profile = (b"\x00\x30\x00\x00" + b"ADBE" + b"\x02\x10\x00\x00mntrRGB XYZ ") + bytes(3_000_000)
    return _jpeg(icc_profile=profile)


def _malformed_icc() -> bytes:
    # Declares 4 GB and a tag table pointing everywhere; a CMYK source makes decoders want to use it.
    header = struct.pack(">I", 0xFFFFFFFF) + b"lcms" + b"\x04\x30\x00\x00" + b"prtrCMYKLab "
    profile = header + bytes(100) + struct.pack(">I", 0x7FFFFFFF) + b"A2B0" * 64
    return _save(_picture(mode="CMYK"), "JPEG", icc_profile=profile)


def _icc_zlib_bomb() -> bytes:
    # An iCCP chunk inflating to 200 MB from about 200 KB.
    payload = b"evil\x00\x00" + zlib.compress(bytes(200_000_000), 9)
    return _png_insert(_png(), _png_chunk(b"iCCP", payload))


def _ztxt_bomb() -> bytes:
    payload = b"Comment\x00\x00" + zlib.compress(bytes(200_000_000), 9)
    return _png_insert(_png(), _png_chunk(b"zTXt", payload))


def _exif_loop() -> bytes:
    # IFD0 names itself as its next directory and as its EXIF sub-directory.
    return _exif(
        [(_MAKE, _ASCII, 4, int.from_bytes(b"Cam\x00", "little")), (_EXIF_IFD, _LONG, 1, 8)], next_ifd=8
    )


def _exif_gps_loop() -> bytes:
    # The GPS directory's own GPS pointer leads back to it.
    gps = struct.pack("<H", 1) + struct.pack("<HHII", _GPS_IFD, _LONG, 1, 26) + struct.pack("<I", 26)
    return _exif([(_GPS_IFD, _LONG, 1, 26)], tail=gps)


def _exif_offsets_past_end() -> bytes:
    return _exif(
        [
            (_MAKE, _ASCII, 100, 0xFFFFFF00),
            (_EXIF_IFD, _LONG, 1, 0x7FFFFFF0),
            (_GPS_IFD, _LONG, 1, 0xFFFFFFF0),
        ],
        next_ifd=0xFFFFFFFF,
    )


def _exif_huge_count() -> bytes:
    return _exif([(_MAKE, _ASCII, 0xFFFFFFFF, 8), (0x0111, _LONG, 0x3FFFFFFF, 8)])


def _exif_huge_directory() -> bytes:
    # The directory claims 65535 entries; a dozen bytes follow.
    return _jpeg_with_app1(b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff" + bytes(12))


def _orientation(value: int) -> Callable[[], bytes]:
    return lambda: _exif([(_ORIENTATION, _SHORT, 1, value)])


def _exif_zero_denominators() -> bytes:
    rationals = struct.pack("<6I", 48, 0, 51, 0, 0, 0)
    return _exif(
        [(_GPS_IFD, _LONG, 1, 26)],
        tail=struct.pack("<H", 1) + struct.pack("<HHII", 2, _RATIONAL, 3, 44) + b"\0\0\0\0" + rationals,
    )


def _frames(count: int, size: tuple[int, int] = (8, 8)) -> list[Image.Image]:
    # Consecutive frames differ, so no encoder merges them away.
    return [Image.new("RGB", size, (index % 251, (index * 7) % 253, 90)) for index in range(count)]


def _gif_frames() -> bytes:
    frames = [frame.convert("P") for frame in _frames(MANY_FRAMES * 2)]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=10, loop=0)


def _webp_frames() -> bytes:
    frames = _frames(MANY_FRAMES)
    return _save(
        frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=10, lossless=True, method=0
    )


def _apng_frames() -> bytes:
    frames = _frames(MANY_FRAMES)
    return _save(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=10)


def _mode(mode: str, fmt: str, **options: Any) -> Callable[[], bytes]:
    def make() -> bytes:
        if mode == "I;16":
            image = Image.linear_gradient("L").resize((64, 48)).convert("I").point(lambda v: v * 257)
            image = image.convert("I;16")
        elif mode == "P+transparency":
            image = _picture(mode="P")
            options["transparency"] = 0
        else:
            image = _picture(mode=mode)
        return _save(image, fmt, **options)

    return make


def _png_declaring(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_declaring(width: int, height: int) -> bytes:
    body = bytearray(_jpeg())
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = body.find(marker)
        if at >= 0:
            struct.pack_into(">HH", body, at + 5, height, width)
            return bytes(body)
    raise AssertionError("no SOF in a Pillow JPEG")


def _gif_declaring(width: int, height: int) -> bytes:
    body = bytearray(_save(_picture(8, 8, "P"), "GIF"))
    struct.pack_into("<HH", body, 6, width, height)  # the logical screen
    descriptor = body.find(b"\x2c")
    struct.pack_into("<HH", body, descriptor + 5, width, height)  # the frame
    return bytes(body)


def _webp_declaring(side: int) -> bytes:
    body = bytearray(_save(_picture(8, 8), "WEBP", lossless=True))
    at = body.find(b"VP8L") + 8
    bits = int.from_bytes(body[at + 1 : at + 5], "little")
    bits = (bits & ~((1 << 28) - 1)) | (side - 1) | ((side - 1) << 14)
    body[at + 1 : at + 5] = bits.to_bytes(4, "little")
    return bytes(body)


def _tiff_declaring(width: int, height: int) -> bytes:
    entries = [
        (0x0100, _LONG, 1, width), (0x0101, _LONG, 1, height), (0x0102, _SHORT, 1, 8),
        (0x0103, _SHORT, 1, 1), (0x0106, _SHORT, 1, 1), (0x0111, _LONG, 1, 8),
        (0x0115, _SHORT, 1, 1), (0x0116, _LONG, 1, height), (0x0117, _LONG, 1, 16),
    ]  # fmt: skip
    return _tiff_block(entries) + bytes(16)


def _bmp_declaring(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 12, 0, 0, 54) + info + bytes(12)


def _cut(make: Callable[[], bytes], fraction: float) -> Callable[[], bytes]:
    return lambda: (data := make())[: int(len(data) * fraction)]


def _pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", "hello")
    return archive.getvalue()


_RECIPES: tuple[tuple[str, str, str, Callable[[], bytes]], ...] = (
    ("jpeg_plus_zip", "polyglot", "photo.jpg", _jpeg_zip),
    ("png_plus_html", "polyglot", "photo.png", _png_html),
    ("html_wrapping_png", "polyglot", "photo.png", _html_png),
    ("icc_3mb_profile", "icc", "photo.jpg", _huge_icc),
    ("icc_malformed_cmyk", "icc", "photo.jpg", _malformed_icc),
    ("icc_zlib_bomb", "icc", "photo.png", _icc_zlib_bomb),
    ("png_ztxt_bomb", "metadata", "photo.png", _ztxt_bomb),
    ("exif_ifd_loop", "exif", "photo.jpg", _exif_loop),
    ("exif_gps_ifd_loop", "exif", "photo.jpg", _exif_gps_loop),
    ("exif_offsets_past_end", "exif", "photo.jpg", _exif_offsets_past_end),
    ("exif_huge_counts", "exif", "photo.jpg", _exif_huge_count),
    ("exif_65535_entries", "exif", "photo.jpg", _exif_huge_directory),
    ("exif_orientation_0", "exif", "photo.jpg", _orientation(0)),
    ("exif_orientation_9", "exif", "photo.jpg", _orientation(9)),
    ("exif_orientation_65535", "exif", "photo.jpg", _orientation(65535)),
    ("exif_gps_zero_denominators", "exif", "photo.jpg", _exif_zero_denominators),
    ("gif_4000_frames", "animation", "anim.gif", _gif_frames),
    ("webp_2000_frames", "animation", "anim.webp", _webp_frames),
    ("apng_2000_frames", "animation", "anim.png", _apng_frames),
    ("jpeg_cmyk", "mode", "cmyk.jpg", _mode("CMYK", "JPEG")),
    ("png_i16", "mode", "deep.png", _mode("I;16", "PNG")),
    ("tiff_i16", "mode", "deep.tiff", _mode("I;16", "TIFF")),
    ("tiff_float", "mode", "float.tiff", _mode("F", "TIFF")),
    ("tiff_int32", "mode", "int.tiff", _mode("I", "TIFF")),
    ("tiff_cmyk", "mode", "cmyk.tiff", _mode("CMYK", "TIFF")),
    ("tiff_lab", "mode", "lab.tiff", _mode("LAB", "TIFF")),
    ("png_la", "mode", "la.png", _mode("LA", "PNG")),
    ("png_palette_transparent", "mode", "p.png", _mode("P+transparency", "PNG")),
    ("gif_palette_transparent", "mode", "p.gif", _mode("P+transparency", "GIF")),
    ("png_1bit", "mode", "bw.png", _mode("1", "PNG")),
    ("tiff_1bit", "mode", "bw.tiff", _mode("1", "TIFF")),
    ("bmp_palette", "mode", "p.bmp", _mode("P", "BMP")),
    ("png_declares_100000x100000", "bomb", "bomb.png", lambda: _png_declaring(100_000, 100_000)),
    ("png_declares_2147483647_wide", "bomb", "bomb.png", lambda: _png_declaring(2**31 - 1, 1)),
    ("jpeg_declares_65000x65000", "bomb", "bomb.jpg", lambda: _jpeg_declaring(65_000, 65_000)),
    ("gif_declares_65535x65535", "bomb", "bomb.gif", lambda: _gif_declaring(65_535, 65_535)),
    ("webp_declares_16384x16384", "bomb", "bomb.webp", lambda: _webp_declaring(16_384)),
    ("tiff_declares_100000x100000", "bomb", "bomb.tiff", lambda: _tiff_declaring(100_000, 100_000)),
    ("bmp_declares_50000x50000", "bomb", "bomb.bmp", lambda: _bmp_declaring(50_000, 50_000)),
    (
        "png_8000x8000_of_zeros",
        "bomb",
        "bomb.png",
        lambda: _save(Image.new("1", (8000, 8000)), "PNG", optimize=True),
    ),
    ("jpeg_half", "truncated", "cut.jpg", _cut(_jpeg, 0.5)),
    ("jpeg_header_only", "truncated", "cut.jpg", _cut(_jpeg, 0.1)),
    ("png_half", "truncated", "cut.png", _cut(_png, 0.5)),
    ("gif_half", "truncated", "cut.gif", _cut(lambda: _save(_picture(64, 48, "P"), "GIF"), 0.5)),
    ("webp_half", "truncated", "cut.webp", _cut(lambda: _save(_picture(), "WEBP"), 0.5)),
    ("tiff_half", "truncated", "cut.tiff", _cut(lambda: _save(_picture(), "TIFF"), 0.5)),
    ("zero_bytes", "empty", "empty.jpg", lambda: b""),
    ("one_byte", "empty", "one.png", lambda: b"\xff"),
    ("jpeg_soi_only", "empty", "soi.jpg", lambda: b"\xff\xd8"),
    ("png_signature_only", "empty", "sig.png", lambda: b"\x89PNG\r\n\x1a\n"),
    (
        "svg_named_png",
        "disguised",
        "image.png",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    ),
    ("html_named_jpg", "disguised", "image.jpg", lambda: b"<html><script>alert(1)</script></html>"),
    ("pdf_named_jpg", "disguised", "image.jpg", _pdf),
    ("zip_named_png", "disguised", "image.png", _zip),
    ("elf_named_gif", "disguised", "image.gif", lambda: b"\x7fELF\x02\x01\x01" + bytes(57)),
)
