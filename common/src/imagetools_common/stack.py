"""The whole ImageTools topology as local processes: ``make run`` and the end-to-end tests.

Starts embedded NATS and PostgreSQL when NATS_URL / DATABASE_URL are unset (data under
``var/``), then session-service (which owns the schema others reference), the other services
(image-service possibly as several replicas) and the gateway, each as its own process. Every
child, nats-server included, runs in a session of its own, so a terminal's Ctrl-C reaches only
this runner, which stops the services in reverse order (each drains on SIGTERM while the bus is
still up), then NATS, then PostgreSQL. Children also get SIGTERM if this process dies, so nothing
is orphaned.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dotenv import dotenv_values
from nats.aio.client import Client as NATS

from imagetools_common.contracts import BACKEND_SERVICES
from imagetools_common.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    die_with_parent,
    ensure_database,
    find_project_file,
    free_port,
    wait_for_port,
)
from imagetools_common.logs import configure_logging, get_logger
from imagetools_common.rpc import connect, ping_all
from imagetools_common.settings import MIN_SECRET_LENGTH, dev_secret

log = get_logger("imagetools.stack")

# Process name → Python module; session-service first: the other schemas reference its table.
MODULES = {
    "session-service": "session_service",
    "image-service": "image_service",
    "oauth-service": "oauth_service",
    "gateway": "gateway",
}


class ServiceProcess:
    """One service instance as a child process."""

    def __init__(
        self,
        name: str,
        module: str,
        env: Mapping[str, str],
        log_file: Path | None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.module = module
        self.args = args
        self.env = dict(env)
        self.log_file = log_file
        self.process: asyncio.subprocess.Process | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        out: IO[Any] | None = None
        if self.log_file is not None:
            out = self.log_file.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            *self.args,
            env=self.env,
            stdout=out,
            stderr=out,
            start_new_session=True,  # Ctrl-C reaches the runner, which stops children in order
            preexec_fn=die_with_parent,
        )

    async def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; the exit code."""
        if not self.running:
            return self.process.returncode if self.process else None
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            log.warning("did not stop in time, killing", process=self.name)
            self.process.kill()
            return await self.process.wait()

    async def kill(self) -> None:
        if self.running:
            assert self.process is not None
            self.process.kill()
            await self.process.wait()


