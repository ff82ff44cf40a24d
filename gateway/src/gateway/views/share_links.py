"""Share links as their session sees them: make one for a version, list an image's, revoke one.

The public side (what a link serves to anyone) is ``views.shared``.
"""

from __future__ import annotations

from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, Field

from gateway.http import json_model, read_json
from gateway.share_page import PREFIX
from gateway.views.common import existing_session, image_id, image_ref, rpc
from imagetools_common.contracts import image as contract
from imagetools_common.errors import NotFound


class ShareLinkBody(BaseModel):
    version: int | None = Field(
        None, ge=1, le=contract.MAX_VERSION, description="The version to share; default: the current one"
    )
    expires_in_hours: int = Field(
        ge=contract.MIN_SHARE_HOURS,
        le=contract.MAX_SHARE_HOURS,
        description="How long the link works; it never outlives the session",
    )


class ShareLinkCreatedView(BaseModel):
    link: contract.ShareLinkInfo
    path: str = Field(
        description="The public page, /s/<token>, on this server: shown this once (only its hash is kept)"
    )


async def create_link(request: web.Request) -> web.Response:
    """A public link to a version of one of the session's images, until the expiry asked for."""
    body = await read_json(request, ShareLinkBody)
    session = await existing_session(request)
    made = await rpc(request).call(
        contract.SHARE_CREATE,
        contract.ShareLinkCreate(
            session_id=session.id,
            image_id=image_id(request),
            version=body.version,
            expires_in_hours=body.expires_in_hours,
            session_expires_at=session.expires_at,
        ),
    )
    return json_model(ShareLinkCreatedView(link=made.link, path=f"{PREFIX}{made.token}"), status=201)


async def list_links(request: web.Request) -> web.Response:
    """The image's links that still work, newest first."""
    return json_model(await rpc(request).call(contract.SHARE_LIST, await image_ref(request)))


async def revoke_link(request: web.Request) -> web.Response:
    """Revoke a link: from now on it answers as one that never existed."""
    ref = await image_ref(request)
    try:
        link_id = UUID(request.match_info["link_id"])
    except ValueError:
        raise NotFound("no such share link on this image") from None
    revoke = contract.ShareLinkRef(session_id=ref.session_id, image_id=ref.image_id, link_id=link_id)
    await rpc(request).call(contract.SHARE_REVOKE, revoke)
    return web.Response(status=204)
