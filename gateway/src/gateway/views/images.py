"""Images: listing, one image, its bytes and metadata, and deleting."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from gateway import keys
from gateway.cookies import session_id
from gateway.http import json_body, json_model, read_json
from gateway.views.common import (
    IdsBody,
    ImageView,
    download,
    existing_session,
    image_id,
    image_ref,
    rpc,
    version_param,
    view,
)
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.session import SessionRef
from imagetools_common.errors import NotFound


class ImageListView(BaseModel):
    images: list[ImageView]
    max_images: int


async def list_images(request: web.Request) -> web.Response:
    """The session's images, newest first; rendered once until they change (see gateway.caches)."""
    owner = await session_id(request)
    caches = request.app[keys.CACHES]
    body = caches.image_list(owner)
    if body is None:
        ticket = caches.ticket()
        found = await rpc(request).call(contract.LIST, SessionRef(session_id=owner))
        listed = ImageListView(images=[view(i) for i in found.images], max_images=found.max_images)
        body = listed.model_dump_json().encode()
        caches.remember_image_list(owner, body, ticket)
    return json_body(body)


async def get_image(request: web.Request) -> web.Response:
    """One image with its history."""
    return json_model(view(await rpc(request).call(contract.GET, await image_ref(request))))


async def delete_image(request: web.Request) -> web.Response:
    """Delete an image and all its versions."""
    ref = await image_ref(request)
    deleted = await rpc(request).call(
        contract.DELETE, contract.ImageIds(session_id=ref.session_id, image_ids=[ref.image_id])
    )
    if not deleted.deleted:
        raise NotFound("no such image in this session")
    return web.Response(status=204)


async def delete_selected(request: web.Request) -> web.Response:
    """Delete the selected images (those that belong to this session)."""
    body = await read_json(request, IdsBody)
    deleted = await rpc(request).call(
        contract.DELETE, contract.ImageIds(session_id=await session_id(request), image_ids=body.ids)
    )
    return json_model(deleted)


async def clear_images(request: web.Request) -> web.Response:
    """Delete every image of the session."""
    return json_model(
        await rpc(request).call(contract.CLEAR, SessionRef(session_id=await session_id(request)))
    )


async def image_metadata(request: web.Request) -> web.Response:
    """Camera, exposure and location of the current version."""
    return json_model(await rpc(request).call(contract.METADATA, await image_ref(request)))


async def _send_bytes(request: web.Request, kind: str) -> web.StreamResponse:
    session = await existing_session(request)
    original = request.query.get("original") in ("true", "1")
    version = version_param(request)
    wanted = contract.ContentRequest(
        session_id=session.id,
        image_id=image_id(request),
        version=version,
        kind="original" if original else kind,
    )
    header, data = await rpc(request).fetch(contract.CONTENT, wanted)
    # A version number (or the original) always names the same bytes: cache it for good.
    return download(request, header, data, pinned=version is not None or original)


async def image_content(request: web.Request) -> web.StreamResponse:
    """The current version's bytes (?version=N for another, ?original=true for the upload)."""
    return await _send_bytes(request, "image")


async def image_thumbnail(request: web.Request) -> web.StreamResponse:
    """A WebP thumbnail (about 320 px) of the current version or ?version=N."""
    return await _send_bytes(request, "thumbnail")
