"""The only code that talks to the ``sessions`` schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import JsonValue

from imagetools_common.contracts.session import SessionInfo

_COLUMNS = "id, created_at, expires_at, last_seen_at"
# Only one replica sweeps at a time; the others skip the round.
SWEEP_LOCK = 0x1A6E_5E55


def _info(row: asyncpg.Record) -> SessionInfo:
    return SessionInfo(**dict(row))


class SessionRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, token_hash: bytes, expiry_days: int) -> SessionInfo:
        row = await self._pool.fetchrow(
            f"""INSERT INTO sessions.sessions (token_hash, expires_at)
                VALUES ($1, now() + make_interval(days => $2)) RETURNING {_COLUMNS}""",
            token_hash,
            expiry_days,
        )
        return _info(row)

    async def find_live(self, token_hash: bytes) -> tuple[SessionInfo, datetime] | None:
        """The unexpired session with this token hash, and the database's clock."""
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS}, now() AS now FROM sessions.sessions"
            " WHERE token_hash = $1 AND expires_at > now()",
            token_hash,
        )
        if row is None:
            return None
        now = row["now"]
        return SessionInfo(**{k: v for k, v in dict(row).items() if k != "now"}), now

    async def rotate(self, session_id: UUID, token_hash: bytes) -> SessionInfo | None:
        """Give a live session a new token hash; the old token stops working at once."""
        row = await self._pool.fetchrow(
            f"""UPDATE sessions.sessions SET token_hash = $2
                WHERE id = $1 AND expires_at > now() RETURNING {_COLUMNS}""",
            session_id,
            token_hash,
        )
        return _info(row) if row else None

    async def touch(self, session_id: UUID) -> datetime | None:
        seen: datetime | None = await self._pool.fetchval(
            "UPDATE sessions.sessions SET last_seen_at = now() WHERE id = $1 RETURNING last_seen_at",
            session_id,
        )
        return seen

    async def end(self, session_id: UUID) -> bool:
        """Delete the session; the cascade removes everything it owns in the same transaction."""
        status: str = await self._pool.execute("DELETE FROM sessions.sessions WHERE id = $1", session_id)
        return status != "DELETE 0"

    async def sweep(self) -> int | None:
        """Delete expired sessions; None when another replica holds the sweep."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", SWEEP_LOCK):
                return None
            status = await conn.execute("DELETE FROM sessions.sessions WHERE expires_at <= now()")
            return int(status.split()[-1])

    async def get_setting(self, session_id: UUID, key: str) -> JsonValue:
        value: JsonValue = await self._pool.fetchval(
            "SELECT value FROM sessions.settings WHERE session_id = $1 AND key = $2", session_id, key
        )
        return value

    async def put_setting(self, session_id: UUID, key: str, value: Any) -> bool:
        """Store a setting; False when the session no longer exists."""
        try:
            await self._pool.execute(
                """INSERT INTO sessions.settings (session_id, key, value) VALUES ($1, $2, $3)
                   ON CONFLICT (session_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()""",
                session_id,
                key,
                value,
            )
        except asyncpg.ForeignKeyViolationError:
            return False
        return True

    async def delete_setting(self, session_id: UUID, key: str) -> None:
        await self._pool.execute(
            "DELETE FROM sessions.settings WHERE session_id = $1 AND key = $2", session_id, key
        )
