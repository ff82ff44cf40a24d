"""Remove metadata format by format, editing containers and never re-encoding pixels.

"all" removes EXIF (keeping only Orientation, since the pixels are stored unrotated when it is
not 1), XMP, IPTC, comments and the like, and keeps what changes how the picture looks (ICC
profiles, gamma, Adobe colour transforms). "gps" removes only the location, wherever it is:
the EXIF GPS directory, XMP ``…:GPS…`` properties, and in JPEG trailers (MPF pictures, motion
photos) the same plus QuickTime ``©xyz`` atoms. "gps" edits in place at constant length, so
offsets into the file (MPF, HEIF item locations, TIFF strips) stay valid.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator

from . import _exif, _isobmff, _jpeg, _xmp
from ._exif import What

# Other metadata: everything in "all" except what these keep.
_JPEG_KEEP_APP2 = (_jpeg.ICC_ID,)
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}
_PNG_DROPPED_ALL = {b"eXIf", b"tIME"} | _PNG_TEXT
_PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
_PNG_RAW_EXIF_KEYWORDS = {b"Raw profile type exif", b"Raw profile type APP1"}
_MAX_TEXT = 16 * 1024 * 1024  # a decompressed PNG text chunk larger than this is not metadata
_WEBP_FLAG_EXIF, _WEBP_FLAG_XMP = 0x08, 0x04
_QUICKTIME_LOCATION = b"\xa9xyz"
_EMBEDDED_EXIF = re.compile(re.escape(b"\xff\xe1") + b"..(?=" + re.escape(_jpeg.EXIF_ID) + b")", re.S)


def _scrub_exif_payload(payload: bytes, what: What) -> bytes | None:
    """The EXIF payload (``Exif\\0\\0`` prefix or not) scrubbed in place, or None when malformed."""
    start = _exif.tiff_start(payload)
    try:
        return payload[:start] + _exif.scrub_exif(payload[start:], what)
    except ValueError:
        return None


# JPEG --------------------------------------------------------------------------------------------


def jpeg(data: bytes, what: What, orientation: int) -> bytes:
    """A JPEG without the metadata; the scans are copied byte for byte."""
    parsed = _jpeg.parse(data)
    if what == "all":
        parsed.segments = [s for s in parsed.segments if _jpeg_keeps(s)]
        if orientation != 1:
            at = 1 if parsed.segments and parsed.segments[0].startswith(_jpeg.JFIF_ID) else 0
            parsed.segments.insert(at, _jpeg.Segment.build(_jpeg.APP1, _exif.orientation_only(orientation)))
        # MPF pictures, gain maps, motion-photo video and vendor trailers all go with "everything".
        parsed.trailer = b""
        return parsed.to_bytes()
    segments = []
    for segment in parsed.segments:
        if segment.marker == _jpeg.APP1 and segment.startswith(_jpeg.EXIF_ID):
            scrubbed = _scrub_exif_payload(segment.payload, "gps")
            if scrubbed is None:  # unreadable: keep only what the pixels need
                if orientation == 1:
                    continue
                scrubbed = _exif.orientation_only(orientation)
            segment = _jpeg.Segment.build(_jpeg.APP1, scrubbed)
        elif segment.marker == _jpeg.APP1 and segment.startswith(_jpeg.XMP_ID):
            segment = _jpeg.Segment.build(_jpeg.APP1, _xmp.blank_gps(segment.payload))
        segments.append(segment)
    parsed.segments = _blank_extended_xmp(segments)
    parsed.trailer = _trailer_without_gps(parsed.trailer)
    return parsed.to_bytes()


def _jpeg_keeps(segment: _jpeg.Segment) -> bool:
    marker = segment.marker
    if marker == _jpeg.APP0:
        return not segment.startswith(b"JFXX\x00")  # a JFIF extension is a thumbnail
    if marker == _jpeg.APP2:
        return segment.startswith(_jpeg.ICC_ID)
    if marker == _jpeg.APP14:
        return True  # Adobe's colour-transform flag decides how the pixels decode
    return not (0xE0 <= marker <= 0xEF or marker == _jpeg.COM)


def _blank_extended_xmp(segments: list[_jpeg.Segment]) -> list[_jpeg.Segment]:
    """Extended XMP is one packet cut across segments (after a 40-byte header each): blank it whole."""
    header = len(_jpeg.XMP_EXTENSION_ID) + 40
    parts = [
        index
        for index, s in enumerate(segments)
        if s.marker == _jpeg.APP1 and s.startswith(_jpeg.XMP_EXTENSION_ID) and len(s.payload) >= header
    ]
    if not parts:
        return segments
    joined = _xmp.blank_gps(b"".join(segments[index].payload[header:] for index in parts))
    position = 0
    for index in parts:
        payload = segments[index].payload
        length = len(payload) - header
        segments[index] = _jpeg.Segment.build(
            _jpeg.APP1, payload[:header] + joined[position : position + length]
        )
        position += length
    return segments


def _trailer_without_gps(trailer: bytes) -> bytes:
    """Bytes after EOI with GPS blanked wherever it can be: embedded EXIF, XMP and QuickTime atoms."""
    if not trailer:
        return trailer
    buffer = bytearray(_xmp.blank_gps(trailer))
    for match in _EMBEDDED_EXIF.finditer(trailer):
        length = struct.unpack_from(">H", trailer, match.start() + 2)[0]
        start, end = match.start() + 4 + len(_jpeg.EXIF_ID), match.start() + 2 + length
        if end > len(trailer) or end <= start:
            continue
        block = bytes(buffer[start:end])
        try:
            buffer[start:end] = _exif.scrub_exif(block, "gps")
        except ValueError:
            buffer[start:end] = _exif.empty_block(len(block))
    for match in re.finditer(re.escape(_QUICKTIME_LOCATION), trailer):
        # A QuickTime user-data atom: 32-bit size, type, then 16-bit length, language, text.
        box_start = match.start() - 4
        if box_start < 0:
            continue
        size = struct.unpack_from(">I", trailer, box_start)[0]
        text_start, box_end = match.end() + 4, box_start + size
        if size > 8 and text_start <= box_end <= len(trailer):
            buffer[text_start:box_end] = b" " * (box_end - text_start)
    return bytes(buffer)


# PNG ---------------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG")
    position = len(_PNG_SIGNATURE)
    while position + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        end = position + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG chunk")
        yield kind, data[position + 8 : position + 8 + length]
        position = end
        if kind == b"IEND":
            return
    raise ValueError("PNG without IEND")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", len(payload), kind) + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png(data: bytes, what: What, orientation: int) -> bytes:
    """A PNG without the metadata chunks; image data chunks are copied unchanged."""
    out = [_PNG_SIGNATURE]
    for kind, payload in _png_chunks(data):
        if what == "all":
            if kind == b"IDAT" and orientation != 1:
                # Browsers read eXIf only before the image data; one chunk with the orientation.
                out.append(_png_chunk(b"eXIf", _exif.orientation_only(orientation)[len(_exif.EXIF_HEADER) :]))
                orientation = 1
            if kind not in _PNG_DROPPED_ALL:
                out.append(_png_chunk(kind, payload))
            continue
        edited = _png_without_gps(kind, payload)
        if edited is not None:
            out.append(_png_chunk(kind, edited))
    return b"".join(out)


def _png_without_gps(kind: bytes, payload: bytes) -> bytes | None:
    """The chunk's payload without a location, or None to drop the chunk."""
    if kind == b"eXIf":
        return _scrub_exif_payload(payload, "gps")
    if kind not in _PNG_TEXT:
        return payload
    keyword, _, rest = payload.partition(b"\x00")
    if keyword in _PNG_RAW_EXIF_KEYWORDS:
        return None  # ImageMagick's hex copy of the EXIF; the eXIf chunk is the real one
    if keyword != _PNG_XMP_KEYWORD:
        return payload
    if kind == b"tEXt":
        return keyword + b"\x00" + _xmp.blank_gps(rest)
    if kind == b"zTXt":  # compression method byte, then zlib data
        return keyword + b"\x00" + rest[:1] + zlib.compress(_xmp.blank_gps(_inflate(rest[1:])))
    # iTXt: compression flag, method, language\0, translated keyword\0, text
    flag, method = rest[:1], rest[1:2]
    language, _, rest = rest[2:].partition(b"\x00")
    translated, _, text = rest.partition(b"\x00")
    head = keyword + b"\x00" + flag + method + language + b"\x00" + translated + b"\x00"
    if flag == b"\x01":
        return head + zlib.compress(_xmp.blank_gps(_inflate(text)))
    return head + _xmp.blank_gps(text)


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, _MAX_TEXT)
    if inflater.unconsumed_tail:
        raise ValueError("PNG text chunk too large")
    return text


