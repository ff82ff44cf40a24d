"""ImageTools in real containers: the project's images, docker-compose.yml and the deployment guide's
commands, on a Docker engine this test starts and removes again (tests/containers/engine.sh).

No registry is reachable, so the base images are local stand-ins under the real tags (engine.sh).
Under CI (CI=true) an engine that cannot be installed or started fails the run; elsewhere, without
root, the test skips and says why. Every phase is timed; the figures are printed at the end
(docs/DEPLOYMENT.md, "How this is tested", records them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from imagetools_common.embedded import find_project_file
from imagetools_common.testing import media
from imagetools_common.testing.load import GENEROUS_LIMITS, UNSAFE, under_load

ROOT = find_project_file("docker-compose.yml").parent
ENGINE = ROOT / "tests/containers/engine.sh"
GUIDE = ROOT / "docs/DEPLOYMENT.md"
ON_CI = os.environ.get("CI") == "true"
TARGETS = ("session-service", "image-service", "oauth-service", "gateway")
GATEWAY = "http://127.0.0.1:8082"  # docker-compose.yml publishes the gateway there
SECRET = secrets.token_urlsafe(48)
TIMES: dict[str, float] = {}
FIGURES: dict[str, Any] = {}


@contextlib.contextmanager
def timed(phase: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        TIMES[phase] = round(time.monotonic() - started, 1)


def guide_block(marker: str) -> str:
    """A shell block of docs/DEPLOYMENT.md, by the HTML comment marking it."""
    match = re.search(rf"<!-- {re.escape(marker)} -->\s*```sh\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    assert match, f"docs/DEPLOYMENT.md has no block marked {marker}"
    return match.group(1)


def section_block(heading: str, containing: str) -> str:
    """The first shell block under a heading of docs/DEPLOYMENT.md that contains ``containing``."""
    section = GUIDE.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return next(b for b in re.findall(r"```sh\n(.*?)```", section, re.DOTALL) if containing in b)


@dataclass
class Engine:
    """The throwaway engine, and a compose project directory holding the repository's compose file,
    NATS config and a filled-in production .env (nothing from a developer's own .env)."""

    work: Path
    project: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, check: bool = True, timeout: float = 900, **kw: Any) -> str:
        done = subprocess.run(
            args, cwd=self.project, env=self.env, stdout=subprocess.PIPE,
            stderr=kw.pop("stderr", subprocess.PIPE), text=True, timeout=timeout, check=False, **kw,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} → {done.returncode}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        return done.stdout

    def docker(self, *args: str, **kw: Any) -> str:
        return self.run("docker", *args, **kw)

    def compose(self, *args: str, **kw: Any) -> str:
        return self.run("docker", "compose", *args, **kw)

    def sh(self, script: str, **kw: Any) -> str:
        """A block of the guide, as an operator pastes it into a shell in the project directory."""
        return self.run("sh", "-euc", script, **kw)

    def replicas(self, service: str) -> list[str]:
        """Names of the running containers of a compose service."""
        out = self.compose("ps", "--format", "json", service)
        # One JSON array, or (newer Compose) one JSON object a line.
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        rows = json.loads(out) if out.strip().startswith("[") else lines
        return sorted(r["Name"] for r in rows if r.get("State") == "running")


