"""`make run`'s runner: starts everything, stops every process on Ctrl-C, keeps data for next time."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import psutil
import pytest

from imagetools_common.embedded import find_project_file, free_port

pytestmark = pytest.mark.e2e


async def start_runner(var_dir: Path, port: int, cwd: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NATS_URL")}
    env |= {
        "SERVER_PORT": str(port),
        "WEB_DIST_DIR": str(find_project_file("web/dist")),
        "LOG_FORMAT": "json",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "imagetools_common.stack", "--var-dir", str(var_dir),
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def wait_until_running(process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None
    while line := await asyncio.wait_for(process.stdout.readline(), 120):
        if b"ImageTools is running at" in line:
            return
    raise AssertionError(f"the runner exited ({process.returncode}) before it was ready")


async def interrupt(process: asyncio.subprocess.Process) -> tuple[int, list[psutil.Process]]:
    """Ctrl-C the runner; its exit code and whichever of its children are still alive after it."""
    children = psutil.Process(process.pid).children(recursive=True)
    assert children, "the runner started no processes"
    process.send_signal(signal.SIGINT)
    code = await asyncio.wait_for(process.wait(), 60)
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    return code, alive


async def test_ctrl_c_stops_everything_and_data_survives(tmp_path: Path) -> None:
    """After Ctrl-C no process is left, PostgreSQL is stopped, and the next run has the same session."""
    var_dir, port = tmp_path / "var", free_port()
    runner = await start_runner(var_dir, port, tmp_path)
    await wait_until_running(runner)
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as http,
        http.get("/api/v1/session") as response,
    ):
        first = await response.json()
    code, alive = await interrupt(runner)
    assert code == 0 and alive == []
    assert not (var_dir / "postgres" / "postmaster.pid").exists()

    runner = await start_runner(var_dir, port, tmp_path)
    await wait_until_running(runner)
    async with (
        aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as http,
        http.get("/api/v1/session") as response,
    ):
        assert (await response.json())["created_at"] == first["created_at"]
    code, alive = await interrupt(runner)
    assert code == 0 and alive == []


def test_a_second_make_run_installs_nothing() -> None:
    """Once installed and built, every install and build step of `make run` is up to date."""
    root = find_project_file("Makefile").parent
    command = ["make", "-q", "install", "web"]  # as the user runs it, from PATH
    result = subprocess.run(command, cwd=root, capture_output=True, check=False)
    assert result.returncode == 0, "make would reinstall or rebuild something"
