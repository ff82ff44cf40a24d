"""Users working through the gateway over HTTP, for fault tests and the reliability bench.

Each user has its own session and a seeded stream of mixed operations (upload, rotate, resize,
compress, undo, redo, download). Every change carries an ``Idempotency-Key`` and is sent again
with the same key after a 5xx or a broken connection, as a careful client does: the key makes the
repeat apply at most once, so the user's own model of each image's history is exact and can be
compared with what the server stored (operations lost or applied twice).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from imagetools_common.embedded import find_project_file, free_port
from imagetools_common.stack import Stack
from imagetools_common.testing import media

UNSAFE = {"X-Requested-With": "ImageTools"}
EDITS: dict[str, dict[str, Any]] = {
    "rotate": {"type": "rotate", "degrees": 90},
    "resize": {"type": "resize", "percent": 90},
    "compress": {"type": "compress", "settings": {"quality": 70, "format": "jpeg"}},
}
# Many users from one address working flat out: far beyond the per-session and per-address
# limits a visitor gets (gateway settings), which are not what load and fault runs measure.
GENEROUS_LIMITS = {
    "RATE_LIMIT_OPERATIONS": "1000000",
    "RATE_LIMIT_UPLOADS": "1000000",
    "RATE_LIMIT_NEW_SESSIONS": "1000000",
    "RATE_LIMIT_ADDRESS_FACTOR": "10000",
}


def bench_stack(root: Path, **env: str) -> Stack:
    """The topology as processes under ``root`` as the benchmarks run it: the built web app, quiet
    logs and generous limits; ``env`` adds to or overrides that."""
    return Stack(
        var_dir=root / "var",
        log_dir=root / "logs",
        env={
            "SERVER_PORT": str(free_port()),
            "WEB_DIST_DIR": str(find_project_file("web/dist")),
            "LOG_LEVEL": "WARNING",
            **GENEROUS_LIMITS,
            **env,
        },
    )


# How often one change is sent (same key) before the user gives up on it, and the pause cap.
ATTEMPTS = 30
MOST_PAUSE = 2.0


@dataclass
class ImageModel:
    """What the server must hold for one image: its versions (number, operation) and the current one."""

    id: str
    versions: list[tuple[int, str]]  # oldest first
    current: int = 1
    last: int = 1  # numbers are never reused

    def edit(self, operation: str, keep: int = 20) -> None:
        """A new version after the current one: the redo branch goes, and edits beyond ``keep``."""
        self.last += 1
        self.versions = [v for v in self.versions if v[0] <= self.current] + [(self.last, operation)]
        self.versions = [self.versions[0], *[v for v in self.versions if v[0] != 1][-keep:]]
        self.current = self.last

    def step(self, direction: int) -> int | None:
        """The version undo (-1) or redo (+1) moves to, or None when there is none."""
        numbers = [n for n, _ in self.versions if (n - self.current) * direction > 0]
        return (max(numbers) if direction < 0 else min(numbers)) if numbers else None


@dataclass
class Tally:
    """Every HTTP answer the users got (each attempt counts), with its latency."""

    by_status: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # answers that contradict the model
    gave_up: int = 0  # changes still failing after ATTEMPTS sends: their outcome is unknown
    finished: list[tuple[float, float, int]] = field(default_factory=list)  # (start, end, status)

    @property
    def answered(self) -> int:
        return sum(self.by_status.values())

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    def server_errors(self, *, but: tuple[int, ...] = ()) -> int:
        return sum(n for status, n in self.by_status.items() if status >= 500 and status not in but)

    def outage(self, since: float, until: float = float("inf")) -> float:
        """The longest time nobody was served between a fault at ``since`` and ``until``
        (``time.perf_counter()`` values): the widest gap between answered attempts, counted from
        ``since``. Under steady load it is about one request's time; a fault widens it."""
        served = sorted(end for _, end, status in self.finished if since <= end <= until and 0 < status < 500)
        edges = [since, *served]
        return max((later - earlier for earlier, later in itertools.pairwise(edges)), default=0.0)


