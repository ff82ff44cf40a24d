"""Compression previews: compute one (stopped when its browser leaves), serve its bytes, apply it."""

from __future__ import annotations

import asyncio
import uuid
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, Field

from gateway.http import json_model, read_json
from gateway.idempotency import idempotency_key
from gateway.views.common import cancel_on_disconnect, download, image_ref, rpc, view
from imagetools_common.contracts import image as contract
from imagetools_common.contracts import previews as previews_contract
from imagetools_common.errors import NotFound
from imagetools_common.logs import get_logger

log = get_logger("gateway.previews")


class PreviewBody(BaseModel):
    version: int = Field(
        ge=1,
        le=contract.MAX_VERSION,
        description="The version on screen: 409 once the image moved on",
    )
    compress: contract.CompressOp = Field(
        description="A preset, or custom settings, as for the compress operation"
    )


class PreviewView(previews_contract.PreviewInfo):
    content_url: str = Field(description="The previewed file itself (kept as long as the preview)")


def _view(info: previews_contract.PreviewInfo) -> PreviewView:
    return PreviewView(
        **info.model_dump(), content_url=f"/api/v1/images/{info.image_id}/previews/{info.id}/content"
    )


async def _preview_ref(request: web.Request) -> previews_contract.PreviewRef:
    ref = await image_ref(request)
    try:
        preview_id = UUID(request.match_info["preview_id"])
    except ValueError:
        raise NotFound("no such preview (they are kept for a few minutes): compute it again") from None
    return previews_contract.PreviewRef(
        session_id=ref.session_id, image_id=ref.image_id, preview_id=preview_id
    )


async def create_preview(request: web.Request) -> web.Response:
    """Compute what a compression would make; a browser that leaves (or a newer preview) stops it."""
    body = await read_json(request, PreviewBody)
    ref = await image_ref(request)
    run = uuid.uuid4()
    asked = previews_contract.PreviewRequest(
        **ref.model_dump(), version=body.version, operation=body.compress, operation_id=run
    )
    try:
        async with cancel_on_disconnect(request):
            info = await rpc(request).call(previews_contract.PREVIEW, asked)
    except asyncio.CancelledError:
        await rpc(request).publish(contract.CANCEL, contract.CancelOperation(operation_id=run))
        log.info("preview abandoned by the browser", operation_id=str(run))
        raise
    return json_model(_view(info), status=201)


async def preview_content(request: web.Request) -> web.Response:
    """The previewed bytes; a preview never changes, so they are cached for as long as it lives."""
    header, data = await rpc(request).fetch(previews_contract.PREVIEW_CONTENT, await _preview_ref(request))
    return download(request, header, data, pinned=True)


async def apply_preview(request: web.Request) -> web.Response:
    """The preview's bytes, unchanged, become the image's new version (409 when the image moved on)."""
    ref = await _preview_ref(request)
    apply = previews_contract.PreviewApply(**ref.model_dump(), idempotency_key=idempotency_key(request))
    return json_model(view(await rpc(request).call(previews_contract.PREVIEW_APPLY, apply)))
