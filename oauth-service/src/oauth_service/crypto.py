"""Stored OpenRouter keys: AES-256-GCM with a key id and the session bound in as associated data.

Blob layout: ``version (1) | key id (4) | nonce (12) | ciphertext and tag``. Keys come from
HKDF over each configured secret with a purpose-specific ``info``, so the same secret never
doubles as another key. The first secret encrypts; any listed one decrypts (rotation).
"""

from __future__ import annotations

import hashlib
import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1
_SALT = b"imagetools/v1"
_INFO = b"openrouter-api-key/aes-256-gcm"


class CredentialUnusable(Exception):
    """A stored key cannot be decrypted (unknown key id, tampering, or moved to another session)."""


def _derive(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(secret.encode())


def _aad(session_id: UUID) -> bytes:
    return b"openrouter_key|v1|" + session_id.bytes


class KeyBox:
    def __init__(self, secrets: list[str]) -> None:
        if not secrets:
            raise ValueError("at least one secret is needed")
        keys = [_derive(s) for s in secrets]
        self._active = hashlib.sha256(keys[0]).digest()[:4]
        self._ciphers = {hashlib.sha256(k).digest()[:4]: AESGCM(k) for k in keys}

    def seal(self, plaintext: str, session_id: UUID) -> bytes:
        nonce = os.urandom(12)  # fresh per encryption: a repeated nonce would break GCM
        sealed = self._ciphers[self._active].encrypt(nonce, plaintext.encode(), _aad(session_id))
        return bytes([VERSION]) + self._active + nonce + sealed

    def open(self, blob: bytes, session_id: UUID) -> str:
        if len(blob) < 1 + 4 + 12 + 16 or blob[0] != VERSION:
            raise CredentialUnusable("unknown credential format")
        cipher = self._ciphers.get(blob[1:5])
        if cipher is None:
            raise CredentialUnusable("the credential was sealed with a key this server no longer has")
        try:
            return cipher.decrypt(blob[5:17], blob[17:], _aad(session_id)).decode()
        except InvalidTag:
            raise CredentialUnusable(
                "the credential does not belong to this session or was altered"
            ) from None

    def needs_rotation(self, blob: bytes) -> bool:
        return blob[1:5] != self._active
