"""Batches: one operation on many photos, one photo at a time per session, progress streamed.

Each photo goes through the very use case a single operation takes (``Images.apply``, or the
background-removal queue), keyed per batch and photo (``batches.photo_key``): a resent batch
replays what was done and a photo is never changed twice. Photos of one session take turns on
this replica (a FIFO lock per session), so a batch puts at most one removal in the replica's
queue, never trips its own queue limit, and delays another session's single operation by at
most the one operation it is running. Cancelling (the stream's cancel) interrupts the photo in
flight before it is stored and starts no other; finished photos stay.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

from image_service.background.service import BackgroundRemoval
from image_service.images import Images
from image_service.presets import settings_of
from image_service.settings import ImageSettings
from imagetools_common.contracts import batches as contract
from imagetools_common.contracts import image, registry
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import DomainError, NotFound, RateLimited, ValidationFailed
from imagetools_common.logs import get_logger
from imagetools_common.rpc.streaming import Emit

log = get_logger("image_service.batches")

_OPERATION_IDS = uuid.UUID("0b5d3f4e-7c1a-4e0b-9d57-2f8a6c1e93b4")
# A removal refused because other sessions filled this replica's queue is tried again this often.
_QUEUE_RETRIES = 5
_LONGEST_QUEUE_WAIT = 30


@dataclass
class _Turns:
    """The photos of one session waiting for, or holding, its one slot on this replica."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class Batches:
    """The ``image.v1.batch`` stream handler."""

    def __init__(
        self,
        images: Images,
        background: BackgroundRemoval,
        settings: ImageSettings,
        changed: Callable[[UUID], Awaitable[None]],
    ) -> None:
        self._images = images
        self._background = background
        self._settings = settings
        # Tells gateways the session's images changed (SESSION_CHANGED), as single operations do.
        self._changed = changed
        self._runs = {image.APPLY: images.apply, image.REMOVE_BACKGROUND: background.apply}
        self._turns: dict[UUID, _Turns] = {}

    async def run(self, request: contract.BatchRequest, emit: Emit) -> contract.BatchSummary:
        await self._check(request)
        done: list[UUID] = []
        failed: list[contract.BatchFailed] = []
        for position, image_id in enumerate(request.image_ids):
            async with self._turn(request.session_id):
                await emit(contract.BatchProgress(image_id=image_id, position=position, state="started"))
                try:
                    info = await self._apply(request, image_id)
                except DomainError as error:
                    reason = _reason(error)
                    failed.append(contract.BatchFailed(image_id=image_id, **reason.model_dump()))
                    await emit(
                        contract.BatchProgress(
                            image_id=image_id, position=position, state="failed", error=reason
                        )
                    )
                    continue
                finally:
                    await self._changed(request.session_id)
                done.append(image_id)
                await emit(
                    contract.BatchProgress(image_id=image_id, position=position, state="done", image=info)
                )
        log.info("batch finished", batch_id=str(request.batch_id), done=len(done), failed=len(failed))
        return contract.BatchSummary(batch_id=request.batch_id, done=done, failed=failed)

    async def _check(self, request: contract.BatchRequest) -> None:
        """Everything that would fail every photo is refused before any photo starts."""
        ids = request.image_ids
        limit = self._settings.max_images_per_session
        if len(ids) > limit:
            raise ValidationFailed(
                f"image_ids: at most {limit} photos (a session holds no more)", details={"field": "image_ids"}
            )
        repeated = [str(i) for i, n in Counter(ids).items() if n > 1]
        if repeated:
            raise ValidationFailed(
                f"image_ids: each photo once; repeated: {', '.join(repeated)}",
                details={"field": "image_ids", "repeated": repeated},
            )
        owned = {i.id for i in (await self._images.list_images(request.session_id)).images}
        missing = [str(i) for i in ids if i not in owned]
        if missing:
            raise NotFound(
                f"no such image in this session: {', '.join(missing)}", details={"image_ids": missing}
            )
        op = request.operation
        if isinstance(op, image.CompressOp) and op.preset is not None:
            settings_of(await self._images.presets(request.session_id), op.preset)
        if isinstance(op, image.RemoveBackgroundOp):
            installed = {m.id for m in (await self._background.models(Empty())).models}  # 503 when none
            if op.model is not None and op.model not in installed:
                offered = ", ".join(sorted(installed))
                raise ValidationFailed(
                    f"model: {op.model!r} is not installed here (installed: {offered})",
                    details={"field": "model"},
                )
            if isinstance(op.background, image.ImageBackground) and op.background.image_id not in owned:
                raise NotFound(
                    "background.image_id: no such image in this session",
                    details={"field": "background.image_id"},
                )

    async def _apply(self, request: contract.BatchRequest, image_id: UUID) -> image.ImageInfo:
        """One photo, through the single operation's own use case and idempotency."""
        op = request.operation
        key = contract.photo_key(request.batch_id, image_id)
        route = registry.route(op)
        operation_id = (
            uuid.uuid5(_OPERATION_IDS, f"{request.session_id}:{key}") if route.cancellable else None
        )
        apply = image.ApplyRequest(
            session_id=request.session_id, image_id=image_id, operation=op,
            idempotency_key=key, operation_id=operation_id,
        )  # fmt: skip
        run = self._runs[route.endpoint]
        attempts = 0
        try:
            while True:
                try:
                    return await run(apply)
                except RateLimited as busy:  # other sessions' removals filled this replica's queue
                    attempts += 1
                    if attempts > _QUEUE_RETRIES:
                        raise
                    await asyncio.sleep(min(_LONGEST_QUEUE_WAIT, int(busy.details.get("retry_after", 1))))
        except asyncio.CancelledError:
            # The batch was cancelled: a removal's worker thread stops at its next stage and its
            # result is never stored; pixel work that cannot be stopped is simply never stored.
            if operation_id is not None:
                await self._background.on_cancel(image.CancelOperation(operation_id=operation_id))
            raise

    @asynccontextmanager
    async def _turn(self, session_id: UUID) -> AsyncIterator[None]:
        """Wait for the session's slot (first come, first served), hold it for one photo."""
        turns = self._turns.setdefault(session_id, _Turns())
        turns.users += 1
        try:
            async with turns.lock:
                yield
        finally:
            turns.users -= 1
            if turns.users == 0:
                del self._turns[session_id]


def _reason(error: DomainError) -> contract.BatchError:
    """Why a photo failed; a photo gone meanwhile (it was there when the batch began) says so."""
    if isinstance(error, NotFound) and "field" not in error.details:
        return contract.BatchError(code="deleted", message="the photo was deleted while the batch ran")
    return contract.BatchError(code=error.code, message=error.message)
