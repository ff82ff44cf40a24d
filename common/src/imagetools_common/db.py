"""The asyncpg pool every service uses (jsonb decoded to Python, bounded size), and which of its
failures are a passing blip of the server rather than a bug."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from imagetools_common.errors import ServiceUnavailable
from imagetools_common.logs import get_logger

log = get_logger("imagetools.db")

# How long a new connection waits for a server that is restarting (refused, or "starting up").
CONNECT_PATIENCE = 5.0
# What a client is told to wait before sending again after a blip.
RETRY_AFTER_SECONDS = 1

# A lost or refused connection: the server restarted, failed over, or shut the session down.
# Whatever the unit of work did on it was rolled back, unless the loss came during its COMMIT.
_LOST = (
    asyncpg.PostgresConnectionError,  # class 08, e.g. ConnectionDoesNotExistError mid-query
    asyncpg.CannotConnectNowError,  # "the database system is starting up / shutting down"
    asyncpg.AdminShutdownError,  # the backend was terminated by a fast shutdown
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InternalClientError,  # "cannot switch to state ...": a connection broken under an operation
    ConnectionError,  # refused or reset at the socket
)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is the server going away (worth one more try) rather than a bug or bad data."""
    if isinstance(error, _LOST):
        return True
    # asyncpg raises a bare InterfaceError for work on a connection the server already closed.
    return isinstance(error, asyncpg.InterfaceError) and "connection is closed" in str(error)


def unavailable() -> ServiceUnavailable:
    """What a caller gets when the database blipped and the work could not safely be tried again."""
    return ServiceUnavailable(
        "the database is briefly unavailable; try again", details={"retry_after": RETRY_AFTER_SECONDS}
    )


async def _connect(dsn: str, **kwargs: Any) -> asyncpg.Connection:
    """A new pool connection, waiting out a server restart: nothing has run on it, so waiting is safe."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONNECT_PATIENCE
    while True:
        try:
            return await asyncpg.connect(dsn, **kwargs)
        except (OSError, asyncpg.CannotConnectNowError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)


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
                url,
                min_size=min_size,
                max_size=max_size,
                init=_init_connection,
                command_timeout=30,
                connect=_connect,
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
