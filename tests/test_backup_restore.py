"""Backup → wipe → restore with exactly the commands docs/DEPLOYMENT.md gives, every image byte-identical.

The commands are read from the guide's marked blocks and run as written, with pg_dump and
pg_restore from the PostgreSQL build the tests use (pgserver's). The compose form in the guide
must use the same options, so an operator following either form gets what this test proved.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from uuid import UUID

import asyncpg
import pgserver
import pytest
from nats.aio.client import Client as NATS

from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from image_service.settings import ImageSettings
from imagetools_common.backup import DUMP_OPTIONS, RESTORE_OPTIONS
from imagetools_common.contracts import image as contract
from imagetools_common.contracts import session
from imagetools_common.contracts.base import Empty
from imagetools_common.embedded import drop_database, ensure_database, find_project_file
from imagetools_common.rpc import RpcClient
from imagetools_common.testing import media
from imagetools_common.testing.services import running, settings_for
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings

GUIDE = find_project_file("docs/DEPLOYMENT.md")
PG_BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"


def guide_block(marker: str) -> list[str]:
    """The command lines of the ```sh block that follows ``<!-- marker -->`` in the guide."""
    text = GUIDE.read_text()
    match = re.search(rf"<!-- {re.escape(marker)} -->\s*```sh\n(.*?)```", text, re.DOTALL)
    assert match, f"docs/DEPLOYMENT.md has no block marked {marker}"
    return [line for line in match.group(1).splitlines() if line.strip() and not line.startswith("#")]


def options(lines: list[str], program: str) -> set[str]:
    """The --options ``program`` is run with in ``lines`` (inside ``sh -c '...'`` too), except
    where its file and database go, which differ between the forms."""
    found: set[str] = set()
    for line in lines:
        words = shlex.split(line)
        words = [w for word in words for w in (shlex.split(word) if " " in word else [word])]
        if program in words:
            found |= {w for w in words[words.index(program) :] if w.startswith("--")}
    return {o for o in found if not o.startswith(("--file=", "--dbname="))}


async def run_documented(lines: list[str], database_url: str, workdir: Path) -> None:
    """Each line as a shell runs it, with DATABASE_URL set and pgserver's PostgreSQL tools on PATH."""
    env = {**os.environ, "DATABASE_URL": database_url, "PATH": f"{PG_BIN}:{os.environ['PATH']}"}
    bash = shutil.which("bash") or "/bin/bash"
    for line in lines:
        shell = await asyncio.create_subprocess_exec(
            bash, "-c", line, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        _, stderr = await shell.communicate()
        assert shell.returncode == 0, f"{line}\n{stderr.decode()}"


@asynccontextmanager
async def services(env: dict[str, str]) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(
            running(
                session.SERVICE,
                settings_for(SessionSettings, env),
                register_sessions,
                storage=SESSION_STORAGE,
            )
        )
        await stack.enter_async_context(
            running(
                contract.SERVICE, settings_for(ImageSettings, env), register_images, storage=IMAGE_STORAGE
            )
        )
        yield


async def every_byte(rpc: RpcClient, sessions: list[UUID]) -> dict[str, tuple[str, str, int]]:
    """A digest of every byte a user can fetch: each original, and each version's image and thumbnail."""
    found: dict[str, tuple[str, str, int]] = {}
    for session_id in sessions:
        for info in (await rpc.call(contract.LIST, session.SessionRef(session_id=session_id))).images:
            wanted = [("original", None)] + [
                (k, v.number) for v in info.versions for k in ("image", "thumbnail")
            ]
            for kind, number in wanted:
                request = contract.ContentRequest(
                    session_id=session_id, image_id=info.id, version=number, kind=kind
                )
                header, data = await rpc.fetch(contract.CONTENT, request)
                digest = hashlib.sha256(data).hexdigest()
                found[f"{info.id}/{kind}/{number}"] = (header.content_type, digest, len(data))
    return found


@pytest.fixture(scope="module")
def photos() -> list[list[bytes]]:
    """Per session: a 2 MP JPEG photo and a PNG (made before the test: encoding would stall its loop)."""
    png = media.encoded(media.photo(640, 480, seed=99), "png")
    return [[media.jpeg(media.photo(1600, 1200, seed=i), quality=90), png] for i in range(2)]


async def test_backup_wipe_restore_keeps_every_image(
    postgres_admin_url: str, base_env: dict[str, str], nc: NATS, tmp_path: Path, photos: list[list[bytes]]
) -> None:
    backup = guide_block("backup:url")
    restore = guide_block("restore:url")
    # The compose form and `make backup` / `make restore` run the same programs with the same options.
    assert (
        options(guide_block("backup:compose"), "pg_dump") == options(backup, "pg_dump") == set(DUMP_OPTIONS)
    )
    assert (
        options(guide_block("restore:compose"), "pg_restore")
        == options(restore, "pg_restore")
        == set(RESTORE_OPTIONS)
    )

    name = f"imagetools_backup_{secrets.token_hex(4)}"
    database_url = await ensure_database(postgres_admin_url, name)
    env = {**base_env, "DATABASE_URL": database_url}
    rpc = RpcClient(nc)
    try:
        async with services(env):
            sessions = [(await rpc.call(session.CREATE, Empty())).session.id for _ in range(2)]
            for session_id, uploads in zip(sessions, photos, strict=True):
                for j, photo in enumerate(uploads):
                    header = contract.UploadHeader(session_id=session_id, filename=f"photo-{j}.jpg")
                    info = await rpc.send(contract.UPLOAD, header, photo)
                    for op in (contract.RotateOp(degrees=90), contract.ResizeOp(percent=50)):
                        await rpc.call(contract.APPLY, contract.ApplyRequest(
                            session_id=session_id, image_id=info.id, operation=op))  # fmt: skip
                    await rpc.call(
                        contract.UNDO, contract.HistoryStep(session_id=session_id, image_id=info.id)
                    )
            before = await every_byte(rpc, sessions)

            started = time.perf_counter()
            await run_documented(backup, database_url, tmp_path)  # while the services run, as documented
            backup_seconds = time.perf_counter() - started

        # The disaster: the database is gone; a new, empty one takes its place.
        await drop_database(postgres_admin_url, name)
        await ensure_database(postgres_admin_url, name)
        started = time.perf_counter()
        await run_documented(restore, database_url, tmp_path)
        restore_seconds = time.perf_counter() - started

        async with services(env):  # migrations find everything applied; nothing is re-created
            after = await every_byte(rpc, sessions)
    finally:
        await drop_database(postgres_admin_url, name)

    dump = tmp_path / "imagetools.dump"
    total = sum(size for _, _, size in before.values())
    print(
        f"\nbackup/restore: {len(before)} blobs of {total / 1e6:.2f} MB compared, dump "
        f"{dump.stat().st_size / 1e6:.2f} MB, pg_dump {backup_seconds:.2f} s, "
        f"pg_restore {restore_seconds:.2f} s"
    )
    # 2 sessions × 2 images × (original + 3 versions × (image + thumbnail))
    assert len(before) == 2 * 2 * 7
    assert after == before


async def test_make_backup_and_restore_round_trip(postgres_admin_url: str, tmp_path: Path) -> None:
    """`make backup` then `make restore` (python -m imagetools_common.backup) into another database."""
    source, target = (f"imagetools_cli_{secrets.token_hex(4)}" for _ in range(2))
    rows = [(i, secrets.token_bytes(50_000)) for i in range(5)]
    try:
        source_url = await ensure_database(postgres_admin_url, source)
        conn = await asyncpg.connect(source_url)
        try:
            await conn.execute(
                "CREATE SCHEMA images; CREATE TABLE images.blobs (id int PRIMARY KEY, data bytea)"
            )
            await conn.executemany("INSERT INTO images.blobs VALUES ($1, $2)", rows)
        finally:
            await conn.close()
        dump = tmp_path / "dev.dump"
        await run_backup_cli(source_url, tmp_path, "dump", "--out", str(dump))
        target_url = await ensure_database(postgres_admin_url, target)
        await run_backup_cli(target_url, tmp_path, "restore", str(dump))
        conn = await asyncpg.connect(target_url)
        try:
            restored = await conn.fetch("SELECT id, data FROM images.blobs ORDER BY id")
        finally:
            await conn.close()
        assert [(r["id"], bytes(r["data"])) for r in restored] == rows
    finally:
        for name in (source, target):
            await drop_database(postgres_admin_url, name)


async def run_backup_cli(database_url: str, cwd: Path, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "imagetools_common.backup", *args, cwd=cwd, env=env, stderr=subprocess.PIPE
    )
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
