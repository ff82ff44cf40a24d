"""Domain errors on the bus, in nats.micro's convention: code and description as headers, details as body."""

from __future__ import annotations

import json
from typing import Any

from imagetools_common.errors import DomainError, from_wire
from imagetools_common.rpc.headers import ERROR_CODE_HEADER, ERROR_HEADER


def encode_error(error: DomainError) -> tuple[str, str, bytes]:
    """The (code, description, body) that carry a domain error in micro's error convention."""
    body = json.dumps({"details": error.details}).encode() if error.details else b""
    return error.code, error.message, body


def decode_error(headers: dict[str, str], data: bytes) -> DomainError | None:
    """The domain error a reply carries, or None when it is a success."""
    code = headers.get(ERROR_CODE_HEADER)
    if not code:
        return None
    details: dict[str, Any] = {}
    if data:
        try:
            details = json.loads(data).get("details") or {}
        except (ValueError, AttributeError):
            details = {}
    return from_wire(code, headers.get(ERROR_HEADER, code), details)
