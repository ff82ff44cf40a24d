"""The background-removal use case: warm models, a bounded queue per replica, cancel, timeout.

- Models are verified and loaded once, at start-up, before the replica announces itself; what
  went wrong (missing or corrupt file) is announced in its micro metadata and answered as 503.
- One removal runs at a time per replica (the engine already uses every thread it has); up to
  BG_QUEUE_SIZE more wait, and beyond that the caller gets 429 with an estimated Retry-After.
- A removal has BG_TIMEOUT_SECONDS from arrival to result (waiting included). A timed-out or
  cancelled one (the CANCEL event: the browser went away) stops at the next stage boundary in its
  worker thread and is never stored.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

from PIL import Image

from image_service.background import models as catalogue
from image_service.background import removal
from image_service.background.models import LoadedModel, ModelState, Timing
from image_service.idempotency import keyed_once, replayed
from image_service.images import Images
from image_service.imaging import budget, metadata, thumbnail
from image_service.imaging.decode import decode
from image_service.imaging.operations import fit_within
from image_service.records import NewVersion
from image_service.repo import ImageRepo
from image_service.settings import ImageSettings
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import (
    Conflict,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    UpstreamTimeout,
    ValidationFailed,
)
from imagetools_common.logs import get_logger

log = get_logger("image_service.background")
T = TypeVar("T")

# Cancels that arrived before (or without) their operation: remembered briefly, by id.
_REMEMBERED_CANCELS = 1000
# The picture start-up measures the pixel work on (a 1 MP photo-like frame).
_CALIBRATION_SIZE = (1152, 864)


class Cancelled(Exception):
    """The operation was called off (browser gone or timeout); raised inside the worker thread."""


@dataclass
class Job:
    """One removal in flight: the worker thread checks ``stop`` between its stages."""

    operation_id: UUID | None
    stop: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        if self.stop.is_set():
            raise Cancelled


class BackgroundRemoval:
    """remove_background, the model list and masks, for one replica."""

    def __init__(self, repo: ImageRepo, settings: ImageSettings, images: Images) -> None:
        self._repo = repo
        self._settings = settings
        # The replica's one worker pool, and the path every new version takes into storage.
        self._cpu = images.cpu
        self._store = images.store
        self._kept_location = images.kept_location
        self._state = ModelState(loaded={}, default=None, problems=["models not loaded yet"])
        self._running = asyncio.Semaphore(1)
        self._admitted = 0
        self._jobs: dict[UUID, Job] = {}
        self._cancelled: OrderedDict[UUID, None] = OrderedDict()
        # Runs beside the worker thread of the one removal in progress (see _cut_out).
        self._side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="background-side")

    def close(self) -> None:
        self._side.shutdown(wait=False, cancel_futures=True)

    # Start-up ----------------------------------------------------------------------------------

    async def start(self) -> dict[str, str]:
        """Verify, load and warm up the models; the metadata to announce on the bus."""
        s = self._settings
        engine = catalogue.EngineSettings(
            s.bg_engine, s.bg_intra_op_threads, s.bg_inter_op_threads, s.bg_cache_dir
        )
        self._state = await self._cpu(catalogue.load_all, s.models_dir, s.bg_model, engine)
        for model in self._state.loaded.values():
            if model.timing is None:
                model.timing = await self._cpu(_warm_up, model)
        await self._cpu(catalogue.release_memory)
        metadata = {"models": ",".join(sorted(self._state.loaded))}
        if self._state.default:
            metadata["model"] = self._state.default
            metadata["engine"] = self._state.loaded[self._state.default].engine
        if self._state.problems:
            metadata["problem"] = "; ".join(self._state.problems)
        log.info("background removal ready" if self._state.default else "background removal unavailable",
                 **metadata)  # fmt: skip
        return metadata

    def _model(self, wanted: str | None) -> LoadedModel:
        if self._state.default is None:
            reason = "; ".join(self._state.problems) or "no model is installed"
            raise ServiceUnavailable(f"background removal is unavailable: {reason}")
        model = self._state.loaded.get(wanted or self._state.default)
        if model is None:
            offered = ", ".join(sorted(self._state.loaded))
            raise ValidationFailed(
                f"model: {wanted!r} is not installed here (installed: {offered})", details={"field": "model"}
            )
        return model

    # Endpoints ---------------------------------------------------------------------------------

    async def models(self, _request: Empty) -> contract.BackgroundModels:
        default = self._model(None)
        timing = default.timing
        return contract.BackgroundModels(
            models=[
                contract.BackgroundModel(id=m.spec.id, label=m.spec.label, default=m is default)
                for m in self._state.loaded.values()
            ],
            default=default.spec.id,
            timing=contract.BackgroundTiming(
                base_seconds=round(timing.model_seconds, 3),
                per_megapixel_seconds=round(timing.per_megapixel_seconds, 3),
            )
            if timing
            else None,
        )

    async def mask(self, request: contract.MaskRequest) -> tuple[contract.ContentHeader, bytes]:
        number, data = await self._repo.mask(request.session_id, request.image_id, request.version)
        header = contract.ContentHeader(
            content_type="image/png",
            filename=f"mask-v{number}.png",
            etag=f'"{request.image_id}-m{number}"',
            bytes=len(data),
        )
        return header, data

    async def on_cancel(self, event: contract.CancelOperation) -> None:
        """The CANCEL event: every replica hears it; the one running (or queueing) the operation stops it."""
        operation_id = event.operation_id
        self._cancelled[operation_id] = None
        while len(self._cancelled) > _REMEMBERED_CANCELS:
            self._cancelled.popitem(last=False)
        job = self._jobs.get(operation_id)
        if job is not None:
            log.info("background removal cancelled", operation_id=str(operation_id))
            job.stop.set()

    async def apply(self, request: contract.ApplyRequest) -> contract.ImageInfo:
        op = request.operation
        assert isinstance(op, contract.RemoveBackgroundOp)
        once = keyed_once(contract.APPLY.subject, request)
        if once is not None and (replay := await self._repo.replay(request.session_id, once)):
            return replayed(replay)
        model = self._model(op.model)
        record = await self._repo.get(request.session_id, request.image_id)
        source = record.current
        # The pixel budget (and WebP's side limit), before the queue and before any pixel work.
        budget.planned(op, source.width, source.height, source.format, self._settings.max_pixels)
        if isinstance(op.background, contract.ImageBackground):
            await self._backdrop_exists(request.session_id, op.background.image_id)
        gps = await self._kept_location(request.session_id, record)
        job = Job(request.operation_id)
        if job.operation_id is not None:
            if job.operation_id in self._cancelled:  # the cancel overtook its request
                log.info("background removal cancelled", operation_id=str(job.operation_id))
                raise Conflict("the operation was cancelled; nothing was changed")
            self._jobs[job.operation_id] = job
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._settings.bg_timeout_seconds):
                version = await self._queued(job, model, source.width * source.height / 1e6, request, gps)
        except TimeoutError:
            job.stop.set()
            seconds = self._settings.bg_timeout_seconds
            raise UpstreamTimeout(
                f"background removal did not finish within {seconds:g} s (BG_TIMEOUT_SECONDS); "
                "nothing was changed"
            ) from None
        except Cancelled:
            raise Conflict("the operation was cancelled; nothing was changed") from None
        finally:
            if job.operation_id is not None:
                self._jobs.pop(job.operation_id, None)
        if job.stop.is_set():  # called off while the last stage finished: never stored
            raise Conflict("the operation was cancelled; nothing was changed")
        log.info("background removed", model=model.spec.id, seconds=round(time.perf_counter() - started, 2))
        return await self._store(
            request.session_id, request.image_id, based_on=record.current_version,
            version=version.cut_from(record.current_version),
            once=once, remedy="choose webp or make the image smaller first",
        )  # fmt: skip

    # Internals ---------------------------------------------------------------------------------

    async def _backdrop_exists(self, session_id: UUID, image_id: UUID) -> None:
        try:
            await self._repo.get(session_id, image_id)
        except NotFound:
            raise NotFound(
                "background.image_id: no such image in this session", details={"field": "background.image_id"}
            ) from None

    def _retry_after(self, model: LoadedModel, megapixels: float) -> int:
        timing = model.timing or Timing(1.0, 0.1)
        each = timing.model_seconds + timing.per_megapixel_seconds * megapixels
        return max(1, math.ceil(each * self._admitted))

    async def _queued(
        self,
        job: Job,
        model: LoadedModel,
        megapixels: float,
        request: contract.ApplyRequest,
        gps: metadata.Location | None,
    ) -> NewVersion:
        """Wait for this replica's single removal slot (or 429), then run in the worker pool."""
        if self._admitted >= 1 + self._settings.bg_queue_size:
            raise RateLimited(
                f"this server is busy removing backgrounds ({self._admitted} in progress or waiting): "
                "try again shortly",
                details={"retry_after": self._retry_after(model, megapixels)},
            )
        self._admitted += 1
        try:
            await self._running.acquire()
        except BaseException:
            self._admitted -= 1
            raise
        try:
            job.check()
            op = request.operation
            assert isinstance(op, contract.RemoveBackgroundOp)
            _, _, data = await self._repo.version_data(request.session_id, request.image_id, None, "data")
            backdrop = None
            if isinstance(op.background, contract.ImageBackground):
                _, _, backdrop = await self._repo.version_data(
                    request.session_id, op.background.image_id, None, "data"
                )
            work = asyncio.ensure_future(self._cpu(self._work, model, op, data, backdrop, job, gps))
        except BaseException:
            self._admitted -= 1
            self._running.release()
            raise

        def finished(_: asyncio.Future[NewVersion]) -> None:
            # The slot is the worker thread's until it really ends, even if its caller gave up.
            self._admitted -= 1
            self._running.release()

        work.add_done_callback(finished)
        return await asyncio.shield(work)

    def _work(
        self,
        model: LoadedModel,
        op: contract.RemoveBackgroundOp,
        data: bytes,
        backdrop_data: bytes | None,
        job: Job,
        gps: metadata.Location | None,
    ) -> NewVersion:
        """Everything CPU-bound, in a worker thread; ``job.check`` between stages."""
        try:
            return self._cut_out(model, op, data, backdrop_data, job, gps)
        finally:
            catalogue.release_memory()

    def _cut_out(
        self,
        model: LoadedModel,
        op: contract.RemoveBackgroundOp,
        data: bytes,
        backdrop_data: bytes | None,
        job: Job,
        gps: metadata.Location | None,
    ) -> NewVersion:
        started = time.perf_counter()
        max_pixels = self._settings.max_pixels
        # A big JPEG: the model runs on its DCT-scaled decode while the other core decodes it in full.
        full = self._side.submit(decode, data, max_pixels=max_pixels)
        predicted = None
        if (small := removal.jpeg_model_input(data, model.input_size, max_pixels)) is not None:
            job.check()
            predicted = removal.predict_mask(model, small, op.post_process_mask)
        decoded = full.result()
        # The output size is chosen before the pixel work: every later stage works on fewer pixels.
        source = fit_within(decoded.image, op.max_edge, op.max_edge)
        backdrop = None
        if backdrop_data is not None:
            backdrop = decode(backdrop_data, max_pixels=max_pixels).image
        job.check()
        cutout = removal.cut_out(model, source, op, backdrop, job.check, predicted)
        job.check()
        # The main encode is single-threaded (Pillow releases the GIL): the other core makes the
        # mask PNG and the thumbnail meanwhile.
        extras = self._side.submit(
            lambda: (removal.encode_mask(cutout.mask), thumbnail.thumbnail(cutout.image))
        )
        body = removal.encode_result(
            cutout.image,
            op.output_format,
            exif=metadata.with_location(decoded.exif, gps),
            icc_profile=decoded.icc_profile,
        )
        mask_png, thumb = extras.result()
        version = NewVersion(
            operation=op.type,
            params=op.model_dump(mode="json", exclude={"type"})
            | {"model": model.spec.id, "format": op.output_format},
            format=op.output_format,
            width=cutout.image.width,
            height=cutout.image.height,
            data=body,
            thumbnail=thumb,
            mask=mask_png,
        )
        if model.timing is not None:
            total = time.perf_counter() - started
            megapixels = source.width * source.height / 1e6
            model.timing.record(cutout.model_seconds, total - cutout.model_seconds, megapixels)
        return version


def _warm_up(model: LoadedModel) -> Timing:
    """The one start-up run: a whole removal of a 1 MP frame, which warms the engine up and gives the
    first timing estimate. A first run is slower than later ones, so the estimate starts pessimistic
    (Retry-After errs long) and real runs pull it down; a second run would cost a replica seconds
    of start-up (5 s per inference on the slowest CPU measured)."""
    picture = Image.radial_gradient("L").resize(_CALIBRATION_SIZE).convert("RGB")
    started = time.perf_counter()
    cutout = removal.cut_out(model, picture, contract.RemoveBackgroundOp(), None, lambda: None)
    removal.encode_result(cutout.image, "png", exif=None, icc_profile=None)
    total = time.perf_counter() - started
    megapixels = picture.width * picture.height / 1e6
    return Timing(cutout.model_seconds, max(0.0, total - cutout.model_seconds) / megapixels)
