"""The user's headline task, timed through the whole stack: 12 MP phone photos to email and web sizes.

Starts the real topology as processes (embedded NATS and PostgreSQL, every service, the
gateway) with generous rate limits, then for a fresh browser session:

* applies each preset to one uploaded 12 MP JPEG (HTTP -> gateway -> NATS -> image-service ->
  PostgreSQL -> reply) and, in turn, compresses the same bytes in this process, ``RUNS`` times
  each: the plumbing's share is the ratio of the medians (targets: at most 1.5x for web and
  web_hq, at most +40 ms for email);
* uploads five photos and applies the email preset to each, first one file at a time and then
  three at a time, as the web app does.

Run with ``make bench``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from image_service.imaging import compress as compression
from imagetools_common.stack import Stack
from imagetools_common.testing import media
from imagetools_common.testing.load import bench_stack

PHOTOS = 5
RUNS = 5
MAX_PIXELS = 50_000_000
CSRF = {"X-Requested-With": "ImageTools"}


async def upload(http: aiohttp.ClientSession, name: str, data: bytes) -> str:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("file", data, filename=name, content_type="image/jpeg")
    async with http.post("/api/v1/images", data=form, headers=CSRF) as response:
        assert response.status == 201, await response.text()
        return str((await response.json())["images"][0]["id"])


async def through_the_stack(http: aiohttp.ClientSession, image_id: str, preset: str) -> float:
    """One compress operation as the browser sends it; the seconds until its reply."""
    started = time.perf_counter()
    body = {"type": "compress", "preset": preset}
    async with http.post(f"/api/v1/images/{image_id}/operations", json=body, headers=CSRF) as response:
        assert response.status == 200, await response.text()
        result = await response.json()
    assert result["current"]["compression"]["target_met"]
    return time.perf_counter() - started


def in_process(data: bytes, preset: str) -> float:
    _, settings = compression.SYSTEM_PRESETS[preset]
    started = time.perf_counter()
    compression.compress_data(data, settings, max_pixels=MAX_PIXELS)
    return time.perf_counter() - started


async def plumbing(stack: Stack, photo: bytes) -> None:
    """Each preset through the stack against the same work in this process, in turn."""
    load = "/".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\none 12 MP JPEG, each preset {RUNS} times through the stack and in-process; load before: {load}")
    print(f"\n{'preset':<8} {'in-process s':>13} {'stack s':>8} {'ratio':>6} {'added ms':>9}  target")
    print("-" * 62)
    async with aiohttp.ClientSession(stack.gateway_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get("/api/v1/session") as response:
            assert response.status == 200
        for preset in compression.SYSTEM_PRESETS:
            image_id = await upload(http, "IMG_0001.jpg", photo)  # compression always starts from it
            local, remote = [], []
            for _ in range(RUNS):
                local.append(await asyncio.to_thread(in_process, photo, preset))
                remote.append(await through_the_stack(http, image_id, preset))
            mine, theirs = statistics.median(local), statistics.median(remote)
            ok = theirs <= mine + 0.040 if preset == "email" else theirs <= 1.5 * mine
            goal = "≤ +40 ms" if preset == "email" else "≤ 1.5×"
            added = (theirs - mine) * 1000
            print(
                f"{preset:<8} {mine:>13.3f} {theirs:>8.3f} {theirs / mine:>5.2f}× {added:>9.0f}"
                f"  {goal} {'met' if ok else 'NOT met'}"
            )
    print(f"load after: {'/'.join(f'{v:.2f}' for v in os.getloadavg())}")


async def one_photo(http: aiohttp.ClientSession, name: str, data: bytes) -> tuple[float, float, int]:
    """Upload one photo and compress it for email; (upload s, compress s, result bytes)."""
    started = time.perf_counter()
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("file", data, filename=name, content_type="image/jpeg")
    async with http.post("/api/v1/images", data=form, headers=CSRF) as response:
        assert response.status == 201, await response.text()
        image = (await response.json())["images"][0]
    uploaded = time.perf_counter()
    body = {"type": "compress", "preset": "email"}
    async with http.post(f"/api/v1/images/{image['id']}/operations", json=body, headers=CSRF) as response:
        assert response.status == 200, await response.text()
        result = await response.json()
    assert result["current"]["compression"]["target_met"]
    return uploaded - started, time.perf_counter() - uploaded, result["current"]["bytes"]


async def run(stack: Stack, photos: list[bytes], parallel: int) -> tuple[float, float, float, int]:
    async with aiohttp.ClientSession(stack.gateway_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get("/api/v1/session") as response:
            assert response.status == 200
        slots = asyncio.Semaphore(parallel)

        async def limited(index: int, data: bytes) -> tuple[float, float, int]:
            async with slots:
                return await one_photo(http, f"IMG_{index:04d}.jpg", data)

        started = time.perf_counter()
        results = await asyncio.gather(*(limited(i, p) for i, p in enumerate(photos)))
        total = time.perf_counter() - started
    upload = sum(r[0] for r in results) / len(results)
    compress = sum(r[1] for r in results) / len(results)
    return total, upload, compress, max(r[2] for r in results)


async def main() -> int:
    print(f"Making {PHOTOS} phone-like 12 MP photos…", file=sys.stderr)
    photos = [media.jpeg(media.photo(4000, 3000, seed=s, grain=0.25), quality=90) for s in range(PHOTOS)]
    with tempfile.TemporaryDirectory(prefix="imagetools-bench-") as root:
        stack = bench_stack(Path(root))
        await stack.start()
        try:
            print("\n== Compression through the stack ==")
            await plumbing(stack, photos[0])
            mean_mb = sum(map(len, photos)) / 1e6 / PHOTOS
            print(f"\n{PHOTOS} photos, {mean_mb:.1f} MB each, upload + email preset")
            print(f"\n{'mode':<20} {'total s':>8} {'upload s':>9} {'compress s':>11} {'largest KB':>11}")
            print("-" * 63)
            for label, parallel in (("one at a time", 1), ("3 at a time (UI)", 3)):
                total, upload, compress, largest = await run(stack, photos, parallel)
                print(f"{label:<20} {total:>8.2f} {upload:>9.2f} {compress:>11.2f} {largest / 1024:>11.0f}")
        finally:
            await stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
