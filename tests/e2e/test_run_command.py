"""`make run`'s runner: starts everything, stops every process on Ctrl-C, keeps data for next time."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest

from imagetools_common.embedded import find_project_file, free_port

pytestmark = pytest.mark.e2e


class Runner:
    """``make run`` in a terminal of its own: its own session and process group, every line kept."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.lines.append(line.decode(errors="replace"))
            if b"ImageTools is running at" in line:
                self.ready.set()

    async def wait_until_running(self) -> None:
        ready = asyncio.create_task(self.ready.wait())
        await asyncio.wait({ready, self._reader}, timeout=120, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        assert self.ready.is_set(), f"the runner exited ({self.process.returncode}) before it was ready"

    async def interrupt(self) -> tuple[int, list[psutil.Process]]:
        """Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group.

        The exit code, and whichever process the runner started is still alive after it.
        """
        children = psutil.Process(self.process.pid).children(recursive=True)
        assert children, "the runner started no processes"
        os.killpg(self.process.pid, signal.SIGINT)
        code = await asyncio.wait_for(self.process.wait(), 120)
        await self._reader
        alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        return code, alive

    def logged(self) -> list[dict[str, Any]]:
        """Every JSON log line the runner and its services wrote."""
        return [json.loads(line) for line in self.lines if line.startswith("{")]


async def start_runner(var_dir: Path, port: int, cwd: Path) -> Runner:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NATS_URL")}
    env |= {
        "SERVER_PORT": str(port),
        "WEB_DIST_DIR": str(find_project_file("web/dist")),
        "LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "imagetools_common.stack", "--var-dir", str(var_dir),
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # as a shell runs a foreground job: a process group of its own
    )  # fmt: skip
    return Runner(process)


def assert_drained(runner: Runner) -> None:
    """The runner stopped the gateway, then each service (each drained and logged its clean stop,
    none lost the bus), then NATS and PostgreSQL."""
    logged = runner.logged()
    stops = [(e["process"], e["exit_code"]) for e in logged if e.get("logger") == "imagetools.stack"
             and e["event"] == "stopped"]  # fmt: skip
    assert stops == [(name, 0) for name in ("gateway", "oauth-service", "image-service", "session-service")]
    clean = {
        e["service"] for e in logged if e.get("logger") == "imagetools.lifecycle" and e["event"] == "stopped"
    }
    assert clean == {"oauth-service", "image-service", "session-service"}
    complaints = [line for line in runner.lines if "Connection lost" in line or "Traceback" in line
                  or '"level": "error"' in line or "nats disconnected" in line]  # fmt: skip
    assert complaints == []


async def test_ctrl_c_drains_and_stops_everything_and_data_survives(tmp_path: Path) -> None:
    """The terminal's SIGINT reaches only the runner, which drains the services before the bus goes;
    after Ctrl-C no process is left, PostgreSQL is stopped, and the next run has the same session."""
    var_dir, port = tmp_path / "var", free_port()
    runner = await start_runner(var_dir, port, tmp_path)
    await runner.wait_until_running()
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as http:
        # Storing something starts the session; then it is there to survive the restart.
        headers = {"X-Requested-With": "ImageTools"}
        async with http.put("/api/v1/settings/ui.seen", json={"value": True}, headers=headers) as stored:
            assert stored.status == 200
        async with http.get("/api/v1/session") as response:
            first = await response.json()
        assert first["active"]
    code, alive = await runner.interrupt()
    assert code == 0 and alive == []
    assert_drained(runner)
    assert not (var_dir / "postgres" / "postmaster.pid").exists()

    runner = await start_runner(var_dir, port, tmp_path)
    await runner.wait_until_running()
    async with (
        aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as http,
        http.get("/api/v1/session") as response,
    ):
        assert (await response.json())["created_at"] == first["created_at"]
    code, alive = await runner.interrupt()
    assert code == 0 and alive == []
    assert_drained(runner)


def test_a_second_make_run_installs_nothing() -> None:
    """Once installed and built, every install and build step of `make run` is up to date."""
    root = find_project_file("Makefile").parent
    command = ["make", "-q", "install", "web"]  # as the user runs it, from PATH
    result = subprocess.run(command, cwd=root, capture_output=True, check=False)
    assert result.returncode == 0, "make would reinstall or rebuild something"
