"""Migration 002 on a database that has sessions from before devices existed."""

from __future__ import annotations

import hashlib
import secrets
import shutil
from pathlib import Path

from imagetools_common.db import create_pool
from imagetools_common.embedded import drop_database, ensure_database
from imagetools_common.migrations import migrate
from session_service.__main__ import STORAGE
from session_service.repo import SessionRepo


async def test_existing_sessions_keep_their_cookie_as_their_first_device(
    postgres_admin_url: str, tmp_path: Path
) -> None:
    name = f"imagetools_migration_{secrets.token_hex(4)}"
    pool = await create_pool(await ensure_database(postgres_admin_url, name), max_size=2)
    try:
        before = tmp_path / "migrations"
        before.mkdir()
        shutil.copy(STORAGE.migrations / "001_sessions.sql", before)
        await migrate(pool, "sessions", before)
        token = secrets.token_urlsafe(32)
        old = await pool.fetchrow(
            "INSERT INTO sessions.sessions (token_hash, expires_at, last_seen_at)"
            " VALUES ($1, now() + interval '7 days', now() - interval '1 hour') RETURNING *",
            hashlib.sha256(token.encode()).digest(),
        )

        assert await migrate(pool, "sessions", STORAGE.migrations) == [2]

        device = await pool.fetchrow("SELECT * FROM sessions.devices")
        assert device["session_id"] == old["id"]
        assert bytes(device["token_hash"]) == bytes(old["token_hash"])
        assert (device["created_at"], device["last_seen_at"]) == (old["created_at"], old["last_seen_at"])
        columns = await pool.fetch(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'sessions' AND table_name = 'sessions'"
        )
        assert "token_hash" not in {c["column_name"] for c in columns}
        # The browser's cookie still opens its session, now as a device of it.
        found = await SessionRepo(pool).find_live(hashlib.sha256(token.encode()).digest())
        assert found is not None and found.info.id == old["id"] and found.info.device_id == device["id"]
    finally:
        await pool.close()
        await drop_database(postgres_admin_url, name)
