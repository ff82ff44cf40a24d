"""Connecting the session's OpenRouter account. The key stays in oauth-service; none of this sees it."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel

from gateway import keys
from gateway.cookies import current_session, session_for_write, session_id
from gateway.http import json_model
from imagetools_common.contracts import oauth, session
from imagetools_common.contracts.session import DeviceRef, SessionRef
from imagetools_common.errors import ValidationFailed

# RFC 6749 appendix A: codes, states and error names are printable ASCII.
_VSCHARS = re.compile(r"[\x20-\x7e]*")
# Where the browser lands after OpenRouter: always this fixed in-app path, never a caller's URL.
RETURN_PATH = "/"


class ConnectReply(BaseModel):
    authorize_url: str


async def connect(request: web.Request) -> web.Response:
    """Start a connect flow; the browser goes to the returned OpenRouter page."""
    info = await session_for_write(request)
    started = await request.app[keys.RPC].call(oauth.START, SessionRef(session_id=info.id))
    return json_model(ConnectReply(authorize_url=started.authorize_url))


async def status(request: web.Request) -> web.Response:
    """Whether AI calls have a key, whose, and its limits (never the key)."""
    ref = SessionRef(session_id=await session_id(request))
    return json_model(await request.app[keys.RPC].call(oauth.STATUS, ref))


async def disconnect(request: web.Request) -> web.Response:
    """Forget the stored key; the reply links to where it can be revoked at OpenRouter."""
    ref = SessionRef(session_id=await session_id(request))
    return json_model(await request.app[keys.RPC].call(oauth.DISCONNECT, ref))


def _back(outcome: str, reason: str | None = None) -> web.Response:
    """A 303 into the app (returned, not raised, so the middlewares still set the new cookie)."""
    query = {"openrouter": outcome} | ({"reason": reason} if reason else {})
    location = f"{RETURN_PATH}?{urlencode(query)}"
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def _callback_param(request: web.Request, name: str) -> str | None:
    """A callback value as OAuth defines them (printable ASCII), within the contract's length; else 422."""
    value = request.query.get(name, "")
    limit = oauth.CallbackRequest.model_fields[name].metadata[0].max_length
    if len(value) > limit or not _VSCHARS.fullmatch(value):
        raise ValidationFailed(
            f"{name}: at most {limit} printable ASCII characters (RFC 6749)", details={"field": name}
        )
    return value or None


async def oauth_callback(request: web.Request) -> web.Response:
    """OpenRouter sends the browser here; 303 back into the app with the outcome."""
    code, error, state = (_callback_param(request, name) for name in ("code", "error", "state"))
    info = await current_session(request)
    if info is None:
        return _back("failed", "Your session expired during the connection. Please start again.")
    reply = await request.app[keys.RPC].call(
        oauth.CALLBACK, oauth.CallbackRequest(session_id=info.id, code=code, error=error, state=state)
    )
    if not reply.connected:
        return _back("failed", reply.reason)
    # A privilege change: this device gets a new token (its old one dies); other devices keep theirs.
    device = DeviceRef(session_id=info.id, device_id=info.device_id)
    rotated = await request.app[keys.RPC].call(session.ROTATE, device)
    request[keys.NEW_SESSION_TOKEN] = rotated.token
    return _back("connected")
