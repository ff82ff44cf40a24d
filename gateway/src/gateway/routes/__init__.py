"""The public HTTP API, declared once: aiohttp serves it and OpenAPI documents it.

One module per concept holds its routes; this table puts them in the order the API document
(docs/openapi.json) lists them.
"""

from __future__ import annotations

from gateway.openapi import ApiRoute
from gateway.routes import (
    ai,
    batches,
    edits,
    images,
    preferences,
    previews,
    session,
    share_links,
    share_target,
    system,
)

ROUTES: tuple[ApiRoute, ...] = (
    *system.HEALTH,
    *session.ROUTES,
    *images.IMAGES,
    *edits.ROUTES,
    *previews.ROUTES,
    *batches.ROUTES,
    *share_links.ROUTES,
    *images.ARCHIVE,
    *preferences.ROUTES,
    *ai.ROUTES,
    *share_target.ROUTES,
    *system.DOCUMENTATION,
)
