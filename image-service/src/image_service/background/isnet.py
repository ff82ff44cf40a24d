"""ISNet's (DIS) input and output, done here so the default model needs neither rembg nor its imports.

The arithmetic is rembg's ``dis_custom`` session's (the imgly model's), so masks are the same: the
RGB input scaled by its own maximum, minus 0.5 (std 1), NCHW float32; the first output min-max
normalised to 0..255 and truncated. rembg does it in float64 over a Lanczos resize it repeats; this
is float32 on the picture ``removal.model_input`` already brought to the model's size.
Importing rembg costs ~5.5 s (pymatting's numba kernels): stock models an operator drops in still
go through it (models.py), the default one no longer does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from image_service.background.engines import Engine


def to_input(image: Image.Image) -> np.ndarray[Any, Any]:
    """The 1×3×H×W float32 batch for an RGB picture already at the model's input size."""
    pixels = np.asarray(image, dtype=np.float32)
    pixels *= 1.0 / max(float(pixels.max()), 1e-6)
    pixels -= 0.5
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))[np.newaxis]


def to_mask(output: np.ndarray[Any, Any]) -> Image.Image:
    """The greyscale mask (L) from the model's first output (N×1×H×W)."""
    prediction = output[0, 0].astype(np.float32, copy=False)
    low, high = float(prediction.min()), float(prediction.max())
    scaled = (prediction - low) * (255.0 / max(high - low, 1e-12))
    return Image.fromarray(scaled.astype(np.uint8))


class Isnet:
    """An ISNet model on an engine: a picture at the input size in, its mask out."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.input_size = engine.input_size

    def predict(self, image: Image.Image) -> Image.Image:
        return to_mask(self.engine.run(to_input(image)))
