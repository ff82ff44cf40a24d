"""The asyncpg pool every service uses (jsonb decoded to Python, bounded size)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from imagetools_common.logs import get_logger

log = get_logger("imagetools.db")


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10, wait: float = 30.0) -> asyncpg.Pool:
    """A pool on ``url``, retrying for ``wait`` seconds while PostgreSQL starts."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    delay = 0.2
    while True:
        try:
            pool: asyncpg.Pool = await asyncpg.create_pool(
                url, min_size=min_size, max_size=max_size, init=_init_connection, command_timeout=30
            )
            return pool
        except (OSError, asyncpg.CannotConnectNowError) as error:
            if loop.time() + delay > deadline:
                raise ConnectionError(f"cannot reach PostgreSQL: {error}") from error
            log.info("waiting for postgres", error=str(error))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


@asynccontextmanager
async def pool(url: str, *, min_size: int = 1, max_size: int = 10) -> AsyncIterator[asyncpg.Pool]:
    """A pool that is closed (waiting for connections in use) on exit."""
    p = await create_pool(url, min_size=min_size, max_size=max_size)
    try:
        yield p
    finally:
        await asyncio.wait_for(p.close(), timeout=10)
