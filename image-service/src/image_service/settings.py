"""image-service settings: the common ones plus image limits and the worker pool."""

from __future__ import annotations

import os

from pydantic import Field

from imagetools_common.settings import Settings


class ImageSettings(Settings):
    max_image_megapixels: float = Field(
        50, gt=0, le=1000, description="Largest image accepted, in megapixels (decompression-bomb guard)"
    )
    undo_stack_limit: int = Field(20, ge=1, le=500, description="Edits kept per image besides the original")
    image_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 2, ge=1, le=64, description="Threads for pixel work"
    )

    @property
    def max_pixels(self) -> int:
        return int(self.max_image_megapixels * 1_000_000)
