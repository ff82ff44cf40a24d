"""Binary frames: a typed JSON header followed by raw bytes, in one NATS payload.

Image bytes must not be base64-encoded into JSON (a third larger, and a copy), and NATS headers
are for small strings, so a frame is ``4-byte big-endian header length | header JSON | body``.
"""

from __future__ import annotations

import struct
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from imagetools_common.errors import BadRequest

M = TypeVar("M", bound=BaseModel)
_LENGTH = struct.Struct(">I")
MAX_HEADER = 64 * 1024


def pack(header: BaseModel, body: bytes) -> bytes:
    """One payload carrying ``header`` and ``body``."""
    encoded = header.model_dump_json().encode()
    return b"".join((_LENGTH.pack(len(encoded)), encoded, body))


def unpack(payload: bytes, model: type[M]) -> tuple[M, bytes]:
    """The header (validated as ``model``) and the body; BadRequest when the frame is malformed."""
    if len(payload) < _LENGTH.size:
        raise BadRequest("frame too short")
    (length,) = _LENGTH.unpack_from(payload)
    if length > MAX_HEADER or _LENGTH.size + length > len(payload):
        raise BadRequest("frame header length is out of range")
    start = _LENGTH.size
    try:
        header = model.model_validate_json(payload[start : start + length])
    except ValidationError:
        raise BadRequest(f"malformed {model.__name__} frame header") from None
    return header, payload[start + length :]
