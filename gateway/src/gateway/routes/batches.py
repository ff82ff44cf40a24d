"""Batches: one operation on many photos, with progress streamed."""

from __future__ import annotations

from gateway.openapi import ApiRoute
from gateway.ratelimit import OPERATIONS
from gateway.views import batches
from gateway.views.batches import BatchBody, BatchStep
from gateway.views.streams import StreamError
from imagetools_common.contracts.batches import BatchSummary

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute(
        "POST",
        "/api/v1/batches",
        batches.run_batch,
        "Apply one operation to many photos (progress streamed as Server-Sent Events)",
        "images",
        body=BatchBody,
        content_type="text/event-stream",
        events=(("progress", BatchStep), ("done", BatchSummary), ("error", StreamError)),
        errors=(404,),
        description="compress (a preset, a profile or settings), resize, convert, strip_metadata or "
        "remove_background on each photo in turn, one photo at a time per session; each change is its "
        "own version (undo works per photo). Unknown, foreign or repeated ids, and an operation that "
        "would fail every photo, are refused as JSON (404/422) before any photo starts. Then `event: "
        "progress` per photo (`started`, then `done` with the image or `failed` with the reason, "
        "`deleted` for a photo deleted meanwhile) and finally `event: done` with the summary. The same "
        "`batch_id` sent again replays what was done. Aborting the request stops the batch: finished "
        "photos keep their new version, the photo in flight gets none, the rest are not started.",
        limit=OPERATIONS,
    ),
)
