"""The only code that talks to the ``images`` schema."""

from __future__ import annotations

from uuid import UUID

import asyncpg


class ImageRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def count(self, session_id: UUID) -> int:
        return await self._pool.fetchval(
            "SELECT count(*) FROM images.images WHERE session_id = $1", session_id
        )
