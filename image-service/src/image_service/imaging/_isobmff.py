"""Find the EXIF and XMP items inside HEIF and AVIF files (ISO base media file format).

Both formats keep metadata as items of the top-level ``meta`` box: ``iinf`` says what each
item is, ``iloc`` where its bytes are (in the file, or inside ``idat``). Knowing the exact byte
range lets the caller edit metadata in place, leaving the coded pixels bit-identical.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

_XMP_MIME = b"application/rdf+xml"


@dataclass(frozen=True, slots=True)
class Item:
    """A metadata item's kind and absolute byte range in the file."""

    kind: Literal["exif", "xmp"]
    start: int
    end: int


def _u(data: bytes, position: int, size: int) -> int:
    if size == 0:
        return 0
    if position + size > len(data):
        raise ValueError("truncated box")
    return int.from_bytes(data[position : position + size], "big")


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) for each box between start and end."""
    position = start
    while position + 8 <= end:
        size, kind = _u(data, position, 4), data[position + 4 : position + 8]
        header = 8
        if size == 1:
            size, header = _u(data, position + 8, 8), 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise ValueError("bad box size")
        yield kind, position + header, position + size
        position += size


def _cstring(data: bytes, position: int, end: int) -> tuple[bytes, int]:
    stop = data.find(b"\x00", position, end)
    if stop < 0:
        return data[position:end], end
    return data[position:stop], stop + 1


def _item_kinds(data: bytes, start: int, end: int) -> dict[int, Literal["exif", "xmp"]]:
    """Item ids of the EXIF and (uncompressed) XMP items listed in an ``iinf`` payload."""
    version = data[start]
    position = start + 4 + (2 if version == 0 else 4)
    kinds: dict[int, Literal["exif", "xmp"]] = {}
    for kind, payload, box_end in _boxes(data, position, end):
        if kind != b"infe" or data[payload] < 2:
            continue  # versions 0 and 1 predate item types; HEIF and AVIF write 2 or 3
        infe_version = data[payload]
        position = payload + 4
        id_size = 2 if infe_version == 2 else 4
        item_id = _u(data, position, id_size)
        position += id_size + 2  # item_protection_index
        item_type = data[position : position + 4]
        position += 4
        if item_type == b"Exif":
            kinds[item_id] = "exif"
        elif item_type == b"mime":
            _name, position = _cstring(data, position, box_end)
            content_type, position = _cstring(data, position, box_end)
            encoding, _ = _cstring(data, position, box_end) if position < box_end else (b"", position)
            # Compressed XMP cannot be edited in place; it is left alone (and the caller's check
            # afterwards will notice if it still holds a location).
            if content_type == _XMP_MIME and not encoding:
                kinds[item_id] = "xmp"
    return kinds


def _locations(data: bytes, start: int, idat: int | None) -> dict[int, tuple[int, int]]:
    """Absolute (start, end) of every single-extent item listed in an ``iloc`` payload."""
    version = data[start]
    position = start + 4
    offset_size, length_size = data[position] >> 4, data[position] & 0x0F
    base_size = data[position + 1] >> 4
    index_size = data[position + 1] & 0x0F if version in (1, 2) else 0
    if not {offset_size, length_size, base_size, index_size} <= {0, 4, 8}:
        raise ValueError("bad iloc field sizes")
    # Zero-sized fields consume no bytes; cap the work so a hostile count cannot spin.
    budget = len(data)
    position += 2
    count_size = 2 if version < 2 else 4
    count = _u(data, position, count_size)
    position += count_size
    found: dict[int, tuple[int, int]] = {}
    for _ in range(count):
        item_id = _u(data, position, count_size)
        position += count_size
        method = 0
        if version in (1, 2):
            method = _u(data, position, 2) & 0x0F
            position += 2
        position += 2  # data_reference_index
        base = _u(data, position, base_size)
        position += base_size
        extents = _u(data, position, 2)
        position += 2
        spans = []
        budget -= extents + 1
        if budget < 0:
            raise ValueError("too many iloc entries")
        for _ in range(extents):
            position += index_size
            offset = _u(data, position, offset_size)
            position += offset_size
            length = _u(data, position, length_size)
            position += length_size
            spans.append((base + offset, length))
        if len(spans) != 1 or spans[0][1] == 0:
            continue
        offset, length = spans[0]
        if method == 1 and idat is not None:
            offset += idat
        elif method != 0:
            continue
        if offset + length <= len(data):
            found[item_id] = (offset, offset + length)
    return found


def metadata_items(data: bytes) -> list[Item]:
    """The EXIF and XMP items of a HEIF/AVIF file; raises ValueError when the boxes are malformed."""
    for kind, payload, end in _boxes(data, 0, len(data)):
        if kind != b"meta":
            continue
        children = {k: (p, e) for k, p, e in _boxes(data, payload + 4, end)}  # meta is a full box
        if b"iinf" not in children or b"iloc" not in children:
            return []
        kinds = _item_kinds(data, *children[b"iinf"])
        idat = children[b"idat"][0] if b"idat" in children else None
        locations = _locations(data, children[b"iloc"][0], idat)
        return [Item(kinds[item], *locations[item]) for item in kinds if item in locations]
    return []


def exif_tiff_offset(data: bytes, item: Item) -> int:
    """Where the TIFF header starts inside an EXIF item (its payload opens with a 4-byte offset)."""
    if item.end - item.start < 4 or item.end > len(data):
        raise ValueError("EXIF item shorter than its offset field")
    skip: int = struct.unpack_from(">I", data, item.start)[0]
    start = item.start + 4 + skip
    if start >= item.end:
        raise ValueError("EXIF item offset points outside the item")
    return start
