"""The SQL of a session's preferences (``images.preferences``): today, whether it keeps locations."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from imagetools_common.errors import NotFound


class PreferenceRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def keep_location(self, session_id: UUID) -> bool:
        """Whether the session keeps locations in the versions it makes (off unless it said so)."""
        value = await self._pool.fetchval(
            "SELECT keep_location FROM images.preferences WHERE session_id = $1", session_id
        )
        return bool(value)

    async def set_keep_location(self, session_id: UUID, keep: bool) -> None:
        try:
            await self._pool.execute(
                """INSERT INTO images.preferences (session_id, keep_location) VALUES ($1, $2)
                   ON CONFLICT (session_id) DO UPDATE SET keep_location = EXCLUDED.keep_location""",
                session_id,
                keep,
            )
        except asyncpg.ForeignKeyViolationError:
            raise NotFound("the session has ended") from None
