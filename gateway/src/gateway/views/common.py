"""What the image views share: the image a URL names, how an image is shown, serving bytes, and
noticing that the browser left."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote
from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, Field

from gateway import keys
from gateway.cookies import current_session, session_id
from gateway.http import query_int
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.session import SessionInfo
from imagetools_common.errors import NotFound
from imagetools_common.logs import get_logger
from imagetools_common.rpc import RpcClient

log = get_logger("gateway.views")

# How often a long call looks whether its browser is still connected.
DISCONNECT_POLL = 0.25


class ImageView(contract.ImageInfo):
    """An image as the API shows it: its history plus the URLs of its bytes."""

    content_url: str = Field(description="The current version (version-addressed, cacheable forever)")
    thumbnail_url: str = Field(description="WebP thumbnail of the current version")
    download_url: str = Field(description="The current version as an attachment")
    original_url: str = Field(description="The upload exactly as received")
    original_download_url: str


class IdsBody(BaseModel):
    ids: list[UUID] = Field(min_length=1, max_length=1000)


def view(info: contract.ImageInfo) -> ImageView:
    base = f"/api/v1/images/{info.id}"
    number = info.current.number
    return ImageView(
        **info.model_dump(),
        content_url=f"{base}/content?version={number}",
        thumbnail_url=f"{base}/thumbnail?version={number}",
        download_url=f"{base}/content?version={number}&download=1",
        original_url=f"{base}/content?original=true",
        original_download_url=f"{base}/content?original=true&download=1",
    )


def rpc(request: web.Request) -> RpcClient:
    return request.app[keys.RPC]


async def existing_session(request: web.Request) -> SessionInfo:
    """For reads of existing images: without a session there is nothing to find."""
    info = await current_session(request)
    if info is None:
        raise NotFound("no such image in this session")
    return info


def image_id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["image_id"])
    except ValueError:
        raise NotFound("no such image in this session") from None


async def image_ref(request: web.Request) -> contract.ImageRef:
    """The image the URL names; without a session it is one nobody owns (404 from the service)."""
    return contract.ImageRef(session_id=await session_id(request), image_id=image_id(request))


def version_param(request: web.Request) -> int | None:
    return query_int(request, "version", 1, contract.MAX_VERSION)


def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(
    request: web.Request, header: contract.ContentHeader, data: bytes, *, pinned: bool
) -> web.Response:
    """Stored bytes as a response: ``pinned`` (a version number names them) is cached for good,
    ``?download=1`` makes an attachment, and a matching ``If-None-Match`` is a 304."""
    headers = {
        "ETag": header.etag,
        "Cache-Control": "private, max-age=31536000, immutable" if pinned else "private, no-cache",
        "Content-Disposition": content_disposition(
            "attachment" if request.query.get("download") in ("1", "true") else "inline", header.filename
        ),
    }
    if header.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=data, content_type=header.content_type, headers=headers)


@asynccontextmanager
async def cancel_on_disconnect(request: web.Request) -> AsyncIterator[None]:
    """Cancel this handler when the browser disconnects, even while nothing is being written.

    (aiohttp cancels handlers itself only when ``handler_cancellation`` is on; ours is not.)
    """
    handler = asyncio.current_task()
    assert handler is not None

    async def watch() -> None:
        # aiohttp offers no event for a lost connection, only the transport's state to look at.
        while (transport := request.transport) is not None and not transport.is_closing():  # noqa: ASYNC110
            await asyncio.sleep(DISCONNECT_POLL)
        log.info("browser went away; stopping its call", path=request.path)
        handler.cancel()

    watcher = asyncio.create_task(watch())
    try:
        yield
    finally:
        watcher.cancel()
