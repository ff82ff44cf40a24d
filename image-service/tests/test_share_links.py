"""Share links through image-service over real NATS and PostgreSQL: make, resolve, revoke, expire, cascade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from image_service.imaging import metadata
from image_service.share_links import MAX_LIVE_LINKS, expiry
from imagetools_common import tokens
from imagetools_common.contracts import image as contract
from imagetools_common.contracts import session
from imagetools_common.errors import NotFound, QuotaExceeded
from imagetools_common.rpc import RpcClient
from imagetools_common.testing import media

LATER = datetime.now(UTC) + timedelta(days=7)


async def upload(rpc: RpcClient, session_id: UUID, data: bytes | None = None) -> contract.ImageInfo:
    header = contract.UploadHeader(session_id=session_id, filename="Beach day.JPG")
    return await rpc.send(contract.UPLOAD, header, data or media.jpeg(media.photo(320, 240)))


async def share(
    rpc: RpcClient, session_id: UUID, image_id: UUID, hours: int = 24, **kw: object
) -> contract.ShareLinkCreated:
    request = contract.ShareLinkCreate(
        session_id=session_id, image_id=image_id, expires_in_hours=hours, session_expires_at=LATER, **kw
    )
    return await rpc.call(contract.SHARE_CREATE, request)


async def resolve(rpc: RpcClient, token: str) -> tuple[contract.SharedFile, bytes]:
    return await rpc.fetch(contract.SHARED_CONTENT, contract.SharedRequest(token=token))


async def links(rpc: RpcClient, session_id: UUID, image_id: UUID) -> list[contract.ShareLinkInfo]:
    ref = contract.ImageRef(session_id=session_id, image_id=image_id)
    return (await rpc.call(contract.SHARE_LIST, ref)).links


async def assert_gone(rpc: RpcClient, token: str) -> None:
    """Both ways of asking answer the same not_found, whatever killed the link."""
    request = contract.SharedRequest(token=token)
    with pytest.raises(NotFound, match="this link does not exist or no longer works"):
        await rpc.call(contract.SHARED, request)
    with pytest.raises(NotFound, match="this link does not exist or no longer works"):
        await rpc.fetch(contract.SHARED_CONTENT, request)


def test_a_link_never_outlives_its_session() -> None:
    """A link lives the hours asked for, or until its session ends if that comes first."""
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    ends = now + timedelta(days=2)
    assert expiry(now, 1, ends) == now + timedelta(hours=1)
    assert expiry(now, 24 * 7, ends) == ends


async def test_a_link_serves_its_version_to_anyone_holding_the_token(
    rpc: RpcClient, session_id: UUID
) -> None:
    """The token (256-bit, shown once) serves that version's bytes, name and size; only its hash is stored."""
    info = await upload(rpc, session_id)
    created = await share(rpc, session_id, info.id, hours=1)
    assert len(created.token) == 43 and created.link.version == 1
    assert timedelta(minutes=59) < created.link.expires_at - datetime.now(UTC) <= timedelta(hours=1)
    # A later edit does not move the link: it serves the version it was made for.
    await rpc.call(
        contract.APPLY,
        contract.ApplyRequest(
            session_id=session_id, image_id=info.id, operation=contract.ConvertOp(format="png")
        ),
    )
    header, data = await resolve(rpc, created.token)
    _, stored = await rpc.fetch(
        contract.CONTENT, contract.ContentRequest(session_id=session_id, image_id=info.id, version=1)
    )
    assert data == stored
    assert (header.filename, header.content_type, header.width, header.height, header.bytes) == (
        "Beach day.jpg",
        "image/jpeg",
        320,
        240,
        len(stored),
    )
    assert header.etag == f'"{created.link.id}"'
    described = await rpc.call(contract.SHARED, contract.SharedRequest(token=created.token))
    assert described == header
    listed = await links(rpc, session_id, info.id)
    assert [link.id for link in listed] == [created.link.id]


async def test_revoked_expired_and_unknown_tokens_are_the_same_not_found(
    rpc: RpcClient, session_id: UUID, db_pool: asyncpg.Pool
) -> None:
    """Revoking or expiring a link makes it answer exactly as a token that never existed."""
    info = await upload(rpc, session_id)
    revoked, expired, kept = [await share(rpc, session_id, info.id) for _ in range(3)]
    ref = contract.ShareLinkRef(session_id=session_id, image_id=info.id, link_id=revoked.link.id)
    await rpc.call(contract.SHARE_REVOKE, ref)
    with pytest.raises(NotFound):
        await rpc.call(contract.SHARE_REVOKE, ref)
    await db_pool.execute(
        "UPDATE images.share_links SET expires_at = now() - interval '1 second' WHERE id = $1",
        expired.link.id,
    )
    for token in (revoked.token, expired.token, "A" * 43, "not a token"):
        await assert_gone(rpc, token)
    await resolve(rpc, kept.token)
    assert [link.id for link in await links(rpc, session_id, info.id)] == [kept.link.id]
    stored = await db_pool.fetchval("SELECT token_hash FROM images.share_links WHERE id = $1", kept.link.id)
    assert stored == tokens.hash_token(kept.token) and kept.token.encode() not in stored


