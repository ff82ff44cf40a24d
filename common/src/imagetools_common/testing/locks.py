"""Holding an image's row lock, so a test can catch an operation in flight (its store waits for it).

Every change to an image ends in one transaction that locks the image's row first; while a test
holds that lock, the change is provably in flight and provably not stored, whatever the timing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg


@asynccontextmanager
async def image_row_locked(pool: asyncpg.Pool, image_id: UUID) -> AsyncIterator[None]:
    """Hold the image's row lock for the block: a change to it waits until the block ends."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM images.images WHERE id = $1 FOR UPDATE", image_id)
        yield


async def change_waiting(pool: asyncpg.Pool) -> bool:
    """Whether a change is waiting for a row lock (the store at the end of an operation)."""
    waiting: int = await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'"
    )
    return waiting > 0
