"""Background removal: the model list, the long-running operation (cancelled with the browser), masks."""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import web

from gateway import keys
from gateway.http import json_model
from gateway.views.images import (
    _existing_session,
    _image_id,
    _version_param,
    content_disposition,
    view,
)
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.base import Empty
from imagetools_common.logs import get_logger

log = get_logger("gateway.background")

# How often a waiting removal looks whether its browser is still connected.
_DISCONNECT_POLL = 0.25
_OPERATION_IDS = uuid.UUID("6f1c8f8e-5d0b-4c55-9a43-3b1b9a1c2f70")


async def models(request: web.Request) -> web.Response:
    """The installed models, the default, and how long a removal takes on this server."""
    return json_model(await request.app[keys.RPC].call(contract.BACKGROUND_MODELS, Empty()))


async def mask(request: web.Request) -> web.Response:
    """The greyscale mask (PNG, full resolution) a background removal stored with a version."""
    session = await _existing_session(request)
    version = _version_param(request)
    wanted = contract.MaskRequest(session_id=session.id, image_id=_image_id(request), version=version)
    header, data = await request.app[keys.RPC].fetch(contract.MASK, wanted)
    headers = {
        "ETag": header.etag,
        "Cache-Control": "private, max-age=31536000, immutable" if version else "private, no-cache",
        "Content-Disposition": content_disposition(
            "attachment" if request.query.get("download") in ("1", "true") else "inline", header.filename
        ),
    }
    if header.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=data, content_type=header.content_type, headers=headers)


def operation_id(apply: contract.ApplyRequest) -> uuid.UUID:
    """A fresh id, or one derived from the idempotency key so a retried request fingerprints the same."""
    if apply.idempotency_key is None:
        return uuid.uuid4()
    return uuid.uuid5(_OPERATION_IDS, f"{apply.session_id}:{apply.idempotency_key}")


async def remove_background(request: web.Request, apply: contract.ApplyRequest) -> web.Response:
    """Run the removal; if the browser goes away first, tell image-service to drop it (no version)."""
    apply = apply.model_copy(update={"operation_id": operation_id(apply)})
    rpc, nc = request.app[keys.RPC], request.app[keys.NATS_CONNECTION]
    call = asyncio.ensure_future(rpc.call(contract.APPLY, apply, timeout=contract.BACKGROUND_APPLY_TIMEOUT))
    try:
        # aiohttp may or may not cancel a handler whose client left (handler_cancellation): watch too.
        while not call.done():
            await asyncio.wait({call}, timeout=_DISCONNECT_POLL)
            if not call.done() and (request.transport is None or request.transport.is_closing()):
                raise ConnectionResetError
    except (asyncio.CancelledError, ConnectionResetError) as gone:
        call.cancel()
        assert apply.operation_id is not None
        cancel = contract.CancelOperation(operation_id=apply.operation_id)
        await nc.publish(contract.CANCEL_SUBJECT, cancel.model_dump_json().encode())
        log.info("background removal abandoned by the browser", operation_id=str(apply.operation_id))
        if isinstance(gone, asyncio.CancelledError):
            raise
        return web.Response(status=499)  # nginx's "client closed request": nobody reads it
    return json_model(view(call.result()))
