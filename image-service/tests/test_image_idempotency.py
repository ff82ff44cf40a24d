"""Keyed mutations: a repeat with the same idempotency key returns the first reply, applied once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from image_service.settings import ImageSettings
from imagetools_common.contracts import image as contract
from imagetools_common.contracts import session
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import ValidationFailed
from imagetools_common.rpc import RpcClient
from imagetools_common.testing import media
from imagetools_common.testing.services import running, settings_for
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings


@pytest.fixture
async def rpc(base_env: dict[str, str], nc: NATS) -> AsyncIterator[RpcClient]:
    async with (
        running(session.SERVICE, settings_for(SessionSettings, base_env), register_sessions,
                storage=SESSION_STORAGE),
        running(contract.SERVICE, settings_for(ImageSettings, base_env, max_images_per_session=2),
                register_images, storage=IMAGE_STORAGE),
    ):  # fmt: skip
        yield RpcClient(nc)


@pytest.fixture
async def session_id(rpc: RpcClient) -> UUID:
    return (await rpc.call(session.CREATE, Empty())).session.id


@pytest.fixture
def photo() -> bytes:
    return media.jpeg(media.photo(320, 240))


async def versions(db_pool: asyncpg.Pool, image_id: UUID) -> list[tuple[int, str]]:
    rows = await db_pool.fetch(
        "SELECT number, operation FROM images.versions WHERE image_id = $1 ORDER BY number", image_id
    )
    return [(r["number"], r["operation"]) for r in rows]


async def test_a_repeated_upload_stores_one_image(
    rpc: RpcClient, session_id: UUID, photo: bytes, db_pool: asyncpg.Pool
) -> None:
    """The same upload sent twice with one key is one image; the repeat gets the same answer."""
    header = contract.UploadHeader(session_id=session_id, filename="a.jpg", idempotency_key="upload-key-1:0")
    first = await rpc.send(contract.UPLOAD, header, photo)
    again = await rpc.send(contract.UPLOAD, header, photo)
    assert again == first
    assert await db_pool.fetchval("SELECT count(*) FROM images.images WHERE session_id = $1", session_id) == 1


async def test_a_repeat_is_answered_even_when_the_first_filled_the_quota(
    rpc: RpcClient, session_id: UUID, photo: bytes
) -> None:
    """A retried upload whose first attempt took the last free slot gets its image, not a 409."""
    await rpc.send(contract.UPLOAD, contract.UploadHeader(session_id=session_id, filename="a.jpg"), photo)
    header = contract.UploadHeader(session_id=session_id, filename="b.jpg", idempotency_key="last-slot-key")
    first = await rpc.send(contract.UPLOAD, header, photo)
    assert await rpc.send(contract.UPLOAD, header, photo) == first


async def test_concurrent_repeats_of_an_operation_apply_it_once(
    rpc: RpcClient, session_id: UUID, photo: bytes, db_pool: asyncpg.Pool
) -> None:
    """Five copies of one keyed rotation racing each other make one version, and all see it."""
    image = await rpc.send(
        contract.UPLOAD, contract.UploadHeader(session_id=session_id, filename="a.jpg"), photo
    )
    request = contract.ApplyRequest(
        session_id=session_id, image_id=image.id, operation=contract.RotateOp(degrees=90),
        idempotency_key="rotate-once",
    )  # fmt: skip
    replies = await asyncio.gather(*(rpc.call(contract.APPLY, request) for _ in range(5)))
    assert {r.current.number for r in replies} == {2}
    assert all(r == replies[0] for r in replies)
    assert await versions(db_pool, image.id) == [(1, "upload"), (2, "rotate")]


async def test_repeated_undo_redo_and_revert_move_once(
    rpc: RpcClient, session_id: UUID, photo: bytes
) -> None:
    """A repeated undo does not undo twice; redo and revert likewise; new keys move again."""
    image = await rpc.send(
        contract.UPLOAD, contract.UploadHeader(session_id=session_id, filename="a.jpg"), photo
    )
    for degrees in (90, 180):
        rotate = contract.RotateOp(degrees=degrees)
        await rpc.call(
            contract.APPLY, contract.ApplyRequest(session_id=session_id, image_id=image.id, operation=rotate)
        )
    undo = contract.HistoryStep(session_id=session_id, image_id=image.id, idempotency_key="undo-key-1")
    assert (await rpc.call(contract.UNDO, undo)).current.number == 2
    assert (await rpc.call(contract.UNDO, undo)).current.number == 2
    undo_again = undo.model_copy(update={"idempotency_key": "undo-key-2"})
    assert (await rpc.call(contract.UNDO, undo_again)).current.number == 1
    redo = contract.HistoryStep(session_id=session_id, image_id=image.id, idempotency_key="redo-key-1")
    assert (await rpc.call(contract.REDO, redo)).current.number == 2
    assert (await rpc.call(contract.REDO, redo)).current.number == 2
    revert = contract.RevertRequest(
        session_id=session_id, image_id=image.id, version=3, idempotency_key="rev-key-1"
    )
    assert (await rpc.call(contract.REVERT, revert)).current.number == 3
    # Replayed: the first answer, although the image has moved on since.
    await rpc.call(contract.UNDO, undo.model_copy(update={"idempotency_key": "undo-key-3"}))
    assert (await rpc.call(contract.REVERT, revert)).current.number == 3
    current = await rpc.call(contract.GET, contract.ImageRef(session_id=session_id, image_id=image.id))
    assert current.current.number == 2


async def test_a_key_reused_for_another_request_is_refused(
    rpc: RpcClient, session_id: UUID, photo: bytes, db_pool: asyncpg.Pool
) -> None:
    """One key for two different operations: the second is a 422 naming the key, and not applied."""
    image = await rpc.send(
        contract.UPLOAD, contract.UploadHeader(session_id=session_id, filename="a.jpg"), photo
    )
    rotate = contract.ApplyRequest(
        session_id=session_id,
        image_id=image.id,
        operation=contract.RotateOp(degrees=90),
        idempotency_key="k-123456",
    )
    await rpc.call(contract.APPLY, rotate)
    flip = rotate.model_copy(update={"operation": contract.FlipOp(direction="vertical")})
    with pytest.raises(ValidationFailed, match="idempotency_key") as refused:
        await rpc.call(contract.APPLY, flip)
    assert refused.value.details == {"field": "idempotency_key"}
    assert await versions(db_pool, image.id) == [(1, "upload"), (2, "rotate")]


async def test_keys_are_forgotten_with_their_session_and_after_a_day(
    rpc: RpcClient, session_id: UUID, photo: bytes, db_pool: asyncpg.Pool
) -> None:
    """Ending the session removes its keys; a day-old key no longer replays and is swept."""
    image = await rpc.send(
        contract.UPLOAD, contract.UploadHeader(session_id=session_id, filename="a.jpg"), photo
    )
    rotate = contract.ApplyRequest(
        session_id=session_id,
        image_id=image.id,
        operation=contract.RotateOp(degrees=90),
        idempotency_key="old-key-1",
    )
    await rpc.call(contract.APPLY, rotate)
    await db_pool.execute(
        "UPDATE images.idempotency SET created_at = now() - interval '25 hours' WHERE session_id = $1",
        session_id,
    )
    again = await rpc.call(contract.APPLY, rotate)
    assert again.current.number == 3  # applied anew: the old record had expired
    keys = await db_pool.fetch("SELECT key, created_at > now() - interval '1 hour' AS fresh "
                               "FROM images.idempotency WHERE session_id = $1", session_id)  # fmt: skip
    assert [(k["key"], k["fresh"]) for k in keys] == [("old-key-1", True)]
    await rpc.call(session.END, session.SessionRef(session_id=session_id))
    assert (
        await db_pool.fetchval("SELECT count(*) FROM images.idempotency WHERE session_id = $1", session_id)
        == 0
    )
