"""Which service and endpoint run each operation type, decided once for every caller and server.

The gateway sends an operation to ``route(op).endpoint`` (watching its browser and publishing
``image.CANCEL`` when the route is cancellable); image-service serves each endpoint with the use
case for it and refuses an operation that belongs elsewhere (``serves``). A new operation type is
its model in ``contracts.operations`` plus one line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagetools_common.contracts import image, operations
from imagetools_common.contracts.base import Endpoint, WireModel

# An endpoint that applies operations: an ``ApplyRequest`` in, the changed image out.
ApplyEndpoint = Endpoint[image.ApplyRequest, image.ImageInfo]


@dataclass(frozen=True)
class OperationRoute:
    """Where an operation runs and how its caller waits for it."""

    endpoint: ApplyEndpoint
    # The caller names the run (``ApplyRequest.operation_id``) and publishes ``image.CANCEL`` with
    # that id when it gives up, so no result is stored for nobody.
    cancellable: bool = False


# Pixel work in the service's worker pool, answered within the endpoint's timeout.
PIXELS = OperationRoute(image.APPLY)
# A model run: one at a time per replica behind a queue, minutes at worst, stopped when abandoned.
MODEL_RUN = OperationRoute(image.REMOVE_BACKGROUND, cancellable=True)
# Pixel work on a cut-out's mask and the pixels it was cut from (image_service.brush).
BRUSH = OperationRoute(image.BRUSH)

# One line per member of ``operations.Operation`` (common/tests/test_contracts_registry.py checks it).
ROUTES: dict[type[WireModel], OperationRoute] = {
    operations.CompressOp: PIXELS,
    operations.ResizeOp: PIXELS,
    operations.RotateOp: PIXELS,
    operations.FlipOp: PIXELS,
    operations.CropOp: PIXELS,
    operations.ConvertOp: PIXELS,
    operations.StripMetadataOp: PIXELS,
    operations.RemoveBackgroundOp: MODEL_RUN,
    operations.BrushOp: BRUSH,
}


def route(op: WireModel) -> OperationRoute:
    """The route of one operation (any member of ``operations.Operation``)."""
    return ROUTES[type(op)]


def serves(endpoint: ApplyEndpoint, op: WireModel) -> bool:
    """Whether ``endpoint`` is where ``op`` runs (a server refuses the others)."""
    return route(op).endpoint == endpoint
