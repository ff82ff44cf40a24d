"""Compression previews: the result of a compression, seen before it becomes a version.

- A preview is computed from the version the browser shows (404 if it is gone, 409 if it is no
  longer current), under the same pixel budget as the compression itself, and kept in
  ``images.previews`` for ``PREVIEW_TTL_SECONDS`` so that any replica can serve it and Apply can
  store exactly its bytes (409 when the image moved on meanwhile).
- Preview bytes never hold a location, whatever the session keeps: they are shown in the browser
  and may become a version as they are.
- At most one preview computes per session. A new one stops the one before on this replica at
  once and on the others through ``PREVIEW_STARTED``; ``image.CANCEL`` (the browser went away)
  stops a run by its id. A stopped run ends before its next encode (``compress``'s ``check``), so
  the work really stops, and is never kept.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID, uuid4

from image_service import versions
from image_service.idempotency import keyed_once, replayed
from image_service.images import Images
from image_service.imaging import budget, compress, formats, thumbnail
from image_service.presets import Presets
from image_service.preview_repo import PreviewRepo, PreviewRow
from image_service.records import NewVersion
from image_service.repo import ImageRepo
from imagetools_common import db
from imagetools_common.contracts import image as contract
from imagetools_common.contracts import previews as previews_contract
from imagetools_common.errors import Conflict, NotFound, PayloadTooLarge
from imagetools_common.logs import get_logger
from imagetools_common.rpc import RpcClient

log = get_logger("image_service.previews")

# Long enough to look, compare and decide; short enough that nobody's bytes linger.
PREVIEW_TTL_SECONDS = 600.0
SWEEP_INTERVAL_SECONDS = 60.0


class Stopped(Exception):
    """The run was superseded or cancelled; raised inside the worker thread before an encode."""


@dataclass
class _Run:
    operation_id: UUID
    stop: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        if self.stop.is_set():
            raise Stopped


class Previews:
    """preview, preview_content and preview_apply, and the events that stop runs, for one replica."""

    def __init__(self, repo: ImageRepo, previews: PreviewRepo, images: Images, rpc: RpcClient) -> None:
        self._repo = repo
        self._previews = previews
        self._images = images
        self._presets = Presets(repo.profiles)
        self._rpc = rpc
        self._runs: dict[UUID, _Run] = {}  # by session: the one computing here

    async def preview(self, request: previews_contract.PreviewRequest) -> previews_contract.PreviewInfo:
        session_id, image_id, op = request.session_id, request.image_id, request.operation
        record = await self._repo.get(session_id, image_id)
        if not any(v.number == request.version for v in record.versions):
            raise NotFound(f"version {request.version} of this image is no longer kept")
        if record.current_version != request.version:
            raise Conflict("the image changed since this version was shown: look again and retry")
        settings = op.settings or await self._presets.settings(session_id, op.preset or "")
        source = versions.compression_source(record)
        # The pixel budget, from the parameters alone: refused before any pixel is decoded.
        budget.planned(
            op, source.width, source.height, source.format, self._images.max_pixels, compression=settings
        )
        run = self._start(session_id, request.operation_id or uuid4())
        try:
            await self._rpc.publish(
                previews_contract.PREVIEW_STARTED,
                previews_contract.PreviewStarted(session_id=session_id, operation_id=run.operation_id),
            )
            _, _, data = await self._repo.version_data(session_id, image_id, source.number, "data")
            body, outcome = await self._images.cpu(_computed, data, settings, self._images.max_pixels, run)
        except Stopped:
            raise Conflict("the preview was superseded or cancelled; nothing was kept") from None
        finally:
            if self._runs.get(session_id) is run:
                del self._runs[session_id]
        if run.stop.is_set():  # stopped while the last encode finished: never kept
            raise Conflict("the preview was superseded or cancelled; nothing was kept")
        if len(body) > self._images.max_result:
            raise PayloadTooLarge(
                f"the result would be {len(body) / 1e6:.0f} MB, more than can be stored: "
                "choose a lossy format or smaller dimensions"
            )
        kept = await self._previews.keep(
            session_id, image_id, based_on=record.current_version, preset=op.preset,
            settings=settings.model_dump(mode="json"), outcome=outcome.model_dump(mode="json"), data=body,
        )  # fmt: skip
        log.info("preview computed", image_id=str(image_id), format=outcome.format, bytes=outcome.bytes)
        return _info(kept)

    async def content(self, ref: previews_contract.PreviewRef) -> tuple[contract.ContentHeader, bytes]:
        row, data = await self._previews.get(
            ref.session_id, ref.image_id, ref.preview_id, ttl=PREVIEW_TTL_SECONDS
        )
        record = await self._repo.get(ref.session_id, ref.image_id)
        fmt = row.outcome["format"]
        header = contract.ContentHeader(
            content_type=formats.mime_type(fmt),
            filename=formats.download_name(record.filename, fmt),
            etag=f'"{ref.preview_id}"',
            bytes=len(data),
        )
        return header, data

    async def apply(self, request: previews_contract.PreviewApply) -> contract.ImageInfo:
        """The preview's bytes, unchanged, as the image's new version (409 if it moved on)."""
        once = keyed_once(previews_contract.PREVIEW_APPLY.subject, request)
        if once is not None and (replay := await self._repo.replay(request.session_id, once)):
            return replayed(replay)
        row, data = await self._previews.get(
            request.session_id, request.image_id, request.preview_id, ttl=PREVIEW_TTL_SECONDS
        )
        params = {"preset": row.preset} if row.preset else {}
        version = NewVersion(
            operation="compress", params=params | {"settings": row.settings}, format=row.outcome["format"],
            width=row.outcome["width"], height=row.outcome["height"], data=data,
            thumbnail=await self._images.cpu(thumbnail.of_encoded, data), compression=row.outcome,
        )  # fmt: skip
        return await self._images.store(
            request.session_id, request.image_id, based_on=row.based_on, version=version, once=once,
            remedy="choose a lossy format or smaller dimensions",
        )  # fmt: skip

    # Stopping runs -----------------------------------------------------------------------------

    def _start(self, session_id: UUID, operation_id: UUID) -> _Run:
        """Register the session's new run, stopping the one before it on this replica."""
        if (before := self._runs.get(session_id)) is not None:
            before.stop.set()
        run = self._runs[session_id] = _Run(operation_id)
        return run

    async def on_started(self, event: previews_contract.PreviewStarted) -> None:
        """PREVIEW_STARTED: a newer run of the session (maybe elsewhere) supersedes the one here."""
        run = self._runs.get(event.session_id)
        if run is not None and run.operation_id != event.operation_id:
            log.info("preview superseded", operation_id=str(run.operation_id))
            run.stop.set()

    async def on_cancel(self, event: contract.CancelOperation) -> None:
        """CANCEL: the browser that asked for the run went away."""
        for run in self._runs.values():
            if run.operation_id == event.operation_id:
                log.info("preview cancelled", operation_id=str(run.operation_id))
                run.stop.set()


