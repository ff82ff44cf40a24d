"""Typed application and request state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute
from nats.aio.client import Client as NATS

from imagetools_common.contracts.session import SessionInfo
from imagetools_common.rpc import RpcClient

if TYPE_CHECKING:
    from gateway.caches import SessionCaches
    from gateway.health import HealthProbe
    from gateway.openapi import ApiRoute
    from gateway.ratelimit import RateLimits, Subject
    from gateway.settings import GatewaySettings
    from gateway.spa import WebApp

SETTINGS: web.AppKey[GatewaySettings] = web.AppKey("settings")
RPC = web.AppKey("rpc", RpcClient)
BUS = web.AppKey("bus", NATS)
HEALTH: web.AppKey[HealthProbe] = web.AppKey("health")
CACHES: web.AppKey[SessionCaches] = web.AppKey("caches")
WEB_APP: web.AppKey[WebApp] = web.AppKey("web_app")
RATE_LIMITS: web.AppKey[RateLimits] = web.AppKey("rate_limits")
# The declaration behind each served route: its limit and whether it may create a session.
API_ROUTES: web.AppKey[dict[AbstractRoute, ApiRoute]] = web.AppKey("api_routes")

# Per-request state, set by middlewares and views.
REQUEST_ID = web.RequestKey("request_id", str)
SESSION: web.RequestKey[SessionInfo | None] = web.RequestKey("session")
NEW_SESSION_TOKEN = web.RequestKey("new_session_token", str)
CLEAR_SESSION_COOKIE = web.RequestKey("clear_session_cookie", bool)
SUBJECT: web.RequestKey[Subject] = web.RequestKey("rate_limit_subject")
OPENAPI: web.AppKey[dict[str, Any]] = web.AppKey("openapi")
