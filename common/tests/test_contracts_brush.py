"""The brush's contract: resolution-independent strokes, refused outside the picture or in absurd numbers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from imagetools_common.contracts import image, operations


def brush(*strokes: dict[str, Any]) -> image.BrushOp:
    return image.BrushOp.model_validate({"type": "brush", "version": 2, "strokes": list(strokes)})


def stroke(points: list[list[float]], radius: float = 0.02, mode: str = "erase") -> dict[str, Any]:
    return {"mode": mode, "radius": radius, "points": points}


def test_a_stroke_is_normalised_to_the_picture() -> None:
    """Points lie in 0..1 of the width and height, and the radius is a fraction of the longer side."""
    assert brush(stroke([[0, 0], [1, 1], [0.5, 0.25]], mode="restore")).strokes[0].points[2] == (0.5, 0.25)
    for bad in ([[1.01, 0.5]], [[0.5, -0.1]], [[0.5]], []):
        with pytest.raises(ValidationError, match="points"):
            brush(stroke(bad))
    for radius in (0, -0.1, 0.6):
        with pytest.raises(ValidationError, match="radius"):
            brush(stroke([[0.5, 0.5]], radius=radius))
    with pytest.raises(ValidationError, match="mode"):
        brush(stroke([[0.5, 0.5]], mode="smudge"))


def test_absurd_numbers_of_points_and_strokes_are_refused() -> None:
    """Per stroke, per save and in all: the caps hold, and one save needs at least one stroke."""
    point = [0.5, 0.5]
    with pytest.raises(ValidationError, match="points"):
        brush(stroke([point] * (operations.BRUSH_MAX_POINTS_PER_STROKE + 1)))
    with pytest.raises(ValidationError, match="strokes"):
        brush(*[stroke([point])] * (operations.BRUSH_MAX_STROKES + 1))
    per_stroke = operations.BRUSH_MAX_POINTS_PER_STROKE
    too_many = operations.BRUSH_MAX_POINTS // per_stroke + 1
    with pytest.raises(ValidationError, match=f"{too_many * per_stroke} points in all"):
        brush(*[stroke([point] * per_stroke)] * too_many)
    with pytest.raises(ValidationError, match="strokes"):
        brush()
