"""Three image-service replicas as real processes, under load, while replicas die and restart.

What a team notices when a replica goes away: nothing. Every request gets its answer, no edit is
lost or applied twice, and the load is spread over the replicas. The driver keeps its own model
of every image's history and checks each reply, then every stored version, against it.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from nats.aio.msg import Msg

from imagetools_common.contracts import registry
from imagetools_common.contracts.operations import RemoveBackgroundOp
from imagetools_common.embedded import free_port
from imagetools_common.rpc import connect
from imagetools_common.stack import ServiceProcess, Stack
from imagetools_common.testing import media
from imagetools_common.testing.load import EDITS, GENEROUS_LIMITS, UNSAFE, ImageModel, when

# Replicas load and warm up the background-removal model before they answer (15-50 s each on
# two busy cores).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

REPLICAS = 3
# The image-service endpoint a background removal runs on, as its replicas count it ($SRV.STATS).
REMOVAL = registry.route(RemoveBackgroundOp()).endpoint.name
WORKERS = 8
OPERATIONS = 200


@pytest.fixture(scope="module")
async def scaled(
    database_url: str, web_dist: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """``make stack REPLICAS=3``: the topology as processes, image-service three times."""
    root = tmp_path_factory.mktemp("scaled")
    stack = Stack(
        var_dir=root / "var",
        log_dir=root / "logs",
        replicas={"image-service": REPLICAS},
        env={
            "DATABASE_URL": database_url,
            "SERVER_PORT": str(free_port()),
            "WEB_DIST_DIR": str(web_dist),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "MAX_IMAGES_PER_SESSION": "10",
            "IMAGE_WORKERS": "1",
            **GENEROUS_LIMITS,
        },
    )
    try:
        await stack.start()
        yield stack
    finally:
        await stack.stop()


# The driver's model of what the server must hold ------------------------------------------------


@dataclass
class Tally:
    sent: int = 0
    answered: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)

    def record(self, status: int) -> None:
        self.answered += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1


class Worker:
    """One user: its own session, a few images, a seeded stream of mixed operations."""

    def __init__(self, base_url: str, seed: int, tally: Tally) -> None:
        self.http = aiohttp.ClientSession(base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.rng = random.Random(seed)
        self.seed = seed
        self.tally = tally
        self.images: list[ImageModel] = []

    async def close(self) -> None:
        await self.http.close()

    async def _request(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        self.tally.sent += 1
        async with self.http.request(method, path, **kw) as response:
            body = await response.read()
            self.tally.record(response.status)
            is_json = response.content_type == "application/json"
            return response.status, json.loads(body) if is_json else body

    def _check(self, what: str, status: int, want: int, got: Any, image: ImageModel | None) -> None:
        if status != want:
            self.tally.wrong.append(f"{what}: HTTP {status} {got!r}"[:300])
            return
        if image is not None:
            seen = [(v["number"], v["operation"]) for v in got["versions"]]
            if seen != image.versions or got["current"]["number"] != image.current:
                self.tally.wrong.append(f"{what}: {seen} current {got['current']['number']}, want "
                                        f"{image.versions} current {image.current}")  # fmt: skip

    async def upload(self) -> None:
        photo = media.jpeg(media.photo(480, 360, seed=self.seed * 100 + len(self.images)), quality=85)
        form = aiohttp.FormData()
        form.add_field(
            "file", photo, filename=f"w{self.seed}-{len(self.images)}.jpg", content_type="image/jpeg"
        )
        status, body = await self._request("POST", "/api/v1/images", data=form, headers=UNSAFE)
        if status == 201:
            self.images.append(ImageModel(id=body["images"][0]["id"], versions=[(1, "upload")]))
            self._check("upload", status, 201, body["images"][0], self.images[-1])
        else:
            self._check("upload", status, 201, body, None)

    async def one(self) -> None:
        """One operation chosen by the seeded generator among those valid for the model."""
        if len(self.images) < 3 and (not self.images or self.rng.random() < 0.3):
            return await self.upload()
        image = self.rng.choice(self.images)
        base = f"/api/v1/images/{image.id}"
        choice = self.rng.choice(["edit", "edit", "undo", "redo", "get", "content", "list"])
        if choice in ("undo", "redo"):
            target = image.step(-1 if choice == "undo" else 1)
            if target is None:
                choice = "get"
            else:
                status, body = await self._request("POST", f"{base}/{choice}", headers=UNSAFE)
                image.current = target
                return self._check(choice, status, 200, body, image)
        if choice == "edit":
            kind = self.rng.choice(list(EDITS))
            status, body = await self._request("POST", f"{base}/operations", json=EDITS[kind], headers=UNSAFE)
            image.edit(kind)
            return self._check(kind, status, 200, body, image)
        if choice == "content":
            status, body = await self._request("GET", f"{base}/content")
            return self._check("content", status, 200, body, None)
        if choice == "list":
            status, body = await self._request("GET", "/api/v1/images")
            return self._check("list", status, 200, body, None)
        status, body = await self._request("GET", base)
        return self._check("get", status, 200, body, image)

    async def verify_stored(self, pool: asyncpg.Pool) -> int:
        """Every image and every kept version against the model, over HTTP and in the database."""
        checked = 0
        status, listing = await self._request("GET", "/api/v1/images")
        assert status == 200
        assert sorted(i["id"] for i in listing["images"]) == sorted(i.id for i in self.images)
        for image in self.images:
            status, body = await self._request("GET", f"/api/v1/images/{image.id}")
            self._check("final get", status, 200, body, image)
            rows = await pool.fetch(
                "SELECT number, operation, bytes, octet_length(data) AS stored FROM images.versions"
                " WHERE image_id = $1::text::uuid ORDER BY number",
                image.id,
            )
            assert [(r["number"], r["operation"]) for r in rows] == image.versions
            for row in rows:
                status, data = await self._request(
                    "GET", f"/api/v1/images/{image.id}/content?version={row['number']}"
                )
                assert status == 200 and len(data) == row["bytes"] == row["stored"]
                checked += 1
        return checked


async def run_load(stack: Stack, tally: Tally, until: asyncio.Event, seed: int = 0) -> list[Worker]:
    """Users working side by side until ``until`` is set; the workers, to check what they made."""
    workers = [Worker(stack.gateway_url, seed + i, tally) for i in range(WORKERS)]

    async def drive(worker: Worker) -> None:
        while not until.is_set():
            await worker.one()

    await asyncio.gather(*(drive(w) for w in workers))
    return workers


# Watching the replicas --------------------------------------------------------------------------


async def replica_stats(stack: Stack, endpoint: str | None = None) -> dict[str, int]:
    """Requests each live image-service instance has received (to ``endpoint`` only, when named),
    by instance id ($SRV.STATS)."""
    nc = await connect(stack.env["NATS_URL"], "replica-stats")
    found: dict[str, int] = {}

    async def collect(msg: Msg) -> None:
        stats = json.loads(msg.data)
        found[stats["id"]] = sum(e.get("num_requests", 0) for e in stats.get("endpoints") or []
                                 if endpoint in (None, e["name"]))  # fmt: skip

    try:
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox, cb=collect)
        await nc.publish("$SRV.STATS.image-service", b"", reply=inbox)
        await nc.flush()
        await asyncio.sleep(0.5)
        await sub.unsubscribe()
    finally:
        await nc.close()
    return found


def since(earlier: dict[str, int], later: dict[str, int]) -> dict[str, int]:
    """Requests each instance in ``later`` received after ``earlier`` was taken."""
    return {instance: n - earlier.get(instance, 0) for instance, n in later.items()}


def replica_with_id(stack: Stack, instance: str) -> ServiceProcess:
    """The process whose log announced ``instance`` as its service id."""
    assert stack.log_dir is not None
    for process in image_replicas(stack):
        for line in (stack.log_dir / f"{process.name}.log").read_text().splitlines():
            if '"service started"' in line and json.loads(line).get("id") == instance:
                return process
    raise AssertionError(f"no running replica announced {instance}")


def image_replicas(stack: Stack) -> list[ServiceProcess]:
    return [p for p in stack.processes if p.module == "image_service" and p.running]


def retries_logged(stack: Stack) -> int:
    assert stack.log_dir is not None
    lines = (stack.log_dir / "gateway.log").read_text().splitlines()
    return sum(1 for line in lines if '"rpc retry"' in line)


async def verify_all(workers: list[Worker], database_url: str) -> int:
    """Every worker's images and versions against its model (``Worker.verify_stored``): how many."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        return sum([await w.verify_stored(pool) for w in workers])
    finally:
        await pool.close()


