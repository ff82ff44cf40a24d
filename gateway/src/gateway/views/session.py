"""The browser session: its state, ending it, and its UI settings."""

from __future__ import annotations

import contextlib
import re

from aiohttp import web

from gateway import keys
from gateway.cookies import current_session, session_for_write, session_id
from gateway.http import json_model, read_json
from gateway.schemas import UI_KEY_PATTERN, Limits, SessionView, SettingBody, SettingView
from imagetools_common import __version__
from imagetools_common.contracts import image, session
from imagetools_common.errors import NotFound, ValidationFailed

_UI_KEY = re.compile(UI_KEY_PATTERN)


async def get_session(request: web.Request) -> web.Response:
    """The session and its limits; before the visitor stores anything, an inactive one (no dates)."""
    info = await current_session(request)
    settings = request.app[keys.SETTINGS]
    count = 0
    if info is not None:
        count = (await request.app[keys.RPC].call(image.COUNT, session.SessionRef(session_id=info.id))).count
    view = SessionView(
        active=info is not None,
        created_at=info.created_at if info else None,
        expires_at=info.expires_at if info else None,
        image_count=count,
        limits=Limits(
            max_images=settings.max_images_per_session,
            max_upload_mb=settings.max_upload_size_mb,
            expiry_days=settings.session_expiry_days,
        ),
        version=__version__,
    )
    return json_model(view)


async def delete_session(request: web.Request) -> web.Response:
    """End the session now: its images and everything else it owns are deleted with it."""
    info = await current_session(request)
    if info is not None:
        with contextlib.suppress(NotFound):  # ended concurrently: the outcome the caller asked for
            await request.app[keys.RPC].call(session.END, session.SessionRef(session_id=info.id))
    request[keys.CLEAR_SESSION_COOKIE] = True
    return web.Response(status=204)


def _ui_key(request: web.Request) -> str:
    key = request.match_info["key"]
    if not _UI_KEY.fullmatch(key):
        raise ValidationFailed(
            "key: must look like ui.name (lower case, digits, . _ -)", details={"field": "key"}
        )
    return key


async def get_setting(request: web.Request) -> web.Response:
    """A UI preference of this session (null when unset)."""
    key = _ui_key(request)
    found = await request.app[keys.RPC].call(
        session.GET_SETTING, session.SettingRef(session_id=await session_id(request), key=key)
    )
    return json_model(SettingView(key=found.key, value=found.value))


async def put_setting(request: web.Request) -> web.Response:
    """Store a UI preference of this session."""
    key = _ui_key(request)
    body = await read_json(request, SettingBody)
    info = await session_for_write(request)
    stored = await request.app[keys.RPC].call(
        session.PUT_SETTING, session.PutSetting(session_id=info.id, key=key, value=body.value)
    )
    return json_model(SettingView(key=stored.key, value=stored.value))


async def delete_setting(request: web.Request) -> web.Response:
    """Forget a UI preference of this session."""
    key = _ui_key(request)
    ref = session.SettingRef(session_id=await session_id(request), key=key)
    await request.app[keys.RPC].call(session.DELETE_SETTING, ref)
    return web.Response(status=204)
