"""Compression presets (system ones with the session's overrides) and the session's profiles."""

from __future__ import annotations

from aiohttp import web

from gateway.cookies import session_for_write, session_id
from gateway.http import json_model, read_json
from gateway.views.common import rpc
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.session import SessionRef
from imagetools_common.errors import NotFound


async def presets(request: web.Request) -> web.Response:
    """System presets (with this session's overrides) and the session's own profiles."""
    return json_model(
        await rpc(request).call(contract.PRESETS, SessionRef(session_id=await session_id(request)))
    )


def _profile_id(request: web.Request) -> str:
    """The profile the URL names; one no profile can have (over 64 characters, or holding NUL, which
    PostgreSQL text cannot store) is a 404 here rather than a database error."""
    profile_id = request.match_info["profile_id"]
    if len(profile_id) > contract.MAX_PROFILE_ID or "\x00" in profile_id:
        raise NotFound("no such profile")
    return profile_id


async def create_profile(request: web.Request) -> web.Response:
    """Save a custom compression profile."""
    body = await read_json(request, contract.ProfileBody)
    session = await session_for_write(request)
    created = await rpc(request).call(
        contract.PROFILE_CREATE, contract.ProfileCreate(session_id=session.id, profile=body)
    )
    return json_model(created, status=201)


async def update_profile(request: web.Request) -> web.Response:
    """Edit a profile, or override a system preset (email, web, web_hq) for this session."""
    body = await read_json(request, contract.ProfileBody)
    session = await session_for_write(request)
    update = contract.ProfileUpdate(session_id=session.id, profile_id=_profile_id(request), profile=body)
    return json_model(await rpc(request).call(contract.PROFILE_UPDATE, update))


async def delete_profile(request: web.Request) -> web.Response:
    """Delete a profile, or reset an overridden system preset."""
    ref = contract.ProfileRef(session_id=await session_id(request), profile_id=_profile_id(request))
    return json_model(await rpc(request).call(contract.PROFILE_DELETE, ref))