# The tests --------------------------------------------------------------------------------------


async def test_rolling_restart_drops_nothing(scaled: Stack, database_url: str) -> None:
    """SIGTERM to each replica in turn, waiting for its replacement, while users keep working: every
    request answered with success, each replica exits cleanly, every replacement takes work, every
    stored version exactly what the operations made."""
    tally = Tally()
    retries_before = retries_logged(scaled)
    done = asyncio.Event()
    spread_after_roll: dict[str, int] = {}

    async def roll() -> None:
        try:
            await when(lambda: tally.answered >= 20)
            for old in image_replicas(scaled):
                assert await scaled.stop_service(old) == 0  # a clean exit after draining
                await scaled.start_service("image-service")
                await scaled.wait_for_services({"image-service": REPLICAS})
            rolled_at = tally.answered
            await when(lambda: tally.answered >= rolled_at + 60)
            spread_after_roll.update(await replica_stats(scaled))
        finally:
            done.set()  # the load stops even when a step failed, so the test reports it

    rolling = asyncio.create_task(roll())
    workers = await run_load(scaled, tally, done, seed=100)
    await rolling
    operations = (tally.sent, tally.answered, dict(tally.by_status))
    try:
        versions_checked = await verify_all(workers, database_url)
    finally:
        for w in workers:
            await w.close()
    retried = retries_logged(scaled) - retries_before
    print(f"\nrolling restart: operations sent/answered/statuses {operations}, gateway retries {retried}, "
          f"then {tally.sent - operations[0]} checks of {versions_checked} stored versions\n"
          f"  requests per replacement: {sorted(spread_after_roll.values())}")  # fmt: skip
    assert tally.wrong == []
    assert tally.answered == tally.sent
    assert set(tally.by_status) <= {200, 201}
    assert len(image_replicas(scaled)) == REPLICAS
    # Only replacements run now, and each took work while the others ran.
    assert len(spread_after_roll) == REPLICAS and all(n > 0 for n in spread_after_roll.values())


