"""Background removal: the model list and the masks (the removal itself is an operation)."""

from __future__ import annotations

from aiohttp import web

from gateway.http import json_model
from gateway.views.common import download, existing_session, image_id, rpc, version_param
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.base import Empty


async def models(request: web.Request) -> web.Response:
    """The installed models, the default, and how long a removal takes on this server."""
    return json_model(await rpc(request).call(contract.BACKGROUND_MODELS, Empty()))


async def mask(request: web.Request) -> web.Response:
    """The greyscale mask (PNG, full resolution) a background removal stored with a version."""
    session = await existing_session(request)
    version = version_param(request)
    wanted = contract.MaskRequest(session_id=session.id, image_id=image_id(request), version=version)
    header, data = await rpc(request).fetch(contract.MASK, wanted)
    return download(request, header, data, pinned=version is not None)
