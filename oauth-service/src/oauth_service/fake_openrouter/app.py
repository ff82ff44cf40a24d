"""The fake OpenRouter as an aiohttp application: ``create_fake(state)``.

Routes, with the shapes of openrouter.ai: ``GET /auth`` (the approve page) with ``/auth/approve``
and ``/auth/deny``, ``POST /api/v1/auth/keys``, ``GET /api/v1/key``, ``GET /api/v1/models`` and
``POST /api/v1/chat/completions``. For demos: ``POST /_fake/mode`` and ``GET /_fake/requests``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from aiohttp import web
from yarl import URL

from oauth_service.fake_openrouter.catalogue import filter_models
from oauth_service.fake_openrouter.chat import chat_completions
from oauth_service.fake_openrouter.state import (
    RECORD,
    RELEASE,
    STATE,
    ApiKey,
    FakeState,
    Mode,
    OpenRouterError,
    RecordedRequest,
    mask,
)

# Room for a conversation carrying a large base64 image; aiohttp's default of 1 MiB is too small.
MAX_BODY = 32 * 1024 * 1024
# OpenRouter accepts https callbacks, and plain http only on localhost / 127.0.0.1 (any port).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
LONG_TEXT = 200  # /_fake/requests shortens longer strings (base64 images) to keep it readable

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        "<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}"
        "a{display:inline-block;margin-right:1rem;padding:.5rem 1.25rem;border:1px solid;"
        "border-radius:.4rem;text-decoration:none}</style></head>"
        f"<body>{body}</body></html>"
    )


def _bad_authorize(reason: str) -> web.HTTPBadRequest:
    html = _page("Authorization failed", f"<h1>Authorization failed</h1><p>{escape(reason)}</p>")
    return web.HTTPBadRequest(text=html, content_type="text/html", headers=PAGE_HEADERS)


def _authorize_params(request: web.Request) -> tuple[URL, str]:
    """The callback and challenge of an authorize request, or the 400 page for a bad one."""
    callback = request.query.get("callback_url", "")
    challenge = request.query.get("code_challenge", "")
    if not callback:
        raise _bad_authorize("callback_url is required (the fake has no headless mode).")
    url = URL(callback)
    if not (url.scheme == "https" and url.host) and not (url.scheme == "http" and url.host in LOCAL_HOSTS):
        raise _bad_authorize("callback_url must be https, or http on localhost or 127.0.0.1.")
    if not challenge:
        raise _bad_authorize("code_challenge is required.")
    # OpenRouter also accepts `plain`; the fake refuses it so a client that falls back to it fails.
    if request.query.get("code_challenge_method") != "S256":
        raise _bad_authorize("code_challenge_method must be S256.")
    return url, challenge


def _approve(request: web.Request) -> web.HTTPFound:
    callback, challenge = _authorize_params(request)
    code = request.app[STATE].issue_code(challenge, str(callback))
    params = {"code": code}
    if "state" in request.query:
        params["state"] = request.query["state"]
    return web.HTTPFound(callback.extend_query(params))


async def authorize(request: web.Request) -> web.Response:
    """The approval screen (or, with ``auto_approve``, the approval itself)."""
    callback, _ = _authorize_params(request)
    if request.app[STATE].auto_approve:
        raise _approve(request)
    # OpenRouter names localhost apps by host and port; elsewhere by `key_label` or the host.
    app_name = request.query.get("key_label") or callback.authority
    query = request.query_string
    body = (
        f"<h1>Authorize {escape(app_name)}</h1>"
        f"<p>{escape(app_name)} wants an API key for your (fake) OpenRouter account.</p>"
        f'<p><a href="/auth/approve?{escape(query)}">Approve</a>'
        f'<a href="/auth/deny?{escape(query)}">Deny</a></p>'
    )
    return web.Response(text=_page("Fake OpenRouter", body), content_type="text/html", headers=PAGE_HEADERS)


async def approve(request: web.Request) -> web.Response:
    """Issue a code bound to the challenge and send the browser back with it (and ``state``)."""
    raise _approve(request)


async def deny(request: web.Request) -> web.Response:
    """Send the browser back with ``error=access_denied``; OpenRouter drops ``state`` on denial."""
    callback, _ = _authorize_params(request)
    raise web.HTTPFound(callback.extend_query(error="access_denied"))


async def exchange(request: web.Request) -> web.Response:
    """``POST /api/v1/auth/keys``: a code and its verifier for a new key."""
    body = request[RECORD].body
    if not isinstance(body, dict) or not isinstance(body.get("code"), str) or not body["code"]:
        raise OpenRouterError(400, "Invalid request: `code` is required")
    verifier, method = body.get("code_verifier"), body.get("code_challenge_method")
    api_key = request.app[STATE].exchange(
        body["code"],
        verifier if isinstance(verifier, str) else None,
        method if isinstance(method, str) else None,
    )
    return web.json_response({"key": api_key.key, "user_id": api_key.user_id})


def _key_data(api_key: ApiKey) -> dict[str, Any]:
    """``data`` of ``GET /api/v1/key``; the fake keeps one usage total, so every period shows it."""
    return {
        "label": api_key.label,
        "limit": api_key.limit,
        "limit_reset": None,
        "limit_remaining": api_key.limit_remaining,
        "include_byok_in_limit": False,
        "usage": api_key.usage,
        "usage_daily": api_key.usage,
        "usage_weekly": api_key.usage,
        "usage_monthly": api_key.usage,
        "byok_usage": 0,
        "byok_usage_daily": 0,
        "byok_usage_weekly": 0,
        "byok_usage_monthly": 0,
        "is_free_tier": False,
        "is_management_key": False,
        "is_provisioning_key": False,
        "free_model_daily_requests": {"used": 0, "limit": 1000, "remaining": 1000},
        "rate_limit": {
            "requests": -1,
            "interval": "10s",
            "note": "This field is deprecated and safe to ignore.",
        },
        "expires_at": None,
        "creator_user_id": api_key.user_id,
    }


async def key_info(request: web.Request) -> web.Response:
    """``GET /api/v1/key``: what the Bearer key may still spend; 401 once it is revoked."""
    state = request.app[STATE]
    api_key = state.key_for(request.headers.get("Authorization"))
    if state.take_mode(frozenset({Mode.UNAUTHORIZED})) is Mode.UNAUTHORIZED:
        raise OpenRouterError(401, "User not found.")
    return web.json_response({"data": _key_data(api_key)})


async def models(request: web.Request) -> web.Response:
    """``GET /api/v1/models``, public as at OpenRouter, filtered by modality."""
    query = request.query
    return web.json_response(
        {"data": filter_models(query.get("output_modalities"), query.get("input_modalities"))}
    )


async def set_mode(request: web.Request) -> web.Response:
    """``POST /_fake/mode {"mode": "429", "times": 1}``: how the next requests fail."""
    try:
        body = await request.json()
        mode = Mode(str(body["mode"]))
        times = body.get("times")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError("times must be a positive integer")
    except (ValueError, TypeError, KeyError):
        modes = [m.value for m in Mode]
        return web.json_response({"error": {"code": 400, "message": f"Send {{'mode': one of {modes}}}"}},
                                 status=400)  # fmt: skip
    request.app[STATE].set_mode(mode, times)
    return web.json_response({"mode": mode.value, "times": times})


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return f"{value[:80]}…({len(value)} chars)"
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    return value


async def recorded(request: web.Request) -> web.Response:
    """``GET /_fake/requests``: the API calls so far, keys masked and images shortened."""
    return web.json_response({"requests": [
        {"method": r.method, "path": r.path, "query": r.query, "headers": r.headers,
         "key": r.key and mask(r.key), "body": _shorten(r.body), "aborted": r.aborted}
        for r in request.app[STATE].requests
    ]})  # fmt: skip


@web.middleware
async def api_calls(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record every ``/api/`` call and answer its errors in OpenRouter's JSON error shape."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None  # the handler answers 400 for a body that is not the JSON it needs
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        record = RecordedRequest(request.method, request.path, dict(request.query), headers,
                                 token.strip() if scheme.lower() == "bearer" else None, body)  # fmt: skip
        request[RECORD] = record
        request.app[STATE].requests.append(record)
        return await handler(request)
    except OpenRouterError as error:
        return web.json_response(error.body(), status=error.status, headers=error.headers)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return web.json_response(OpenRouterError(error.status, error.reason).body(), status=error.status)


async def _release_stalls(app: web.Application) -> None:
    app[RELEASE].set()


def create_fake(state: FakeState | None = None) -> web.Application:
    """A fake OpenRouter on whatever ``state`` the caller holds (a fresh one by default)."""
    app = web.Application(client_max_size=MAX_BODY, middlewares=[api_calls])
    app[STATE] = state if state is not None else FakeState()
    app[RELEASE] = asyncio.Event()
    app.on_shutdown.append(_release_stalls)
    app.router.add_get("/auth", authorize)
    app.router.add_get("/auth/approve", approve)
    app.router.add_get("/auth/deny", deny)
    app.router.add_post("/api/v1/auth/keys", exchange)
    app.router.add_get("/api/v1/key", key_info)
    app.router.add_get("/api/v1/models", models)
    app.router.add_post("/api/v1/chat/completions", chat_completions)
    app.router.add_post("/_fake/mode", set_mode)
    app.router.add_get("/_fake/requests", recorded)
    return app
