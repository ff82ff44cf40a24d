"""Which background-removal models exist, which are installed, and loading them once per process.

A model is a file in MODELS_DIR with a checksum this code knows: the imgly ISNet model from the
committed manifest (models.json, SHA-256, installed by ``make models``), or one of rembg's stock
files (MD5 as rembg publishes them) that an operator copied in. A file is verified before it is
loaded; a file that fails is reported (health, 503) and never loaded.

The manifest's ISNet runs on the engine chosen for this CPU (engines.py) with its own pre- and
post-processing (isnet.py). Stock files go through rembg's session classes on onnxruntime (they
know each architecture's normalisation; no quality gate has cleared them for another engine), with
``download_models`` pinned to the local file so rembg can never reach for the network; rembg (and
its ~5 s of imports) is only loaded when such a file is installed. Models are kept per process:
replicas started in one process (the tests) share them, a replica process loads each model exactly
once, at start-up, never per request.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from image_service.background import engines, isnet
from imagetools_common.logs import get_logger

log = get_logger(__name__)

_BLOCK = 1024 * 1024
_MANIFEST = "models.json"


@dataclass(frozen=True)
class ModelSpec:
    """A model this service can run when its file is installed."""

    id: str
    label: str
    file: str
    rembg_session: str | None
    """The rembg session class (by its name) that knows this architecture's pre-processing; None
    for the manifest's ISNet, which isnet.py runs on the chosen engine."""
    algorithm: str
    digest: str


def _manifest_models() -> list[ModelSpec]:
    manifest = json.loads((resources.files("image_service.background") / _MANIFEST).read_text())
    return [
        ModelSpec(m["id"], m["label"], m["file"], None, "sha256", m["sha256"]) for m in manifest["models"]
    ]


# rembg's stock models, with the MD5 rembg itself checks its downloads against. They are never
# downloaded here: an operator who wants one copies the file into MODELS_DIR.
_STOCK = (
    ("u2net", "U²-Net (general)", "60024c5c889badc19c04ad937298a77b"),
    ("u2netp", "U²-Net lite", "8e83ca70e441ab06c318d82300c84806"),
    ("u2net_human_seg", "U²-Net (people)", "c09ddc2e0104f800e3e1bb4652583d1f"),
    ("silueta", "Silueta", "55e59e0d8062d2f5d013f4725ee84782"),
    ("isnet-general-use", "ISNet (general use)", "fc16ebd8b0c10d971d3513d564d01e29"),
    ("isnet-anime", "ISNet (anime)", "6f184e756bb3bd901c8849220a83e38e"),
    ("birefnet-general", "BiRefNet (general)", "7a35a0141cbbc80de11d9c9a28f52697"),
    ("birefnet-general-lite", "BiRefNet lite", "4fab47adc4ff364be1713e97b7e66334"),
    ("birefnet-portrait", "BiRefNet (portraits)", "c3a64a6abf20250d090cd055f12a3b67"),
)

CATALOGUE: tuple[ModelSpec, ...] = (
    *_manifest_models(),
    *(ModelSpec(name, label, f"{name}.onnx", name, "md5", md5) for name, label, md5 in _STOCK),
)


class ModelError(Exception):
    """A model file that cannot be used, with the reason an operator needs."""


class Predictor(Protocol):
    input_size: tuple[int, int]

    def predict(self, image: Image.Image) -> Image.Image: ...


@dataclass
class LoadedModel:
    """One loaded model, the engine it runs on, and what it costs on this machine."""

    spec: ModelSpec
    predictor: Predictor
    engine: str
    """What /health and the bench report: engine and precision, e.g. ``openvino/bf16``."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    timing: Timing | None = None
    """Set by the start-up run (the warm-up); then updated by every real run (see ``Timing``)."""

    @property
    def input_size(self) -> tuple[int, int]:
        return self.predictor.input_size

    def predict(self, image: Image.Image) -> Image.Image:
        """The model's mask (L) for an RGB image already at ``input_size``."""
        # One inference per model at a time: the engine already uses every thread it was given.
        with self.lock:
            return self.predictor.predict(image)


@dataclass
class Timing:
    """How long a removal takes here: a fixed model cost plus pixel work proportional to megapixels.

    Both parts are measured separately on every run and smoothed, so the estimate follows the
    machine's real load instead of a number written down once.
    """

    model_seconds: float
    per_megapixel_seconds: float
    _weight: float = 0.3

    def record(self, model_seconds: float, pixel_seconds: float, megapixels: float) -> None:
        w = self._weight
        self.model_seconds = (1 - w) * self.model_seconds + w * model_seconds
        if megapixels > 0:
            per_mp = pixel_seconds / megapixels
            self.per_megapixel_seconds = (1 - w) * self.per_megapixel_seconds + w * per_mp


@dataclass(frozen=True)
class ModelState:
    """What start-up found in MODELS_DIR: the loaded models and the problems, for health."""

    loaded: dict[str, LoadedModel]
    default: str | None
    problems: list[str]


