"""The operation registry: every operation the API accepts runs somewhere, and only there."""

from __future__ import annotations

from typing import get_args

from imagetools_common.contracts import image, registry


def test_every_operation_type_has_a_route() -> None:
    """An operation added to the contract without a registry line is caught here, not by a user's 500."""
    members = set(get_args(get_args(image.Operation)[0]))
    assert members == set(registry.ROUTES)


def test_an_operation_is_served_only_by_its_own_endpoint() -> None:
    """A removal goes to the cancellable model-run endpoint; pixel operations never do."""
    removal, rotate = image.RemoveBackgroundOp(), image.RotateOp(degrees=90)
    assert registry.route(removal).cancellable and not registry.route(rotate).cancellable
    assert registry.serves(image.REMOVE_BACKGROUND, removal) and not registry.serves(image.APPLY, removal)
    assert registry.serves(image.APPLY, rotate) and not registry.serves(image.REMOVE_BACKGROUND, rotate)


def test_a_brush_runs_on_its_own_endpoint() -> None:
    """The brush is pixel work on a cut-out's mask: its own endpoint, not the model queue nor plain pixels."""
    op = image.BrushOp(version=2, strokes=[image.BrushStroke(mode="erase", radius=0.1, points=[(0.5, 0.5)])])
    assert registry.serves(image.BRUSH, op) and not registry.route(op).cancellable
    assert not registry.serves(image.APPLY, op) and not registry.serves(image.REMOVE_BACKGROUND, op)
