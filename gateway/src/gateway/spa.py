"""Serving the built web app: hashed assets cached forever, index.html for every app route."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from imagetools_common.errors import NotFound, ServiceUnavailable

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
SHORT = "public, max-age=3600"
# Paths that belong to the server, never to the app's client-side router (s/: share links, whose
# every unknown path is a plain 404, never the app).
SERVER_PREFIXES = ("api/", "oauth/", "s/")
# Files whose URL never changes while their content does: the entry page, the service worker
# (a browser checks it for a new version of the app) and the manifest.
UNVERSIONED = frozenset({"index.html", "sw.js", "manifest.webmanifest"})
# Types Python's table does not know (it would say application/octet-stream).
CONTENT_TYPES = {"manifest.webmanifest": "application/manifest+json"}


def cache_control(relative: str) -> str:
    """Vite puts content-hashed files under assets/: they can never change, so cache them for a year."""
    if relative.startswith("assets/"):
        return IMMUTABLE
    if relative in UNVERSIONED:
        return REVALIDATE
    return SHORT


def resolve_inside(root: Path, relative: str) -> Path | None:
    """``root/relative`` if it is an existing file inside ``root``; None for traversal or absence."""
    if "\x00" in relative:
        return None
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


class WebApp:
    def __init__(self, dist: Path) -> None:
        self.dist = dist.resolve()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        relative = request.match_info.get("tail", "")
        if relative == "api" or relative.startswith(SERVER_PREFIXES):
            raise NotFound(f"no such endpoint: {request.method} {request.path}")
        index = self.dist / "index.html"
        if not index.is_file():
            raise ServiceUnavailable("the web app is not built: run `make web`")
        found = resolve_inside(self.dist, relative) if relative else None
        if found is not None:
            headers = {"Cache-Control": cache_control(relative)}
            if content_type := CONTENT_TYPES.get(relative):
                headers["Content-Type"] = content_type
            return web.FileResponse(found, headers=headers)
        if "." in relative.rsplit("/", 1)[-1]:
            # A missing file (a stale hashed asset, say) must not be answered with HTML.
            raise NotFound(f"no such file: /{relative}")
        return web.FileResponse(index, headers={"Cache-Control": REVALIDATE})
