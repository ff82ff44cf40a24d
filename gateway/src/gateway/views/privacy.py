"""Privacy: whether edited copies keep the location (image-service owns and applies the choice)."""

from __future__ import annotations

from aiohttp import web

from gateway import keys
from gateway.cookies import session_for_write, session_id
from gateway.http import json_model, read_json
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.session import SessionRef


async def get_privacy(request: web.Request) -> web.Response:
    """This session's choice (the default, off, for a visitor who has stored nothing yet)."""
    ref = SessionRef(session_id=await session_id(request))
    return json_model(await request.app[keys.RPC].call(contract.PRIVACY, ref))


async def put_privacy(request: web.Request) -> web.Response:
    """Change it; versions made from now on follow it, those already made stay as they are."""
    body = await read_json(request, contract.PrivacySettings)
    session = await session_for_write(request)
    update = contract.PrivacyUpdate(session_id=session.id, keep_location=body.keep_location)
    return json_model(await request.app[keys.RPC].call(contract.PRIVACY_SET, update))