def _engine_script(command: str, work: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ENGINE), command, str(work)], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    if os.geteuid() != 0:
        reason = "the container test needs root: it installs and starts its own Docker engine"
        if ON_CI:
            pytest.fail(reason)
        pytest.skip(f"SKIPPED LOUDLY: {reason}")
    work = Path(os.environ.get("IMAGETOOLS_CONTAINERS_WORKDIR") or tempfile.mkdtemp(prefix="imagetools-ct-"))
    project = work / "project"
    (project / "deploy/nats").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "docker-compose.yml", project)
    shutil.copy(ROOT / "deploy/nats/nats.conf", project / "deploy/nats")
    # Engine 20.10 (Debian 12's docker.io) ignores the compose file's `start_interval: 2s`, so each
    # step of the start order would wait one whole 30 s `interval` for its first check (`up --wait`
    # ~100 s, a restore ~65 s). This override, which `docker compose` reads by itself, checks every
    # 5 s instead: what Engine 25+ does during the start period with the shipped file alone.
    (project / "docker-compose.override.yml").write_text(
        "services:\n" + "".join(f"  {name}:\n    healthcheck:\n      interval: 5s\n" for name in TARGETS)
    )
    env_lines = [
        "POSTGRES_PASSWORD=" + secrets.token_hex(16),
        "SESSION_SECRET_KEY=" + SECRET,
        "OPENROUTER_APP_URL=http://localhost:8082",
        "LOG_LEVEL=WARNING",
        *(f"{k}={v}" for k, v in GENEROUS_LIMITS.items()),
    ]
    (project / ".env").write_text("\n".join(env_lines) + "\n")
    # `docker` is the docker.io package's client (it builds with the engine's BuildKit, no buildx
    # plugin needed) and `docker compose` the project's pinned Compose CLI as its plugin.
    (work / "bin").mkdir(exist_ok=True)
    (work / "config/cli-plugins").mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        (work / "bin/docker").symlink_to("/usr/bin/docker")
    with contextlib.suppress(FileExistsError):
        (work / "config/cli-plugins/docker-compose").symlink_to(ROOT / ".venv/bin/docker-compose")
    env = {
        "PATH": f"{work / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(work),
        "DOCKER_HOST": f"unix://{work / 'docker.sock'}",
        "DOCKER_CONFIG": str(work / "config"),
        "DOCKER_BUILDKIT": "1",
    }
    with timed("engine: install if absent, start dockerd"):
        started = _engine_script("up", work)
    try:
        if started.returncode != 0:
            reason = f"no Docker engine: {started.stderr.strip()[-2000:]}"
            if ON_CI:
                pytest.fail(reason)
            pytest.skip(f"SKIPPED LOUDLY: {reason}")
        with timed("stand-in base images (debootstrap + 4 builds)"):
            built = _engine_script("standins", work)
        assert built.returncode == 0, built.stderr[-3000:]
        yield Engine(work=work, project=project, env=env)
    finally:
        # IMAGETOOLS_CONTAINERS_WORKDIR (a developer iterating): keep that engine, its images and the
        # debootstrap tarball for the next run; `engine.sh down DIR` removes them.
        keep = bool(os.environ.get("IMAGETOOLS_CONTAINERS_WORKDIR"))
        with timed("clean-up: containers, volumes, daemon, host"):
            stopped = _engine_script("down", work) if not keep else subprocess.CompletedProcess([], 0, "", "")
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
        print("\n\ncontainer test phases (s):")
        for phase, seconds in TIMES.items():
            print(f"  {seconds:7.1f}  {phase}")
        print("figures:", json.dumps(FIGURES, indent=1))
        assert stopped.returncode == 0, stopped.stderr


