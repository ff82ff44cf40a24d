"""Batches: one operation on many of the session's photos, progress relayed as Server-Sent Events.

image-service runs the batch (``contracts.batches``); this view only checks the body, names the
session and turns each photo's image into the API's view of it.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, Field

from gateway.cookies import session_id
from gateway.http import read_json
from gateway.views.common import ImageView, view
from gateway.views.streams import SseEvent, relay
from imagetools_common.contracts import batches as contract


class BatchBody(BaseModel):
    batch_id: UUID = Field(
        description="Made by the client (a UUID); sending the same batch again changes nothing twice"
    )
    image_ids: list[UUID] = Field(
        min_length=1, max_length=contract.MAX_BATCH_IMAGES, description="Photos of this session, each once"
    )
    operation: contract.BatchOperation


class BatchStep(BaseModel):
    """The `progress` event: one photo started, or finished (`done` with its image, `failed` with why)."""

    image_id: UUID
    position: int = Field(description="The photo's place in image_ids, from 0")
    state: Literal["started", "done", "failed"]
    image: ImageView | None = Field(description="done: the image, its new version current")
    error: contract.BatchError | None = Field(
        description="failed: why (`deleted` if it was deleted meanwhile)"
    )


def _progress(step: contract.BatchProgress) -> SseEvent:
    image = view(step.image) if step.image is not None else None
    return "progress", BatchStep(**step.model_dump(exclude={"image"}), image=image)


def _done(summary: contract.BatchSummary) -> SseEvent:
    return "done", summary


async def run_batch(request: web.Request) -> web.StreamResponse:
    """Apply one operation to many photos, one at a time; each photo's progress streams back."""
    body = await read_json(request, BatchBody)
    wanted = contract.BatchRequest(
        session_id=await session_id(request),
        batch_id=body.batch_id,
        image_ids=body.image_ids,
        operation=body.operation,
    )
    return await relay(request, contract.BATCH, wanted, _progress, _done)
