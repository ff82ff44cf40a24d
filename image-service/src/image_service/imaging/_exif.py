"""Edit TIFF structures (EXIF blocks and TIFF files) in place, without moving a byte.

Removing a tag compacts its directory (the entries left keep their order and values) and
zeroes whatever only that tag pointed to; the block keeps its length, so every offset around
it — MPF pictures after a JPEG, HEIF item locations, strip offsets in a TIFF file — stays true.
Anything malformed raises ValueError and the caller picks a safer fallback.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Literal

What = Literal["all", "gps"]

ORIENTATION = 0x0112
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
INTEROP_IFD = 0xA005
XMP = 0x02BC
_JPEG_THUMBNAIL = (0x0201, 0x0202)  # offset, length of the EXIF thumbnail
_SUB_IFDS = frozenset({EXIF_IFD, GPS_IFD, INTEROP_IFD})
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
# In a TIFF *file* these describe the picture's provenance, not its pixels: safe to drop.
TIFF_FILE_METADATA = frozenset(
    {
        0x010D,  # DocumentName
        0x010E,  # ImageDescription
        0x010F,  # Make
        0x0110,  # Model
        0x0131,  # Software
        0x0132,  # DateTime
        0x013B,  # Artist
        0x013C,  # HostComputer
        0x02BC,  # XMP
        0x8298,  # Copyright
        0x83BB,  # IPTC
        0x8649,  # Photoshop image resources
        0x9C9B,  # XPTitle
        0x9C9C,  # XPComment
        0x9C9D,  # XPAuthor
        0x9C9E,  # XPKeywords
        0x9C9F,  # XPSubject
        0xC4A5,  # PrintIM
        EXIF_IFD,
        GPS_IFD,
    }
)
EXIF_HEADER = b"Exif\x00\x00"


class _Tiff:
    """A TIFF structure inside ``buffer`` starting at ``base`` (offsets are relative to it)."""

    def __init__(self, buffer: bytearray, base: int = 0) -> None:
        self.buffer, self.base = buffer, base
        order = bytes(buffer[base : base + 2])
        if order not in (b"II", b"MM"):
            raise ValueError("not a TIFF header")
        self.order = "<" if order == b"II" else ">"
        if self.u16(2) != 42:
            raise ValueError("not a classic TIFF (BigTIFF is not handled)")
        self.first_ifd = self.u32(4)

    def _check(self, offset: int, size: int) -> int:
        start = self.base + offset
        if offset < 0 or start + size > len(self.buffer):
            raise ValueError("offset outside the TIFF block")
        return start

    def u16(self, offset: int) -> int:
        value: int = struct.unpack_from(self.order + "H", self.buffer, self._check(offset, 2))[0]
        return value

    def u32(self, offset: int) -> int:
        value: int = struct.unpack_from(self.order + "I", self.buffer, self._check(offset, 4))[0]
        return value

    def put_u16(self, offset: int, value: int) -> None:
        struct.pack_into(self.order + "H", self.buffer, self._check(offset, 2), value)

    def put_u32(self, offset: int, value: int) -> None:
        struct.pack_into(self.order + "I", self.buffer, self._check(offset, 4), value)

    def zero(self, offset: int, size: int) -> None:
        start = self._check(offset, size)
        self.buffer[start : start + size] = bytes(size)

    def entries(self, ifd: int) -> list[tuple[int, int, int, int]]:
        """(tag, type, count, entry offset) for each entry of the directory at ``ifd``."""
        count = self.u16(ifd)
        self._check(ifd, 2 + 12 * count + 4)
        return [
            (self.u16(at), self.u16(at + 2), self.u32(at + 4), at)
            for at in (ifd + 2 + 12 * index for index in range(count))
        ]

    def value_span(self, kind: int, count: int, entry: int) -> tuple[int, int]:
        """Where an entry's value lives: inside the entry when it fits in 4 bytes, else at its offset."""
        size = _TYPE_SIZES.get(kind, 1) * count
        return (entry + 8, size) if size <= 4 else (self.u32(entry + 8), size)

    def next_ifd(self, ifd: int) -> int:
        return self.u32(ifd + 2 + 12 * self.u16(ifd))


def _rewrite_ifd(tiff: _Tiff, ifd: int, keep: Callable[[int], bool], *, next_ifd: int | None = None) -> None:
    """Drop the entries ``keep`` refuses (zeroing their data) and write the directory back compacted."""
    entries = tiff.entries(ifd)
    following = tiff.next_ifd(ifd) if next_ifd is None else next_ifd
    kept: list[bytes] = []
    for tag, kind, count, at in entries:
        start = tiff.base + at
        if keep(tag):
            kept.append(bytes(tiff.buffer[start : start + 12]))
        else:
            _forget_value(tiff, tag, kind, count, at)
    tiff.zero(ifd, 2 + 12 * len(entries) + 4)
    tiff.put_u16(ifd, len(kept))
    for index, raw in enumerate(kept):
        start = tiff.base + ifd + 2 + 12 * index
        tiff.buffer[start : start + 12] = raw
    tiff.put_u32(ifd + 2 + 12 * len(kept), following)


