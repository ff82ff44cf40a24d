"""Compression previews through image-service over real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from image_service.imaging import metadata
from image_service.preview_repo import PreviewRepo
from image_service.previews import PREVIEW_TTL_SECONDS
from imagetools_common.contracts import image as contract
from imagetools_common.contracts import previews as previews_contract
from imagetools_common.contracts import session
from imagetools_common.errors import Conflict, NotFound
from imagetools_common.rpc import RpcClient
from imagetools_common.testing import media

WEB = contract.CompressOp(preset="web")
# Many encodes (three formats, shrink rounds): long enough to be stopped part-way.
SLOW = contract.CompressOp(settings=contract.CompressionSettings(format="auto", target_kb=4, quality=95))


async def upload(rpc: RpcClient, session_id: UUID, data: bytes | None = None) -> contract.ImageInfo:
    header = contract.UploadHeader(session_id=session_id, filename="Harbour.jpg")
    return await rpc.send(contract.UPLOAD, header, data or media.jpeg(media.photo(640, 480)))


def preview(
    rpc: RpcClient,
    session_id: UUID,
    info: contract.ImageInfo,
    op: contract.CompressOp = WEB,
    *,
    version: int | None = None,
    operation_id: UUID | None = None,
) -> asyncio.Future[previews_contract.PreviewInfo]:
    request = previews_contract.PreviewRequest(
        session_id=session_id, image_id=info.id, version=version or info.current.number, operation=op,
        operation_id=operation_id,
    )  # fmt: skip
    return asyncio.ensure_future(rpc.call(previews_contract.PREVIEW, request))


def ref(session_id: UUID, shown: previews_contract.PreviewInfo) -> previews_contract.PreviewRef:
    return previews_contract.PreviewRef(session_id=session_id, image_id=shown.image_id, preview_id=shown.id)


async def content(rpc: RpcClient, session_id: UUID, shown: previews_contract.PreviewInfo) -> bytes:
    _, data = await rpc.fetch(previews_contract.PREVIEW_CONTENT, ref(session_id, shown))
    return data


async def apply(rpc: RpcClient, session_id: UUID, shown: previews_contract.PreviewInfo) -> contract.ImageInfo:
    request = previews_contract.PreviewApply(**ref(session_id, shown).model_dump())
    return await rpc.call(previews_contract.PREVIEW_APPLY, request)


async def rotate(rpc: RpcClient, session_id: UUID, info: contract.ImageInfo) -> contract.ImageInfo:
    request = contract.ApplyRequest(
        session_id=session_id, image_id=info.id, operation=contract.RotateOp(degrees=90)
    )
    return await rpc.call(contract.APPLY, request)


async def test_apply_stores_exactly_the_previewed_bytes(rpc: RpcClient, session_id: UUID) -> None:
    """What the preview said (and served) is what Apply keeps, and nothing is a version before it."""
    info = await upload(rpc, session_id)
    shown = await preview(rpc, session_id, info)
    assert (shown.format, shown.width, shown.height, shown.preset) == ("jpeg", 640, 480, "web")
    assert shown.based_on == 1 and shown.quality is not None and shown.target_met
    previewed = await content(rpc, session_id, shown)
    assert len(previewed) == shown.bytes
    # A preview is no version and counts in no quota.
    unchanged = await rpc.call(contract.GET, contract.ImageRef(session_id=session_id, image_id=info.id))
    assert [v.number for v in unchanged.versions] == [1]
    assert (await rpc.call(contract.COUNT, session.SessionRef(session_id=session_id))).count == 1

    applied = await apply(rpc, session_id, shown)
    current = applied.current
    assert (current.number, current.operation, current.params["preset"]) == (2, "compress", "web")
    assert (current.format, current.width, current.height, current.bytes) == ("jpeg", 640, 480, shown.bytes)
    assert current.compression is not None and current.compression.quality == shown.quality
    _, stored = await rpc.fetch(
        contract.CONTENT, contract.ContentRequest(session_id=session_id, image_id=info.id, version=2)
    )
    assert stored == previewed


async def test_a_keyed_apply_sent_twice_makes_one_version(rpc: RpcClient, session_id: UUID) -> None:
    """A browser resending Apply with its Idempotency-Key (a lost reply) gets the first answer back."""
    info = await upload(rpc, session_id)
    shown = await preview(rpc, session_id, info)
    keyed = previews_contract.PreviewApply(**ref(session_id, shown).model_dump(), idempotency_key="apply-01")
    first = await rpc.call(previews_contract.PREVIEW_APPLY, keyed)
    again = await rpc.call(previews_contract.PREVIEW_APPLY, keyed)
    assert again.current.number == first.current.number == 2
    stored = await rpc.call(contract.GET, contract.ImageRef(session_id=session_id, image_id=info.id))
    assert [v.number for v in stored.versions] == [1, 2]


async def test_a_stale_preview_is_refused_and_a_gone_version_is_not_found(
    rpc: RpcClient, session_id: UUID
) -> None:
    """Apply after the image moved on is a 409; a preview of a version no longer kept is a 404."""
    info = await upload(rpc, session_id)
    shown = await preview(rpc, session_id, info)
    moved = await rotate(rpc, session_id, info)
    with pytest.raises(Conflict, match="changed"):
        await apply(rpc, session_id, shown)
    # A version that is kept but no longer current: 409, look again.
    with pytest.raises(Conflict, match="changed"):
        await preview(rpc, session_id, info, version=1)
    # undo_stack_limit=2: two more edits drop version 2 (the rotation) from the history.
    for _ in range(2):
        moved = await rotate(rpc, session_id, moved)
    assert 2 not in [v.number for v in moved.versions]
    with pytest.raises(NotFound, match="version 2"):
        await preview(rpc, session_id, moved, version=2)
    assert [v.number for v in moved.versions] == [1, 3, 4]


async def test_another_sessions_image_and_preview_are_not_found(
    rpc: RpcClient, session_id: UUID, stranger: UUID
) -> None:
    """A stranger can neither preview an image nor read or apply its previews."""
    info = await upload(rpc, session_id)
    shown = await preview(rpc, session_id, info)
    with pytest.raises(NotFound):
        await preview(rpc, stranger, info)
    with pytest.raises(NotFound):
        await content(rpc, stranger, shown)
    with pytest.raises(NotFound):
        await apply(rpc, stranger, shown)
    mine = await rpc.call(contract.GET, contract.ImageRef(session_id=session_id, image_id=info.id))
    assert mine.current.number == 1


async def test_previews_expire_are_swept_and_go_with_their_image(
    rpc: RpcClient, session_id: UUID, db_pool: asyncpg.Pool
) -> None:
    """After ten minutes a preview is gone (and swept); deleting its image deletes it at once."""
    info = await upload(rpc, session_id)
    old, kept = (
        await preview(rpc, session_id, info),
        await preview(rpc, session_id, info, contract.CompressOp(preset="email")),
    )
    await db_pool.execute(
        "UPDATE images.previews SET created_at = now() - make_interval(secs => $2) WHERE id = $1",
        old.id,
        PREVIEW_TTL_SECONDS + 1,
    )
    with pytest.raises(NotFound, match="no such preview"):
        await content(rpc, session_id, old)
    with pytest.raises(NotFound, match="no such preview"):
        await apply(rpc, session_id, old)
    assert await PreviewRepo(db_pool).sweep(PREVIEW_TTL_SECONDS) == 1
    assert await content(rpc, session_id, kept)
    await rpc.call(contract.DELETE, contract.ImageIds(session_id=session_id, image_ids=[info.id]))
    left = await db_pool.fetchval("SELECT count(*) FROM images.previews WHERE session_id = $1", session_id)
    assert left == 0


async def started(nc: NATS) -> tuple[asyncio.Queue[UUID], object]:
    """The operation ids of previews as they start (PREVIEW_STARTED, heard like any replica)."""
    queue: asyncio.Queue[UUID] = asyncio.Queue()

    async def heard(msg: Msg) -> None:
        queue.put_nowait(previews_contract.PreviewStarted.model_validate_json(msg.data).operation_id)

    return queue, await nc.subscribe(previews_contract.PREVIEW_STARTED.subject, cb=heard)


async def test_a_new_preview_stops_the_sessions_running_one(
    rpc: RpcClient, session_id: UUID, nc: NATS
) -> None:
    """One preview computes per session: the newer one wins, the older stops and keeps nothing."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(1600, 1200)))
    queue, subscription = await started(nc)
    first_id = uuid4()
    first = preview(rpc, session_id, info, SLOW, operation_id=first_id)
    assert await asyncio.wait_for(queue.get(), 10) == first_id
    second = await preview(rpc, session_id, info, WEB)
    with pytest.raises(Conflict, match="superseded or cancelled"):
        await first
    assert second.format == "jpeg"
    # Another session's preview is not affected by this one's.
    await subscription.unsubscribe()  # type: ignore[attr-defined]


