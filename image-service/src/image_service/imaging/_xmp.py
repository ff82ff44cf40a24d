"""Blank location properties out of XMP packets without changing their length.

XMP is XML, so a property written as an attribute or an element can be replaced by spaces and
the packet stays well-formed; keeping the length means no container offset needs fixing.
Any namespace's ``…:GPS…`` property counts (``exif:GPSLatitude``, DJI's ``drone-dji:GpsLatitude``).
"""

from __future__ import annotations

import re

# A GPS property's name, after "<" (an element) or whitespace (an attribute). Finding the end of
# each one is done with bounded ``find`` calls rather than one clever regex: regex backtracking
# on a hostile packet (or a 20 MB JPEG trailer) could otherwise take minutes.
_CANDIDATE = re.compile(rb"(?i)([<\s])([\w.-]{1,64}:gps\w{0,64})")
_ATTRIBUTE_VALUE = re.compile(rb"\s{0,16}=\s{0,16}([\"'])")
_MAX_PROPERTIES = 4096  # real packets hold a dozen; more is an attack
_MAX_TAG = 1024
_MAX_ELEMENT = 8192
_EMPTY_PACKET = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>'
)


def _gps_spans(xmp: bytes) -> list[tuple[int, int]]:
    """The byte ranges of every GPS attribute or element, in order and not overlapping."""
    spans: list[tuple[int, int]] = []
    covered = 0
    for count, match in enumerate(_CANDIDATE.finditer(xmp)):
        if count >= _MAX_PROPERTIES:
            raise ValueError("too many GPS properties in XMP")
        if match.start() < covered:
            continue
        span = _element(xmp, match) if match.group(1) == b"<" else _attribute(xmp, match)
        if span is not None:
            spans.append(span)
            covered = span[1]
    return spans


def _attribute(xmp: bytes, match: re.Match[bytes]) -> tuple[int, int] | None:
    value = _ATTRIBUTE_VALUE.match(xmp, match.end())
    if value is None:
        return None
    close = xmp.find(value.group(1), value.end(), value.end() + _MAX_TAG)
    return (match.start(2), close + 1) if close >= 0 else None


def _element(xmp: bytes, match: re.Match[bytes]) -> tuple[int, int] | None:
    tag_end = xmp.find(b">", match.end(), match.end() + _MAX_TAG)
    if tag_end < 0:
        return None
    if xmp[tag_end - 1 : tag_end] == b"/":
        return match.start(), tag_end + 1
    closing = xmp.find(b"</" + match.group(2), tag_end, tag_end + _MAX_ELEMENT)
    if closing < 0:
        return None
    close_end = xmp.find(b">", closing, closing + _MAX_TAG)
    return (match.start(), close_end + 1) if close_end >= 0 else None


def has_gps(xmp: bytes | str | None) -> bool:
    """Whether an XMP packet holds any GPS property."""
    if not xmp:
        return False
    return bool(_gps_spans(xmp.encode() if isinstance(xmp, str) else xmp))


def blank_gps(xmp: bytes) -> bytes:
    """The packet with every GPS property replaced by spaces (same length)."""
    spans = _gps_spans(xmp)
    if not spans:
        return xmp
    buffer = bytearray(xmp)
    for start, end in spans:
        buffer[start:end] = b" " * (end - start)
    return bytes(buffer)


def blank(length: int) -> bytes:
    """An empty, valid XMP packet padded with spaces to ``length`` bytes (spaces only if too short)."""
    if length < len(_EMPTY_PACKET):
        return b" " * length
    return _EMPTY_PACKET[:-19] + b" " * (length - len(_EMPTY_PACKET)) + _EMPTY_PACKET[-19:]