async def test_a_replica_killed_under_load(scaled: Stack, database_url: str) -> None:
    """At least 200 mixed operations; one replica SIGKILLed on the way: every request answered with
    success, every stored version exactly what the operations made. (Replicas restarting under load
    is the rolling restart's test, which leaves the three replacements running.)"""
    await scaled.wait_for_services({"image-service": REPLICAS})
    tally = Tally()
    retries_before = retries_logged(scaled)
    # The replicas served earlier tests: what each takes in this one is counted from here.
    served_before = await replica_stats(scaled)
    spread: dict[str, int] = {}
    served_at_kill: dict[str, int] = {}
    done = asyncio.Event()

    async def faults() -> None:
        """SIGKILL a replica once all three took work; then 40 more."""
        try:
            await inject_faults()
        finally:
            done.set()  # the load stops even when a fault step failed, so the test reports it

    async def inject_faults() -> None:
        await when(lambda: tally.answered >= 40)
        served_at_kill.update(await replica_stats(scaled))
        spread.update(since(served_before, served_at_kill))
        killed = image_replicas(scaled)[0]
        await scaled.stop_service(killed, kill=True)
        killed_at = tally.answered
        await when(lambda: tally.answered >= max(OPERATIONS, killed_at + 40))

    fault_task = asyncio.create_task(faults())
    workers = await run_load(scaled, tally, done)
    await fault_task
    operations = (tally.sent, tally.answered, dict(tally.by_status))
    try:
        stats_after = since(served_at_kill, await replica_stats(scaled))
        versions_checked = await verify_all(workers, database_url)
    finally:
        for w in workers:
            await w.close()
    retried = retries_logged(scaled) - retries_before
    print(f"\nfault test: operations sent/answered/statuses {operations}, gateway retries {retried}, "
          f"then {tally.sent - operations[0]} checks of {versions_checked} stored versions\n"
          f"  requests per live replica: before the kill {sorted(spread.values())}, "
          f"after it {sorted(stats_after.values())}")  # fmt: skip
    assert tally.wrong == []
    assert tally.answered == tally.sent
    assert set(tally.by_status) <= {200, 201}
    assert len(spread) == REPLICAS and all(n > 0 for n in spread.values()), spread
    # Both survivors took work after the kill.
    assert len(stats_after) == REPLICAS - 1 and all(n > 0 for n in stats_after.values()), stats_after


