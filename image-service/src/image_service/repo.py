"""The SQL of images and their versions: store, read, edit history (``images.images``/``versions``).

The ``images`` schema's other tables have their own repos, reached from here so one ``ImageRepo``
serves the whole service: ``profiles`` (``profile_repo``), ``preferences`` (``preference_repo``),
``share_links`` (``share_repo``) and the idempotency records (``idempotency_repo``, inside this
module's transactions).
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg

from image_service import idempotency_repo
from image_service.idempotency import Once, Replay
from image_service.preference_repo import PreferenceRepo
from image_service.profile_repo import ProfileRepo
from image_service.records import ImageRecord, NewVersion, StoredBytes, VersionRow
from image_service.share_repo import ShareRepo
from imagetools_common.errors import Conflict, NotFound, QuotaExceeded

_IMAGE_COLUMNS = (
    "id, filename, created_at, original_format, octet_length(original) AS original_bytes, "
    "first_frame_only, current_version, original_has_location"
)
_VERSION_COLUMNS = (
    "number, operation, params, format, width, height, bytes, compression, created_at, has_location"
)
# The column lists above name the records' fields, so a row maps onto its record by name.
_VERSION_FIELDS = [name.strip() for name in _VERSION_COLUMNS.split(",")]


def _session_lock_key(session_id: UUID) -> int:
    """An advisory-lock key per session (64 bits of its id) serialising its quota checks."""
    return int.from_bytes(session_id.bytes[:8], "big", signed=True)


class ImageRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.profiles = ProfileRepo(pool)
        self.preferences = PreferenceRepo(pool)
        self.share_links = ShareRepo(pool)

    async def count(self, session_id: UUID) -> int:
        return int(
            await self._pool.fetchval("SELECT count(*) FROM images.images WHERE session_id = $1", session_id)
        )

    async def create(
        self,
        session_id: UUID,
        *,
        filename: str,
        original: bytes,
        original_format: str,
        original_has_location: bool,
        first_frame_only: bool,
        first: NewVersion,
        max_images: int,
        once: Once | None = None,
    ) -> ImageRecord | Replay:
        """Store a new image and its first version, unless the session is full (checked atomically)."""
        async with self._pool.acquire() as conn, conn.transaction():
            # Concurrent uploads into one session queue here, so the count below cannot go stale.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _session_lock_key(session_id))
            if once is not None and (replay := await idempotency_repo.lookup(conn, session_id, once)):
                return replay
            held = await conn.fetchval("SELECT count(*) FROM images.images WHERE session_id = $1", session_id)
            if held >= max_images:
                raise QuotaExceeded(
                    f"this session already holds {held} of {max_images} images: delete one to add another",
                    details={"max_images": max_images},
                )
            try:
                image_id: UUID = await conn.fetchval(
                    """INSERT INTO images.images (session_id, filename, original, original_format,
                           first_frame_only, original_has_location)
                       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
                    session_id,
                    filename,
                    original,
                    original_format,
                    first_frame_only,
                    original_has_location,
                )
            except asyncpg.ForeignKeyViolationError:
                raise NotFound("the session has ended") from None
            await self._insert_version(conn, image_id, 1, first)
            return await self._finish(conn, session_id, image_id, once)

    @staticmethod
    async def _insert_version(
        conn: asyncpg.Connection, image_id: UUID, number: int, version: NewVersion
    ) -> None:
        await conn.execute(
            """INSERT INTO images.versions (image_id, number, operation, params, format,
                   width, height, bytes, data, thumbnail, compression, has_location)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
            image_id,
            number,
            version.operation,
            version.params,
            version.format,
            version.width,
            version.height,
            len(version.data),
            version.data,
            version.thumbnail,
            version.compression,
            version.has_location,
        )
        if version.mask is not None:
            await conn.execute(
                "INSERT INTO images.masks (image_id, number, data, source) VALUES ($1, $2, $3, $4)",
                image_id,
                number,
                version.mask,
                version.mask_source,
            )

    # Reading -----------------------------------------------------------------------------------

    async def for_session(self, session_id: UUID) -> list[ImageRecord]:
        """The session's images, newest first, with their history (no pixel data)."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"""SELECT {_IMAGE_COLUMNS} FROM images.images
                    WHERE session_id = $1 ORDER BY created_at DESC, id""",
                session_id,
            )
            versions = await conn.fetch(
                f"""SELECT image_id, {_VERSION_COLUMNS} FROM images.versions
                    WHERE image_id = ANY($1::uuid[]) ORDER BY image_id, number""",
                [r["id"] for r in rows],
            )
        by_image: dict[UUID, list[VersionRow]] = {}
        for v in versions:
            by_image.setdefault(v["image_id"], []).append(_version(v))
        return [_record(r, by_image.get(r["id"], [])) for r in rows]

    async def get(
        self, session_id: UUID, image_id: UUID, conn: asyncpg.Connection | None = None
    ) -> ImageRecord:
        """One image of the session with its history; NotFound for another session's image."""
        db = conn or self._pool
        row = await db.fetchrow(
            f"SELECT {_IMAGE_COLUMNS} FROM images.images WHERE id = $1 AND session_id = $2",
            image_id,
            session_id,
        )
        if row is None:
            raise NotFound("no such image in this session")
        versions = await db.fetch(
            f"SELECT {_VERSION_COLUMNS} FROM images.versions WHERE image_id = $1 ORDER BY number", image_id
        )
        return _record(row, [_version(v) for v in versions])

    async def stored(
        self,
        session_id: UUID,
        image_id: UUID,
        number: int | None,
        kind: Literal["image", "original", "thumbnail"],
    ) -> StoredBytes:
        """One file of the session's image with the image's name, in one query.

        ``kind`` "image" is a version's bytes and "thumbnail" its thumbnail (the current version's
        by default); "original" is the upload as sent. Another session's image is NotFound.
        """
        if kind == "original":
            row = await self._pool.fetchrow(
                """SELECT filename, original_format AS format, NULL::int AS number, original AS blob
                   FROM images.images WHERE id = $1 AND session_id = $2""",
                image_id,
                session_id,
            )
            if row is None:
                raise NotFound("no such image in this session")
        else:
            column = "thumbnail" if kind == "thumbnail" else "data"
            row = await self._pool.fetchrow(
                f"""SELECT i.filename, v.number, v.format, v.{column} AS blob FROM images.versions v
                    JOIN images.images i ON i.id = v.image_id
                    WHERE v.image_id = $1 AND i.session_id = $2
                      AND v.number = coalesce($3, i.current_version)""",
                image_id,
                session_id,
                number,
            )
            if row is None:
                raise NotFound("no such image or version in this session")
        return StoredBytes(row["filename"], row["format"], row["number"], bytes(row["blob"]))

    async def version_data(
        self, session_id: UUID, image_id: UUID, number: int | None, column: Literal["data", "thumbnail"]
    ) -> tuple[int, str, bytes]:
        """(number, format, bytes) of a version's ``data`` or ``thumbnail``; the current one by default."""
        stored = await self.stored(session_id, image_id, number, "image" if column == "data" else "thumbnail")
        assert stored.number is not None
        return stored.number, stored.format, stored.data

    async def mask(self, session_id: UUID, image_id: UUID, number: int | None) -> tuple[int, bytes]:
        """(number, PNG) of the mask a background removal stored with a version (the current by default)."""
        row = await self._pool.fetchrow(
            """SELECT v.number, m.data FROM images.versions v
                JOIN images.images i ON i.id = v.image_id
                LEFT JOIN images.masks m ON m.image_id = v.image_id AND m.number = v.number
                WHERE v.image_id = $1 AND i.session_id = $2 AND v.number = coalesce($3, i.current_version)""",
            image_id,
            session_id,
            number,
        )
        if row is None:
            raise NotFound("no such image or version in this session")
        if row["data"] is None:
            raise NotFound(f"version {row['number']} was not made by background removal: it has no mask")
        return row["number"], bytes(row["data"])

    # Changing ----------------------------------------------------------------------------------

    async def add_version(
        self,
        session_id: UUID,
        image_id: UUID,
        *,
        based_on: int,
        version: NewVersion,
        keep: int,
        once: Once | None = None,
    ) -> ImageRecord | Replay:
        """Make ``version`` current, dropping the redo branch and all but ``keep`` older edits.

        ``based_on`` is the version the caller computed from: if another request moved the image
        meanwhile, this refuses (Conflict) rather than silently discarding that change.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT current_version, last_version FROM images.images"
                " WHERE id = $1 AND session_id = $2 FOR UPDATE",
                image_id,
                session_id,
            )
            if row is None:
                raise NotFound("no such image in this session")
            # Under the row lock: a first attempt still running commits (or not) before this looks.
            if once is not None and (replay := await idempotency_repo.lookup(conn, session_id, once)):
                return replay
            if row["current_version"] != based_on:
                raise Conflict("the image changed while this operation ran: look again and retry")
            await conn.execute(
                "DELETE FROM images.versions WHERE image_id = $1 AND number > $2", image_id, based_on
            )
            number = row["last_version"] + 1
            await self._insert_version(conn, image_id, number, version)
            await conn.execute(
                "UPDATE images.images SET current_version = $2, last_version = $2 WHERE id = $1",
                image_id,
                number,
            )
            # The original (1) is always kept; beyond it only the newest `keep` edits, and the
            # versions a kept cut-out was cut from (the brush re-composes from their pixels).
            await conn.execute(
                """WITH kept AS (
                       SELECT number FROM images.versions WHERE image_id = $1 AND number <> 1
                       ORDER BY number DESC LIMIT $2)
                   DELETE FROM images.versions WHERE image_id = $1 AND number <> 1
                       AND number NOT IN (SELECT number FROM kept)
                       AND number NOT IN (
                           SELECT source FROM images.masks WHERE image_id = $1 AND source IS NOT NULL
                               AND (number = 1 OR number IN (SELECT number FROM kept)))""",
                image_id,
                keep,
            )
            return await self._finish(conn, session_id, image_id, once)

    async def move(
        self,
        session_id: UUID,
        image_id: UUID,
        step: int | None = None,
        to: int | None = None,
        once: Once | None = None,
    ) -> ImageRecord | Replay:
        """Undo (step -1), redo (step +1) or revert (to N): only the current-version pointer moves."""
        async with self._pool.acquire() as conn, conn.transaction():
            current = await conn.fetchval(
                "SELECT current_version FROM images.images WHERE id = $1 AND session_id = $2 FOR UPDATE",
                image_id,
                session_id,
            )
            if current is None:
                raise NotFound("no such image in this session")
            if once is not None and (replay := await idempotency_repo.lookup(conn, session_id, once)):
                return replay
            if to is None:
                order = "DESC" if step == -1 else "ASC"
                compare = "<" if step == -1 else ">"
                to = await conn.fetchval(
                    f"SELECT number FROM images.versions WHERE image_id = $1 AND number {compare} $2 "
                    f"ORDER BY number {order} LIMIT 1",
                    image_id,
                    current,
                )
                if to is None:
                    raise Conflict("nothing to undo" if step == -1 else "nothing to redo")
            elif not await conn.fetchval(
                "SELECT 1 FROM images.versions WHERE image_id = $1 AND number = $2", image_id, to
            ):
                raise NotFound(f"version {to} does not exist (any more)", details={"field": "version"})
            await conn.execute("UPDATE images.images SET current_version = $2 WHERE id = $1", image_id, to)
            return await self._finish(conn, session_id, image_id, once)

    async def replay(self, session_id: UUID, once: Once) -> Replay | None:
        """The first reply to this key, if it was applied (a cheap look before doing any work)."""
        async with self._pool.acquire() as conn:
            return await idempotency_repo.lookup(conn, session_id, once)

    async def _finish(
        self, conn: asyncpg.Connection, session_id: UUID, image_id: UUID, once: Once | None
    ) -> ImageRecord:
        """The image as the change left it, and, for a keyed change, its reply remembered with it."""
        record = await self.get(session_id, image_id, conn)
        if once is not None:
            await idempotency_repo.remember(conn, session_id, once, record)
        return record

    async def delete(self, session_id: UUID, image_ids: list[UUID] | None) -> int:
        """Delete some of the session's images (or all when ``image_ids`` is None); how many went."""
        if image_ids is None:
            status = await self._pool.execute("DELETE FROM images.images WHERE session_id = $1", session_id)
        else:
            status = await self._pool.execute(
                "DELETE FROM images.images WHERE session_id = $1 AND id = ANY($2::uuid[])",
                session_id,
                image_ids,
            )
        return int(status.split()[-1])


def _version(row: asyncpg.Record) -> VersionRow:
    return VersionRow(**{name: row[name] for name in _VERSION_FIELDS})


def _record(row: asyncpg.Record, versions: list[VersionRow]) -> ImageRecord:
    return ImageRecord(**row, versions=versions)
