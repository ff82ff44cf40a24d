"""Walk a JPEG's marker segments so metadata can be removed without touching the scan data.

A JPEG is SOI, header segments (APPn, DQT, SOF, DHT, ...), then from the first SOS the
entropy-coded scans (with more tables between them when progressive) up to EOI; phones often
append more after EOI (MPF pictures, HDR gain maps, motion-photo video, vendor trailers).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SOI = b"\xff\xd8"
APP0, APP1, APP2, APP14, COM, SOS, EOI = 0xE0, 0xE1, 0xE2, 0xEE, 0xFE, 0xDA, 0xD9
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length
EXIF_ID = b"Exif\x00\x00"
XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXTENSION_ID = b"http://ns.adobe.com/xmp/extension/\x00"
ICC_ID = b"ICC_PROFILE\x00"
JFIF_ID = b"JFIF\x00"


@dataclass(slots=True)
class Segment:
    """One header segment: its marker byte and its bytes, marker and length included."""

    marker: int
    raw: bytes

    @property
    def payload(self) -> bytes:
        return self.raw[4:]

    def startswith(self, identifier: bytes) -> bool:
        """Whether the payload begins with an APP identifier such as ``Exif\\0\\0``."""
        return self.payload.startswith(identifier)

    @classmethod
    def build(cls, marker: int, payload: bytes) -> Segment:
        """A segment with ``payload``; raises ValueError when it does not fit one segment."""
        if len(payload) + 2 > 0xFFFF:
            raise ValueError("segment payload too long")
        return cls(marker, bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload)


@dataclass(slots=True)
class Jpeg:
    """A JPEG split into header segments, the scans (first SOS through EOI) and what follows."""

    segments: list[Segment]
    scans: bytes
    trailer: bytes

    def to_bytes(self) -> bytes:
        """The file reassembled."""
        return SOI + b"".join(segment.raw for segment in self.segments) + self.scans + self.trailer


def parse(data: bytes) -> Jpeg:
    """Split a JPEG; raises ValueError when the header segments are malformed."""
    if not data.startswith(SOI):
        raise ValueError("not a JPEG")
    segments: list[Segment] = []
    position = 2
    while True:
        position = _next_marker(data, position)
        marker = data[position + 1]
        if marker == SOS:
            break
        if marker in _STANDALONE:
            segments.append(Segment(marker, data[position : position + 2]))
            position += 2
            continue
        if marker == EOI:
            raise ValueError("EOI before any scan")
        end = position + 2 + _length(data, position)
        segments.append(Segment(marker, data[position:end]))
        position = end
    scans_end = _end_of_scans(data, position)
    return Jpeg(segments, data[position:scans_end], data[scans_end:])


def _next_marker(data: bytes, position: int) -> int:
    if position >= len(data) or data[position] != 0xFF:
        raise ValueError(f"expected a marker at byte {position}")
    while position + 1 < len(data) and data[position + 1] == 0xFF:  # fill bytes
        position += 1
    if position + 1 >= len(data):
        raise ValueError("truncated before a marker")
    return position


def _length(data: bytes, position: int) -> int:
    if position + 4 > len(data):
        raise ValueError("truncated segment length")
    length: int = struct.unpack_from(">H", data, position + 2)[0]
    if length < 2 or position + 2 + length > len(data):
        raise ValueError(f"bad segment length at byte {position}")
    return length


def _end_of_scans(data: bytes, position: int) -> int:
    """The offset just after EOI (or the end of data for a file without one)."""
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return len(data)
        marker = data[position + 1]
        if marker == 0x00 or marker == 0xFF or marker in _STANDALONE:
            position += 1  # stuffed byte, fill byte or restart marker: still scan data
        elif marker == EOI:
            return position + 2
        else:  # a segment between scans (SOS, DHT, DQT, DRI, ...) has a length to skip
            try:
                position += 2 + _length(data, position)
            except ValueError:
                return len(data)