async def test_another_sessions_image_cannot_be_shared_listed_or_revoked(
    rpc: RpcClient, session_id: UUID, stranger: UUID
) -> None:
    """A session sees only its own images' links: anything else is a 404, and changes nothing."""
    info = await upload(rpc, session_id)
    created = await share(rpc, session_id, info.id)
    with pytest.raises(NotFound):
        await share(rpc, stranger, info.id)
    with pytest.raises(NotFound):
        await links(rpc, stranger, info.id)
    with pytest.raises(NotFound):
        await rpc.call(
            contract.SHARE_REVOKE,
            contract.ShareLinkRef(session_id=stranger, image_id=info.id, link_id=created.link.id),
        )
    with pytest.raises(NotFound, match="no such image or version"):
        await share(rpc, session_id, info.id, version=9)
    await resolve(rpc, created.token)


async def test_links_go_with_their_image_version_and_session(
    rpc: RpcClient, session_id: UUID, db_pool: asyncpg.Pool
) -> None:
    """Deleting the image, pruning the version from history, or ending the session kills its links."""
    deleted, pruned, ended = [await upload(rpc, session_id) for _ in range(3)]
    deleted_link = await share(rpc, session_id, deleted.id)
    await rpc.call(contract.DELETE, contract.ImageIds(session_id=session_id, image_ids=[deleted.id]))
    await assert_gone(rpc, deleted_link.token)

    rotate = contract.ApplyRequest(
        session_id=session_id, image_id=pruned.id, operation=contract.RotateOp(degrees=90)
    )
    await rpc.call(contract.APPLY, rotate)
    version_2 = await share(rpc, session_id, pruned.id)
    assert version_2.link.version == 2
    for _ in range(2):  # the history keeps the original and the newest 2 edits: version 2 goes
        await rpc.call(contract.APPLY, rotate)
    await assert_gone(rpc, version_2.token)

    ended_link = await share(rpc, session_id, ended.id)
    await rpc.call(session.END, session.SessionRef(session_id=session_id))
    await assert_gone(rpc, ended_link.token)
    assert (
        await db_pool.fetchval("SELECT count(*) FROM images.share_links WHERE session_id = $1", session_id)
        == 0
    )


async def test_a_version_holding_a_location_is_served_without_it(rpc: RpcClient, session_id: UUID) -> None:
    """A version made while keeping locations still holds GPS; its link serves the same picture without it."""
    await rpc.call(contract.PRIVACY_SET, contract.PrivacyUpdate(session_id=session_id, keep_location=True))
    info = await upload(rpc, session_id, media.jpeg(media.photo(640, 480), exif=media.camera_exif()))
    assert info.current.has_location
    created = await share(rpc, session_id, info.id)
    assert created.link.served_without_location
    _, stored = await rpc.fetch(
        contract.CONTENT, contract.ContentRequest(session_id=session_id, image_id=info.id)
    )
    assert metadata.read_metadata(stored).gps is not None
    header, served = await resolve(rpc, created.token)
    assert metadata.read_metadata(served).gps is None and not metadata.has_location(served)
    assert metadata.read_metadata(served).camera == metadata.read_metadata(stored).camera
    assert header.bytes == len(served) and served != stored
    described = await rpc.call(contract.SHARED, contract.SharedRequest(token=created.token))
    assert described.bytes == len(served)


async def test_an_image_has_a_bounded_number_of_live_links(rpc: RpcClient, session_id: UUID) -> None:
    """Past MAX_LIVE_LINKS live links a new one is refused until one is revoked."""
    info = await upload(rpc, session_id)
    made = [await share(rpc, session_id, info.id) for _ in range(MAX_LIVE_LINKS)]
    with pytest.raises(QuotaExceeded, match="revoke one"):
        await share(rpc, session_id, info.id)
    ref = contract.ShareLinkRef(session_id=session_id, image_id=info.id, link_id=made[0].link.id)
    await rpc.call(contract.SHARE_REVOKE, ref)
    await share(rpc, session_id, info.id)
