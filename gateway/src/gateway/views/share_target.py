"""The share target's fallback: a phone's share sheet posted photos while no service worker ran.

The installed app's service worker normally receives the share sheet's POST itself and uploads
the photos through the API. Before it is active (the first launch, an update) the POST reaches
the server instead: a top-level form post, without the CSRF header and maybe from a browser with
no session yet. Nothing here reads or creates a session or stores a byte; the photos are dropped
and the user lands in the app, which asks them to share again (by then the worker runs).
"""

from __future__ import annotations

from aiohttp import web

from gateway import keys

SHARE_AGAIN = "/?share=again"


async def share_target(request: web.Request) -> web.StreamResponse:
    """303 into the app with ``share=again``; the body is read past (up to one upload's size) or cut off."""
    response = web.Response(status=303, headers={"Location": SHARE_AGAIN, "Cache-Control": "no-store"})
    # A browser whose upload is cut off may show a connection error instead of the redirect, so a
    # body the size of one upload is read and dropped. A bigger one is not worth reading: the
    # redirect is sent and the connection closed behind it.
    limit = request.app[keys.SETTINGS].max_upload_bytes
    read = 0
    if (request.content_length or 0) <= limit:
        while chunk := await request.content.readany():
            read += len(chunk)
            if read > limit:
                break
        else:
            return response
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response
