"""The SQL of compression previews (``images.previews``): keep, read, sweep.

A preview lives at most ``ttl`` seconds: older rows read as gone even before the sweep removes
them. A session keeps at most ``KEPT_PER_SESSION``, so a busy slider cannot pile up bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from imagetools_common.errors import NotFound

# Presets plus a few slider positions; older ones are dropped when a new one is kept.
KEPT_PER_SESSION = 12
_COLUMNS = "id, image_id, based_on, preset, settings, outcome, created_at"


@dataclass(frozen=True)
class PreviewRow:
    id: UUID
    image_id: UUID
    based_on: int
    preset: str | None
    settings: dict[str, Any]
    outcome: dict[str, Any]
    """The compression outcome (format, size, dimensions, quality, target_met)."""
    created_at: datetime


class PreviewRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def keep(
        self,
        session_id: UUID,
        image_id: UUID,
        *,
        based_on: int,
        preset: str | None,
        settings: dict[str, Any],
        outcome: dict[str, Any],
        data: bytes,
    ) -> PreviewRow:
        """Keep a computed preview; NotFound when its version went meanwhile."""
        async with self._pool.acquire() as conn, conn.transaction():
            try:
                row = await conn.fetchrow(
                    f"""INSERT INTO images.previews
                            (session_id, image_id, based_on, preset, settings, outcome, data)
                        SELECT $1, $2, $3, $4, $5, $6, $7 FROM images.images
                         WHERE id = $2 AND session_id = $1
                        RETURNING {_COLUMNS}""",
                    session_id, image_id, based_on, preset, settings, outcome, data,
                )  # fmt: skip
            except asyncpg.ForeignKeyViolationError:
                row = None
            if row is None:
                raise NotFound("no such version of this image in this session")
            await conn.execute(
                """DELETE FROM images.previews WHERE session_id = $1 AND id NOT IN (
                       SELECT id FROM images.previews WHERE session_id = $1
                       ORDER BY created_at DESC LIMIT $2)""",
                session_id,
                KEPT_PER_SESSION,
            )
        return PreviewRow(**dict(row))

    async def get(
        self, session_id: UUID, image_id: UUID, preview_id: UUID, *, ttl: float
    ) -> tuple[PreviewRow, bytes]:
        """A live preview of the session's image and its bytes (NotFound: another's, expired or never)."""
        row = await self._pool.fetchrow(
            f"""SELECT {_COLUMNS}, data FROM images.previews
                 WHERE id = $1 AND image_id = $2 AND session_id = $3
                   AND created_at > now() - make_interval(secs => $4)""",
            preview_id, image_id, session_id, ttl,
        )  # fmt: skip
        if row is None:
            raise NotFound("no such preview (they are kept for a few minutes): compute it again")
        fields = dict(row)
        data = fields.pop("data")
        return PreviewRow(**fields), data

    async def sweep(self, ttl: float) -> int:
        """Delete previews older than ``ttl`` seconds; how many went."""
        status = await self._pool.execute(
            "DELETE FROM images.previews WHERE created_at <= now() - make_interval(secs => $1)", ttl
        )
        return int(status.split()[-1])
