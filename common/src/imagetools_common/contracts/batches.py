"""Batches: one operation applied to many of a session's images, progress streamed (``image.v1.batch``).

The caller names the batch (``batch_id``, made by the client); each photo's change is applied
with the idempotency key ``batch:<batch_id>:<image_id>``, so sending the same batch again replays
what was already done instead of applying it twice. The service runs a session's photos one at a
time and reports each one (``started``, then ``done`` or ``failed``), then a summary. Leaving the
stream (the stream layer's cancel) stops the batch: finished photos stay, the one in flight is
never stored, the rest never start.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from imagetools_common.contracts.base import StreamEndpoint, WireModel
from imagetools_common.contracts.image import SERVICE, ImageInfo
from imagetools_common.contracts.operations import (
    CompressOp,
    ConvertOp,
    RemoveBackgroundOp,
    ResizeOp,
    StripMetadataOp,
)

# The operations that make sense on many photos at once (rotations and crops are per photo).
BatchOperation = Annotated[
    CompressOp | ResizeOp | ConvertOp | StripMetadataOp | RemoveBackgroundOp, Field(discriminator="type")
]

# As many ids as any request names (image.ImageIds); the session's own image limit is checked too.
MAX_BATCH_IMAGES = 1000


class BatchRequest(WireModel):
    session_id: UUID
    batch_id: UUID = Field(description="Made by the client; the same id sent again does nothing twice")
    image_ids: list[UUID] = Field(min_length=1, max_length=MAX_BATCH_IMAGES)
    operation: BatchOperation


class BatchError(WireModel):
    code: str = Field(description="The error code the single operation would have answered, or `deleted`")
    message: str


class BatchProgress(WireModel):
    """One step of one photo: ``started``, then ``done`` (with the image) or ``failed`` (with why)."""

    image_id: UUID
    position: int = Field(ge=0, description="The photo's place in the batch, from 0")
    state: Literal["started", "done", "failed"]
    image: ImageInfo | None = Field(None, description="done: the image, its new version current")
    error: BatchError | None = Field(None, description="failed: why")


class BatchFailed(BatchError):
    image_id: UUID


class BatchSummary(WireModel):
    """The end of a batch that ran to completion."""

    batch_id: UUID
    done: list[UUID] = Field(description="Photos changed (each now has a new version), in batch order")
    failed: list[BatchFailed] = Field(description="Photos left as they were, with the reason")


BATCH = StreamEndpoint(SERVICE, "batch", BatchRequest, BatchProgress, BatchSummary)


def photo_key(batch_id: UUID, image_id: UUID) -> str:
    """The idempotency key of one photo's change in a batch."""
    return f"batch:{batch_id}:{image_id}"
