"""Health and the API's own documentation."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from gateway import keys
from gateway.http import json_model

_DOCS = resources.files("gateway") / "docs_assets"


async def health(request: web.Request) -> web.Response:
    """200 when every service answers, 503 naming what is missing."""
    report = await request.app[keys.HEALTH].report()
    return json_model(report, status=200 if report.status == "healthy" else 503)


async def openapi(request: web.Request) -> web.Response:
    """This document."""
    return web.json_response(request.app[keys.OPENAPI])


async def docs(_request: web.Request) -> web.Response:
    """The interactive API reference (Swagger UI from local files: no CDN)."""
    return web.Response(
        text=(_DOCS / "index.html").read_text(),
        content_type="text/html",
        headers={"Cache-Control": "no-cache"},
    )


async def docs_init(_request: web.Request) -> web.Response:
    return web.Response(
        text=(_DOCS / "init.js").read_text(),
        content_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )
