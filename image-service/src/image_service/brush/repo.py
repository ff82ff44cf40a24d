"""The brush's one query: a version's mask and the version it was cut from (``images.masks``)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class CutOut:
    mask: bytes
    source: int | None
    """The version whose pixels the mask cut out; None for masks stored before the brush existed."""


class BrushRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def cut_out(self, session_id: UUID, image_id: UUID, number: int) -> CutOut | None:
        """The mask stored with a version of the session's image, or None when it has none."""
        row = await self._pool.fetchrow(
            """SELECT m.data, m.source FROM images.masks m JOIN images.images i ON i.id = m.image_id
               WHERE m.image_id = $1 AND i.session_id = $2 AND m.number = $3""",
            image_id,
            session_id,
            number,
        )
        return None if row is None else CutOut(bytes(row["data"]), row["source"])