async def test_a_replica_killed_during_a_background_removal_costs_seconds(scaled: Stack) -> None:
    """SIGKILL the replica working on a background removal: the request is answered by another
    replica (its heartbeats stopped, the gateway resent the keyed request at once), one version added."""
    photo = await asyncio.to_thread(lambda: media.jpeg(media.photo(2000, 1500, seed=7), quality=90))
    async with aiohttp.ClientSession(
        base_url=scaled.gateway_url, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        loop = asyncio.get_running_loop()
        # The precondition is that the kill lands while the removal is still running: finding the
        # replica takes a $SRV.STATS round, and on a fast machine the removal may already be done;
        # then a fresh image is tried (no replica is killed for it).
        for _attempt in range(4):
            form = aiohttp.FormData()
            form.add_field("file", photo, filename="big.jpg", content_type="image/jpeg")
            async with http.post("/api/v1/images", data=form, headers=UNSAFE) as response:
                assert response.status == 201, await response.text()
                image_id = (await response.json())["images"][0]["id"]
            before = await replica_stats(scaled, REMOVAL)
            retries_before = retries_logged(scaled)
            operation = {"type": "remove_background", "format": "png"}
            removal = asyncio.create_task(
                http.post(f"/api/v1/images/{image_id}/operations", headers=UNSAFE, json=operation)
            )
            holder: dict[str, int] = {}
            async with asyncio.timeout(120):  # a replica takes it within a second or two
                while not holder:
                    stats = await replica_stats(scaled, REMOVAL)
                    holder = {i: n for i, n in stats.items() if n > before.get(i, 0)}
            if not removal.done():
                break
            (await removal).release()
        else:
            raise AssertionError("every removal finished before its replica could be found")
        (held_by,) = holder
        victim = replica_with_id(scaled, held_by)
        await scaled.stop_service(victim, kill=True)
        killed_at = loop.time()
        async with await removal as response:
            body = await response.json()
            assert response.status == 200, body
        print(f"\nremoval answered {loop.time() - killed_at:.1f} s after its replica was SIGKILLed")
        async with http.get(f"/api/v1/images/{image_id}") as response:
            stored = await response.json()
    assert [(v["number"], v["operation"]) for v in stored["versions"]] == [
        (1, "upload"),
        (2, "remove_background"),
    ]
    assert body["current"]["number"] == 2
    # The killed replica did hold it: the gateway resent it, and another replica took it.
    assert retries_logged(scaled) - retries_before == 1
    after = await replica_stats(scaled, REMOVAL)
    assert sum(after.values()) - sum(before.get(i, 0) for i in after) == 1
