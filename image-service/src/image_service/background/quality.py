"""The quality gate an engine passes before it may run a model: its cut-outs against the reference's.

The reference is what rembg does with the model on onnxruntime's CPU provider (the cut-outs users
knew). The pictures: scikit-image's bundled colour photos (in its wheel, no download) and
composites with a known alpha (the cat cut out by the reference, pasted over other photos, a
texture and a gradient). For each, the full-size alpha with alpha matting off and on; a candidate
passes when the thresholded masks' IoU is ≥ 0.98 on average and ≥ 0.95 on every picture, and the
mean absolute alpha difference is ≤ 0.02. Used by the test suite (against recorded reference
masks) and by the bench (live, printing the table).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from image_service.background import removal
from image_service.background.models import LoadedModel
from imagetools_common.contracts import image as contract

MEAN_IOU = 0.98
MIN_IOU = 0.95
MEAN_ALPHA_DIFFERENCE = 0.02
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "stereo_motorcycle", "logo")
# The composites' backgrounds (scikit-image names) and the frame they are fitted to.
BACKDROPS = ("rocket", "hubble_deep_field", "immunohistochemistry", "grass", "gradient")
COMPOSITE_SIZE = (640, 480)
SUBJECT = "chelsea"

Reference = Callable[[str, Image.Image], Image.Image]
"""The reference's model-size mask for a picture (by name): live from rembg, or recorded."""


def photo(name: str) -> Image.Image:
    """A scikit-image bundled picture (RGB, RGBA for the logo), or a left-to-right grey gradient."""
    from skimage import data  # only the gate and the bench need scikit-image

    if name == "gradient":
        return Image.linear_gradient("L").rotate(90).resize(COMPOSITE_SIZE).convert("RGB")
    pixels = getattr(data, name)()
    if isinstance(pixels, tuple):  # stereo_motorcycle: (left, right, disparity)
        pixels = pixels[0]
    picture = Image.fromarray(pixels)
    return picture if picture.mode in ("RGB", "RGBA") else picture.convert("RGB")


def composite(
    backdrop: Image.Image, subject: Image.Image, alpha: Image.Image
) -> tuple[Image.Image, Image.Image]:
    """``subject`` (with ``alpha``) at 90 % of the frame's height, off-centre on ``backdrop``; and
    the alpha it was pasted with (the known answer)."""
    frame = removal.cover(backdrop, COMPOSITE_SIZE)
    height = round(COMPOSITE_SIZE[1] * 0.9)
    size = (round(subject.width * height / subject.height), height)
    left, top = (COMPOSITE_SIZE[0] - size[0]) // 3, COMPOSITE_SIZE[1] - height
    scaled = alpha.resize(size, Image.Resampling.BILINEAR)
    frame.paste(subject.resize(size, Image.Resampling.LANCZOS), (left, top), scaled)
    known = Image.new("L", COMPOSITE_SIZE, 0)
    known.paste(scaled, (left, top))
    return frame, known


def pictures(subject_alpha: Image.Image) -> Iterator[tuple[str, Image.Image]]:
    """The gate's pictures by name: the photos, then the subject over each backdrop."""
    for name in PHOTOS:
        yield name, photo(name)
    subject = photo(SUBJECT)
    for name in BACKDROPS:
        yield f"{SUBJECT}-on-{name}", composite(photo(name), subject, subject_alpha)[0]


@dataclass(frozen=True)
class Score:
    iou: float
    alpha_difference: float


def score(reference: Image.Image, candidate: Image.Image) -> Score:
    """IoU of the masks thresholded at half, and the mean absolute alpha difference (0..1)."""
    a = np.asarray(reference, dtype=np.int16)
    b = np.asarray(candidate, dtype=np.int16)
    union = ((a > 127) | (b > 127)).sum()
    iou = float(((a > 127) & (b > 127)).sum() / union) if union else 1.0
    return Score(iou, float(np.abs(a - b).mean() / 255))


def failures(scores: dict[str, Score]) -> list[str]:
    """Why a candidate fails the gate (nothing when it passes)."""
    problems = []
    ious = [s.iou for s in scores.values()]
    if np.mean(ious) < MEAN_IOU:
        problems.append(f"mean IoU {np.mean(ious):.4f} < {MEAN_IOU}")
    problems += [f"{name}: IoU {s.iou:.4f} < {MIN_IOU}" for name, s in scores.items() if s.iou < MIN_IOU]
    difference = float(np.mean([s.alpha_difference for s in scores.values()]))
    if difference > MEAN_ALPHA_DIFFERENCE:
        problems.append(f"mean |Δalpha| {difference:.4f} > {MEAN_ALPHA_DIFFERENCE}")
    return problems


def alphas(small_mask: Image.Image, picture: Image.Image) -> tuple[Image.Image, Image.Image]:
    """The full-size alpha with alpha matting off and on, from one model-size mask."""
    plain = removal.full_mask(picture, small_mask, contract.RemoveBackgroundOp(), _never)
    matting = contract.RemoveBackgroundOp(alpha_matting=True)
    return plain, removal.full_mask(picture, small_mask, matting, _never)


def subject_alpha(reference: Reference) -> Image.Image:
    """The composites' known alpha: the reference's cut-out of the subject photo."""
    picture = photo(SUBJECT)
    return alphas(reference(SUBJECT, picture), picture)[0]


def scores(reference: Reference, candidate: LoadedModel) -> dict[str, Score]:
    """Per picture and matting off/on (``name`` and ``name, matted``): the candidate's alpha
    against the reference's, both made by the removal's own code from each one's model mask."""
    result = {}
    for name, picture in pictures(subject_alpha(reference)):
        expected = alphas(reference(name, picture), picture)
        got = alphas(removal.predict_mask(candidate, picture, post_process=False)[0], picture)
        result[name] = score(expected[0], got[0])
        result[f"{name}, matted"] = score(expected[1], got[1])
    return result


def _never() -> None:
    """Nothing calls a gate run off."""


def rembg_reference(model_path: Path, threads: int) -> Reference:
    """The reference, live: rembg's ``dis_custom`` session (its normalisation) on onnxruntime's CPU
    provider, fed the model input the removal makes."""
    import onnxruntime as ort
    from rembg import new_session

    os.environ["U2NET_HOME"] = str(model_path.parent.resolve())
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = new_session("dis_custom", options, model_path=str(model_path.resolve()))

    def reference(_name: str, picture: Image.Image) -> Image.Image:
        mask: Image.Image = session.predict(removal.model_input(picture, (1024, 1024)))[0]
        return mask

    return reference


def recorded_reference(directory: Path) -> Reference:
    """The reference as recorded by ``record`` (the test suite's: half the inferences)."""
    return lambda name, _picture: Image.open(directory / f"{name}.png").convert("L")


def record(model_path: Path, directory: Path, threads: int) -> None:
    """Write the reference's model-size mask of every gate picture into ``directory`` (PNG)."""
    live = rembg_reference(model_path, threads)
    directory.mkdir(parents=True, exist_ok=True)
    for name, picture in pictures(subject_alpha(live)):
        live(name, picture).save(directory / f"{name}.png", optimize=True)


if __name__ == "__main__":
    import sys

    record(Path(sys.argv[1]), Path(sys.argv[2]), os.cpu_count() or 2)
