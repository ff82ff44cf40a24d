"""Which OpenRouter key an AI call uses: the session's own, else the server-wide fallback.

The key is decrypted here, used by ``openrouter`` in this process, and never returned further.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from pydantic import SecretStr

from imagetools_common.errors import BadGateway, DomainError, NotConnected
from imagetools_common.logs import get_logger
from oauth_service.crypto import CredentialUnusable, KeyBox
from oauth_service.repo import OAuthRepo

log = get_logger("oauth_service.keys")

RECONNECT = "OpenRouter no longer accepts your key. Reconnect your account in AI settings."


@dataclass(frozen=True)
class Key:
    secret: SecretStr  # a SecretStr so that no repr or log line ever shows it
    source: Literal["user", "server"]


class Keys:
    def __init__(self, repo: OAuthRepo, box: KeyBox, server_key: SecretStr | None) -> None:
        self._repo = repo
        self._box = box
        self._server_key = server_key

    async def for_session(self, session_id: UUID) -> Key:
        """The key to use, or ``openrouter_not_connected`` saying what the user can do about it."""
        credential = await self._repo.credential(session_id)
        if credential is None:
            if self._server_key is not None:
                return Key(self._server_key, "server")
            raise NotConnected("Connect your OpenRouter account in AI settings to use the AI features.")
        if credential.invalid_at is not None:
            raise NotConnected(RECONNECT)
        try:
            return Key(SecretStr(self._box.open(credential.ciphertext, session_id)), "user")
        except CredentialUnusable:
            log.warning("stored key unusable")
            await self._repo.mark_invalid(session_id)
            raise NotConnected(RECONNECT) from None

    async def rejected(self, session_id: UUID, key: Key) -> DomainError:
        """OpenRouter answered 401: remember it for the session's own key; what to tell the user."""
        if key.source == "server":
            log.error("openrouter rejected the server-wide key (OPENROUTER_API_KEY)")
            return BadGateway("OpenRouter rejected this server's key. Ask the administrator to replace it.")
        await self._repo.mark_invalid(session_id)
        return NotConnected(RECONNECT)
