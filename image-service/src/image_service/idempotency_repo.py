"""The SQL of keyed mutations (``images.idempotency``), run inside the change's own transaction."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from image_service.idempotency import Once, Replay
from image_service.records import ImageRecord
from imagetools_common.errors import ValidationFailed

# How long a key is remembered while its session lives (the session's end removes it at once).
IDEMPOTENCY_TTL = "1 day"


async def lookup(conn: asyncpg.Connection, session_id: UUID, once: Once) -> Replay | None:
    """The first reply to this key, if it was applied; a key reused for another request is refused."""
    row = await conn.fetchrow(
        f"""SELECT fingerprint, reply FROM images.idempotency
            WHERE session_id = $1 AND key = $2 AND created_at > now() - interval '{IDEMPOTENCY_TTL}'""",
        session_id,
        once.key,
    )
    if row is None:
        return None
    if row["fingerprint"] != once.fingerprint:
        raise ValidationFailed(
            "idempotency_key: this key was already used for a different request",
            details={"field": "idempotency_key"},
        )
    return Replay(row["reply"])


async def remember(conn: asyncpg.Connection, session_id: UUID, once: Once, record: ImageRecord) -> None:
    """Store the reply to this key (and forget the session's expired keys) with the change."""
    await conn.execute(
        f"""DELETE FROM images.idempotency
            WHERE session_id = $1 AND created_at <= now() - interval '{IDEMPOTENCY_TTL}'""",
        session_id,
    )
    try:
        await conn.execute(
            """INSERT INTO images.idempotency (session_id, key, fingerprint, reply)
               VALUES ($1, $2, $3, $4)""",
            session_id,
            once.key,
            once.fingerprint,
            once.render(record),
        )
    except asyncpg.UniqueViolationError:
        # The same key on another image at the same moment: only a misbehaving client does this.
        raise ValidationFailed(
            "idempotency_key: this key is in use by another request",
            details={"field": "idempotency_key"},
        ) from None
