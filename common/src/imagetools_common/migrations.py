"""Ordered SQL migrations per service schema, applied under one advisory lock.

Files are named ``NNN_description.sql`` and live beside the service's repo. Each is applied in
its own transaction and recorded with its checksum in ``<schema>.schema_migrations``; editing an
applied file is an error, not a silent divergence. Replicas that start together serialise on
the lock, so exactly one applies each file.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from imagetools_common.logs import get_logger

log = get_logger("imagetools.migrations")

# One lock for every schema: migrations are rare and cross-schema foreign keys need an order.
LOCK_KEY = 0x1A6E_7001
_NAME = re.compile(r"(\d{3})_([a-z0-9_]+)\.sql")
_SCHEMA = re.compile(r"[a-z][a-z0-9_]{0,62}")


class MigrationError(RuntimeError):
    """The migrations on disk and in the database disagree, or a dependency is missing."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path) -> list[Migration]:
    """The migrations in ``directory`` in order; gaps, duplicates and stray files are errors."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.fullmatch(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNN_description.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text()))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"{directory}: expected migration {expected:03d}, found {migration.version:03d}"
            )
    return found


async def _wait_for_schemas(conn: asyncpg.Connection, schemas: tuple[str, ...], wait: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    for schema in schemas:
        while await conn.fetchval("SELECT to_regclass($1)", f"{schema}.schema_migrations") is None:
            if loop.time() > deadline:
                raise MigrationError(f"schema {schema!r} has not been created: start its service first")
            log.info("waiting for schema", schema=schema)
            await asyncio.sleep(0.5)


async def _apply_pending(conn: asyncpg.Connection, schema: str, migrations: list[Migration]) -> list[int]:
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    await conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    rows = await conn.fetch(f"SELECT version, checksum FROM {schema}.schema_migrations")
    applied = {row["version"]: row["checksum"] for row in rows}
    unknown = sorted(set(applied) - {m.version for m in migrations})
    if unknown:
        raise MigrationError(f"{schema} has migrations {unknown} this code does not know: is the code older?")
    done: list[int] = []
    for migration in migrations:
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise MigrationError(
                    f"{schema} migration {migration.version:03d}_{migration.name} was edited after it was "
                    "applied: add a new migration instead"
                )
            continue
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                f"INSERT INTO {schema}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
        done.append(migration.version)
        log.info("migration applied", schema=schema, version=migration.version, name=migration.name)
    return done


async def migrate(
    pool: asyncpg.Pool, schema: str, directory: Path, *, requires: tuple[str, ...] = (), wait: float = 60.0
) -> list[int]:
    """Bring ``schema`` up to date; return the versions applied now."""
    if not _SCHEMA.fullmatch(schema):
        raise MigrationError(f"invalid schema name {schema!r}")
    migrations = discover(directory)
    async with pool.acquire() as conn:
        await _wait_for_schemas(conn, requires, wait)
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            return await _apply_pending(conn, schema, migrations)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
