"""Compression benchmark: ImageTools' search against the original project's loop, same photos, same run.

The baseline re-implements the upstream algorithm (reference/upstream-imagetools.md §10): open
the file, shrink into the preset's box, save at the preset quality, and while the file is over
target lower the quality by 5 and start again (at most 10 tries), silently keeping whatever came
out. Both start from the same 5 MB, 12 MP phone-like JPEGs (decoding included); the table shows
the median time per photo, the mean result size, how many met the target and the mean final
quality. "tight" is a custom profile (1920 px, at most 90 KB) that the linear loop cannot reach.

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
from image_service.imaging.decode import decode
from imagetools_common.contracts.image import CompressionSettings
from imagetools_common.testing import media

PHOTOS = 5
SIDE = (4000, 3000)  # 12 MP, a typical phone photo


TIGHT = CompressionSettings(max_width=1920, max_height=1920, quality=90, target_kb=90, format="jpeg")


def upstream(source: bytes, settings: CompressionSettings) -> tuple[bytes, int]:
    """The original project's loop: linear quality steps, no resizing beyond the preset box."""
    fmt = "WEBP" if settings.format == "webp" else "JPEG"
    quality, attempts = settings.quality, 0
    while True:
        work = Image.open(io.BytesIO(source)).convert("RGB")
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


def ours(source: bytes, settings: CompressionSettings) -> tuple[bytes, int]:
    decoded = decode(source, max_pixels=50_000_000)
    data, outcome = compress.compress(
        decoded.image, settings, exif=decoded.exif, icc_profile=decoded.icc_profile
    )
    return data, outcome.quality or 0


def measure(
    fn: Callable[[bytes, CompressionSettings], tuple[bytes, int]],
    photos: list[bytes],
    settings: CompressionSettings,
) -> tuple[float, float, int, float]:
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
    photos = [media.jpeg(media.photo(*SIDE, seed=seed, grain=0.25), quality=90) for seed in range(PHOTOS)]
    mean_mb = statistics.mean(len(p) for p in photos) / 1e6
    print(f"\n{PHOTOS} photos, {SIDE[0]}×{SIDE[1]}, {mean_mb:.1f} MB each on average")
    print(f"\n{'preset':<8} {'algorithm':<11} {'median s':>9} {'mean KB':>9} {'met':>5} {'quality':>8}")
    print("-" * 55)
    cases = {name: settings for name, (_, settings) in compress.SYSTEM_PRESETS.items()} | {"tight": TIGHT}
    for preset, settings in cases.items():
        for name, fn in (("upstream", upstream), ("imagetools", ours)):
            seconds, kb, met, quality = measure(fn, photos, settings)
            print(f"{preset:<8} {name:<11} {seconds:>9.2f} {kb:>9.0f} {met:>3}/{PHOTOS} {quality:>8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
