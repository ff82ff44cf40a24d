"""The session cookie: name, flags, and how views find (or, to store something, start) a session."""

from __future__ import annotations

import re
from uuid import UUID

from aiohttp import hdrs, web

from gateway import keys
from gateway.user_agent import device_name
from imagetools_common.contracts import session as contract
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import NotFound

COOKIE_NAME = "imagetools_session"
# The __Host- prefix makes browsers refuse the cookie unless Secure, Path=/ and host-only.
SECURE_COOKIE_NAME = "__Host-imagetools_session"
_PLAUSIBLE = re.compile(r"[A-Za-z0-9_\-]{16,256}")
# Reads by a visitor without a session ask as this id, which no session has: every service
# answers as for an empty session (no images, default settings, 404 for ids) and stores nothing.
NO_SESSION = UUID(int=0)


def cookie_name(https: bool) -> str:
    return SECURE_COOKIE_NAME if https else COOKIE_NAME


def session_token(request: web.Request) -> str | None:
    """The session cookie's value as sent (not yet checked)."""
    return request.cookies.get(cookie_name(request.app[keys.SETTINGS].https)) or None


async def current_session(request: web.Request) -> contract.SessionInfo | None:
    """The request's session, or None (no cookie, or an unknown, expired or malformed one).

    Never creates a session: only ``session_for_write`` does (docs/ARCHITECTURE.md, "Session model").
    A token this replica resolved lately is answered from its cache (see gateway.caches).
    """
    if keys.SESSION in request:
        return request[keys.SESSION]
    token = session_token(request) or ""
    info: contract.SessionInfo | None = None
    if _PLAUSIBLE.fullmatch(token):
        caches = request.app[keys.CACHES]
        info = caches.session(token)
        if info is None:
            ticket = caches.ticket()
            try:
                # The device's name follows its browser (the session's device list shows it).
                name = device_name(request.headers.get(hdrs.USER_AGENT, ""))
                resolve = contract.ResolveRequest(token=token, device_name=name)
                info = await request.app[keys.RPC].call(contract.RESOLVE, resolve)
            except NotFound:
                info = None
            else:
                caches.remember_session(token, info, ticket)
    request[keys.SESSION] = info
    return info


async def session_id(request: web.Request) -> UUID:
    """The id to read or delete with: the session's, or NO_SESSION, which owns nothing."""
    info = await current_session(request)
    return info.id if info is not None else NO_SESSION


async def session_for_write(request: web.Request) -> contract.SessionInfo:
    """The session, created now if there is none: for routes declared ``creates_session`` only.

    Those are unsafe methods (ApiRoute refuses anything else), so a read can never create a row,
    and a new session counts against the client address's RATE_LIMIT_NEW_SESSIONS first.
    """
    route = request.app[keys.API_ROUTES].get(request.match_info.route)
    if route is None or not route.creates_session:
        raise RuntimeError(f"{request.method} {request.path} may not create a session (creates_session)")
    info = await current_session(request)
    if info is None:
        request.app[keys.RATE_LIMITS].admit_new_session(request)
        created = await request.app[keys.RPC].call(contract.CREATE, Empty())
        request[keys.NEW_SESSION_TOKEN] = created.token
        request[keys.SESSION] = info = created.session
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
