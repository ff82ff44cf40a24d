"""image-service settings: the common ones plus image limits and the worker pool."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from image_service.background import engines
from imagetools_common.contracts.image import MAX_BACKGROUND_SECONDS, MODEL_ID
from imagetools_common.settings import Settings


class ImageSettings(Settings):
    max_image_megapixels: float = Field(
        50, gt=0, le=1000, description="Largest image accepted, in megapixels (decompression-bomb guard)"
    )
    undo_stack_limit: int = Field(20, ge=1, le=500, description="Edits kept per image besides the original")
    image_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 2, ge=1, le=64, description="Threads for pixel work"
    )
    models_dir: Path = Field(
        Path("var/models"), description="Background-removal models (`make models` installs them here)"
    )
    bg_model: str = Field("isnet-medium", pattern=MODEL_ID, description="Default background-removal model")
    bg_engine: Literal["auto", "openvino", "onnxruntime"] = Field(
        "auto",
        description="Inference engine: auto picks OpenVINO (bf16 where the CPU has it), else onnxruntime",
    )
    bg_cache_dir: Path = Field(
        Path("var/cache/openvino"),
        description="OpenVINO's compiled-model cache (prepared at image build time)",
    )
    bg_replicas_per_host: int = Field(
        1, ge=1, le=64, description="image-service replicas sharing this host's CPUs (divides the threads)"
    )
    # Declared after bg_replicas_per_host: the default divides the usable CPUs among the replicas.
    bg_intra_op_threads: int = Field(
        default_factory=lambda data: engines.default_threads(data["bg_replicas_per_host"]),
        ge=1,
        le=64,
        description="Inference threads per run",
    )
    bg_inter_op_threads: int = Field(1, ge=1, le=64, description="onnxruntime threads across graph branches")
    bg_queue_size: int = Field(
        4, ge=0, le=1000, description="Background removals waiting per replica besides the running one"
    )
    bg_timeout_seconds: float = Field(
        120, gt=0, le=MAX_BACKGROUND_SECONDS, description="Longest a background removal may wait and run"
    )

    @property
    def max_pixels(self) -> int:
        return int(self.max_image_megapixels * 1_000_000)
