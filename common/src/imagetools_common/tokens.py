"""Opaque bearer tokens (session cookies, share links): made, shape-checked and hashed in one place.

A token is 256 random bits, base64url without padding. The database keeps only its SHA-256, so a
leaked row or backup hands out nothing that works.
"""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 32  # 256 bits: far past the 128-bit floor for self-made bearer tokens
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{43}")  # base64url of 32 bytes, unpadded


def new_token() -> str:
    """A fresh opaque token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_well_formed(token: str) -> bool:
    """Whether ``token`` could have come from ``new_token``; anything else never reaches the database."""
    return bool(_TOKEN.fullmatch(token))


def hash_token(token: str) -> bytes:
    """What the database stores instead of the token (high entropy, so no salt or stretching is needed)."""
    return hashlib.sha256(token.encode("ascii")).digest()
