"""The brush use case: check the painted version is still current and brushable, then re-compose it."""

from __future__ import annotations

from image_service.brush import paint
from image_service.brush.repo import BrushRepo
from image_service.idempotency import keyed_once, replayed
from image_service.images import Images
from image_service.imaging import budget
from image_service.repo import ImageRepo
from imagetools_common.contracts import image as contract
from imagetools_common.errors import Conflict, ValidationFailed


class Brush:
    """The BRUSH endpoint: one saved set of strokes becomes one new version (undo takes it back)."""

    def __init__(self, repo: ImageRepo, masks: BrushRepo, images: Images) -> None:
        self._repo = repo
        self._masks = masks
        self._images = images

    async def apply(self, request: contract.ApplyRequest) -> contract.ImageInfo:
        op = request.operation
        assert isinstance(op, contract.BrushOp)
        once = keyed_once(contract.BRUSH.subject, request)
        if once is not None and (replay := await self._repo.replay(request.session_id, once)):
            return replayed(replay)
        record = await self._repo.get(request.session_id, request.image_id)
        if op.version != record.current_version:
            raise Conflict(
                f"version {op.version} was painted on, but version {record.current_version} is current "
                "now: nothing was changed; look again and paint on the current version",
                details={"current_version": record.current_version},
            )
        painted_on = record.current
        cut = await self._masks.cut_out(request.session_id, request.image_id, painted_on.number)
        reason = paint.unavailable(painted_on, cut.source if cut else None)
        if reason is not None or cut is None or cut.source is None:
            raise ValidationFailed(f"version: {reason}", details={"field": "version"})
        max_pixels = self._images.max_pixels
        budget.planned(op, painted_on.width, painted_on.height, painted_on.format, max_pixels)
        _, _, source = await self._repo.version_data(request.session_id, request.image_id, cut.source, "data")
        gps = await self._images.kept_location(request.session_id, record)
        version = await self._images.cpu(
            paint.brushed, op, painted_on, cut.mask, cut.source, source, gps, max_pixels
        )
        return await self._images.store(
            request.session_id, request.image_id, based_on=record.current_version, version=version,
            once=once, remedy="choose webp or make the image smaller first",
        )  # fmt: skip
