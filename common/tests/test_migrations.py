"""The migration runner against a real PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from imagetools_common.migrations import MigrationError, discover, migrate
from imagetools_common.testing.logs import CapturedLogs


def write(directory: Path, name: str, sql: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(sql)


def test_discover_orders_and_rejects_gaps(tmp_path: Path) -> None:
    """Files apply in numeric order; a gap or a stray name is refused before touching the database."""
    write(tmp_path / "ok", "002_b.sql", "SELECT 2")
    write(tmp_path / "ok", "001_a.sql", "SELECT 1")
    assert [m.version for m in discover(tmp_path / "ok")] == [1, 2]
    write(tmp_path / "gap", "001_a.sql", "SELECT 1")
    write(tmp_path / "gap", "003_c.sql", "SELECT 3")
    with pytest.raises(MigrationError, match="expected migration 002"):
        discover(tmp_path / "gap")
    write(tmp_path / "stray", "1-a.sql", "SELECT 1")
    with pytest.raises(MigrationError, match="NNN_description"):
        discover(tmp_path / "stray")


async def test_applies_once_even_when_replicas_race(db_pool: asyncpg.Pool, tmp_path: Path) -> None:
    """Five replicas migrating at once apply each file exactly once."""
    write(tmp_path, "001_table.sql", "CREATE TABLE race_a.t (id int PRIMARY KEY)")
    write(tmp_path, "002_row.sql", "INSERT INTO race_a.t VALUES (1)")
    results = await asyncio.gather(*(migrate(db_pool, "race_a", tmp_path) for _ in range(5)))
    assert sorted(map(tuple, results)) == [(), (), (), (), (1, 2)]
    assert await db_pool.fetchval("SELECT count(*) FROM race_a.t") == 1


async def test_a_failing_migration_leaves_nothing_behind(db_pool: asyncpg.Pool, tmp_path: Path) -> None:
    """A migration that fails is rolled back whole and not recorded; a fixed file then applies."""
    write(tmp_path, "001_bad.sql", "CREATE TABLE race_b.t (id int); SELECT no_such_function();")
    with pytest.raises(asyncpg.UndefinedFunctionError):
        await migrate(db_pool, "race_b", tmp_path)
    assert await db_pool.fetchval("SELECT to_regclass('race_b.t')") is None
    write(tmp_path, "001_bad.sql", "CREATE TABLE race_b.t (id int)")
    assert await migrate(db_pool, "race_b", tmp_path) == [1]


async def test_an_edited_applied_migration_is_refused(db_pool: asyncpg.Pool, tmp_path: Path) -> None:
    """Changing a file after it was applied is an error, not a silent divergence."""
    write(tmp_path, "001_t.sql", "CREATE TABLE race_c.t (id int)")
    await migrate(db_pool, "race_c", tmp_path)
    write(tmp_path, "001_t.sql", "CREATE TABLE race_c.t (id bigint)")
    with pytest.raises(MigrationError, match="edited after it was applied"):
        await migrate(db_pool, "race_c", tmp_path)


async def test_waits_for_a_required_schema(db_pool: asyncpg.Pool, tmp_path: Path, logs: CapturedLogs) -> None:
    """A schema whose foreign keys point elsewhere waits until that schema exists, then applies."""
    write(tmp_path / "parent", "001_p.sql", "CREATE TABLE race_p.p (id int PRIMARY KEY)")
    write(tmp_path / "child", "001_c.sql", "CREATE TABLE race_q.c (p int REFERENCES race_p.p (id))")
    child = asyncio.create_task(migrate(db_pool, "race_q", tmp_path / "child", requires=("race_p",)))
    await logs.wait_for(lambda e: e["event"] == "waiting for schema" and e.get("schema") == "race_p")
    assert not child.done()
    await migrate(db_pool, "race_p", tmp_path / "parent")
    assert await asyncio.wait_for(child, 10) == [1]
    with pytest.raises(MigrationError, match="has not been created"):
        await migrate(db_pool, "race_r", tmp_path / "child", requires=("race_none",), wait=0.2)
