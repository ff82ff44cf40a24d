"""The inference engine a background-removal model runs on, chosen for this CPU.

Measured (docs/PERFORMANCE.md, "Engine"): on a CPU with AVX-512 BF16 or AMX, OpenVINO with bf16
inference runs ISNet at 1024² ~1.6× faster than onnxruntime (issue 12: 0.49 s against 0.79 s,
largest output difference 3e-4); without bf16, OpenVINO f32 takes as long as onnxruntime or a
little less, with the same output to 1e-5. INT8 would need a quantised model with a calibration
set (not made; imgly's small quantised model ran ~3× slower here). So ``auto`` takes OpenVINO
(bf16 where the CPU has it, else f32) and falls back to onnxruntime when OpenVINO cannot compile
the model; ``BG_ENGINE`` pins one. Start-up does not race the engines: a 1024² inference costs 5 s
on the slowest CPU we run on, and a replica must be healthy in 15 s.

OpenVINO compiles a model for the CPU at load (~2 CPU-s); with ``BG_CACHE_DIR`` the compiled blob
is kept and a later start only maps it (~0.4 CPU-s). ``python -m image_service.background.engines
MODELS_DIR BG_CACHE_DIR`` fills that cache at install or image build time.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from imagetools_common.logs import get_logger

log = get_logger(__name__)

# CPU flags (as /proc/cpuinfo spells them) under which OpenVINO runs bf16 natively.
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


class Engine(Protocol):
    name: str
    precision: str
    input_size: tuple[int, int]
    """(width, height) the model takes."""

    def run(self, batch: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The model's first output for a float32 NCHW batch."""
        ...