@dataclass
class Stack:
    """Everything ``make run`` starts; ``start`` and ``stop`` are symmetric."""

    var_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)
    log_dir: Path | None = None
    nats: EmbeddedNats | None = None
    postgres: EmbeddedPostgres | None = None
    processes: list[ServiceProcess] = field(default_factory=list)
    # What one kind of process gets on top of ``env``: e.g. its own NATS node first in NATS_URL.
    process_env: dict[str, dict[str, str]] = field(default_factory=dict)
    # How many of each kind were ever started: a replacement for a removed replica gets a fresh name
    # (and log file), never the name of one still running.
    started: dict[str, int] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env.get('SERVER_PORT', '8081')}"

    async def start(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        await self._start_infrastructure()
        self.env.setdefault("SESSION_SECRET_KEY", dev_secret(self.var_dir))
        if self.env.get("OPENROUTER_FAKE") == "1":
            await self._start_fake_openrouter()
        await self.start_service("session-service")
        await self.wait_for_services({"session-service": 1})
        for spec in BACKEND_SERVICES[1:]:
            for _ in range(self.replicas.get(spec.name, 1)):
                await self.start_service(spec.name)
        await self.wait_for_services({s.name: self.replicas.get(s.name, 1) for s in BACKEND_SERVICES})
        await self.start_service("gateway")
        await wait_for_port("127.0.0.1", int(self.env.get("SERVER_PORT", "8081")), timeout=30)

    async def _start_infrastructure(self) -> None:
        if "NATS_URL" not in self.env:
            config = find_project_file("deploy/nats/nats.conf")
            self.nats = EmbeddedNats(config, log_file=self._log_path("nats"))
            await self.nats.start()
            self.env["NATS_URL"] = self.nats.url
        if "DATABASE_URL" not in self.env:
            self.postgres = EmbeddedPostgres(self.var_dir / "postgres")
            admin = await self.postgres.start()
            self.env["DATABASE_URL"] = await ensure_database(admin, "imagetools")

    async def _start_fake_openrouter(self) -> None:
        """OPENROUTER_FAKE=1: demos without an account, against the fake OpenRouter on loopback."""
        port = free_port()
        env = {**os.environ, **self.env}
        fake = ServiceProcess(
            "fake-openrouter", "oauth_service.fake_openrouter", env, self._log_path("fake-openrouter"),
            args=("--host", "127.0.0.1", "--port", str(port)),
        )  # fmt: skip
        await fake.start()
        self.processes.append(fake)
        await wait_for_port("127.0.0.1", port)
        self.env["OPENROUTER_API_BASE"] = f"http://127.0.0.1:{port}/api/v1"
        self.env["OPENROUTER_AUTH_URL"] = f"http://127.0.0.1:{port}/auth"
        log.info("fake openrouter started", url=f"http://127.0.0.1:{port}")

    def _log_path(self, name: str) -> Path | None:
        return self.log_dir / f"{name}.log" if self.log_dir is not None else None

    async def start_service(self, kind: str) -> ServiceProcess:
        index = self.started[kind] = self.started.get(kind, 0) + 1
        name = kind if index == 1 else f"{kind}-{index}"
        env = {**os.environ, **self.env, **self.process_env.get(kind, {})}
        process = ServiceProcess(name, MODULES[kind], env, self._log_path(name))
        await process.start()
        self.processes.append(process)
        log.info("started", process=name, pid=process.process.pid if process.process else None)
        return process

    async def stop_service(self, process: ServiceProcess, *, kill: bool = False) -> int | None:
        """Stop one process this stack started and forget it (``stop`` will not stop it again):
        SIGTERM and its drain, or with ``kill`` SIGKILL, as a crash or the OOM killer does. Its
        exit code."""
        if kill:
            await process.kill()
        code = await process.stop()  # after a kill this only reads the exit code
        self.processes.remove(process)
        log.info("stopped", process=process.name, exit_code=code)
        return code

    async def wait_for_services(self, expected: Mapping[str, int], timeout: float = 180.0) -> None:
        """Wait until each named service has at least the expected number of instances answering.

        image-service answers only once its background-removal model is verified, loaded and warmed
        up: seconds on a quiet machine, but replicas loading together on two busy cores take longer.
        """
        nc: NATS = await connect(self.env["NATS_URL"], "imagetools-stack")
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                found = await ping_all(nc, window=0.2)
                missing = {n: c for n, c in expected.items() if len(found.get(n, [])) < c}
                if not missing:
                    return
                dead = [p.name for p in self.processes if not p.running]
                if dead or loop.time() > deadline:
                    raise RuntimeError(f"not ready: {missing}; exited: {dead or 'none'}")
        finally:
            await nc.close()

    async def stop(self) -> None:
        for process in reversed(self.processes):
            code = await process.stop()
            log.info("stopped", process=process.name, exit_code=code)
        self.processes.clear()
        if self.nats is not None:
            await self.nats.stop()
        if self.postgres is not None:
            await self.postgres.stop()


def _parse_replicas(items: list[str]) -> dict[str, int]:
    replicas: dict[str, int] = {}
    for item in items:
        name, _, count = item.partition("=")
        if name not in MODULES or not count.isdigit() or int(count) < 1:
            raise SystemExit(f"--replicas expects SERVICE=N with a known service, got {item!r}")
        replicas[name] = int(count)
    return replicas


async def _run(stack: Stack) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stack.start()
        url = (
            stack.env.get("OPENROUTER_APP_URL") or f"http://localhost:{stack.env.get('SERVER_PORT', '8081')}"
        )
        print(f"\n  ImageTools is running at {url}  (Ctrl-C stops it)\n", flush=True)
        watch = [asyncio.create_task(p.process.wait()) for p in stack.processes if p.process]
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopped, *watch], return_when=asyncio.FIRST_COMPLETED)
        if stopped not in done:
            dead = [p.name for p in stack.processes if not p.running]
            log.error("a service exited; stopping the stack", exited=dead)
            return 1
        return 0
    finally:
        await stack.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the ImageTools stack as local processes")
    parser.add_argument("--var-dir", type=Path, default=Path("var"), help="development state (default: var)")
    parser.add_argument("--replicas", action="append", default=[], metavar="SERVICE=N")
    # The all-in-one container: a secret generated into the data volume would sit beside the
    # OpenRouter keys it decrypts, so any copy of the volume would hold both.
    parser.add_argument(
        "--require-secret",
        action="store_true",
        help="refuse to start without SESSION_SECRET_KEY instead of generating one under --var-dir",
    )
    args = parser.parse_args(argv)
    # The same sources the services read: the environment wins over an optional .env.
    config = {
        **{k: v for k, v in dotenv_values(".env").items() if v},
        **{k: v for k, v in os.environ.items() if v},
    }
    if args.require_secret and len(config.get("SESSION_SECRET_KEY", "")) < MIN_SECRET_LENGTH:
        raise SystemExit(
            f"SESSION_SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} characters"
            " (generate one with: openssl rand -base64 48)"
        )
    configure_logging("stack", config.get("LOG_LEVEL", "INFO").upper())
    passed: tuple[str, ...] = (
        "NATS_URL",
        "DATABASE_URL",
        "SERVER_PORT",
        "OPENROUTER_APP_URL",
        "OPENROUTER_FAKE",
        "SESSION_SECRET_KEY",
    )
    env = {k: config[k] for k in passed if k in config}
    stack = Stack(var_dir=args.var_dir.resolve(), env=env, replicas=_parse_replicas(args.replicas))
    raise SystemExit(asyncio.run(_run(stack)))


if __name__ == "__main__":
    main()