class User:
    """One browser: its own session, a few images, a seeded stream of mixed operations."""

    def __init__(self, base_url: str, seed: int, tally: Tally, *, images: int = 3) -> None:
        self.http = aiohttp.ClientSession(base_url=base_url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not a secret
        self.seed = seed
        self.tally = tally
        self.most_images = images
        self.images: list[ImageModel] = []

    async def close(self) -> None:
        await self.http.close()

    async def _attempt(self, method: str, path: str, **kw: Any) -> tuple[int, Any, float | None]:
        """One HTTP exchange: status (0 when the connection broke), body, Retry-After."""
        started = time.perf_counter()
        status, body, retry_after = 0, None, None
        try:
            async with self.http.request(method, path, **kw) as response:
                data = await response.read()
                status = response.status
                is_json = response.content_type == "application/json"
                body = json.loads(data) if is_json else data
                if "Retry-After" in response.headers:
                    retry_after = float(response.headers["Retry-After"])
        except aiohttp.ClientError as error:
            body = repr(error)
        finally:
            ended = time.perf_counter()
            self.tally.by_status[status] += 1
            self.tally.latencies.append(ended - started)
            self.tally.finished.append((started, ended, status))
        return status, body, retry_after

    async def _change(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        """A change, re-sent with the same key until it is answered by anything but a 5xx."""
        headers = {**UNSAFE, "Idempotency-Key": secrets.token_urlsafe(16)}
        for _ in range(ATTEMPTS):
            status, body, retry_after = await self._attempt(method, path, headers=headers, **kw)
            if 0 < status < 500:
                return status, body
            await asyncio.sleep(min(retry_after or 0.2, MOST_PAUSE))
        self.tally.gave_up += 1
        return status, body

    async def _read(self, path: str) -> tuple[int, Any]:
        """A read, sent again after a 5xx (reads never change anything)."""
        for _ in range(ATTEMPTS):
            status, body, retry_after = await self._attempt("GET", path)
            if 0 < status < 500:
                return status, body
            await asyncio.sleep(min(retry_after or 0.2, MOST_PAUSE))
        return status, body

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
        photo = await asyncio.to_thread(
            lambda: media.jpeg(media.photo(480, 360, seed=self.seed * 100 + len(self.images)), quality=85)
        )
        form = aiohttp.FormData()
        form.add_field(
            "file", photo, filename=f"u{self.seed}-{len(self.images)}.jpg", content_type="image/jpeg"
        )
        status, body = await self._change("POST", "/api/v1/images", data=form)
        if status == 201:
            self.images.append(ImageModel(id=body["images"][0]["id"], versions=[(1, "upload")]))
            self._check("upload", status, 201, body["images"][0], self.images[-1])
        else:
            self._check("upload", status, 201, body, None)

    async def one(self) -> None:
        """One operation chosen by the seeded generator among those valid for the model."""
        if len(self.images) < self.most_images and (not self.images or self.rng.random() < 0.3):
            return await self.upload()
        image = self.rng.choice(self.images)
        base = f"/api/v1/images/{image.id}"
        choice = self.rng.choice(["edit", "edit", "edit", "undo", "redo", "get", "download"])
        if choice in ("undo", "redo"):
            target = image.step(-1 if choice == "undo" else 1)
            if target is None:
                choice = "get"
            else:
                status, body = await self._change("POST", f"{base}/{choice}")
                if status == 200:
                    image.current = target
                return self._check(choice, status, 200, body, image)
        if choice == "edit":
            kind = self.rng.choice(list(EDITS))
            status, body = await self._change("POST", f"{base}/operations", json=EDITS[kind])
            if status == 200:
                image.edit(kind)
            return self._check(kind, status, 200, body, image)
        if choice == "download":
            status, body = await self._read(f"{base}/content")
            return self._check("download", status, 200, body, None)
        status, body = await self._read(base)
        return self._check("get", status, 200, body, image)

    async def verify(self) -> tuple[int, int, int]:
        """(versions checked, lost, duplicated): every stored version against the model.

        Lost: a version the user got a 2xx for that the server does not hold. Duplicated: a
        version the server holds that no 2xx accounts for (a change applied twice).
        """
        checked = lost = duplicated = 0
        status, listing = await self._read("/api/v1/images")
        assert status == 200, listing
        stored_ids = {i["id"] for i in listing["images"]}
        for image in self.images:
            if image.id not in stored_ids:
                lost += len(image.versions)
                continue
            status, body = await self._read(f"/api/v1/images/{image.id}")
            assert status == 200, body
            held = {(v["number"], v["operation"]) for v in body["versions"]}
            want = set(image.versions)
            lost += len(want - held)
            duplicated += len(held - want)
            checked += len(held)
        duplicated += len(stored_ids - {i.id for i in self.images})  # an upload applied twice
        return checked, lost, duplicated


async def drive(users: list[User], until: asyncio.Event) -> None:
    """Every user works until ``until`` is set."""

    async def work(user: User) -> None:
        while not until.is_set():
            await user.one()

    await asyncio.gather(*(work(u) for u in users))


async def when(condition: Callable[[], bool], timeout: float = 600.0) -> None:
    """Wait for a count the users advance (polling: they have no reason to signal anyone); failing
    after ``timeout`` seconds (far beyond a healthy run, within the fault tests' own limit) with a
    message naming this wait rather than the per-test timeout's stack dump."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"the users' count did not get there within {timeout} s") from None


async def under_load(
    base_url: str, fault: Callable[[], Awaitable[None]], *, times: int = 2, users: int = 4, between: int = 30
) -> tuple[Tally, list[int]]:
    """``users`` working while ``fault`` happens ``times`` (each after ``between`` more answers, and
    ``between`` more after the last); what they got, and (versions checked, lost, duplicated) over
    every image they made."""
    tally = Tally()
    working = [User(base_url, seed, tally) for seed in range(users)]
    done = asyncio.Event()

    async def answers(more: int) -> None:
        mark = tally.answered
        await when(lambda: tally.answered >= mark + more)

    async def faults() -> None:
        try:
            for _ in range(times):
                await answers(between)
                await fault()
            await answers(between)
        finally:
            done.set()  # the load stops even when a fault step failed, so the test reports it

    injecting = asyncio.create_task(faults())
    try:
        await drive(working, done)
        await injecting
        totals = [sum(column) for column in zip(*[await u.verify() for u in working], strict=True)]
    finally:
        for user in working:
            await user.close()
    return tally, totals
