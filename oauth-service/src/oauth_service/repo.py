"""The only code that talks to the ``oauth`` schema."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from imagetools_common.errors import NotFound
from oauth_service.core import FLOW_MINUTES, PendingFlow, state_matches
from oauth_service.crypto import CredentialUnusable, KeyBox


@dataclass(frozen=True)
class Credential:
    ciphertext: bytes
    key_hash: str
    invalid_at: datetime | None


class OAuthRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def begin_flow(self, session_id: UUID, flow: PendingFlow) -> None:
        """Store the session's pending flow, replacing any earlier one."""
        try:
            await self._pool.execute(
                """INSERT INTO oauth.flows (session_id, state, verifier) VALUES ($1, $2, $3)
                   ON CONFLICT (session_id) DO UPDATE
                   SET state = EXCLUDED.state, verifier = EXCLUDED.verifier, created_at = now()""",
                session_id,
                flow.state,
                flow.verifier,
            )
        except asyncpg.ForeignKeyViolationError:
            raise NotFound("the session has ended") from None

    async def take_flow(self, session_id: UUID, state: str) -> PendingFlow | None:
        """Consume the session's flow if ``state`` is its own and it is fresh.

        A callback carrying another state (forged, or from an older attempt) leaves the pending flow
        alone, so a link planted by someone else cannot cancel the user's real attempt. The row lock
        makes one of two concurrent callbacks win; the other finds nothing.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT state, verifier, created_at > now() - make_interval(mins => $2) AS fresh "
                "FROM oauth.flows WHERE session_id = $1 FOR UPDATE",
                session_id,
                FLOW_MINUTES,
            )
            if row is None or not state_matches(row["state"], state):
                return None
            await conn.execute("DELETE FROM oauth.flows WHERE session_id = $1", session_id)
        if not row["fresh"]:
            return None
        return PendingFlow(state=row["state"], verifier=row["verifier"])

    async def save_credential(self, session_id: UUID, ciphertext: bytes, key_hash: str) -> None:
        await self._pool.execute(
            """INSERT INTO oauth.credentials (session_id, ciphertext, key_hash) VALUES ($1, $2, $3)
               ON CONFLICT (session_id) DO UPDATE SET ciphertext = EXCLUDED.ciphertext,
                   key_hash = EXCLUDED.key_hash, created_at = now(), invalid_at = NULL""",
            session_id,
            ciphertext,
            key_hash,
        )

    async def credential(self, session_id: UUID) -> Credential | None:
        row = await self._pool.fetchrow(
            "SELECT ciphertext, key_hash, invalid_at FROM oauth.credentials WHERE session_id = $1", session_id
        )
        return Credential(bytes(row["ciphertext"]), row["key_hash"], row["invalid_at"]) if row else None

    async def mark_invalid(self, session_id: UUID) -> None:
        await self._pool.execute(
            "UPDATE oauth.credentials SET invalid_at = now() WHERE session_id = $1 AND invalid_at IS NULL",
            session_id,
        )

    async def delete_credential(self, session_id: UUID) -> str | None:
        """Forget the key; its hash (for the revoke link) or None when there was none."""
        result: str | None = await self._pool.fetchval(
            "DELETE FROM oauth.credentials WHERE session_id = $1 RETURNING key_hash", session_id
        )
        return result

    async def reseal_credentials(self, box: KeyBox) -> int:
        """Re-encrypt every stored key sealed under an older secret with the newest one (rotation).

        Once this has run, the older secret can be removed from CREDENTIAL_KEYS. A key that no
        listed secret opens is left alone (it reads as "reconnect" when used).
        """
        resealed = 0
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch("SELECT session_id, ciphertext FROM oauth.credentials FOR UPDATE")
            for row in rows:
                blob = bytes(row["ciphertext"])
                if not box.needs_rotation(blob):
                    continue
                try:
                    fresh = box.seal(box.open(blob, row["session_id"]), row["session_id"])
                except CredentialUnusable:
                    continue
                await conn.execute(
                    "UPDATE oauth.credentials SET ciphertext = $2 WHERE session_id = $1",
                    row["session_id"],
                    fresh,
                )
                resealed += 1
        return resealed
