"""Compression previews (subjects ``image.v1.preview*``): see a compression's result before keeping it.

A preview is computed from the version the browser shows, kept briefly per session (never a
version, never counted), served to the browser, and turned into a version by ``PREVIEW_APPLY``
with exactly its bytes, if that version is still current (else ``conflict``). At most one
preview computes per session: a new one stops the one before (``PREVIEW_STARTED``), and the
``image.CANCEL`` event stops an abandoned one.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from imagetools_common.contracts.base import MAX_VERSION, Delivery, Endpoint, Event, Keyed, WireModel
from imagetools_common.contracts.image import SERVICE, CompressionCompromises, ContentHeader, ImageInfo
from imagetools_common.contracts.operations import CompressionSettings, CompressOp, OutputFormat


class PreviewRequest(WireModel):
    session_id: UUID
    image_id: UUID
    version: int = Field(
        ge=1, le=MAX_VERSION, description="The version shown (current): 404 if gone, 409 if no longer current"
    )
    operation: CompressOp
    operation_id: UUID | None = Field(
        None, description="Names the run so the CANCEL event can stop it; one is made when absent"
    )


class PreviewInfo(CompressionCompromises):
    id: UUID
    image_id: UUID
    based_on: int = Field(description="The version it was computed for; applying needs it still current")
    preset: str | None = Field(description="The preset or profile it was asked for, if any")
    settings: CompressionSettings = Field(description="The settings it was computed with")
    format: OutputFormat
    width: int
    height: int
    bytes: int
    quality: int | None = Field(description="The quality chosen (None for lossless output)")
    target_met: bool
    expires_at: datetime = Field(description="After this it is gone (404) and must be computed again")


class PreviewRef(WireModel):
    session_id: UUID
    image_id: UUID
    preview_id: UUID


class PreviewApply(PreviewRef, Keyed):
    """Make a preview's bytes the image's new version."""


class PreviewStarted(WireModel):
    """Published when a preview starts: every replica stops that session's other preview run."""

    session_id: UUID
    operation_id: UUID


PREVIEW = Endpoint(SERVICE, "preview", PreviewRequest, PreviewInfo, timeout=60.0, heartbeat=True)
PREVIEW_CONTENT = Endpoint(
    SERVICE, "preview_content", PreviewRef, ContentHeader, timeout=30.0, reply_body=True, read_only=True
)
PREVIEW_APPLY = Endpoint(SERVICE, "preview_apply", PreviewApply, ImageInfo, timeout=60.0, heartbeat=True)
PREVIEW_STARTED = Event(SERVICE, "preview_started", PreviewStarted, Delivery.BROADCAST)