@pytest.fixture(scope="module")
def images(engine: Engine) -> dict[str, int]:
    """The project's four images and the all-in-one, built as docs/DEPLOYMENT.md says for an engine
    without buildx; their sizes in bytes."""
    sizes = {}
    for target in (*TARGETS, "all-in-one"):
        tag = "imagetools" if target == "all-in-one" else f"imagetools-{target}"
        with timed(f"build {target}"):
            engine.docker(
                "build", "-q", "-f", str(ROOT / "deploy/Dockerfile"), "--target", target, "-t", tag, str(ROOT)
            )
        sizes[target] = int(engine.docker("image", "inspect", "-f", "{{.Size}}", tag))
    FIGURES["image MB"] = {name: round(size / 1e6) for name, size in sizes.items()}
    return sizes


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 300) -> float:
    """Poll ``check`` until true; the seconds it took. Fails naming ``what`` after ``timeout``."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            while not await check():  # noqa: ASYNC110 - a state seen over HTTP; nothing to await on
                await asyncio.sleep(0.25)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {timeout} s") from None
    return time.monotonic() - started


async def health(base: str = GATEWAY) -> dict[str, Any]:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{base}/health", timeout=aiohttp.ClientTimeout(5)) as r,
        ):
            return dict(await r.json())
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return {}


def replicas_answering(found: dict[str, Any], service: str) -> int:
    return int((found.get("services") or {}).get(service, {}).get("replicas", 0))


@pytest.fixture(scope="module")
def stack(engine: Engine, images: dict[str, int]) -> Iterator[Engine]:
    """docker-compose.yml up, three image-service replicas, every service healthy."""
    with timed("compose up --wait (3 image-service replicas)"):
        engine.compose("up", "-d", "--no-build", "--wait")
    yield engine
    engine.compose("down", "-v", "--timeout", "40", check=False)


def test_images_carry_the_compiled_kernels_and_are_measured(engine: Engine, images: dict[str, int]) -> None:
    """image-service's image holds pymatting's compiled kernels, readable by its user: no JIT on start."""
    out = engine.docker(
        "run", "--rm", "--entrypoint", "sh", "imagetools-image-service", "-c",
        'find "$NUMBA_CACHE_DIR" -name "*.nbc" ! -user 10001 | wc -l;'
        'find "$NUMBA_CACHE_DIR" -name "*.nbc" | wc -l',
    )  # fmt: skip
    foreign, kernels = (int(n) for n in out.split())
    assert kernels >= 20 and foreign == 0, out
    assert images["image-service"] > images["gateway"]  # only image-service carries the model


def test_all_in_one_with_the_guides_commands(engine: Engine, images: dict[str, int]) -> None:
    """One container, run, stopped, backed up and restored with docs/DEPLOYMENT.md's commands: it
    refuses to start without SESSION_SECRET_KEY; healthy; upload → compress; `docker stop` stops the
    services before the databases; after a restart, and after a restore into a new volume, the
    session's images are there. (Runs before the compose stack, which publishes the same port.)"""
    refused = engine.run("docker", "run", "--rm", "imagetools", check=False, stderr=subprocess.STDOUT)
    assert "SESSION_SECRET_KEY must be set" in refused, refused
    # The guide's lines: the image is built already, and /health is polled below instead of curl.
    run = "\n".join(
        line for line in section_block("One container", "docker run -d").replace("\\\n", "").splitlines()
        if not line.startswith(("docker build", "curl"))
    )  # fmt: skip

    async def healthy() -> bool:
        return (await health()).get("status") == "healthy"

    def start(phase: str, script: str) -> None:
        with timed(phase):
            engine.sh(script)
            asyncio.run(wait_for(healthy, phase))

    async def work() -> tuple[dict[str, str], str]:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(base_url=GATEWAY, cookie_jar=jar) as http:
            form = aiohttp.FormData()
            photo = media.jpeg(media.photo(1200, 900, seed=5))
            form.add_field("file", photo, filename="a.jpg", content_type="image/jpeg")
            async with http.post("/api/v1/images", data=form, headers=UNSAFE) as r:
                assert r.status == 201, await r.text()
                image_id = (await r.json())["images"][0]["id"]
            compress = {"type": "compress", "settings": {"quality": 50, "format": "jpeg"}}
            async with http.post(f"/api/v1/images/{image_id}/operations", json=compress, headers=UNSAFE) as r:
                assert r.status == 200, await r.text()
            return {c.key: c.value for c in jar}, image_id

    def operations(cookies: dict[str, str], image_id: str) -> list[str]:
        async def get() -> dict[str, Any]:
            async with (
                aiohttp.ClientSession(base_url=GATEWAY, cookies=cookies) as http,
                http.get(f"/api/v1/images/{image_id}") as r,
            ):
                assert r.status == 200, await r.text()
                return dict(await r.json())

        return [v["operation"] for v in asyncio.run(get())["versions"]]

    try:
        start("all-in-one: docker run to /health 200", run)
        cookies, image_id = asyncio.run(work())
        with timed("all-in-one: docker stop"):
            engine.docker("stop", "imagetools")
        assert engine.docker("inspect", "-f", "{{.State.ExitCode}}", "imagetools").strip() == "0"
        logs = engine.run("docker", "logs", "imagetools", stderr=subprocess.STDOUT)
        events = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
        stopped = [e.get("process") for e in events if e.get("event") == "stopped"]
        assert stopped[:1] == ["gateway"] and set(stopped) >= set(TARGETS), logs[-3000:]
        start("all-in-one: docker start to /health 200", "docker start imagetools")
        assert operations(cookies, image_id) == ["upload", "compress"]
        start("all-in-one: backup (guide's commands)", guide_block("backup:all-in-one"))
        FIGURES["all-in-one volume tar bytes"] = (engine.project / "imagetools-data.tar").stat().st_size
        # "then the docker run line above": that line alone, with the secret kept from the first run.
        again = next(line for line in run.splitlines() if line.startswith("docker run"))
        start(
            "all-in-one: restore into a new volume (guide's commands)",
            guide_block("restore:all-in-one") + again,
        )
        assert operations(cookies, image_id) == ["upload", "compress"]
    finally:
        engine.docker("rm", "-f", "imagetools", check=False)
        engine.docker("volume", "rm", "imagetools-data", check=False)


