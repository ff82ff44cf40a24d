"""What image-service does, in terms of the imaging core and the repo.

Pixel work runs in a bounded thread pool (Pillow releases the GIL while it computes), so one
request's 12 MP encode never stalls the event loop that answers everyone else.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from PIL import Image

from image_service.imaging import budget, compress, encode, formats, metadata, operations, thumbnail
from image_service.imaging.decode import Decoded, decode, open_image
from image_service.repo import ImageRecord, ImageRepo, NewVersion, Once, Replay, VersionRow
from image_service.settings import ImageSettings
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.session import SessionRef
from imagetools_common.errors import NotFound, PayloadTooLarge, QuotaExceeded, ValidationFailed
from imagetools_common.logs import get_logger

log = get_logger("image_service")
P = ParamSpec("P")
T = TypeVar("T")

# Formats every browser shows: an upload in one of these with upright pixels is its own working copy.
_BROWSER_FORMATS = {contract.ImageFormat.JPEG, contract.ImageFormat.PNG, contract.ImageFormat.WEBP,
                    contract.ImageFormat.GIF, contract.ImageFormat.AVIF}  # fmt: skip
ORIGINAL_VERSION = 1


def to_info(record: ImageRecord) -> contract.ImageInfo:
    """The wire view of an image and its history."""
    versions = [_version_info(v) for v in record.versions]
    current = next(v for v in versions if v.number == record.current_version)
    return contract.ImageInfo(
        id=record.id,
        filename=record.filename,
        download_name=formats.download_name(record.filename, current.format),
        created_at=record.created_at,
        current=current,
        versions=versions,
        can_undo=any(v.number < record.current_version for v in versions),
        can_redo=any(v.number > record.current_version for v in versions),
        first_frame_only=record.first_frame_only,
        original_bytes=record.original_bytes,
        original_has_location=record.original_has_location,
    )


def _version_info(v: VersionRow) -> contract.VersionInfo:
    return contract.VersionInfo(
        number=v.number,
        operation=v.operation,
        params=v.params,
        format=contract.ImageFormat(v.format),
        width=v.width,
        height=v.height,
        bytes=v.bytes,
        created_at=v.created_at,
        compression=contract.CompressionOutcome(**v.compression) if v.compression else None,
        has_location=v.has_location,
    )


class Images:
    """The image use cases: upload, operations, history, content, presets."""

    def __init__(self, repo: ImageRepo, settings: ImageSettings, max_payload: int) -> None:
        self._repo = repo
        self._settings = settings
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
        keep_location = await self._repo.keep_location(header.session_id)
        first, decoded = await self.cpu(self._working_copy, data, keep_location)
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
        if isinstance(created, Replay):
            return replayed(created)
        log.info("image uploaded", image_id=str(created.id), format=decoded.format.value, bytes=len(data))
        return to_info(created)

    def _working_copy(self, data: bytes, keep_location: bool) -> tuple[NewVersion, Decoded]:
        """Version 1: the upload (less its location) when a browser can show it, else an upright re-encode.

        The upload itself is kept apart, byte for byte, as the original.
        """
        decoded = decode(data, max_pixels=self._settings.max_pixels)
        as_is = decoded.format in _BROWSER_FORMATS and not decoded.animated and not decoded.reoriented
        body, located = data, False
        if as_is:
            try:
                body, located = private(data, decoded.format.value, keep_location)
            except ValidationFailed:  # a container the lossless strip cannot edit: re-encode instead
                as_is = False
        if as_is:
            version_format = decoded.format.value
        else:
            lossless = decoded.has_alpha or decoded.format == "png"
            # A strip wider than JPEG allows (a TIFF panorama) is kept losslessly instead.
            target: contract.OutputFormat = (
                "png" if lossless or not budget.fits("jpeg", decoded.width, decoded.height) else "jpeg"
            )
            body = encode.encode(
                decoded.image, target, quality=None if decoded.format == contract.ImageFormat.JPEG else 92,
                exif=decoded.exif, icc_profile=decoded.icc_profile, like=decoded,
            )  # fmt: skip
            version_format = target
            body, located = private(body, version_format, keep_location)
        version = NewVersion(
            operation="upload",
            params={"format": decoded.format.value},
            format=version_format,
            width=decoded.width,
            height=decoded.height,
            data=body,
            thumbnail=thumbnail.thumbnail(decoded.image),
            has_location=located,
        )
        return version, decoded

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
            # Never compound loss: compress from the newest version not itself made by compression.
            source = next(
                (
                    v
                    for v in reversed(record.versions)
                    if v.number <= record.current_version and v.operation != "compress"
                ),
                record.versions[0],
            )
            settings = op.settings or await self._preset_settings(request.session_id, op.preset or "")
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
        version = await self.cpu(self._run, op, data, source, settings, current_thumbnail, gps)
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
        keep_location = await self._repo.keep_location(session_id)
        data, located = await self.cpu(private, version.data, version.format, keep_location)
        version = dataclasses.replace(version, data=data, has_location=located)
        if len(version.data) > self._max_result:
            raise PayloadTooLarge(
                f"the result would be {len(version.data) / 1e6:.0f} MB, more than can be stored: {remedy}"
            )
        updated = await self._repo.add_version(
            session_id, image_id, based_on=based_on, version=version,
            keep=self._settings.undo_stack_limit, once=once,
        )  # fmt: skip
        if isinstance(updated, Replay):
            return replayed(updated)
        log.info(
            "version added", image_id=str(image_id), operation=version.operation,
            version=updated.current_version,
        )  # fmt: skip
        return to_info(updated)

    def _run(
        self,
        op: contract.Operation,
        data: bytes,
        source: VersionRow,
        settings: contract.CompressionSettings | None,
        current_thumbnail: bytes | None,
        gps: metadata.Location | None,
    ) -> NewVersion:
        """One operation on one version's bytes, entirely in a worker thread; ``gps`` goes into its EXIF."""
        params = op.model_dump(exclude={"type"}, exclude_none=True)
        if isinstance(op, contract.StripMetadataOp):
            stripped = metadata.strip(data, contract.ImageFormat(source.format), op.what)
            assert current_thumbnail is not None
            return NewVersion(
                op.type, params, source.format, source.width, source.height, stripped, current_thumbnail
            )
        compression = None
        fmt: contract.OutputFormat
        if isinstance(op, contract.CompressOp):
            assert settings is not None
            params["settings"] = settings.model_dump()
            # Decoded straight to the settings' box: a 12 MP photo is never expanded in full.
            body, outcome = compress.compress_data(
                data, settings, max_pixels=self._settings.max_pixels, gps=gps
            )
            fmt, compression = outcome.format, outcome.model_dump()
            # The thumbnail shows the compressed result itself (small by now), artefacts and all.
            shown = decode(body, max_pixels=self._settings.max_pixels).image
        else:
            decoded = decode(data, max_pixels=self._settings.max_pixels)
            exif = metadata.with_location(decoded.exif, gps)
            if isinstance(op, contract.ConvertOp):
                fmt, shown = op.format, decoded.image
                body = encode.encode(
                    shown, fmt, quality=op.quality, exif=exif, icc_profile=decoded.icc_profile,
                    like=decoded if fmt == decoded.format.value else None, background=op.background,
                )  # fmt: skip
            else:
                fmt, shown = budget.editable_format(source.format), _transform(decoded.image, op)
                # Geometry keeps the source's own quality (its JPEG tables), not an arbitrary one.
                body = encode.encode(shown, fmt, exif=exif, icc_profile=decoded.icc_profile, like=decoded)
        return NewVersion(
            operation=op.type,
            params=params,
            format=fmt,
            width=shown.width,
            height=shown.height,
            data=body,
            thumbnail=thumbnail.thumbnail(shown),
            compression=compression,
        )

    async def kept_location(self, session_id: UUID, record: ImageRecord) -> metadata.Location | None:
        """The original's location while the session keeps locations, for the version about to be made.

        Version 1 lost it when keeping was off, so it comes from the original upload, never from
        the source version: switching keeping on after uploading applies to the next edit.
        """
        if not record.original_has_location or not await self._repo.keep_location(session_id):
            return None
        _, original = await self._repo.original(session_id, record.id)
        return await self.cpu(metadata.location, original)

    async def undo(self, step: contract.HistoryStep) -> contract.ImageInfo:
        once = keyed_once(contract.UNDO.subject, step)
        return _moved(await self._repo.move(step.session_id, step.image_id, step=-1, once=once))

    async def redo(self, step: contract.HistoryStep) -> contract.ImageInfo:
        once = keyed_once(contract.REDO.subject, step)
        return _moved(await self._repo.move(step.session_id, step.image_id, step=+1, once=once))

    async def revert(self, request: contract.RevertRequest) -> contract.ImageInfo:
        once = keyed_once(contract.REVERT.subject, request)
        return _moved(
            await self._repo.move(request.session_id, request.image_id, to=request.version, once=once)
        )

    async def add_version(self, header: contract.AddVersionHeader, data: bytes) -> contract.ImageInfo:
        """A version made elsewhere (an AI edit): decoded and re-encoded here, never stored as sent."""
        gps = await self.kept_location(
            header.session_id, await self._repo.get(header.session_id, header.image_id)
        )
        version = await self.cpu(self._made_elsewhere, header, data, gps)
        return await self.store(
            header.session_id, header.image_id, based_on=header.based_on, version=version, once=None,
            remedy="ask for a smaller image",
        )  # fmt: skip

    def _made_elsewhere(
        self, header: contract.AddVersionHeader, data: bytes, gps: metadata.Location | None
    ) -> NewVersion:
        max_pixels = self._settings.max_pixels
        header_only = open_image(data, max_pixels=max_pixels)
        # Re-encoding drops whatever else the bytes carried (metadata, trailing data, polyglots);
        # the only metadata written is the original's location, when the session keeps it.
        fmt: contract.OutputFormat = "png"
        if header_only.format in ("JPEG", "MPO", "WEBP"):
            fmt = "webp" if header_only.format == "WEBP" else "jpeg"
        # The budget on the header's size (a model may upscale), before any pixel is decoded.
        budget.check(budget.Output(*header_only.size, fmt), max_pixels)
        decoded = decode(data, max_pixels=max_pixels)
        exif = metadata.with_location(None, gps)
        body = encode.encode(decoded.image, fmt, quality=92 if fmt != "png" else None, exif=exif)
        return NewVersion(
            operation=header.operation, params=dict(header.params), format=fmt, width=decoded.width,
            height=decoded.height, data=body, thumbnail=thumbnail.thumbnail(decoded.image),
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
        if request.kind == "original":
            record = await self._repo.get(request.session_id, request.image_id)
            fmt, data = await self._repo.original(request.session_id, request.image_id)
            name, etag = record.filename, f'"{request.image_id}-original"'
        else:
            column = "thumbnail" if request.kind == "thumbnail" else "data"
            number, fmt, data = await self._repo.version_data(
                request.session_id, request.image_id, request.version, column
            )
            record = await self._repo.get(request.session_id, request.image_id)
            if column == "thumbnail":
                fmt, etag = "webp", f'"{request.image_id}-t{number}"'
            else:
                etag = f'"{request.image_id}-v{number}"'
            name = formats.download_name(record.filename, contract.ImageFormat(fmt))
        header = contract.ContentHeader(
            content_type=formats.mime_type(contract.ImageFormat(fmt)),
            filename=name,
            etag=etag,
            bytes=len(data),
        )
        return header, data

    async def metadata(self, ref: contract.ImageRef) -> contract.ImageMetadata:
        _, _, data = await self._repo.version_data(ref.session_id, ref.image_id, None, "data")
        return await self.cpu(metadata.read_metadata, data)

    async def delete(self, request: contract.ImageIds) -> contract.Deleted:
        return contract.Deleted(deleted=await self._repo.delete(request.session_id, request.image_ids))

    # Privacy -----------------------------------------------------------------------------------

    async def privacy(self, ref: SessionRef) -> contract.PrivacySettings:
        return contract.PrivacySettings(keep_location=await self._repo.keep_location(ref.session_id))

    async def set_privacy(self, update: contract.PrivacyUpdate) -> contract.PrivacySettings:
        """Change the session's choice; it applies to the versions made from now on."""
        await self._repo.set_keep_location(update.session_id, update.keep_location)
        log.info("privacy changed", keep_location=update.keep_location)
        return contract.PrivacySettings(keep_location=update.keep_location)

    # Presets and profiles ----------------------------------------------------------------------

    async def presets(self, session_id: UUID) -> contract.PresetList:
        rows = {r["id"]: r for r in await self._repo.profiles(session_id)}
        presets = []
        for preset_id, (name, settings) in compress.SYSTEM_PRESETS.items():
            row = rows.pop(preset_id, None)
            presets.append(
                contract.Preset(
                    id=preset_id, name=row["name"] if row else name, system=True, overridden=row is not None,
                    settings=contract.CompressionSettings(**row["settings"]) if row else settings,
                )
            )  # fmt: skip
        presets += [
            contract.Preset(
                id=r["id"],
                name=r["name"],
                settings=contract.CompressionSettings(**r["settings"]),
                system=False,
            )
            for r in rows.values()
        ]
        return contract.PresetList(presets=presets)

    async def _preset_settings(self, session_id: UUID, preset_id: str) -> contract.CompressionSettings:
        for preset in (await self.presets(session_id)).presets:
            if preset.id == preset_id:
                return preset.settings
        raise ValidationFailed(
            f"preset: no preset or profile called {preset_id!r}", details={"field": "preset"}
        )

    async def create_profile(self, request: contract.ProfileCreate) -> contract.Preset:
        profile_id = str(uuid.uuid4())
        body = request.profile
        await self._repo.save_profile(request.session_id, profile_id, body.name, body.settings.model_dump())
        return contract.Preset(id=profile_id, name=body.name, settings=body.settings, system=False)

    async def update_profile(self, request: contract.ProfileUpdate) -> contract.Preset:
        system = request.profile_id in compress.SYSTEM_PRESETS
        if not system and await self._repo.profile(request.session_id, request.profile_id) is None:
            raise NotFound("no such profile")
        body = request.profile
        await self._repo.save_profile(
            request.session_id, request.profile_id, body.name, body.settings.model_dump()
        )
        return contract.Preset(
            id=request.profile_id, name=body.name, settings=body.settings, system=system, overridden=system
        )

    async def delete_profile(self, ref: contract.ProfileRef) -> contract.PresetList:
        """Delete a profile, or reset a system preset to its defaults."""
        removed = await self._repo.delete_profile(ref.session_id, ref.profile_id)
        if not removed and ref.profile_id not in compress.SYSTEM_PRESETS:
            raise NotFound("no such profile")
        return await self.presets(ref.session_id)


def private(data: bytes, fmt: str, keep_location: bool) -> tuple[bytes, bool]:
    """The bytes without their location unless the session keeps it, and whether one is left.

    The location goes losslessly (the container is edited, pixels untouched), on every path:
    EXIF GPS directories and XMP GPS properties alike.
    """
    located = metadata.has_location(data)
    if located and not keep_location:
        return metadata.strip(data, contract.ImageFormat(fmt), "gps"), False
    return data, located


def keyed_once(subject: str, request: contract.Keyed, body: bytes = b"") -> Once | None:
    """The idempotency record of a keyed request (None without a key).

    The fingerprint covers the endpoint, the request without its key and any body, so reusing a
    key for a different request is refused instead of answered with an unrelated reply.
    """
    if request.idempotency_key is None:
        return None
    digest = hashlib.sha256(subject.encode())
    digest.update(request.model_dump_json(exclude={"idempotency_key"}).encode())
    digest.update(hashlib.sha256(body).digest())
    return Once(
        key=request.idempotency_key,
        fingerprint=digest.hexdigest(),
        render=lambda record: to_info(record).model_dump(mode="json"),
    )


def replayed(replay: Replay) -> contract.ImageInfo:
    return contract.ImageInfo.model_validate(replay.reply)


def _moved(result: ImageRecord | Replay) -> contract.ImageInfo:
    return replayed(result) if isinstance(result, Replay) else to_info(result)


def _transform(image: Image.Image, op: Any) -> Image.Image:
    if isinstance(op, contract.ResizeOp):
        return operations.resize(image, op)
    if isinstance(op, contract.RotateOp):
        return operations.rotate(image, op)
    if isinstance(op, contract.FlipOp):
        return operations.flip(image, op)
    if isinstance(op, contract.CropOp):
        return operations.crop(image, op)
    raise ValidationFailed(f"type: unknown operation {op.type!r}", details={"field": "type"})
