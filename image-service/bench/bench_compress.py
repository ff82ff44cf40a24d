"""Compression benchmark: ImageTools' search against the original project's loop, same photos, same run.

The baseline re-implements the upstream algorithm (reference/upstream-imagetools.md §10): shrink
into the preset's box, save at the preset quality, and while the file is over target lower the
quality by 5 (at most 10 tries, never below 10), silently keeping whatever came out. Both run on
identical synthetic 12 MP phone photos; the table shows time per photo, final size and whether the
target was met.

Run with ``make bench``.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from collections.abc import Callable

from PIL import Image

from image_service.imaging import compress
from imagetools_common.contracts.image import CompressionSettings
from imagetools_common.testing import media

PHOTOS = 5
SIDE = (4000, 3000)  # 12 MP, a typical phone photo


def upstream(image: Image.Image, settings: CompressionSettings) -> tuple[bytes, int]:
    """The original project's loop: linear quality steps, no resizing beyond the preset box."""
    fmt = "WEBP" if settings.format == "webp" else "JPEG"
    quality, attempts = settings.quality, 0
    while True:
        work = image.copy()
        work.thumbnail(
            (settings.max_width or work.width, settings.max_height or work.height), Image.Resampling.LANCZOS
        )
        out = io.BytesIO()
        work.save(out, fmt, quality=quality, optimize=True)
        data = out.getvalue()
        attempts += 1
        if (
            not settings.target_kb
            or len(data) <= settings.target_kb * 1024
            or quality <= 10
            or attempts >= 10
        ):
            return data, quality
        quality -= 5


def ours(image: Image.Image, settings: CompressionSettings) -> tuple[bytes, int]:
    data, outcome = compress.compress(image, settings, exif=None, icc_profile=None)
    return data, outcome.quality or 0


def measure(fn: Callable[[Image.Image, CompressionSettings], tuple[bytes, int]], photos: list[Image.Image],
            settings: CompressionSettings) -> tuple[float, float, int, float]:  # fmt: skip
    times, sizes, met, qualities = [], [], 0, []
    for photo in photos:
        started = time.perf_counter()
        data, quality = fn(photo, settings)
        times.append(time.perf_counter() - started)
        sizes.append(len(data) / 1024)
        qualities.append(quality)
        met += not settings.target_kb or len(data) <= settings.target_kb * 1024
    return statistics.median(times), statistics.mean(sizes), met, statistics.mean(qualities)


def main() -> int:
    print(f"Making {PHOTOS} synthetic {SIDE[0]}×{SIDE[1]} photos…", file=sys.stderr)
    photos = [media.photo(*SIDE, seed=seed) for seed in range(PHOTOS)]
    print(f"\n{'preset':<8} {'algorithm':<11} {'median s':>9} {'mean KB':>9} {'met':>5} {'quality':>8}")
    print("-" * 55)
    for preset, (_, settings) in compress.SYSTEM_PRESETS.items():
        for name, fn in (("upstream", upstream), ("imagetools", ours)):
            seconds, kb, met, quality = measure(fn, photos, settings)
            print(f"{preset:<8} {name:<11} {seconds:>9.2f} {kb:>9.0f} {met:>3}/{PHOTOS} {quality:>8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
