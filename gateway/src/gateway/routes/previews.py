"""Compression previews: see a compression's result before it becomes a version."""

from __future__ import annotations

from gateway.openapi import ApiRoute
from gateway.ratelimit import OPERATIONS
from gateway.views import previews
from gateway.views.common import ImageView
from gateway.views.previews import PreviewBody, PreviewView

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute(
        "POST",
        "/api/v1/images/{image_id}/previews",
        previews.create_preview,
        "Preview a compression",
        "images",
        status=201,
        body=PreviewBody,
        response=PreviewView,
        errors=(404, 409, 413),
        limit=OPERATIONS,
        description="Computes what compress would make of the version on screen (size, dimensions, format, "
        "quality) and keeps the file for 10 minutes; nothing becomes a version. One preview computes per "
        "session: a newer one, or the browser aborting the request, stops it (409 for the stopped one). "
        "The file never holds a location. 404 when that version is no longer kept, 409 when it is no "
        "longer current.",
    ),
    ApiRoute(
        "GET",
        "/api/v1/images/{image_id}/previews/{preview_id}/content",
        previews.preview_content,
        "A preview's file",
        "images",
        content_type="image/*",
        errors=(404,),
        query=("download",),
        etag=True,
        description="404 once the preview expired (10 minutes) or its image changed history.",
    ),
    ApiRoute(
        "POST",
        "/api/v1/images/{image_id}/previews/{preview_id}/apply",
        previews.apply_preview,
        "Keep a preview as a new version",
        "images",
        response=ImageView,
        errors=(404, 409),
        idempotent=True,
        limit=OPERATIONS,
        description="Stores exactly the previewed bytes as a compress version, if the version it was "
        "computed from is still current (else 409: preview again).",
    ),
)
