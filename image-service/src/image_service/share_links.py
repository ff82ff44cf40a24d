"""Share links: the use cases (make, list, revoke, resolve) over ``share_repo``.

A link serves one version, forever, to anyone holding its token, until it expires, is revoked, or
its version, image or session goes. The bytes served never carry a location: a version that still
holds one (made while the session kept locations) is stripped on the way out by the same lossless
container edit every new version gets (``versions.private``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from image_service import versions
from image_service.images import Images
from image_service.imaging import formats
from image_service.share_repo import LinkRow, SharedRow, ShareRepo
from imagetools_common import tokens
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.base import Empty
from imagetools_common.contracts.share_links import GONE
from imagetools_common.errors import NotFound
from imagetools_common.logs import get_logger

log = get_logger("image_service.share_links")

# Live links one image may have at once (each is a public URL to keep track of).
MAX_LIVE_LINKS = 20


def expiry(now: datetime, hours: int, session_expires_at: datetime) -> datetime:
    """When a link asked to live ``hours`` dies: then, or when its session ends if that is sooner."""
    return min(now + timedelta(hours=hours), session_expires_at)


def link_info(row: LinkRow) -> contract.ShareLinkInfo:
    return contract.ShareLinkInfo(
        id=row.id,
        image_id=row.image_id,
        version=row.version,
        created_at=row.created_at,
        expires_at=row.expires_at,
        served_without_location=row.has_location,
    )


def shared_file(row: SharedRow, size: int) -> contract.SharedFile:
    """How a link's bytes are described and served; the link's id names them (one version, forever)."""
    return contract.SharedFile(
        link_id=row.link_id,
        filename=formats.download_name(row.filename, row.format),
        content_type=formats.mime_type(row.format),
        width=row.width,
        height=row.height,
        bytes=size,
        expires_at=row.expires_at,
        etag=f'"{row.link_id}"',
    )


class ShareLinks:
    """The share-link use cases, each a coroutine the handlers register as an endpoint."""

    def __init__(self, repo: ShareRepo, images: Images) -> None:
        self._repo = repo
        self._images = images  # for its worker pool: stripping a location is pixel-free but not free

    async def create(self, request: contract.ShareLinkCreate) -> contract.ShareLinkCreated:
        token = tokens.new_token()
        row = await self._repo.create(
            request.session_id,
            request.image_id,
            request.version,
            token_hash=tokens.hash_token(token),
            expires_at=expiry(datetime.now(UTC), request.expires_in_hours, request.session_expires_at),
            max_live=MAX_LIVE_LINKS,
        )
        log.info("share link made", image_id=str(row.image_id), version=row.version, link_id=str(row.id))
        return contract.ShareLinkCreated(link=link_info(row), token=token)

    async def list_links(self, ref: contract.ImageRef) -> contract.ShareLinkList:
        rows = await self._repo.live(ref.session_id, ref.image_id)
        return contract.ShareLinkList(links=[link_info(r) for r in rows])

    async def revoke(self, ref: contract.ShareLinkRef) -> Empty:
        if not await self._repo.revoke(ref.session_id, ref.image_id, ref.link_id):
            raise NotFound("no such share link on this image")
        log.info("share link revoked", image_id=str(ref.image_id), link_id=str(ref.link_id))
        return Empty()

    async def shared(self, request: contract.SharedRequest) -> contract.SharedFile:
        """What a token serves, without the bytes (the size is that of the bytes served)."""
        row = await self._find(request.token, with_data=False)
        if row.has_location:  # the stripped file's size needs the stripped file
            header, _ = await self.shared_content(request)
            return header
        return shared_file(row, row.size)

    async def shared_content(self, request: contract.SharedRequest) -> tuple[contract.SharedFile, bytes]:
        row = await self._find(request.token, with_data=True)
        assert row.data is not None
        data, _ = await self._images.cpu(versions.private, row.data, row.format, False)
        return shared_file(row, len(data)), data

    async def _find(self, token: str, *, with_data: bool) -> SharedRow:
        row = None
        if tokens.is_well_formed(token):
            row = await self._repo.shared(tokens.hash_token(token), with_data=with_data)
        if row is None:
            raise NotFound(GONE)
        return row
