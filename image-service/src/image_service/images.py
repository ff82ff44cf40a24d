"""The image use cases: upload, operations, history, content, privacy and presets, over the repo.

Orchestration only: what the versions' pixels become is decided in ``versions`` (pure, run in a
bounded thread pool: Pillow releases the GIL while it computes, so one request's 12 MP encode
never stalls the event loop that answers everyone else), the wire view in ``wire``, keyed
requests in ``idempotency`` and the presets in ``presets``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar
from uuid import UUID

from image_service import versions
from image_service.idempotency import Once, info_or_replay, keyed_once, replayed
from image_service.imaging import budget, formats, metadata
from image_service.presets import Presets
from image_service.records import ImageRecord, NewVersion
from image_service.repo import ImageRepo
from image_service.settings import ImageSettings
from image_service.wire import content_header, to_info
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.session import SessionRef
from imagetools_common.errors import PayloadTooLarge, QuotaExceeded, ValidationFailed
from imagetools_common.logs import get_logger

log = get_logger("image_service")
P = ParamSpec("P")
T = TypeVar("T")


class Images:
    """The image use cases, each a coroutine the handlers register as an endpoint."""

    def __init__(self, repo: ImageRepo, settings: ImageSettings, max_payload: int) -> None:
        self._repo = repo
        self._settings = settings
        self._presets = Presets(repo.profiles)
        self._pool = ThreadPoolExecutor(max_workers=settings.image_workers, thread_name_prefix="pixels")
        # A version must fit back through the bus to be downloaded.
        self._max_result = max_payload - 256 * 1024

    async def cpu(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run pixel work in the bounded worker pool, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, functools.partial(fn, *args, **kwargs)
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def max_pixels(self) -> int:
        return self._settings.max_pixels

    @property
    def max_result(self) -> int:
        """The largest file a version may be: it must fit back through the bus to be downloaded."""
        return self._max_result

    # Upload ------------------------------------------------------------------------------------

    async def upload(self, header: contract.UploadHeader, data: bytes) -> contract.ImageInfo:
        once = keyed_once(contract.UPLOAD.subject, header, data)
        if once is not None and (replay := await self._repo.replay(header.session_id, once)):
            return replayed(replay)  # before the quota check: the first attempt may have filled it
        max_images = self._settings.max_images_per_session
        if await self._repo.count(header.session_id) >= max_images:  # fail fast, before decoding
            raise QuotaExceeded(
                f"this session already holds {max_images} of {max_images} images: delete one to add another",
                details={"max_images": max_images},
            )
        if not data:
            raise ValidationFailed("the file is empty", details={"field": "file"})
        keep_location = await self._repo.preferences.keep_location(header.session_id)
        first, decoded = await self.cpu(versions.working_copy, data, keep_location, self._settings.max_pixels)
        created = await self._repo.create(
            header.session_id,
            filename=formats.sanitize_filename(header.filename),
            original=data,
            original_format=decoded.format.value,
            original_has_location=await self.cpu(metadata.has_location, data),
            first_frame_only=decoded.animated,
            first=first,
            max_images=max_images,
            once=once,
        )
        if isinstance(created, ImageRecord):
            log.info("image uploaded", image_id=str(created.id), format=decoded.format.value, bytes=len(data))
        return info_or_replay(created)

    # Operations --------------------------------------------------------------------------------

    async def apply(self, request: contract.ApplyRequest) -> contract.ImageInfo:
        once = keyed_once(contract.APPLY.subject, request)
        if once is not None and (replay := await self._repo.replay(request.session_id, once)):
            return replayed(replay)  # a retry: no pixel work, the first result
        record = await self._repo.get(request.session_id, request.image_id)
        op = request.operation
        source = record.current
        settings: contract.CompressionSettings | None = None
        if isinstance(op, contract.CompressOp):
            source = versions.compression_source(record)
            settings = op.settings or await self._presets.settings(request.session_id, op.preset or "")
        # The pixel budget, from the parameters alone: refused here, nothing is decoded.
        budget.planned(
            op, source.width, source.height, source.format, self._settings.max_pixels, compression=settings
        )
        _, _, data = await self._repo.version_data(
            request.session_id, request.image_id, source.number, "data"
        )
        current_thumbnail = None
        if isinstance(op, contract.StripMetadataOp):
            _, _, current_thumbnail = await self._repo.version_data(
                request.session_id, request.image_id, source.number, "thumbnail"
            )
        # Stripping wins over keeping: a strip never gets the location back.
        gps = (
            None
            if isinstance(op, contract.StripMetadataOp)
            else await self.kept_location(request.session_id, record)
        )
        version = await self.cpu(
            versions.operated, op, data, source, settings, current_thumbnail, gps, self._settings.max_pixels
        )
        return await self.store(
            request.session_id, request.image_id, based_on=record.current_version, version=version,
            once=once, remedy="choose a lossy format or make the image smaller first",
        )  # fmt: skip

    async def store(
        self,
        session_id: UUID,
        image_id: UUID,
        *,
        based_on: int,
        version: NewVersion,
        once: Once | None,
        remedy: str,
    ) -> contract.ImageInfo:
        """Add a finished version on top of ``based_on`` (every operation ends here).

        A version must fit back through the bus to be downloaded, so a larger one is refused with
        ``remedy``; a keyed repeat is answered with its first reply.
        """
        # Every version passes here: whatever planned it, nothing kept may fail the decode guard later.
        budget.check(budget.Output(version.width, version.height, version.format), self._settings.max_pixels)
        # ... and no version leaves with a location unless the session chose to keep it.
        keep_location = await self._repo.preferences.keep_location(session_id)
        data, located = await self.cpu(versions.private, version.data, version.format, keep_location)
        version = dataclasses.replace(version, data=data, has_location=located)
        if len(version.data) > self._max_result:
            raise PayloadTooLarge(
                f"the result would be {len(version.data) / 1e6:.0f} MB, more than can be stored: {remedy}"
            )
        updated = await self._repo.add_version(
            session_id, image_id, based_on=based_on, version=version,
            keep=self._settings.undo_stack_limit, once=once,
        )  # fmt: skip
        if isinstance(updated, ImageRecord):
            log.info(
                "version added", image_id=str(image_id), operation=version.operation,
                version=updated.current_version,
            )  # fmt: skip
        return info_or_replay(updated)

    async def kept_location(self, session_id: UUID, record: ImageRecord) -> metadata.Location | None:
        """The original's location while the session keeps locations, for the version about to be made.

        Version 1 lost it when keeping was off, so it comes from the original upload, never from
        the source version: switching keeping on after uploading applies to the next edit.
        """
        if not record.original_has_location or not await self._repo.preferences.keep_location(session_id):
            return None
        original = await self._repo.stored(session_id, record.id, None, "original")
        return await self.cpu(metadata.location, original.data)

    async def undo(self, step: contract.HistoryStep) -> contract.ImageInfo:
        once = keyed_once(contract.UNDO.subject, step)
        return info_or_replay(await self._repo.move(step.session_id, step.image_id, step=-1, once=once))

    async def redo(self, step: contract.HistoryStep) -> contract.ImageInfo:
        once = keyed_once(contract.REDO.subject, step)
        return info_or_replay(await self._repo.move(step.session_id, step.image_id, step=+1, once=once))

    async def revert(self, request: contract.RevertRequest) -> contract.ImageInfo:
        once = keyed_once(contract.REVERT.subject, request)
        return info_or_replay(
            await self._repo.move(request.session_id, request.image_id, to=request.version, once=once)
        )

    async def add_version(self, header: contract.AddVersionHeader, data: bytes) -> contract.ImageInfo:
        """A version made elsewhere (an AI edit): decoded and re-encoded here, never stored as sent."""
        gps = await self.kept_location(
            header.session_id, await self._repo.get(header.session_id, header.image_id)
        )
        version = await self.cpu(versions.made_elsewhere, header, data, gps, self._settings.max_pixels)
        return await self.store(
            header.session_id, header.image_id, based_on=header.based_on, version=version, once=None,
            remedy="ask for a smaller image",
        )  # fmt: skip

    # Reading -----------------------------------------------------------------------------------

    async def get(self, ref: contract.ImageRef) -> contract.ImageInfo:
        return to_info(await self._repo.get(ref.session_id, ref.image_id))

    async def list_images(self, session_id: UUID) -> contract.ImageList:
        records = await self._repo.for_session(session_id)
        return contract.ImageList(
            images=[to_info(r) for r in records], max_images=self._settings.max_images_per_session
        )

    async def content(self, request: contract.ContentRequest) -> tuple[contract.ContentHeader, bytes]:
        """A version's bytes, its thumbnail or the original: one query, which is also the session check."""
        stored = await self._repo.stored(request.session_id, request.image_id, request.version, request.kind)
        return content_header(request, stored), stored.data

    async def metadata(self, ref: contract.ImageRef) -> contract.ImageMetadata:
        _, _, data = await self._repo.version_data(ref.session_id, ref.image_id, None, "data")
        return await self.cpu(metadata.read_metadata, data)

    async def delete(self, request: contract.ImageIds) -> contract.Deleted:
        return contract.Deleted(deleted=await self._repo.delete(request.session_id, request.image_ids))

    # Privacy -----------------------------------------------------------------------------------

    async def privacy(self, ref: SessionRef) -> contract.PrivacySettings:
        return contract.PrivacySettings(
            keep_location=await self._repo.preferences.keep_location(ref.session_id)
        )

    async def set_privacy(self, update: contract.PrivacyUpdate) -> contract.PrivacySettings:
        """Change the session's choice; it applies to the versions made from now on."""
        await self._repo.preferences.set_keep_location(update.session_id, update.keep_location)
        log.info("privacy changed", keep_location=update.keep_location)
        return contract.PrivacySettings(keep_location=update.keep_location)

    # Presets and profiles (see presets.Presets) ------------------------------------------------

    async def presets(self, session_id: UUID) -> contract.PresetList:
        return await self._presets.for_session(session_id)

    async def create_profile(self, request: contract.ProfileCreate) -> contract.Preset:
        return await self._presets.create(request)

    async def update_profile(self, request: contract.ProfileUpdate) -> contract.Preset:
        return await self._presets.update(request)

    async def delete_profile(self, ref: contract.ProfileRef) -> contract.PresetList:
        return await self._presets.delete(ref)