@dataclass(frozen=True)
class Choice:
    engine: str
    precision: str


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The CPU feature flags in a /proc/cpuinfo text (the first processor's; they are all alike)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def host_flags() -> frozenset[str]:
    try:
        return cpu_flags(Path("/proc/cpuinfo").read_text())
    except OSError:  # not Linux: nothing known, so no bf16 claimed
        return frozenset()


def candidates(wanted: str, flags: frozenset[str]) -> list[Choice]:
    """The engines to try, best first, for ``BG_ENGINE=wanted`` on a CPU with ``flags``."""
    openvino = Choice("openvino", "bf16" if flags & BF16_FLAGS else "f32")
    onnxruntime = Choice("onnxruntime", "f32")
    if wanted == "onnxruntime":
        return [onnxruntime]
    if wanted == "openvino":
        return [openvino]
    return [openvino, onnxruntime]


def cpu_quota(cpu_max: str) -> int | None:
    """Whole CPUs a cgroup v2 ``cpu.max`` line allows ("200000 100000" -> 2), None when unlimited."""
    quota, _, period = cpu_max.strip().partition(" ")
    if quota == "max" or not period:
        return None
    return max(1, int(quota) // int(period))


def thread_share(host_cpus: int, replicas_per_host: int, quota: int | None) -> int:
    """Inference threads for one replica: the host's CPUs divided among the replicas on it, so
    together they use each core once (oversubscribed threads thrash), at most its own CPU limit."""
    share = max(1, host_cpus // replicas_per_host)
    return min(share, quota) if quota is not None else share


def default_threads(replicas_per_host: int) -> int:
    host = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota = cpu_quota(Path("/sys/fs/cgroup/cpu.max").read_text())
    except (OSError, ValueError):  # no cgroup v2 (bare metal, macOS): no limit but the host's
        quota = None
    return thread_share(host, replicas_per_host, quota)


class OnnxRuntime:
    """The model on onnxruntime's CPU provider (the reference engine)."""

    name = "onnxruntime"
    precision = "f32"

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort  # only when chosen: an OpenVINO replica never loads it

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # The CPU arena keeps the peak of a 1024² ISNet run resident (~2.1 GB RSS measured);
        # without it an idle replica holds ~0.5 GB, at no measurable speed cost.
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        # Spinning worker threads steal the CPU from the rest of the service on a small machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        first = self._session.get_inputs()[0]
        self._input = first.name
        self.input_size = input_size_of(first.shape)

    def run(self, batch: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        output: np.ndarray[Any, Any] = self._session.run(None, {self._input: batch})[0]
        return output


class OpenVino:
    """The model compiled by OpenVINO for this CPU, latency-oriented, at ``precision``."""

    name = "openvino"

    def __init__(self, path: Path, threads: int, precision: str, cache_dir: Path | None) -> None:
        import openvino as ov

        config: dict[str, Any] = {
            # LATENCY: one request on every thread; THROUGHPUT was slower for one image at a time.
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": threads,
            "INFERENCE_PRECISION_HINT": precision,
            # OpenVINO pins its threads to the first cores of the process's mask by default: replicas
            # on one host (containers see every core) would all pin to the same ones, and a pinned
            # thread cannot move to a free core on a busy machine. The OS scheduler places them.
            "ENABLE_CPU_PINNING": False,
        }
        if cache_dir is not None and _writable(cache_dir):
            config["CACHE_DIR"] = str(cache_dir)
        self._compiled = ov.Core().compile_model(str(path), "CPU", config)
        # What the plugin really runs: asked for bf16 on a CPU without it, OpenVINO quietly runs f32.
        self.precision = self._compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
        shape = self._compiled.inputs[0].get_partial_shape()
        self.input_size = input_size_of([d.get_length() if d.is_static else None for d in shape])
        self._output = self._compiled.outputs[0]
        self._lock = threading.Lock()  # one run at a time: two would hold two sets of activations

    def run(self, batch: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        with self._lock:
            # A request per run: a kept one holds its activations (~130 MB for ISNet at 1024²,
            # measured) between removals, which would put a resting replica over its 900 MB.
            request = self._compiled.create_infer_request()
            output: np.ndarray[Any, Any] = request.infer([batch])[self._output].copy()
        return output


def _writable(directory: Path) -> bool:
    """Whether OpenVINO may keep compiled blobs there; without, it compiles at every start (~2 s)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    if os.access(directory, os.W_OK):
        return True
    log.warning("compiled-model cache not writable: compiling at every start", cache_dir=str(directory))
    return False


def input_size_of(shape: list[Any]) -> tuple[int, int]:
    """(width, height) from a model input's NCHW shape; 1024² when it is dynamic."""
    height, width = shape[-2], shape[-1]
    if isinstance(height, int) and isinstance(width, int):
        return width, height
    return 1024, 1024


def open_engine(path: Path, choice: Choice, threads: int, cache_dir: Path | None) -> Engine:
    if choice.engine == "openvino":
        return OpenVino(path, threads, choice.precision, cache_dir)
    return OnnxRuntime(path, threads)


def load(path: Path, wanted: str, threads: int, cache_dir: Path | None, flags: frozenset[str]) -> Engine:
    """The first candidate engine that loads ``path``; the last one's error when none does."""
    tried = candidates(wanted, flags)
    for choice in tried:
        try:
            return open_engine(path, choice, threads, cache_dir)
        except Exception as error:  # each engine raises its own types for a graph it cannot take
            if choice is tried[-1]:
                raise
            log.warning("engine unavailable, trying the next", engine=choice.engine, reason=str(error))
    raise AssertionError("candidates() is never empty")


def prepare(models_dir: Path, cache_dir: Path, threads: int) -> list[Path]:
    """Compile every ONNX model in ``models_dir`` into OpenVINO's cache (install or image build time).

    The blob is specific to the CPU and precision, so this prepares for the build machine's CPU;
    on another CPU kind OpenVINO recompiles at start-up (~2 s) and keeps that in the cache instead.
    """
    done = []
    for path in sorted(models_dir.glob("*.onnx")):
        OpenVino(path, threads, candidates("openvino", host_flags())[0].precision, cache_dir)
        done.append(path)
    return done


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fill OpenVINO's compiled-model cache (BG_CACHE_DIR)")
    parser.add_argument("models_dir", type=Path, help="MODELS_DIR: every *.onnx in it is compiled")
    parser.add_argument("cache_dir", type=Path, help="BG_CACHE_DIR")
    args = parser.parse_args()
    # The thread count is not part of the blob's key (measured): any start-up reuses it.
    compiled = prepare(args.models_dir, args.cache_dir, default_threads(1))
    print(f"OpenVINO cache {args.cache_dir}: {', '.join(p.name for p in compiled) or 'no models'}")
