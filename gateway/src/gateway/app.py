"""The gateway application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import hdrs, web

from gateway import keys
from gateway.caches import SessionCaches
from gateway.connections import SERVER_NAME
from gateway.cookies import cookie_name
from gateway.health import HealthProbe
from gateway.middlewares import cors, csrf, json_errors, request_context, session_cookie
from gateway.openapi import ApiRoute, build_openapi
from gateway.ratelimit import RateLimits, rate_limits
from gateway.routes import ROUTES
from gateway.security import security_headers
from gateway.settings import GatewaySettings
from gateway.spa import WebApp
from gateway.views import shared, system
from imagetools_common import __version__
from imagetools_common.contracts import BACKEND_SERVICES, session
from imagetools_common.rpc import REQUEST_ID_HEADER, connection
from imagetools_common.rpc.events import Subscriptions
from imagetools_common.rpc.retry import RetryingRpcClient

# Room for multipart framing around the largest image.
BODY_OVERHEAD = 1024 * 1024


async def _nats(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    async with connection(settings.nats_url, "gateway", settings.max_upload_bytes) as nc:
        # Reads and keyed mutations survive a replica dying mid-request (see rpc/retry.py).
        app[keys.BUS] = nc
        app[keys.RPC] = RetryingRpcClient(nc)
        app[keys.HEALTH] = HealthProbe(nc, BACKEND_SERVICES)
        caches = app[keys.CACHES] = SessionCaches(lambda: nc.stats["reconnects"] if nc.is_connected else None)
        events = Subscriptions(nc, "gateway")
        events.add(session.SESSION_CHANGED, caches.on_changed)
        await events.start()
        try:
            yield
        finally:
            await events.stop(grace=1.0)


async def _finish_headers(request: web.Request, response: web.StreamResponse) -> None:
    settings = request.app[keys.SETTINGS]
    response.headers.update(security_headers(request.path, settings.https))
    response.headers[hdrs.SERVER] = SERVER_NAME
    if request_id := request.get(keys.REQUEST_ID):
        response.headers[REQUEST_ID_HEADER] = request_id
    if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"


def create_app(settings: GatewaySettings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_upload_bytes + BODY_OVERHEAD,
        middlewares=[request_context, session_cookie, json_errors, cors, csrf, rate_limits],
    )
    app[keys.SETTINGS] = settings
    app[keys.WEB_APP] = WebApp(settings.web_dist_dir)
    app[keys.RATE_LIMITS] = RateLimits(settings)
    app[keys.OPENAPI] = build_openapi(
        ROUTES, version=__version__, cookie=cookie_name(settings.https), rate_limits=app[keys.RATE_LIMITS]
    )
    served: dict[web.AbstractRoute, ApiRoute] = {}
    for route in ROUTES:
        served[app.router.add_route(route.method, route.path, route.handler)] = route
        if route.method == "GET":  # HTTP: HEAD wherever GET answers (aiohttp sends no body for it)
            served[app.router.add_route("HEAD", route.path, route.handler)] = route
    app[keys.API_ROUTES] = served
    app.router.add_get("/api/v1/docs/init.js", system.docs_init)
    # Public share links: HTML and bytes for anyone holding a token, outside the API and its
    # session handling (views.shared); add_get answers HEAD too.
    app.router.add_get("/s/{token}", shared.page)
    app.router.add_get("/s/{token}/file", shared.file)
    # Last: everything else is the web app (or a JSON 404/405 under /api).
    app.router.add_route("*", "/{tail:.*}", _fallback)
    app.cleanup_ctx.append(_nats)
    app.on_response_prepare.append(_finish_headers)
    return app


async def _fallback(request: web.Request) -> web.StreamResponse:
    """405 when the path exists with other methods (GET included); else the web app, or 404 under /api."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not request.match_info.route.resource:
            _, methods = await resource.resolve(request)
            allowed |= methods
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, sorted(allowed))
    if request.method in ("GET", "HEAD"):
        return await request.app[keys.WEB_APP].handle(request)
    if not request.path.startswith("/api/"):
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD"])
    raise web.HTTPNotFound()