async def test_cancel_stops_a_running_preview(rpc: RpcClient, session_id: UUID, nc: NATS) -> None:
    """The browser went away (CANCEL with the run's id): the encode stops and nothing is kept."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(1600, 1200)))
    queue, subscription = await started(nc)
    run_id = uuid4()
    running_preview = preview(rpc, session_id, info, SLOW, operation_id=run_id)
    assert await asyncio.wait_for(queue.get(), 10) == run_id
    await rpc.publish(contract.CANCEL, contract.CancelOperation(operation_id=run_id))
    with pytest.raises(Conflict, match="superseded or cancelled"):
        await running_preview
    await subscription.unsubscribe()  # type: ignore[attr-defined]


async def test_preview_bytes_never_hold_a_location(rpc: RpcClient, session_id: UUID) -> None:
    """Even while the session keeps locations, a preview (and so the version it becomes) has none."""
    await rpc.call(contract.PRIVACY_SET, contract.PrivacyUpdate(session_id=session_id, keep_location=True))
    located = media.jpeg(media.photo(640, 480), exif=media.camera_exif(gps=True))
    assert metadata.has_location(located)
    info = await upload(rpc, session_id, located)
    shown = await preview(rpc, session_id, info, contract.CompressOp(preset="email"))
    previewed = await content(rpc, session_id, shown)
    assert not metadata.has_location(previewed)
    applied = await apply(rpc, session_id, shown)
    assert not applied.current.has_location
