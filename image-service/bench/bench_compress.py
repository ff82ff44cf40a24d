"""Compression benchmark: ImageTools' search against the original project's loop, same photos, same run.

The baseline re-implements the upstream algorithm (reference/upstream-imagetools.md §10): open
the file, shrink into the preset's box, save at the preset quality, and while the file is over
target lower the quality by 5 and start again (at most 10 tries), silently keeping whatever came
out. Both start from the same 5 MB, 12 MP phone-like JPEGs (decoding included) and run in turn,
``--runs`` times per photo, so a busy machine slows both alike: only the ratio in one run counts.

Per preset the table shows the mean over the photos of each photo's median time, the ratio, the
mean result size, how many met the target, the mean quality chosen, the chroma subsampling and
JPEG progression, the mean SSIM over all colour channels against one reference (the full
decode box-fitted with Lanczos) and the mean number of encodes (ours: at the result's size and
of the smaller sample the search predicts from). "tight" is a custom profile (1920 px, at most
90 KB) that the linear loop cannot reach; "auto" is timed against each format it tries alone.

Run with ``make bench`` (``--photos``/``--runs`` for a quicker look).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, JpegImagePlugin
from skimage.metrics import structural_similarity

from image_service.imaging import compress
from imagetools_common.contracts.image import CompressionSettings
from imagetools_common.testing import media

SIDE = (4000, 3000)  # 12 MP, a typical phone photo
MAX_PIXELS = 50_000_000
TIGHT = CompressionSettings(max_width=1920, max_height=1920, quality=90, target_kb=90, format="jpeg")
AUTO = CompressionSettings(max_width=1920, max_height=1920, quality=90, target_kb=500, format="auto")
_SUBSAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}

Algorithm = Callable[[bytes, CompressionSettings], tuple[bytes, int]]


@dataclass
class Encodes:
    """Encodes made by one compression: at the result's size, and of anything smaller (samples)."""

    full: int = 0
    sample: int = 0


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
    data, outcome = compress.compress_data(source, settings, max_pixels=MAX_PIXELS)
    return data, outcome.quality or 0


def counting_ours(source: bytes, settings: CompressionSettings) -> tuple[bytes, int, Encodes]:
    """``ours`` once more, untimed, counting the encodes its search makes."""
    sizes: list[tuple[int, int]] = []
    real = Image.Image.save

    def save(image: Image.Image, *args: Any, **kwargs: Any) -> None:
        sizes.append(image.size)  # compression's only saves are its encodes
        real(image, *args, **kwargs)

    Image.Image.save = save  # type: ignore[method-assign,assignment]
    try:
        data, quality = ours(source, settings)
    finally:
        Image.Image.save = real  # type: ignore[method-assign]
    result = Image.open(io.BytesIO(data)).size
    full = sum(size == result for size in sizes)
    return data, quality, Encodes(full, len(sizes) - full)


