"""Changing an image: operations (sent where ``contracts.registry`` says), undo, redo and revert."""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import web
from pydantic import BaseModel, Field, RootModel

from gateway.http import json_model, read_json
from gateway.idempotency import idempotency_key
from gateway.views.common import cancel_on_disconnect, image_ref, rpc, view
from imagetools_common.contracts import image as contract
from imagetools_common.contracts import registry
from imagetools_common.logs import get_logger

log = get_logger("gateway.operations")

_OPERATION_IDS = uuid.UUID("6f1c8f8e-5d0b-4c55-9a43-3b1b9a1c2f70")


class OperationBody(RootModel[contract.Operation]):
    """One of the operations, chosen by its ``type``."""


class RevertBody(BaseModel):
    version: int = Field(ge=1, le=contract.MAX_VERSION)


async def apply_operation(request: web.Request) -> web.Response:
    """Apply an operation; the result becomes a new current version."""
    body = await read_json(request, OperationBody)
    ref = await image_ref(request)
    apply = contract.ApplyRequest(
        **ref.model_dump(), operation=body.root, idempotency_key=idempotency_key(request)
    )
    route = registry.route(body.root)
    if route.cancellable:
        return await _cancellable(request, route.endpoint, apply)
    return json_model(view(await rpc(request).call(route.endpoint, apply)))


def operation_id(apply: contract.ApplyRequest) -> uuid.UUID:
    """A fresh id, or one derived from the idempotency key so a retried request fingerprints the same."""
    if apply.idempotency_key is None:
        return uuid.uuid4()
    return uuid.uuid5(_OPERATION_IDS, f"{apply.session_id}:{apply.idempotency_key}")


async def _cancellable(
    request: web.Request, endpoint: registry.ApplyEndpoint, apply: contract.ApplyRequest
) -> web.Response:
    """Run a long operation; if the browser goes away first, tell the service to drop it (no version)."""
    named = operation_id(apply)
    apply = apply.model_copy(update={"operation_id": named})
    try:
        async with cancel_on_disconnect(request):
            info = await rpc(request).call(endpoint, apply)
    except asyncio.CancelledError:
        await rpc(request).publish(contract.CANCEL, contract.CancelOperation(operation_id=named))
        log.info("operation abandoned by the browser", operation_id=str(named), type=apply.operation.type)
        raise
    return json_model(view(info))


async def _step(request: web.Request) -> contract.HistoryStep:
    ref = await image_ref(request)
    return contract.HistoryStep(**ref.model_dump(), idempotency_key=idempotency_key(request))


async def undo(request: web.Request) -> web.Response:
    """Step back one version (409 when at the original)."""
    return json_model(view(await rpc(request).call(contract.UNDO, await _step(request))))


async def redo(request: web.Request) -> web.Response:
    """Step forward one version (409 when at the newest)."""
    return json_model(view(await rpc(request).call(contract.REDO, await _step(request))))


async def revert(request: web.Request) -> web.Response:
    """Make any kept version the current one."""
    body = await read_json(request, RevertBody)
    ref = await image_ref(request)
    revert_to = contract.RevertRequest(
        **ref.model_dump(), version=body.version, idempotency_key=idempotency_key(request)
    )
    return json_model(view(await rpc(request).call(contract.REVERT, revert_to)))
