"""Typed application and request state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from nats.aio.client import Client as NATS

from imagetools_common.contracts.session import SessionInfo
from imagetools_common.rpc import RpcClient

if TYPE_CHECKING:
    from gateway.health import HealthProbe
    from gateway.ratelimit import RateLimits
    from gateway.settings import GatewaySettings
    from gateway.spa import WebApp

SETTINGS: web.AppKey[GatewaySettings] = web.AppKey("settings")
NATS_CONNECTION = web.AppKey("nats", NATS)
RPC = web.AppKey("rpc", RpcClient)
HEALTH: web.AppKey[HealthProbe] = web.AppKey("health")
WEB_APP: web.AppKey[WebApp] = web.AppKey("web_app")
RATE_LIMITS: web.AppKey[RateLimits] = web.AppKey("rate_limits")

# Per-request state, set by middlewares and views.
REQUEST_ID = web.RequestKey("request_id", str)
SESSION: web.RequestKey[SessionInfo | None] = web.RequestKey("session")
NEW_SESSION_TOKEN = web.RequestKey("new_session_token", str)
CLEAR_SESSION_COOKIE = web.RequestKey("clear_session_cookie", bool)
OPENAPI: web.AppKey[dict[str, Any]] = web.AppKey("openapi")