def _computed(
    data: bytes, settings: contract.CompressionSettings, max_pixels: int, run: _Run
) -> tuple[bytes, contract.CompressionOutcome]:
    """The compression's bytes without any location (CPU-bound, in the worker pool)."""
    body, outcome = compress.compress_data(data, settings, max_pixels=max_pixels, check=run.check)
    run.check()
    private, _ = versions.private(body, outcome.format, keep_location=False)
    return private, outcome.model_copy(update={"bytes": len(private)})


def _info(row: PreviewRow) -> previews_contract.PreviewInfo:
    outcome = contract.CompressionOutcome(**row.outcome)
    return previews_contract.PreviewInfo(
        id=row.id, image_id=row.image_id, based_on=row.based_on, preset=row.preset,
        settings=contract.CompressionSettings(**row.settings), format=outcome.format, width=outcome.width,
        height=outcome.height, bytes=outcome.bytes, quality=outcome.quality, target_met=outcome.target_met,
        **outcome.model_dump(include=set(contract.CompressionCompromises.model_fields)),
        expires_at=row.created_at + timedelta(seconds=PREVIEW_TTL_SECONDS),
    )  # fmt: skip


async def sweep_forever(previews: PreviewRepo) -> None:
    """Delete expired previews every minute; a failed round is logged and retried."""
    while True:
        try:
            if deleted := await previews.sweep(PREVIEW_TTL_SECONDS):
                log.info("expired previews deleted", count=deleted)
        except Exception as error:
            if not db.is_transient(error):
                log.exception("preview sweep failed")
            else:
                log.warning("preview sweep skipped: database unavailable", error=type(error).__name__)
        await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
