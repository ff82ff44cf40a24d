"""A PostgreSQL restart under in-flight work: what is safe to repeat is repeated once on a fresh
connection, the rest is a 503 with Retry-After, and nothing is applied twice or by half."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from imagetools_common import db
from imagetools_common.contracts.base import Endpoint, Keyed, ServiceSpec, WireModel
from imagetools_common.embedded import EmbeddedNats, EmbeddedPostgres, ensure_database
from imagetools_common.errors import ServiceUnavailable
from imagetools_common.rpc import RpcClient, RpcService, connect
from imagetools_common.testing.logs import CapturedLogs

SPEC = ServiceSpec(name="ledger-service", version="1.0.0", subject_prefix="test.ledger.v1", description="x")


class Entry(Keyed):
    label: str


class Count(WireModel):
    rows: int


ADD = Endpoint(SPEC, "add", Entry, Count, timeout=30.0)
COUNT = Endpoint(SPEC, "count", Entry, Count, timeout=30.0, read_only=True)


class Ledger:
    """Each handler runs one transaction; its first call of a label stops half-way until released."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.halfway: dict[str, asyncio.Event] = {}
        self.release = asyncio.Event()
        self.calls: dict[str, int] = {}

    async def _pause(self, label: str) -> None:
        self.calls[label] = self.calls.get(label, 0) + 1
        if self.calls[label] == 1:
            self.halfway.setdefault(label, asyncio.Event()).set()
            await self.release.wait()

    async def add(self, request: Entry) -> Count:
        async with self.pool.acquire() as conn, conn.transaction():
            if request.idempotency_key and await conn.fetchval(
                "SELECT 1 FROM ledger WHERE key = $1", request.idempotency_key
            ):
                return Count(rows=await conn.fetchval("SELECT count(*) FROM ledger"))
            await conn.execute("INSERT INTO ledger (label, key) VALUES ($1, $2)", request.label,
                               request.idempotency_key)  # fmt: skip
            await self._pause(request.label)
            return Count(
                rows=await conn.fetchval("SELECT count(*) FROM ledger WHERE label = $1", request.label)
            )

    async def count(self, request: Entry) -> Count:
        async with self.pool.acquire() as conn, conn.transaction(readonly=True):
            await conn.fetchval("SELECT 1")
            await self._pause(request.label)
            return Count(
                rows=await conn.fetchval("SELECT count(*) FROM ledger WHERE label = $1", request.label)
            )


@pytest.fixture(scope="module")
async def own_postgres() -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    """A server of this module's own: restarting the shared one would cut every other test's pool."""
    data = Path(tempfile.mkdtemp(prefix="imagetools-pg-blip-")) / "data"
    server = EmbeddedPostgres(data, ephemeral=True)
    admin = await server.start()
    yield server, await ensure_database(admin, "blips")
    await server.stop()
    shutil.rmtree(data.parent, ignore_errors=True)


async def test_a_restart_mid_transaction_repeats_only_what_is_safe(
    own_postgres: tuple[EmbeddedPostgres, str], nats_server: EmbeddedNats, logs: CapturedLogs
) -> None:
    server, url = own_postgres
    pool = await db.create_pool(url, max_size=4)
    await pool.execute("CREATE TABLE ledger (label text NOT NULL, key text UNIQUE)")
    ledger = Ledger(pool)
    conn = await connect(nats_server.url, "ledger")
    service = RpcService(conn, SPEC)
    service.add(ADD, ledger.add)
    service.add(COUNT, ledger.count)
    await service.start()
    client_conn = await connect(nats_server.url, "ledger-client")
    rpc = RpcClient(client_conn)
    try:
        calls = {
            "keyed": asyncio.create_task(rpc.call(ADD, Entry(label="keyed", idempotency_key="key-blip-1"))),
            "unkeyed": asyncio.create_task(rpc.call(ADD, Entry(label="unkeyed"))),
            "read": asyncio.create_task(rpc.call(COUNT, Entry(label="read"))),
        }
        for label in calls:
            await asyncio.wait_for(ledger.halfway.setdefault(label, asyncio.Event()).wait(), 30)
        await server.restart()  # every transaction above is cut before its commit
        ledger.release.set()
        results = await asyncio.gather(*calls.values(), return_exceptions=True)
        outcome = dict(zip(calls, results, strict=True))

        assert outcome["keyed"] == Count(rows=1)
        assert outcome["read"] == Count(rows=0)
        unkeyed = outcome["unkeyed"]
        assert isinstance(unkeyed, ServiceUnavailable)
        assert unkeyed.details == {"retry_after": db.RETRY_AFTER_SECONDS}
        assert ledger.calls == {"keyed": 2, "read": 2, "unkeyed": 1}
        rows = await pool.fetch("SELECT label, key FROM ledger ORDER BY label")
        assert [(r["label"], r["key"]) for r in rows] == [("keyed", "key-blip-1")]  # nothing by half
        assert not [e for e in logs.entries if e["event"] == "handler failed"]
    finally:
        await service.stop(grace=0)
        await conn.close()
        await client_conn.close()
        await pool.close()


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.InterfaceError("cannot call Connection.fetch(): connection is closed"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
)
def test_lost_and_refused_connections_are_transient(error: Exception) -> None:
    assert db.is_transient(error)


@pytest.mark.parametrize(
    "error",
    [asyncpg.UniqueViolationError("duplicate key"), asyncpg.InterfaceError("bad argument"), ValueError("x")],
)
def test_bugs_and_bad_data_are_not(error: Exception) -> None:
    assert not db.is_transient(error)
