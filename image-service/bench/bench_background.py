"""Background removal, timed: ImageTools through the whole stack against the rembg command line.

Starts the real topology as processes (embedded NATS and PostgreSQL, every service, the
gateway), uploads a 12 MP and a 1 MP photo and removes their backgrounds through the HTTP API
one after another (transparent PNG, the default), then runs ``rembg i`` on the same files with
the same model file, one process per image as a user would. Prints p50/p95 for both, the speed-up,
and image-service's memory with the model loaded.

Run with ``make bench`` (it installs the model and the rembg command line first), or
``python image-service/bench/bench_background.py --rembg PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from imagetools_common.stack import Stack
from imagetools_common.testing import media
from imagetools_common.testing.load import bench_stack

CSRF = {"X-Requested-With": "ImageTools"}
MODEL_FILE = "isnet-medium.onnx"
# (label, width, height, our runs, rembg CLI runs): the CLI pays its start-up on every image.
SIZES = (("12 MP", 4000, 3000, 5, 3), ("1 MP", 1155, 866, 7, 3))
TARGETS = {"12 MP": 2.5, "1 MP": 1.3}


def bare_inference(model: Path, runs: int = 4) -> list[float]:
    """The model alone in onnxruntime (2 threads, one 1024² input, after a warm-up run): the floor
    every removal stands on, so the table can tell this machine's speed from our overhead."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 2
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    frame = np.random.default_rng(0).random((1, 3, 1024, 1024), dtype=np.float32)
    session.run(None, {name: frame})
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        session.run(None, {name: frame})
        times.append(time.perf_counter() - started)
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def ours(stack: Stack, photo: bytes, runs: int) -> list[float]:
    """Seconds per removal through the gateway, each on a fresh upload of ``photo``."""
    times = []
    async with aiohttp.ClientSession(stack.gateway_url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for index in range(runs):
            form = aiohttp.FormData(quote_fields=False)
            form.add_field("file", photo, filename=f"photo-{index}.jpg", content_type="image/jpeg")
            async with http.post("/api/v1/images", data=form, headers=CSRF) as response:
                assert response.status == 201, await response.text()
                image = (await response.json())["images"][0]
            body = {"type": "remove_background"}
            started = time.perf_counter()
            async with http.post(
                f"/api/v1/images/{image['id']}/operations", json=body, headers=CSRF
            ) as response:
                assert response.status == 200, await response.text()
                await response.read()
            times.append(time.perf_counter() - started)
            async with http.delete(f"/api/v1/images/{image['id']}", headers=CSRF) as response:
                assert response.status == 204
    return times


def rembg_cli(rembg: str, models: Path, source: Path, runs: int) -> list[float]:
    """Seconds per image for ``rembg i`` with the same model file, a new process each time."""
    env = {**os.environ, "U2NET_HOME": str(models)}
    extra = json.dumps({"model_path": str(models / MODEL_FILE)})
    times = []
    for index in range(runs):
        out = source.with_name(f"{source.stem}-rembg-{index}.png")
        started = time.perf_counter()
        subprocess.run(
            [rembg, "i", "-m", "dis_custom", "-x", extra, str(source), str(out)], env=env, check=True
        )
        times.append(time.perf_counter() - started)
    return times


def memory(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def models_dir() -> Path | None:
    models = Path(os.environ.get("MODELS_DIR", "var/models")).resolve()
    if not (models / MODEL_FILE).is_file():
        print(f"{models / MODEL_FILE} is missing: run `make models`", file=sys.stderr)
        return None
    return models


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rembg", required=True, help="the rembg executable (make bench installs one)")
    args = parser.parse_args()
    models = models_dir()
    if models is None:
        return 1
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="imagetools-bench-") as root:
        photos = {}
        for label, width, height, _, _ in SIZES:
            path = Path(root) / f"{label.replace(' ', '')}.jpg"
            path.write_bytes(media.jpeg(media.photo(width, height, grain=0.25), quality=90))
            photos[label] = path
        stack = bench_stack(Path(root), MODELS_DIR=str(models))
        started = time.perf_counter()
        await stack.start()
        ready = time.perf_counter() - started
        service = next(p for p in stack.processes if p.module == "image_service")
        assert service.process is not None
        try:
            idle_rss, _ = memory(service.process.pid)
            results = {}
            for label, _, _, runs, _ in SIZES:
                print(f"ImageTools: {runs} × {label}…", file=sys.stderr)
                results[label] = await ours(stack, photos[label].read_bytes(), runs)
            rss, peak = memory(service.process.pid)
        finally:
            await stack.stop()
        floor = statistics.median(bare_inference(models / MODEL_FILE))
        cli = {}
        for label, _, _, _, runs in SIZES:
            print(f"rembg CLI: {runs} × {label}…", file=sys.stderr)
            cli[label] = rembg_cli(args.rembg, models, photos[label], runs)
    print(f"\nBackground removal, model {MODEL_FILE}, transparent PNG out; {os.cpu_count()} CPUs, "
          f"load average after: {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"stack ready (model verified, loaded, warmed up) in {ready:.1f} s")
    print(f"the model alone (onnxruntime, 1024² input, steady): {floor:.2f} s per run here; "
          "the targets assumed 0.85 s\n")  # fmt: skip
    columns = ("ours p50", "ours p95", "target", "rembg p50", "rembg p95", "speed-up")
    header = f"{'photo':<7} " + " ".join(f"{c:>10}" for c in columns)
    print(header)
    print("-" * len(header))
    for label, *_ in SIZES:
        p50, p95 = statistics.median(results[label]), percentile(results[label], 0.95)
        c50, c95 = statistics.median(cli[label]), percentile(cli[label], 0.95)
        cells = [f"{v:.2f}s" for v in (p50, p95, TARGETS[label], c50, c95)] + [f"{c50 / p50:.1f}×"]
        print(f"{label:<7} " + " ".join(f"{c:>10}" for c in cells))
    print(f"\nimage-service RSS: {idle_rss:.0f} MB idle with the model loaded, {rss:.0f} MB after the runs, "
          f"peak {peak:.0f} MB (target ≤ 900 MB)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
