"""The session cookie: name, flags and the lazy lookup views use."""

from __future__ import annotations

import re

from aiohttp import web

from gateway import keys
from imagetools_common.contracts import session as contract
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import NotFound

COOKIE_NAME = "imagetools_session"
# The __Host- prefix makes browsers refuse the cookie unless Secure, Path=/ and host-only.
SECURE_COOKIE_NAME = "__Host-imagetools_session"
_PLAUSIBLE = re.compile(r"[A-Za-z0-9_\-]{16,256}")


def cookie_name(https: bool) -> str:
    return SECURE_COOKIE_NAME if https else COOKIE_NAME


async def current_session(request: web.Request, *, create: bool = True) -> contract.SessionInfo | None:
    """The request's session; an unknown, expired or malformed cookie silently yields a fresh one."""
    if keys.SESSION in request:
        return request[keys.SESSION]
    settings = request.app[keys.SETTINGS]
    rpc = request.app[keys.RPC]
    token = request.cookies.get(cookie_name(settings.https), "")
    info: contract.SessionInfo | None = None
    if _PLAUSIBLE.fullmatch(token):
        try:
            info = await rpc.call(contract.RESOLVE, contract.ResolveRequest(token=token))
        except NotFound:
            info = None
    if info is None and create:
        created = await rpc.call(contract.CREATE, Empty())
        request[keys.NEW_SESSION_TOKEN] = created.token
        info = created.session
    request[keys.SESSION] = info
    return info


def apply_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Set or clear the cookie on the way out, as the views decided."""
    settings = request.app[keys.SETTINGS]
    name = cookie_name(settings.https)
    if request.get(keys.CLEAR_SESSION_COOKIE):
        response.del_cookie(name, path="/", secure=settings.https, httponly=True, samesite="Lax")
    elif token := request.get(keys.NEW_SESSION_TOKEN):
        response.set_cookie(
            name,
            token,
            max_age=settings.session_expiry_days * 86400,
            path="/",
            secure=settings.https,
            httponly=True,
            samesite="Lax",  # Lax, not Strict: the return from OpenRouter is a cross-site navigation
        )