def _libc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    return trim


_TRIM = _libc_trim()


def release_memory() -> None:
    """Give freed heap back to the system after a removal or the start-up runs.

    A 12 MP removal frees hundreds of MB in several threads' malloc arenas; glibc keeps them mapped,
    so without this a replica's RSS stays at its busiest (measured: 674 MB after warm-up, 451 MB
    trimmed; docs/PERFORMANCE.md).
    """
    if _TRIM is not None:
        _TRIM(0)


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as file:
        while block := file.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class EngineSettings:
    """How models are run: BG_ENGINE, BG_INTRA_OP_THREADS, BG_INTER_OP_THREADS, BG_CACHE_DIR."""

    engine: str
    intra_threads: int
    inter_threads: int
    cache_dir: Path | None


# Per process: (path, size, mtime, engine settings) -> loaded model. See the module docstring.
_LOADED: dict[tuple[str, int, int, EngineSettings], LoadedModel] = {}
_LOADING = threading.Lock()


def load_all(models_dir: Path, default: str, settings: EngineSettings) -> ModelState:
    """Verify and load every installed model (blocking: run it in a worker thread).

    The default model missing or broken is a problem (the service reports itself unhealthy);
    other catalogue models are simply not offered when their file is absent.
    """
    loaded: dict[str, LoadedModel] = {}
    problems: list[str] = []
    if default not in {spec.id for spec in CATALOGUE}:
        known = ", ".join(spec.id for spec in CATALOGUE)
        problems.append(f"BG_MODEL={default!r} is not a known model (known: {known})")
    for spec in CATALOGUE:
        path = models_dir / spec.file
        if not path.exists():
            if spec.id == default:
                problems.append(
                    f"background-removal model {spec.id} is not installed: {path} is missing "
                    "(run `make models`)"
                )
            continue
        try:
            loaded[spec.id] = _load(spec, path, settings)
        except ModelError as error:
            problems.append(str(error))
            log.error("background model unusable", model=spec.id, path=str(path), reason=str(error))
    return ModelState(loaded=loaded, default=default if default in loaded else None, problems=problems)


def _load(spec: ModelSpec, path: Path, settings: EngineSettings) -> LoadedModel:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, settings)
    with _LOADING:
        if key in _LOADED:
            return _LOADED[key]
        actual = file_digest(path, spec.algorithm)
        if actual != spec.digest:
            raise ModelError(
                f"background-removal model {spec.id} at {path} is corrupt: {spec.algorithm} {actual}, "
                f"expected {spec.digest} (run `make models` again)"
            )
        started = time.perf_counter()
        try:
            if spec.rembg_session is None:
                engine = engines.load(
                    path, settings.engine, settings.intra_threads, settings.cache_dir, engines.host_flags()
                )
                model = LoadedModel(spec, isnet.Isnet(engine), f"{engine.name}/{engine.precision}")
            else:
                model = LoadedModel(spec, _rembg_session(spec, path, settings), "onnxruntime/f32")
        except Exception as error:  # each engine raises its own types for an unloadable graph
            raise ModelError(
                f"background-removal model {spec.id} at {path} cannot be loaded: {error}"
            ) from None
        log.info(
            "background model loaded",
            model=spec.id,
            engine=model.engine,
            load_s=round(time.perf_counter() - started, 2),
            threads=settings.intra_threads,
        )
        _LOADED[key] = model
        return model


class _RembgSession:
    """A stock model through its rembg session class (their pre-processing), on onnxruntime."""

    def __init__(self, session: Any) -> None:
        self._session = session
        shape = session.inner_session.get_inputs()[0].shape
        height, width = shape[-2], shape[-1]
        self.input_size = (
            (width, height) if isinstance(height, int) and isinstance(width, int) else (1024, 1024)
        )

    def predict(self, image: Image.Image) -> Image.Image:
        mask: Image.Image = self._session.predict(image)[0]
        return mask


def _rembg_session(spec: ModelSpec, path: Path, settings: EngineSettings) -> _RembgSession:
    # Imported only when an operator installed a stock model: ~5.5 s, mostly pymatting's numba.
    import onnxruntime as ort
    from rembg.sessions import sessions

    # rembg only accepts model paths under its home, and reads the home from the environment.
    os.environ["U2NET_HOME"] = str(path.parent.resolve())
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.intra_threads
    options.inter_op_num_threads = settings.inter_threads
    # As engines.OnnxRuntime: no arena (idle RSS), no spinning (the rest of the service).
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    assert spec.rembg_session is not None
    base = sessions[spec.rembg_session]

    class Local(base):  # type: ignore[valid-type,misc]
        """The stock session, but its model is the verified local file: never a download."""

        @classmethod
        def download_models(cls, *args: Any, **kwargs: Any) -> str:
            return str(cls.validate_model_path(*args, **kwargs))

    return _RembgSession(
        Local(spec.rembg_session, options, model_path=str(path.resolve()), providers=["CPUExecutionProvider"])
    )