# WebP --------------------------------------------------------------------------------------------


def _riff_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    position = 12
    while position + 8 <= len(data):
        kind, length = data[position : position + 4], struct.unpack_from("<I", data, position + 4)[0]
        end = position + 8 + length
        if end > len(data):
            raise ValueError("truncated RIFF chunk")
        yield kind, data[position + 8 : end]
        position = end + (length & 1)  # chunks are padded to an even length


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")


def webp(data: bytes, what: What, orientation: int) -> bytes:
    """A WebP without EXIF/XMP chunks (VP8X flags and RIFF size fixed); the bitstream is unchanged."""
    chunks: list[tuple[bytes, bytes]] = []
    for kind, payload in _riff_chunks(data):
        if kind == b"EXIF":
            if what == "gps":
                scrubbed = _scrub_exif_payload(payload, "gps")
                payload = scrubbed if scrubbed is not None else _exif.empty_block(len(payload))
            elif orientation != 1:
                payload = _exif.orientation_only(orientation)[len(_exif.EXIF_HEADER) :]
            else:
                continue
        elif kind == b"XMP ":
            if what == "all":
                continue
            payload = _xmp.blank_gps(payload)
        chunks.append((kind, payload))
    kinds = {kind for kind, _ in chunks}
    for index, (kind, payload) in enumerate(chunks):
        if kind == b"VP8X" and payload:
            flags = payload[0] & ~(_WEBP_FLAG_EXIF | _WEBP_FLAG_XMP)
            flags |= _WEBP_FLAG_EXIF if b"EXIF" in kinds else 0
            flags |= _WEBP_FLAG_XMP if b"XMP " in kinds else 0
            chunks[index] = (kind, bytes((flags,)) + payload[1:])
    body = b"WEBP" + b"".join(_riff_chunk(kind, payload) for kind, payload in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# GIF ---------------------------------------------------------------------------------------------

_GIF_KEPT_APPLICATIONS = (b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012")


def gif(data: bytes, what: What) -> bytes:
    """A GIF without comment and metadata application blocks ("all") or with XMP GPS blanked."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise ValueError("not a GIF")
    packed = data[10]
    position = 13 + (3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0)
    out = [data[:position]]
    while position < len(data):
        introducer = data[position]
        if introducer == 0x3B:  # trailer
            out.append(data[position:])
            break
        if introducer == 0x2C:  # image: descriptor, optional local table, LZW size, sub-blocks
            local = data[position + 9] if position + 9 < len(data) else 0
            body = position + 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0) + 1
            end = _gif_sub_blocks_end(data, body)
            out.append(data[position:end])
        elif introducer == 0x21:
            label = data[position + 1] if position + 1 < len(data) else 0
            end = _gif_sub_blocks_end(data, position + 2)
            block = data[position:end]
            application = block[3:14] if label == 0xFF else b""
            if label == 0xFE or (label == 0xFF and application not in _GIF_KEPT_APPLICATIONS):
                if what == "gps":
                    out.append(_xmp.blank_gps(block) if application == b"XMP DataXMP" else block)
            else:
                out.append(block)
        else:
            raise ValueError(f"unexpected GIF block {introducer:#x}")
        position = end
    return b"".join(out)


def _gif_sub_blocks_end(data: bytes, position: int) -> int:
    while position < len(data):
        size = data[position]
        position += 1 + size
        if size == 0:
            return position
    raise ValueError("truncated GIF")


# TIFF, HEIF, AVIF ----------------------------------------------------------------------------------


def tiff(data: bytes, what: What) -> bytes:
    """A TIFF with GPS or all descriptive tags removed from every page; strips are not moved."""
    return _exif.scrub_tiff_file(data, what, xmp_filter=_xmp.blank_gps)


def isobmff(data: bytes, what: What) -> bytes:
    """A HEIF/AVIF with its EXIF and XMP items edited in place; raises ValueError if they cannot be."""
    buffer = bytearray(data)
    for item in _isobmff.metadata_items(data):
        if item.kind == "exif":
            start = _isobmff.exif_tiff_offset(data, item)
            block = data[start : item.end]
            try:
                buffer[start : item.end] = _exif.scrub_exif(block, what)
            except ValueError:
                buffer[start : item.end] = _exif.empty_block(len(block))
        else:
            xmp = data[item.start : item.end]
            buffer[item.start : item.end] = _xmp.blank(len(xmp)) if what == "all" else _xmp.blank_gps(xmp)
    return bytes(buffer)
