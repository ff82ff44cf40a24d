"""Changing an image: operations (background removal's models and masks included) and history."""

from __future__ import annotations

from gateway.openapi import ApiRoute
from gateway.ratelimit import OPERATIONS
from gateway.views import background, operations
from gateway.views.common import ImageView
from gateway.views.operations import OperationBody, RevertBody
from imagetools_common.contracts import image as contract

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute(
        "GET",
        "/api/v1/images/{image_id}/mask",
        background.mask,
        "The mask of a background removal",
        "background",
        content_type="image/png",
        errors=(404,),
        query=("version", "download"),
        etag=True,
        description="Greyscale PNG at the image's full resolution, of the current version or `?version=N`; "
        "404 when that version was not made by remove_background.",
    ),
    ApiRoute(
        "GET",
        "/api/v1/background/models",
        background.models,
        "Background-removal models",
        "background",
        response=contract.BackgroundModels,
        description="Only installed models are listed. `timing` is measured on this server: expected "
        "seconds = base_seconds + per_megapixel_seconds × megapixels. 503 (with the reason) when no "
        "model could be loaded.",
    ),
    ApiRoute(
        "POST",
        "/api/v1/images/{image_id}/operations",
        operations.apply_operation,
        "Apply an operation",
        "images",
        body=OperationBody,
        response=ImageView,
        errors=(404, 409),
        idempotent=True,
        description="compress, resize, rotate, flip, crop, convert, strip_metadata, remove_background or "
        "brush; the result is a new version that undo can take back. remove_background: 429 with "
        "Retry-After when this replica's queue is full, 503 when no model is loaded, 504 past "
        "BG_TIMEOUT_SECONDS; if the browser aborts the request, no version is created. brush: strokes "
        "on the mask of a version made by remove_background or brush (422 on any other), 409 when "
        "`version` is no longer the current one.",
        limit=OPERATIONS,
    ),
    ApiRoute(
        "POST",
        "/api/v1/images/{image_id}/undo",
        operations.undo,
        "Undo the last step",
        "images",
        response=ImageView,
        errors=(404, 409),
        idempotent=True,
        limit=OPERATIONS,
    ),
    ApiRoute(
        "POST",
        "/api/v1/images/{image_id}/redo",
        operations.redo,
        "Redo an undone step",
        "images",
        response=ImageView,
        errors=(404, 409),
        idempotent=True,
        limit=OPERATIONS,
    ),
    ApiRoute(
        "POST",
        "/api/v1/images/{image_id}/revert",
        operations.revert,
        "Go back to any kept version",
        "images",
        body=RevertBody,
        response=ImageView,
        errors=(404,),
        idempotent=True,
        limit=OPERATIONS,
    ),
)
