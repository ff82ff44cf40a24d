"""The session's devices: listing them, leaving or removing one, and joining from another device."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from uuid import UUID

import segno
from aiohttp import hdrs, web

from gateway import keys
from gateway.cookies import current_session, session_for_write
from gateway.http import json_model, read_json
from gateway.schemas import DeviceListView, DeviceView, JoinBody, JoinOfferView
from gateway.user_agent import device_name
from gateway.views.session import get_session
from imagetools_common.contracts import session
from imagetools_common.errors import Conflict, NotFound

# The app's route for a QR link; the token follows in the fragment, which browsers never send,
# so no access log or proxy ever sees it.
JOIN_PATH = "/join"


async def list_devices(request: web.Request) -> web.Response:
    """The session's devices, this one marked; none before a session exists."""
    info = await current_session(request)
    devices: list[DeviceView] = []
    if info is not None:
        listed = await request.app[keys.RPC].call(session.DEVICES, session.SessionRef(session_id=info.id))
        devices = [DeviceView(**d.model_dump(), current=d.id == info.device_id) for d in listed.devices]
    return json_model(DeviceListView(devices=devices))


async def remove_device(request: web.Request) -> web.Response:
    """Remove a device from the session (this one: leave); its token stops working on every gateway."""
    try:
        device_id = UUID(request.match_info["device_id"])
    except ValueError:
        raise NotFound("no such device in this session") from None
    info = await current_session(request)
    if info is None:
        raise NotFound("no such device in this session")
    await request.app[keys.RPC].call(
        session.REMOVE_DEVICE, session.DeviceRef(session_id=info.id, device_id=device_id)
    )
    if device_id == info.device_id:
        request[keys.CLEAR_SESSION_COOKIE] = True
    return web.Response(status=204)


async def make_join_offer(request: web.Request) -> web.Response:
    """A QR link and a short code that let another device join this session (a new one replaces the last)."""
    info = await session_for_write(request)
    offer = await request.app[keys.RPC].call(
        session.OFFER, session.DeviceRef(session_id=info.id, device_id=info.device_id)
    )
    # The configured public URL, never the Host header: a forged Host must not redirect the link.
    url = f"{request.app[keys.SETTINGS].openrouter_app_url}{JOIN_PATH}#{offer.token}"
    qr = segno.make(url, error="m")
    view = JoinOfferView(
        url=url,
        qr_image=qr.svg_data_uri(scale=6, border=2),
        code=offer.code,
        expires_at=offer.expires_at,
        expires_in=max(0, math.floor((offer.expires_at - datetime.now(UTC)).total_seconds())),
    )
    return json_model(view, status=201)


async def join(request: web.Request) -> web.Response:
    """This browser joins the session of a QR link or short code and gets its own cookie for it."""
    body = await read_json(request, JoinBody)
    current = await current_session(request)
    if current is not None and not body.leave_current:
        raise Conflict("This browser is already in a session: joining another leaves it (leave_current)")
    joined = await request.app[keys.RPC].call(
        session.JOIN,
        session.JoinRequest(
            token=body.token,
            code=body.code,
            device_name=device_name(request.headers.get(hdrs.USER_AGENT, "")),
            leaving=session.DeviceRef(session_id=current.id, device_id=current.device_id)
            if current
            else None,
        ),
    )
    request[keys.NEW_SESSION_TOKEN] = joined.token
    request[keys.SESSION] = joined.session
    return await get_session(request)
