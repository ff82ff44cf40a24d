"""pytest fixtures that start real servers: nats-server with the project's config, and PostgreSQL.

PostgreSQL is ``DATABASE_URL`` when set (a server CI or a developer already runs), otherwise a
throwaway pgserver instance; either way each run gets a fresh database that is dropped at the
end. Nothing here mocks NATS or the database.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from imagetools_common.db import create_pool
from imagetools_common.embedded import (
    EmbeddedNats,
    EmbeddedNatsCluster,
    EmbeddedPostgres,
    drop_database,
    ensure_database,
    find_project_file,
)
from imagetools_common.logs import configure_logging
from imagetools_common.rpc import connect
from imagetools_common.testing.logs import CapturedLogs, captured_logs


def pytest_configure(config: pytest.Config) -> None:
    """Route structlog through the standard library so caplog sees every line, as in production."""
    configure_logging("test", "DEBUG", "console")


# A loop that stalls this long is a bug (blocking I/O or CPU work on the event loop).
LOOP_BLOCK_LIMIT = 1.0


@pytest.fixture(scope="session")
async def nats_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedNats]:
    """A real nats-server on free ports with deploy/nats/nats.conf; ``restart()`` keeps the port."""
    log_dir = tmp_path_factory.mktemp("nats")
    server = EmbeddedNats(find_project_file("deploy/nats/nats.conf"), log_file=log_dir / "nats.log")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
async def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedNatsCluster]:
    """Three nats-server nodes routed to each other on loopback, each with deploy/nats/nats.conf;
    a test may kill and restart any node (same ports), so each module gets its own cluster."""
    cluster = EmbeddedNatsCluster(find_project_file("deploy/nats/nats.conf"),
                                  log_dir=tmp_path_factory.mktemp("nats-cluster"))  # fmt: skip
    await cluster.start()
    yield cluster
    await cluster.stop()


@pytest.fixture(scope="session")
async def postgres_admin_url() -> AsyncIterator[str]:
    """A PostgreSQL server's URL: DATABASE_URL if set, else an ephemeral embedded server."""
    if url := os.environ.get("DATABASE_URL"):
        yield url
        return
    # Not under pytest's basetemp: pytest resets that tree to mode 0700 whenever a run starts,
    # and as root the server runs as its own user, which must be able to reach its data.
    data = Path(tempfile.mkdtemp(prefix="imagetools-pg-")) / "data"
    server = EmbeddedPostgres(data, ephemeral=True)
    yield await server.start()
    await server.stop()
    shutil.rmtree(data.parent, ignore_errors=True)


@pytest.fixture(scope="session")
async def database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A fresh database for this test run, dropped afterwards."""
    name = f"imagetools_test_{secrets.token_hex(4)}"
    url = await ensure_database(postgres_admin_url, name)
    yield url
    await drop_database(postgres_admin_url, name)


@pytest.fixture(scope="session")
async def db_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture
async def nc(nats_server: EmbeddedNats) -> AsyncIterator[NATS]:
    """A client connection for the test itself."""
    client = await connect(nats_server.url, "test")
    yield client
    await client.close()


@pytest.fixture
async def logs() -> AsyncIterator[CapturedLogs]:
    """Every line the test logs, as redacted data it can assert on and wait for."""
    with captured_logs(asyncio.get_running_loop()) as captured:
        yield captured


@pytest.fixture
def base_env(nats_server: EmbeddedNats, database_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for a service process under test: real servers, a test secret, nothing from .env."""
    return {
        "NATS_URL": nats_server.url,
        "DATABASE_URL": database_url,
        "SESSION_SECRET_KEY": "test-secret-" + "x" * 40,
        "LOG_FORMAT": "json",
        "VAR_DIR": str(tmp_path / "var"),
    }


class _LoopWatch:
    """Measures how late a ticking callback runs: a late tick means the loop was blocked."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float = 0.05) -> None:
        self.loop = loop
        self.interval = interval
        self.worst = 0.0
        self._expected = 0.0
        self._skip = True
        self._handle: asyncio.TimerHandle | None = None

    def reset(self) -> None:
        """Forget lateness from before the test body (fixture set-up runs with the loop stopped)."""
        self.worst = 0.0
        self._skip = True
        if self._handle is None:
            self._schedule(self.loop.time())

    def _schedule(self, now: float) -> None:
        self._expected = now + self.interval
        self._handle = self.loop.call_at(self._expected, self._tick)

    def _tick(self) -> None:
        now = self.loop.time()
        if not self._skip:
            self.worst = max(self.worst, now - self._expected)
        self._skip = False
        self._schedule(now)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


_WATCH = pytest.StashKey[_LoopWatch]()


@pytest.fixture(autouse=True)
async def _loop_watch(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Fail an async test during which the event loop stalled (a blocking call on the loop)."""
    if not inspect.iscoroutinefunction(getattr(request.node, "function", None)):
        yield
        return
    watch = _LoopWatch(asyncio.get_running_loop())
    request.node.stash[_WATCH] = watch
    yield
    if watch.worst > LOOP_BLOCK_LIMIT:
        pytest.fail(f"the event loop was blocked for {watch.worst:.2f} s during this test")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    watch = item.stash.get(_WATCH, None)
    if watch is not None:
        watch.reset()
    yield
    if watch is not None:
        watch.stop()
