"""The idempotency key of an HTTP request that changes an image.

Every such request carries one to image-service, so the gateway may retry it after a replica
died or timed out without applying it twice. A client that sends ``Idempotency-Key`` makes its
own retries safe too (after a network error or a 504, the same key returns the first result);
without one the gateway makes a key per HTTP request.
"""

from __future__ import annotations

import re
import secrets

from aiohttp import web

from imagetools_common.errors import ValidationFailed

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Shorter than the wire's 128 characters: an upload appends ":<file number>" per file.
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._\-]{8,100}$"
_CLIENT_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def idempotency_key(request: web.Request) -> str:
    """The client's ``Idempotency-Key`` (checked), or a new random key for this request."""
    given = request.headers.get(IDEMPOTENCY_HEADER)
    if given is None:
        return secrets.token_urlsafe(18)
    if not _CLIENT_KEY.fullmatch(given):
        raise ValidationFailed(
            f"{IDEMPOTENCY_HEADER}: 8 to 100 letters, digits, '.', '_' or '-' (a UUID fits)",
            details={"field": IDEMPOTENCY_HEADER},
        )
    return given
