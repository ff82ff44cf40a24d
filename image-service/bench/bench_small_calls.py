"""The everyday small calls: the gateway's own index.html against a session's image list, with wrk.

Starts the real topology as processes (embedded NATS and PostgreSQL, every service, the gateway),
stores three small photos in a fresh session, then runs wrk (Debian's ``wrk`` package) for
``SECONDS`` each at 32 connections against ``/index.html`` (no session, served from disk) and
``GET /api/v1/images`` with the session's cookie (session resolved, list read), and at one
connection for the list's p50. Services log at WARNING, as in the pipeline bench (no access
log lines on either side). Target: the list serves at least 85 % of index.html's requests/s
in the same run, and its p50 at one connection is at most 5 ms.

Run with ``make bench`` (or ``python image-service/bench/bench_small_calls.py``).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from imagetools_common.testing import media
from imagetools_common.testing.load import bench_stack

SECONDS = 10
CONNECTIONS = 32
PHOTOS = 3
CSRF = {"X-Requested-With": "ImageTools"}
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def parse_wrk(output: str) -> Run:
    """requests/s and the latency percentiles from ``wrk --latency``; a run with errors says so."""

    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        assert found, output
        return float(found[1]) * _UNIT_MS[found[2]]

    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    assert rate, output
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Run(float(rate[1]), latency("50"), latency("99"), int(bad[1]) if bad else 0)


async def wrk(url: str, connections: int, cookie: str | None) -> Run:
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    process = await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{connections}", f"-d{SECONDS}s", "--latency", *headers, url,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    run = parse_wrk(out.decode())
    assert run.non_2xx == 0, f"{url}: {run.non_2xx} failed responses"
    return run


async def session_with_photos(base: str) -> str:
    """A session that stores ``PHOTOS`` small photos; its Cookie header."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base, cookie_jar=jar) as http:
        for index in range(PHOTOS):
            form = aiohttp.FormData(quote_fields=False)
            data = media.jpeg(media.photo(640, 480, seed=index))
            form.add_field("file", data, filename=f"IMG_{index:04d}.jpg", content_type="image/jpeg")
            async with http.post("/api/v1/images", data=form, headers=CSRF) as response:
                assert response.status == 201, await response.text()
        async with http.get("/api/v1/images") as response:
            assert len((await response.json())["images"]) == PHOTOS
    return "; ".join(f"{c.key}={c.value}" for c in jar)


def row(label: str, run: Run) -> str:
    return f"{label:<28} {run.requests_per_second:>10.0f} {run.p50_ms:>8.2f} {run.p99_ms:>8.2f}"


async def measure(base: str) -> None:
    cookie = await session_with_photos(base)
    index, images = f"{base}/index.html", f"{base}/api/v1/images"
    await wrk(images, CONNECTIONS, cookie)  # warm-up: connections, caches, the JIT-less interpreter's paths
    load = "/".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\nwrk, {SECONDS} s each, one thread; {PHOTOS} images in the session; load before: {load}")
    print(f"\n{'call':<28} {'requests/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    print("-" * 57)
    static = await wrk(index, CONNECTIONS, None)
    print(row(f"index.html, {CONNECTIONS} conn", static))
    listed = await wrk(images, CONNECTIONS, cookie)
    print(row(f"GET /api/v1/images, {CONNECTIONS} conn", listed))
    single = await wrk(images, 1, cookie)
    print(row("GET /api/v1/images, 1 conn", single))
    ratio = listed.requests_per_second / static.requests_per_second
    print(f"\nlist / index.html: {ratio:.0%} (target ≥ 85 %: {'met' if ratio >= 0.85 else 'NOT met'})")
    fast = "met" if single.p50_ms <= 5 else "NOT met"
    print(f"p50 at 1 connection: {single.p50_ms:.2f} ms (target ≤ 5 ms: {fast})")
    print(f"load after: {'/'.join(f'{v:.2f}' for v in os.getloadavg())}")


async def main() -> int:
    if shutil.which("wrk") is None:  # the other sections of `make bench` still run
        print("\n== Small calls ==\nnot measured: wrk is not installed (Debian: apt-get install wrk)")
        return 0
    with tempfile.TemporaryDirectory(prefix="imagetools-bench-") as root:
        stack = bench_stack(Path(root))
        await stack.start()
        try:
            print("\n== Small calls ==")
            await measure(stack.gateway_url)
        finally:
            await stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