def test_stack_reports_three_replicas_and_serves_edits(stack: Engine) -> None:
    """Through the published port: /health counts 3 replicas; upload → compress → download; a cut-out."""

    async def scenario() -> None:
        found = await health()
        assert found.get("status") == "healthy" and replicas_answering(found, "image-service") == 3, found
        async with aiohttp.ClientSession(base_url=GATEWAY, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            photo = media.jpeg(media.photo(1600, 1200, seed=3), quality=95)
            form = aiohttp.FormData()
            form.add_field("file", photo, filename="photo.jpg", content_type="image/jpeg")
            async with http.post("/api/v1/images", data=form, headers=UNSAFE) as r:
                assert r.status == 201, await r.text()
                image_id = (await r.json())["images"][0]["id"]
            compress = {"type": "compress", "settings": {"quality": 60, "format": "jpeg"}}
            async with http.post(f"/api/v1/images/{image_id}/operations", json=compress, headers=UNSAFE) as r:
                assert r.status == 200, await r.text()
            async with http.get(f"/api/v1/images/{image_id}/content") as r:
                body = await r.read()
                assert r.status == 200 and r.content_type == "image/jpeg"
                assert body[:2] == b"\xff\xd8" and len(body) < len(photo)
            started = time.monotonic()
            cutout = {"type": "remove_background", "format": "png"}
            async with http.post(f"/api/v1/images/{image_id}/operations", json=cutout, headers=UNSAFE) as r:
                assert r.status == 200, await r.text()
            FIGURES["background removal, 1600x1200 (s)"] = round(time.monotonic() - started, 1)
            async with http.get(f"/api/v1/images/{image_id}/content") as r:
                assert r.content_type == "image/png" and (await r.read())[:8] == b"\x89PNG\r\n\x1a\n"

    asyncio.run(scenario())


def test_a_sigkilled_replica_under_load_loses_nothing(stack: Engine) -> None:
    """SIGKILL of an image-service replica's process while users work: every change applied exactly
    once; Docker restarts the replica and it answers again (its start-up time, alone, is recorded)."""
    victim = stack.replicas("image-service")[0]
    pid = int(stack.docker("inspect", "-f", "{{.State.Pid}}", victim))
    killed_at: list[float] = []  # time.perf_counter(), as the users' tally records answers
    restarted_after: list[float] = []

    async def kill() -> None:
        os.kill(pid, signal.SIGKILL)  # the process itself, as a crash or the OOM killer does
        killed_at.append(time.perf_counter())

        async def gone() -> bool:
            return replicas_answering(await health(), "image-service") < 3

        async def back() -> bool:
            return replicas_answering(await health(), "image-service") == 3

        await wait_for(gone, "the gateway seeing the replica gone", timeout=60)
        # Docker restarts it (restart: unless-stopped): a replica starting alone, cache and all.
        restarted_after.append(await wait_for(back, "the restarted replica answering", timeout=300))

    with timed("SIGKILL a replica under load"):
        tally, (checked, lost, duplicated) = asyncio.run(
            under_load(GATEWAY, kill, times=1, users=4, between=40)
        )
    FIGURES["sigkill"] = {
        "answers": tally.answered, "by_status": dict(tally.by_status), "versions_checked": checked,
        "longest_gap_s": round(tally.outage(killed_at[0]), 2), "p99_s": round(tally.percentile(0.99), 2),
        "replica_answering_again_s": round(restarted_after[0], 1),
    }  # fmt: skip
    assert (lost, duplicated) == (0, 0) and not tally.wrong and not tally.gave_up, tally.wrong[:5]
    assert tally.server_errors() == 0, tally.by_status
    assert stack.docker("inspect", "-f", "{{.RestartCount}}", victim).strip() == "1"


def test_the_documented_zero_gap_upgrade_under_load(stack: Engine) -> None:
    """docs/DEPLOYMENT.md's image-service replacement, new replicas first: nothing fails meanwhile."""
    block = next(
        b
        for b in re.findall(r"```sh\n(.*?)```", GUIDE.read_text(), re.DOTALL)
        if "--scale image-service=6" in b
    )
    commands = [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    scale_up = next(c for c in commands if "--scale image-service=6" in c)
    retire = [c for c in commands if c.startswith(("docker stop", "docker rm"))]
    assert len(retire) == 2, commands
    started_together: list[float] = []

    async def six() -> bool:
        return replicas_answering(await health(), "image-service") == 6

    async def upgrade() -> None:
        began = time.monotonic()
        await asyncio.to_thread(stack.sh, scale_up)
        await wait_for(six, "three new replicas answering", timeout=300)
        started_together.append(time.monotonic() - began)

        # As the guide says: wait until Docker calls the new ones healthy, then retire the old ones.
        async def healthy() -> bool:
            states = await asyncio.to_thread(
                stack.compose, "ps", "--format", "{{.Name}} {{.Health}}", "image-service"
            )
            return states.count("healthy") - states.count("unhealthy") >= 6

        await wait_for(healthy, "Docker marking the new replicas healthy", timeout=300)
        for command in retire:
            await asyncio.to_thread(stack.sh, command)

    with timed("zero-gap upgrade under load"):
        tally, (checked, lost, duplicated) = asyncio.run(
            under_load(GATEWAY, upgrade, times=1, users=4, between=40)
        )
    FIGURES["upgrade"] = {
        "answers": tally.answered, "by_status": dict(tally.by_status), "versions_checked": checked,
        "three_new_replicas_answering_s": round(started_together[0], 1),
    }  # fmt: skip
    assert (lost, duplicated) == (0, 0) and not tally.wrong and not tally.gave_up, tally.wrong[:5]
    assert tally.server_errors() == 0, tally.by_status
    assert len(stack.replicas("image-service")) == 3


def test_backup_wipe_restore_with_the_guides_commands(stack: Engine) -> None:
    """The guide's backup, a wiped database, the guide's restore: the session's image is back, byte
    for byte."""

    async def upload() -> tuple[dict[str, str], str, bytes]:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(base_url=GATEWAY, cookie_jar=jar) as http:
            form = aiohttp.FormData()
            form.add_field(
                "file", media.jpeg(media.photo(800, 600, seed=9)), filename="b.jpg", content_type="image/jpeg"
            )
            async with http.post("/api/v1/images", data=form, headers=UNSAFE) as r:
                assert r.status == 201, await r.text()
                image_id = (await r.json())["images"][0]["id"]
            async with http.get(f"/api/v1/images/{image_id}/content") as r:
                content = await r.read()
            return {c.key: c.value for c in jar}, image_id, content

    async def fetch(cookies: dict[str, str], image_id: str) -> tuple[int, bytes]:
        async with (
            aiohttp.ClientSession(base_url=GATEWAY, cookies=cookies) as http,
            http.get(f"/api/v1/images/{image_id}/content") as r,
        ):
            return r.status, await r.read()

    cookies, image_id, content = asyncio.run(upload())
    with timed("backup (guide's command)"):
        stack.sh(guide_block("backup:compose"))
    dump = stack.project / "imagetools.dump"
    FIGURES["dump bytes"] = dump.stat().st_size
    stack.compose("stop", "gateway", "session-service", "image-service", "oauth-service")
    stack.compose(
        "exec", "-T", "postgres", "sh", "-c",
        'dropdb -U "$POSTGRES_USER" --force "$POSTGRES_DB" && createdb -U "$POSTGRES_USER" "$POSTGRES_DB"',
    )  # fmt: skip
    tables = stack.compose(
        "exec", "-T", "postgres", "sh", "-c", 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atc "\\dn"'
    )
    assert "images" not in tables  # wiped: not even the schemas are left
    with timed("restore (guide's commands) until served again"):
        stack.sh(guide_block("restore:compose"))

        async def served() -> bool:
            return (await health()).get("status") == "healthy"

        asyncio.run(wait_for(served, "the stack answering after the restore"))
    assert asyncio.run(fetch(cookies, image_id)) == (200, content)
