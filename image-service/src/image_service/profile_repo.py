"""The SQL of a session's compression profiles and preset overrides (``images.profiles``)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from imagetools_common.contracts import image as contract
from imagetools_common.errors import NotFound


class ProfileRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def saved(self, session_id: UUID) -> list[contract.Preset]:
        """What the session saved, oldest first: its profiles and overrides of system presets alike."""
        rows = await self._pool.fetch(
            "SELECT id, name, settings FROM images.profiles WHERE session_id = $1 ORDER BY created_at, id",
            session_id,
        )
        return [
            contract.Preset(
                id=r["id"],
                name=r["name"],
                settings=contract.CompressionSettings(**r["settings"]),
                system=False,
            )
            for r in rows
        ]

    async def exists(self, session_id: UUID, profile_id: str) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT 1 FROM images.profiles WHERE session_id = $1 AND id = $2", session_id, profile_id
            )
        )

    async def save(self, session_id: UUID, profile_id: str, profile: contract.ProfileBody) -> None:
        """Create or replace one profile (or one system preset's override)."""
        try:
            await self._pool.execute(
                """INSERT INTO images.profiles (session_id, id, name, settings) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (session_id, id)
                   DO UPDATE SET name = EXCLUDED.name, settings = EXCLUDED.settings""",
                session_id,
                profile_id,
                profile.name,
                profile.settings.model_dump(),
            )
        except asyncpg.ForeignKeyViolationError:
            raise NotFound("the session has ended") from None

    async def delete(self, session_id: UUID, profile_id: str) -> bool:
        """Whether there was such a profile (or override) to delete."""
        status: str = await self._pool.execute(
            "DELETE FROM images.profiles WHERE session_id = $1 AND id = $2", session_id, profile_id
        )
        return status != "DELETE 0"
