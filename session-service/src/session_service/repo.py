"""The only code that talks to the ``sessions`` schema."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
from pydantic import JsonValue

from imagetools_common.contracts.session import Device, SessionInfo

# A session as one of its devices sees it (``d`` is sessions.devices, ``s`` sessions.sessions).
_INFO = "s.id, s.created_at, s.expires_at, d.last_seen_at, d.id AS device_id"
_DEVICE = "id, name, created_at, last_seen_at"
# Only one replica sweeps at a time; the others skip the round.
SWEEP_LOCK = 0x1A6E_5E55
# Join offers are kept this long past their expiry, so a late try hears "expired", not "unknown".
OFFER_KEPT = "1 hour"


def _info(row: asyncpg.Record) -> SessionInfo:
    return SessionInfo(**{k: v for k, v in dict(row).items() if k in SessionInfo.model_fields})


@dataclass(frozen=True)
class Resolved:
    info: SessionInfo
    device_name: str
    now: datetime  # the database's clock


@dataclass(frozen=True)
class OfferRow:
    """A join offer as found by its token or code, before it is redeemed."""

    id: UUID
    session_id: UUID
    code_hash: bytes
    failed_attempts: int
    expired: bool
    used: bool


class SessionRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, token_hash: bytes, expiry_days: int) -> SessionInfo:
        """A new session with its first device, whose token hash this is."""
        row = await self._pool.fetchrow(
            f"""WITH s AS (
                    INSERT INTO sessions.sessions (expires_at)
                    VALUES (now() + make_interval(days => $2)) RETURNING *
                ), d AS (
                    INSERT INTO sessions.devices (session_id, token_hash) SELECT id, $1 FROM s RETURNING *
                )
                SELECT {_INFO} FROM s, d""",
            token_hash,
            expiry_days,
        )
        return _info(row)

    async def find_live(self, token_hash: bytes) -> Resolved | None:
        """The unexpired session of the device with this token hash."""
        row = await self._pool.fetchrow(
            f"""SELECT {_INFO}, d.name, now() AS now
                FROM sessions.devices d JOIN sessions.sessions s ON s.id = d.session_id
                WHERE d.token_hash = $1 AND s.expires_at > now()""",
            token_hash,
        )
        return Resolved(_info(row), row["name"], row["now"]) if row else None

    async def rotate(self, session_id: UUID, device_id: UUID, token_hash: bytes) -> SessionInfo | None:
        """Give one device of a live session a new token hash; its old token stops working at once."""
        row = await self._pool.fetchrow(
            f"""UPDATE sessions.devices d SET token_hash = $3 FROM sessions.sessions s
                WHERE d.id = $2 AND d.session_id = $1 AND s.id = d.session_id AND s.expires_at > now()
                RETURNING {_INFO}""",
            session_id,
            device_id,
            token_hash,
        )
        return _info(row) if row else None

    async def touch(self, device_id: UUID, name: str | None) -> datetime | None:
        """Record that the device (and so its session) was just used; rename it when ``name`` is given."""
        seen: datetime | None = await self._pool.fetchval(
            """WITH d AS (
                   UPDATE sessions.devices SET last_seen_at = now(), name = coalesce($2, name)
                   WHERE id = $1 RETURNING session_id, last_seen_at
               ), s AS (
                   UPDATE sessions.sessions SET last_seen_at = now() WHERE id = (SELECT session_id FROM d)
               )
               SELECT last_seen_at FROM d""",
            device_id,
            name,
        )
        return seen

    async def devices(self, session_id: UUID) -> list[Device]:
        rows = await self._pool.fetch(
            f"SELECT {_DEVICE} FROM sessions.devices WHERE session_id = $1 ORDER BY created_at, id",
            session_id,
        )
        return [Device(**dict(row)) for row in rows]

    async def remove_device(self, session_id: UUID, device_id: UUID) -> bool | None:
        """Remove a device; the session ends with its last one (True then). None: no such device."""
        async with self._pool.acquire() as conn, conn.transaction():
            return await _remove_device(conn, session_id, device_id)

    async def offer(
        self,
        session_id: UUID,
        device_id: UUID,
        token_hash: bytes,
        locator: str,
        code_hash: bytes,
        lifetime: float,
    ) -> datetime | None:
        """Store the device's join offer (replacing its last one): its expiry, or None when the
        device is gone. Raises UniqueViolationError when another live offer has the locator."""
        async with self._pool.acquire() as conn, conn.transaction():
            # Old offers free their locators; the device's previous offer is withdrawn.
            await conn.execute(
                f"DELETE FROM sessions.join_offers WHERE expires_at < now() - interval '{OFFER_KEPT}'"
                " OR device_id = $1",
                device_id,
            )
            try:
                expires: datetime | None = await conn.fetchval(
                    """INSERT INTO sessions.join_offers
                           (session_id, device_id, token_hash, locator, code_hash, expires_at)
                       SELECT d.session_id, d.id, $3, $4, $5, now() + make_interval(secs => $6)
                       FROM sessions.devices d JOIN sessions.sessions s ON s.id = d.session_id
                       WHERE d.id = $2 AND d.session_id = $1 AND s.expires_at > now()
                       RETURNING expires_at""",
                    session_id,
                    device_id,
                    token_hash,
                    locator,
                    code_hash,
                    lifetime,
                )
            except asyncpg.ForeignKeyViolationError:  # the device left meanwhile
                return None
            return expires

    async def find_offer(self, by: Literal["token_hash", "locator"], key: bytes | str) -> OfferRow | None:
        """The join offer with this token hash, or this code locator."""
        row = await self._pool.fetchrow(
            f"""SELECT id, session_id, code_hash, failed_attempts,
                       expires_at <= now() AS expired, used_at IS NOT NULL AS used
                FROM sessions.join_offers WHERE {by} = $1""",
            key,
        )
        return OfferRow(**dict(row)) if row else None

    async def redeem(
        self,
        offer_id: UUID,
        max_wrong: int,
        token_hash: bytes,
        device_name: str,
        leaving: tuple[UUID, UUID] | None,
    ) -> SessionInfo | None:
        """Use the offer up and add the joining device to its session, removing the device it is
        ``leaving`` (session, device), in one transaction. None: the offer was used, expired or
        killed meanwhile (a concurrent redeem won), or its session ended."""
        async with self._pool.acquire() as conn, conn.transaction():
            session_id = await conn.fetchval(
                """UPDATE sessions.join_offers SET used_at = now()
                   WHERE id = $1 AND used_at IS NULL AND expires_at > now() AND failed_attempts < $2
                   RETURNING session_id""",
                offer_id,
                max_wrong,
            )
            if session_id is None:
                return None
            if leaving is not None:
                await _remove_device(conn, *leaving)
            row = await conn.fetchrow(
                f"""WITH d AS (
                        INSERT INTO sessions.devices (session_id, token_hash, name)
                        SELECT id, $2, $3 FROM sessions.sessions WHERE id = $1 AND expires_at > now()
                        RETURNING *
                    )
                    SELECT {_INFO} FROM d JOIN sessions.sessions s ON s.id = d.session_id""",
                session_id,
                token_hash,
                device_name,
            )
            return _info(row) if row else None

    async def count_wrong_code(self, offer_id: UUID) -> None:
        """A wrong code was typed against this offer (committed even though the join fails)."""
        await self._pool.execute(
            "UPDATE sessions.join_offers SET failed_attempts = failed_attempts + 1 WHERE id = $1", offer_id
        )

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
            await conn.execute(
                f"DELETE FROM sessions.join_offers WHERE expires_at < now() - interval '{OFFER_KEPT}'"
            )
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


async def _remove_device(conn: asyncpg.Connection, session_id: UUID, device_id: UUID) -> bool | None:
    """Remove the device; end the session if it was the last one (True). None: no such device."""
    removed = await conn.fetchval(
        "DELETE FROM sessions.devices WHERE id = $1 AND session_id = $2 RETURNING id", device_id, session_id
    )
    if removed is None:
        return None
    status: str = await conn.execute(
        """DELETE FROM sessions.sessions s WHERE s.id = $1
           AND NOT EXISTS (SELECT 1 FROM sessions.devices d WHERE d.session_id = s.id)""",
        session_id,
    )
    return status != "DELETE 0"
