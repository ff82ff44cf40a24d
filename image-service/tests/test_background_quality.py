"""The quality gate: the engine this CPU gets cuts out what the reference (rembg on onnxruntime) does.

The reference's model-size masks are recorded in tests/data/background-reference (rembg's own
``dis_custom`` session on onnxruntime's CPU provider, `python -m image_service.background.quality
MODEL DIR` writes them again after a model change), so the gate runs one inference per picture.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from image_service.background import engines, isnet, quality
from image_service.background.models import CATALOGUE, LoadedModel

REPO = Path(__file__).resolve().parents[2]
MODEL = Path(os.environ.get("MODELS_DIR") or REPO / "var" / "models") / "isnet-medium.onnx"
RECORDED = Path(__file__).parent / "data" / "background-reference"


# 11 inferences and 22 mattings: ~1 min on an idle 2-core EPYC, several times that on a shared one.
@pytest.mark.timeout(900)
def test_the_chosen_engine_passes_the_quality_gate_with_matting_off_and_on(tmp_path: Path) -> None:
    """≥ 10 pictures, matting off and on: mean IoU ≥ 0.98, none below 0.95, mean |Δalpha| ≤ 0.02."""
    engine = engines.load(MODEL, "auto", os.cpu_count() or 2, tmp_path, engines.host_flags())
    assert engine.name == "openvino"  # what auto picks on every CPU OpenVINO supports
    candidate = LoadedModel(CATALOGUE[0], isnet.Isnet(engine), f"{engine.name}/{engine.precision}")
    scores = quality.scores(quality.recorded_reference(RECORDED), candidate)
    assert len(scores) >= 2 * 10 and sum(name.endswith(", matted") for name in scores) >= 10
    assert quality.failures(scores) == []


def test_the_gate_refuses_a_candidate_that_cuts_differently() -> None:
    """A mask that lost a tenth of its subject, or drifted in its soft edges, fails with the reason."""
    fine = quality.Score(iou=0.995, alpha_difference=0.004)
    assert quality.failures({f"p{i}": fine for i in range(10)}) == []
    eroded = {**{f"p{i}": fine for i in range(9)}, "cat": quality.Score(0.90, 0.01)}
    assert quality.failures(eroded) == ["cat: IoU 0.9000 < 0.95"]
    drifted = {f"p{i}": quality.Score(0.97, 0.03) for i in range(10)}
    assert quality.failures(drifted) == ["mean IoU 0.9700 < 0.98", "mean |Δalpha| 0.0300 > 0.02"]
