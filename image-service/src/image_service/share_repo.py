"""The SQL of share links (``images.share_links``): make, list, revoke, and find by token hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from imagetools_common.errors import NotFound, QuotaExceeded

_LINK_COLUMNS = "l.id, l.image_id, l.version, l.created_at, l.expires_at, v.has_location"


@dataclass(frozen=True)
class LinkRow:
    id: UUID
    image_id: UUID
    version: int
    created_at: datetime
    expires_at: datetime
    has_location: bool
    """The version's bytes hold a location (the link serves them without it)."""


@dataclass(frozen=True)
class SharedRow:
    """What a live token links to: the version's description, and its bytes when asked for."""

    link_id: UUID
    expires_at: datetime
    filename: str
    format: str
    width: int
    height: int
    size: int
    has_location: bool
    data: bytes | None


class ShareRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(
        self,
        session_id: UUID,
        image_id: UUID,
        version: int | None,
        *,
        token_hash: bytes,
        expires_at: datetime,
        max_live: int,
    ) -> LinkRow:
        """A link to the session's image at ``version`` (the current one by default).

        Another session's image, or a version that is not (any more) in the history, is NotFound;
        more than ``max_live`` live links on one image is refused.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            # The image's row lock: links made at once on one image count each other, and its
            # history cannot drop the version meanwhile.
            number = await conn.fetchval(
                """SELECT v.number FROM images.images i
                   JOIN images.versions v ON v.image_id = i.id AND v.number = coalesce($3, i.current_version)
                   WHERE i.id = $1 AND i.session_id = $2 FOR UPDATE OF i""",
                image_id,
                session_id,
                version,
            )
            if number is None:
                raise NotFound("no such image or version in this session")
            # Expired links are dead weight: they go when their image gets a new one.
            await conn.execute(
                "DELETE FROM images.share_links WHERE image_id = $1 AND expires_at <= now()", image_id
            )
            live = await conn.fetchval(
                "SELECT count(*) FROM images.share_links WHERE image_id = $1", image_id
            )
            if live >= max_live:
                raise QuotaExceeded(
                    f"this image already has {live} live share links: revoke one to make another",
                    details={"max_links": max_live},
                )
            link_id = await conn.fetchval(
                """INSERT INTO images.share_links (session_id, image_id, version, token_hash, expires_at)
                   VALUES ($1, $2, $3, $4, $5) RETURNING id""",
                session_id,
                image_id,
                number,
                token_hash,
                expires_at,
            )
            row = await conn.fetchrow(
                f"""SELECT {_LINK_COLUMNS} FROM images.share_links l
                    JOIN images.versions v ON v.image_id = l.image_id AND v.number = l.version
                    WHERE l.id = $1""",
                link_id,
            )
        return LinkRow(**row)

    async def live(self, session_id: UUID, image_id: UUID) -> list[LinkRow]:
        """The image's links that still work, newest first; another session's image is NotFound."""
        async with self._pool.acquire() as conn:
            owned = await conn.fetchval(
                "SELECT 1 FROM images.images WHERE id = $1 AND session_id = $2", image_id, session_id
            )
            if owned is None:
                raise NotFound("no such image in this session")
            rows = await conn.fetch(
                f"""SELECT {_LINK_COLUMNS} FROM images.share_links l
                    JOIN images.versions v ON v.image_id = l.image_id AND v.number = l.version
                    WHERE l.image_id = $1 AND l.expires_at > now()
                    ORDER BY l.created_at DESC, l.id""",
                image_id,
            )
        return [LinkRow(**r) for r in rows]

    async def revoke(self, session_id: UUID, image_id: UUID, link_id: UUID) -> bool:
        """Whether the session had such a link on that image (it is gone either way)."""
        status: str = await self._pool.execute(
            "DELETE FROM images.share_links WHERE id = $1 AND image_id = $2 AND session_id = $3",
            link_id,
            image_id,
            session_id,
        )
        return status != "DELETE 0"

    async def shared(self, token_hash: bytes, *, with_data: bool) -> SharedRow | None:
        """What a live link serves, found by its token's hash; None for any dead or unknown token."""
        data = "v.data" if with_data else "NULL::bytea"
        row = await self._pool.fetchrow(
            f"""SELECT l.id AS link_id, l.expires_at, i.filename, v.format, v.width, v.height,
                       v.bytes AS size, v.has_location, {data} AS data
                FROM images.share_links l
                JOIN images.versions v ON v.image_id = l.image_id AND v.number = l.version
                JOIN images.images i ON i.id = l.image_id
                WHERE l.token_hash = $1 AND l.expires_at > now()""",
            token_hash,
        )
        if row is None:
            return None
        return SharedRow(**{**row, "data": None if row["data"] is None else bytes(row["data"])})
