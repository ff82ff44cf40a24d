"""The public share routes: GET/HEAD /s/{token} (the page) and /s/{token}/file (the bytes).

Anyone holding a link's token may look; nothing here reads, creates or touches a session (no
cookies.py call resolves one) and no response sets a cookie. Each request counts against its
link and the client's address (``ratelimit.SHARE_LINKS``). Every link that serves nothing is the
same 404, whatever killed it. The token never reaches a log (``share_page.loggable``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime

from aiohttp import web

from gateway import byte_ranges, keys, share_page
from gateway.ratelimit import SHARE_LINKS, link_subject
from gateway.views.common import content_disposition
from imagetools_common import tokens
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.share_links import GONE
from imagetools_common.errors import NotFound

# A browser may reuse the bytes this long without asking (never past the link's expiry): a link
# revoked meanwhile can still show from a cache that already holds it, which can be no secret.
MAX_AGE = 3600


def _counted(request: web.Request, token: str) -> AbstractContextManager[None]:
    """Count the request against its link and the client's address (429 beyond either)."""
    return request.app[keys.RATE_LIMITS].admit(SHARE_LINKS, link_subject(request, token))


def _shared(token: str) -> contract.SharedRequest:
    """Ask for what ``token`` links to; a malformed one is gone without asking anyone."""
    if not tokens.is_well_formed(token):
        raise NotFound(GONE)
    return contract.SharedRequest(token=token)


async def page(request: web.Request) -> web.Response:
    """The page of a link: the picture, its name, size and expiry, and a download button."""
    token = request.match_info["token"]
    with _counted(request, token):
        try:
            shared = await request.app[keys.RPC].call(contract.SHARED, _shared(token))
        except NotFound:
            return _html(share_page.gone(), status=404)
    return _html(share_page.page(shared, token))


def _html(text: str, status: int = 200) -> web.Response:
    # It says how long the link lives, and a revoked link must stop showing: never stored.
    return web.Response(
        text=text, status=status, content_type="text/html", headers={"Cache-Control": "private, no-store"}
    )


async def file(request: web.Request) -> web.Response:
    """The bytes (``?download=1``: as an attachment), with ETag, HEAD and single byte ranges."""
    token = request.match_info["token"]
    with _counted(request, token):
        shared, data = await request.app[keys.RPC].fetch(contract.SHARED_CONTENT, _shared(token))
    left = int((shared.expires_at - datetime.now(UTC)).total_seconds())
    kind = "attachment" if request.query.get("download") in ("1", "true") else "inline"
    headers = {
        "ETag": shared.etag,
        "Cache-Control": f"private, max-age={max(0, min(left, MAX_AGE))}",
        "Content-Disposition": content_disposition(kind, shared.filename),
        "Accept-Ranges": "bytes",
    }
    if shared.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    size = len(data)
    try:
        part = byte_ranges.wanted(
            request.headers.get("Range"), request.headers.get("If-Range"), shared.etag, size
        )
    except byte_ranges.Unsatisfiable:
        return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if part is None:
        return web.Response(body=data, content_type=shared.content_type, headers=headers)
    return web.Response(
        status=206,
        body=data[part.start : part.end + 1],
        content_type=shared.content_type,
        headers={**headers, "Content-Range": part.content_range(size)},
    )
