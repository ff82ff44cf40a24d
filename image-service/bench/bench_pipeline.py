"""The user's headline task, timed through the whole stack: five 5 MB phone photos to email size.

Starts the real topology as processes (embedded NATS and PostgreSQL, every service, the
gateway), then for a fresh browser session uploads the photos and applies the email preset to
each, first one file at a time (the baseline) and then three at a time, as the web app does.

Run with ``make bench``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from imagetools_common.embedded import find_project_file, free_port
from imagetools_common.stack import Stack
from imagetools_common.testing import media

PHOTOS = 5
CSRF = {"X-Requested-With": "ImageTools"}


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
        stack = Stack(
            var_dir=Path(root) / "var",
            log_dir=Path(root) / "logs",
            env={
                "SERVER_PORT": str(free_port()),
                "WEB_DIST_DIR": str(find_project_file("web/dist")),
                "LOG_LEVEL": "WARNING",
            },
        )
        await stack.start()
        try:
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