def upstream_encodes(settings: CompressionSettings, quality: int) -> Encodes:
    return Encodes(full=(settings.quality - quality) // 5 + 1)


def reference(source: bytes, size: tuple[int, int]) -> np.ndarray:
    """The full-resolution decode box-fitted with Lanczos: what every result is scored against."""
    full = Image.open(io.BytesIO(source)).convert("RGB")
    return np.asarray(full.resize(size, Image.Resampling.LANCZOS))


def ssim(data: bytes, source: bytes) -> float:
    result = Image.open(io.BytesIO(data)).convert("RGB")
    score = structural_similarity(
        reference(source, result.size), np.asarray(result), channel_axis=2, data_range=255
    )
    return float(score)


def describe(data: bytes) -> tuple[str, str]:
    """(chroma subsampling, progressive or baseline) of a result."""
    image = Image.open(io.BytesIO(data))
    if isinstance(image, JpegImagePlugin.JpegImageFile):
        progression = "progr." if image.info.get("progressive") else "baseline"
        return _SUBSAMPLING.get(JpegImagePlugin.get_sampling(image), "?"), progression
    return ("4:2:0" if image.format == "WEBP" else "-"), "-"


def median_time(fn: Algorithm, photo: bytes, settings: CompressionSettings, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn(photo, settings)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@dataclass
class Row:
    seconds: list[float]
    kb: list[float]
    met: int
    quality: list[int]
    ssim: list[float]
    encodes: list[Encodes]
    sampling: set[str]
    progression: set[str]


def measure_pair(photos: list[bytes], settings: CompressionSettings, runs: int) -> tuple[Row, Row]:
    rows = {name: Row([], [], 0, [], [], [], set(), set()) for name in ("upstream", "ours")}
    target = settings.target_kb * 1024 if settings.target_kb else None
    for photo in photos:
        # In turn, run by run, so that load from elsewhere falls on both alike.
        times: dict[str, list[float]] = {"upstream": [], "ours": []}
        for _ in range(runs):
            for name, fn in (("upstream", upstream), ("ours", ours)):
                times[name].append(median_time(fn, photo, settings, 1))
        data, quality = upstream(photo, settings)
        up_encodes = upstream_encodes(settings, quality)
        our_data, our_quality, our_encodes = counting_ours(photo, settings)
        for name, (result, chosen, encodes) in {
            "upstream": (data, quality, up_encodes),
            "ours": (our_data, our_quality, our_encodes),
        }.items():
            row = rows[name]
            row.seconds.append(statistics.median(times[name]))
            row.kb.append(len(result) / 1024)
            row.met += target is None or len(result) <= target
            row.quality.append(chosen)
            row.ssim.append(ssim(result, photo))
            row.encodes.append(encodes)
            sampling, progression = describe(result)
            row.sampling.add(sampling)
            row.progression.add(progression)
    return rows["upstream"], rows["ours"]


def load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per photo and algorithm")
    parser.add_argument("--presets", default="email,web,web_hq,tight,auto")
    args = parser.parse_args()
    print(f"Making {args.photos} synthetic {SIDE[0]}×{SIDE[1]} photos…", file=sys.stderr)
    photos = [
        media.jpeg(media.photo(*SIDE, seed=seed, grain=0.25), quality=90) for seed in range(args.photos)
    ]
    mean_mb = statistics.mean(len(p) for p in photos) / 1e6
    print("\n== Compression ==")
    print(
        f"{args.photos} photos, {SIDE[0]}×{SIDE[1]}, {mean_mb:.1f} MB each; median of {args.runs} runs "
        f"per photo; load average (1/5/15 min) before: {load()}"
    )
    header = (
        f"{'preset':<7} {'algorithm':<10} {'s':>6} {'ratio':>6} {'KB':>5} {'met':>4} {'q':>5} "
        f"{'chroma':>6} {'jpeg':>8} {'SSIM':>7} {'ΔSSIM min':>9} {'encodes':>12}"
    )
    print(f"\n{header}\n{'-' * len(header)}")
    cases = {name: settings for name, (_, settings) in compress.SYSTEM_PRESETS.items()} | {"tight": TIGHT}
    for preset in args.presets.split(","):
        if preset == "auto":
            continue
        base, mine = measure_pair(photos, cases[preset], args.runs)
        ratio = sum(base.seconds) / sum(mine.seconds)
        worst = min(m - b for m, b in zip(mine.ssim, base.ssim, strict=True))
        for name, row in (("upstream", base), ("imagetools", mine)):
            encodes = statistics.mean(e.full for e in row.encodes)
            sampled = statistics.mean(e.sample for e in row.encodes)
            print(
                f"{preset:<7} {name:<10} {statistics.mean(row.seconds):>6.3f} "
                f"{(f'{ratio:.2f}×' if row is mine else ''):>6} {statistics.mean(row.kb):>5.0f} "
                f"{row.met:>2}/{len(photos)} {statistics.mean(row.quality):>5.1f} "
                f"{'/'.join(sorted(row.sampling)):>6} {'/'.join(sorted(row.progression)):>8} "
                f"{statistics.mean(row.ssim):>7.4f} {(f'{worst:+.4f}' if row is mine else ''):>9} "
                f"{(f'{encodes:.1f} + {sampled:.1f} smp' if row is mine else f'{encodes:.1f}'):>12}"
            )
    if "auto" in args.presets.split(","):
        print(f"\nauto (1920 px box, 500 KB, q90) against each format alone, median of {args.runs} runs:")
        times: dict[str, list[float]] = {}
        for fmt in ("jpeg", "webp", "avif", "auto"):
            settings = AUTO.model_copy(update={"format": fmt})
            times[fmt] = [median_time(ours, photo, settings, args.runs) for photo in photos]
        slowest = max(("jpeg", "webp", "avif"), key=lambda f: sum(times[f]))
        for fmt, seconds in times.items():
            print(f"  {fmt:<5} {statistics.mean(seconds):>6.3f} s")
        print(f"  auto / slowest single ({slowest}): {sum(times['auto']) / sum(times[slowest]):.2f}×")
    print(f"\nload average after: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