def _forget_value(tiff: _Tiff, tag: int, kind: int, count: int, at: int) -> None:
    offset, size = tiff.value_span(kind, count, at)
    if tag in _SUB_IFDS:
        _wipe_ifd(tiff, tiff.u32(at + 8), set())
    if size > 4:
        tiff.zero(offset, size)


def _wipe_ifd(tiff: _Tiff, ifd: int, seen: set[int]) -> None:
    """Zero a whole directory and every value it owns, following nested directories."""
    if ifd == 0 or ifd in seen:
        return
    seen.add(ifd)
    entries = tiff.entries(ifd)
    for tag, kind, count, at in entries:
        if tag in _SUB_IFDS:
            _wipe_ifd(tiff, tiff.u32(at + 8), seen)
        offset, size = tiff.value_span(kind, count, at)
        if size > 4:
            tiff.zero(offset, size)
    tiff.zero(ifd, 2 + 12 * len(entries) + 4)


def _wipe_thumbnail_ifd(tiff: _Tiff, ifd: int) -> None:
    values = {tag: (kind, count, at) for tag, kind, count, at in tiff.entries(ifd)}
    if all(tag in values for tag in _JPEG_THUMBNAIL):
        start, length = (tiff.u32(values[tag][2] + 8) for tag in _JPEG_THUMBNAIL)
        if length:
            tiff.zero(start, length)
    _wipe_ifd(tiff, ifd, set())


def scrub_exif(tiff_block: bytes, what: What) -> bytes:
    """An EXIF TIFF block of the same length without GPS, or ("all") with nothing but Orientation."""
    buffer = bytearray(tiff_block)
    tiff = _Tiff(buffer)
    if what == "gps":
        seen: set[int] = set()
        ifd = tiff.first_ifd
        while ifd and ifd not in seen:
            seen.add(ifd)
            _rewrite_ifd(tiff, ifd, lambda tag: tag != GPS_IFD)
            ifd = tiff.next_ifd(ifd)
        return bytes(buffer)
    thumbnail_ifd = tiff.next_ifd(tiff.first_ifd)
    _rewrite_ifd(tiff, tiff.first_ifd, lambda tag: tag == ORIENTATION, next_ifd=0)
    if thumbnail_ifd and thumbnail_ifd != tiff.first_ifd:
        # The thumbnail may show what a crop removed; it goes with "everything".
        _wipe_thumbnail_ifd(tiff, thumbnail_ifd)
    return bytes(buffer)


def scrub_tiff_file(data: bytes, what: What, *, xmp_filter: Callable[[bytes], bytes] | None = None) -> bytes:
    """A TIFF file of the same length with GPS (or all descriptive metadata) removed from every page.

    With "gps", ``xmp_filter`` rewrites each page's XMP tag in place (it must keep the length).
    """
    buffer = bytearray(data)
    tiff = _Tiff(buffer)
    dropped = {GPS_IFD} if what == "gps" else TIFF_FILE_METADATA
    seen: set[int] = set()
    ifd = tiff.first_ifd
    while ifd and ifd not in seen:
        seen.add(ifd)
        _rewrite_ifd(tiff, ifd, lambda tag: tag not in dropped)
        if xmp_filter is not None and what == "gps":
            _filter_value(tiff, ifd, XMP, xmp_filter)
        ifd = tiff.next_ifd(ifd)
    return bytes(buffer)


def _filter_value(tiff: _Tiff, ifd: int, wanted: int, edit: Callable[[bytes], bytes]) -> None:
    for tag, kind, count, at in tiff.entries(ifd):
        if tag == wanted:
            offset, size = tiff.value_span(kind, count, at)
            start = tiff._check(offset, size)
            edited = edit(bytes(tiff.buffer[start : start + size]))
            if len(edited) != size:
                raise ValueError("an in-place edit must keep the length")
            tiff.buffer[start : start + size] = edited


def orientation(tiff_block: bytes) -> int | None:
    """The Orientation tag of an EXIF TIFF block, or None when absent or unreadable."""
    try:
        tiff = _Tiff(bytearray(tiff_block))
        for tag, kind, _count, at in tiff.entries(tiff.first_ifd):
            if tag == ORIENTATION and kind == 3:
                value = tiff.u16(at + 8)
                return value if 1 <= value <= 8 else None
    except ValueError:
        return None
    return None


def orientation_only(value: int) -> bytes:
    """A minimal EXIF block (with the ``Exif`` header) holding only an Orientation tag."""
    return EXIF_HEADER + struct.pack(">2sHIHHHIHHI", b"MM", 42, 8, 1, ORIENTATION, 3, 1, value, 0, 0)


def empty_block(length: int) -> bytes:
    """A valid, empty TIFF block padded with zeros to ``length`` bytes (at least 14)."""
    empty = struct.pack(">2sHIHI", b"MM", 42, 8, 0, 0)
    return empty + bytes(max(0, length - len(empty)))


def tiff_start(block: bytes) -> int:
    """Where the TIFF header starts in an EXIF payload that may carry the ``Exif\\0\\0`` prefix."""
    return len(EXIF_HEADER) if block.startswith(EXIF_HEADER) else 0
