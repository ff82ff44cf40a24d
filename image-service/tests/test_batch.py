"""Batches (image.v1.batch): refused ids, one version per photo, deletes, cancel, turns per session."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from image_service.settings import ImageSettings
from imagetools_common.contracts import batches, session
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import DomainError, NotFound, ValidationFailed
from imagetools_common.rpc import RpcClient
from imagetools_common.testing import media
from imagetools_common.testing.locks import change_waiting, image_row_locked
from imagetools_common.testing.services import running, settings_for
from imagetools_common.testing.waits import eventually
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings

RESIZE = contract.ResizeOp(width=160)
Steps = list[tuple[str, UUID, str]]  # (batch, image, state) in the order they arrived


@pytest.fixture
async def rpc(base_env: dict[str, str], nc: NATS, tmp_path: Path) -> AsyncIterator[RpcClient]:
    # No background model here (models_dir is empty): these tests are about the batch, not the pixels.
    images = settings_for(ImageSettings, base_env, max_images_per_session=4, models_dir=tmp_path)
    async with (
        running(session.SERVICE, settings_for(SessionSettings, base_env), register_sessions,
                storage=SESSION_STORAGE),
        running(contract.SERVICE, images, register_images, storage=IMAGE_STORAGE),
    ):  # fmt: skip
        yield RpcClient(nc)


async def new_session(rpc: RpcClient, photos: int) -> tuple[UUID, list[UUID]]:
    session_id = (await rpc.call(session.CREATE, Empty())).session.id
    ids = []
    for n in range(photos):
        header = contract.UploadHeader(session_id=session_id, filename=f"p{n}.jpg")
        ids.append((await rpc.send(contract.UPLOAD, header, media.jpeg(media.photo(320, 240, seed=n)))).id)
    return session_id, ids


def batch(session_id: UUID, ids: list[UUID], op: batches.BatchOperation = RESIZE) -> batches.BatchRequest:
    return batches.BatchRequest(session_id=session_id, batch_id=uuid.uuid4(), image_ids=ids, operation=op)


async def run(
    rpc: RpcClient, request: batches.BatchRequest, steps: Steps | None = None, name: str = ""
) -> batches.BatchSummary:
    async with rpc.stream(batches.BATCH, request) as stream:
        async for step in stream:
            if steps is not None:
                steps.append((name, step.image_id, step.state))
    assert stream.result is not None
    return stream.result


async def version_count(db_pool: asyncpg.Pool, image_id: UUID) -> int:
    count: int = await db_pool.fetchval("SELECT count(*) FROM images.versions WHERE image_id = $1", image_id)
    return count


async def test_unknown_foreign_and_repeated_ids_are_refused_before_anything_runs(
    rpc: RpcClient, db_pool: asyncpg.Pool
) -> None:
    mine, (a, b) = await new_session(rpc, 2)
    _, (foreign,) = await new_session(rpc, 1)
    unknown = uuid.uuid4()
    refused: list[tuple[list[UUID], batches.BatchOperation, type[DomainError], str]] = [
        ([a, foreign], RESIZE, NotFound, str(foreign)),
        ([unknown, b], RESIZE, NotFound, str(unknown)),
        ([a, b, a], RESIZE, ValidationFailed, f"repeated: {a}"),
        ([a, b], contract.CompressOp(preset="no-such-preset"), ValidationFailed, "no-such-preset"),
        ([a, b], contract.RemoveBackgroundOp(), DomainError, "background removal is unavailable"),
    ]
    for ids, op, error, says in refused:
        with pytest.raises(error) as raised:
            await run(rpc, batch(mine, ids, op))
        assert says in raised.value.message
    # Nothing ran: each photo still has only its upload.
    assert [await version_count(db_pool, i) for i in (a, b, foreign)] == [1, 1, 1]


async def test_each_photo_gets_its_own_version_and_a_resent_batch_changes_nothing_twice(
    rpc: RpcClient, db_pool: asyncpg.Pool
) -> None:
    session_id, (a, b) = await new_session(rpc, 2)
    request = batch(session_id, [a, b])
    steps: Steps = []
    summary = await run(rpc, request, steps)
    assert steps == [("", a, "started"), ("", a, "done"), ("", b, "started"), ("", b, "done")]
    assert summary.done == [a, b] and summary.failed == []
    assert await run(rpc, request) == summary  # replayed per photo, not applied again
    assert [await version_count(db_pool, i) for i in (a, b)] == [2, 2]
    # Undo is per photo: one goes back, the other keeps the batch's version.
    undone = await rpc.call(contract.UNDO, contract.HistoryStep(session_id=session_id, image_id=a))
    assert undone.current.number == 1 and undone.current.width == 320
    other = await rpc.call(contract.GET, contract.ImageRef(session_id=session_id, image_id=b))
    assert other.current.width == 160


async def test_a_photo_deleted_while_the_batch_runs_fails_as_deleted_and_the_batch_goes_on(
    rpc: RpcClient, db_pool: asyncpg.Pool
) -> None:
    session_id, (a, b, c) = await new_session(rpc, 3)
    steps: Steps = []
    async with image_row_locked(db_pool, a):
        running_batch = asyncio.create_task(run(rpc, batch(session_id, [a, b, c]), steps))
        await eventually(lambda: change_waiting(db_pool), bool, timeout=20)  # a is in flight
        await rpc.call(contract.DELETE, contract.ImageIds(session_id=session_id, image_ids=[c]))
    summary = await running_batch
    assert summary.done == [a, b]
    assert [(f.image_id, f.code) for f in summary.failed] == [(c, "deleted")]
    assert steps[-1] == ("", c, "failed")


async def test_cancel_keeps_finished_photos_and_leaves_nothing_of_the_one_in_flight(
    rpc: RpcClient, db_pool: asyncpg.Pool
) -> None:
    session_id, (a, b, c) = await new_session(rpc, 3)
    seen: Steps = []
    async with image_row_locked(db_pool, b):
        async with rpc.stream(batches.BATCH, batch(session_id, [a, b, c])) as stream:
            async for step in stream:
                seen.append(("", step.image_id, step.state))
                if step.image_id == b:
                    break
            await eventually(lambda: change_waiting(db_pool), bool, timeout=20)  # b is being stored
        # Leaving the stream cancelled the batch: b's store gave up waiting before the lock is freed.
        await eventually(lambda: change_waiting(db_pool), lambda waiting: not waiting, timeout=20)
    assert seen == [("", a, "started"), ("", a, "done"), ("", b, "started")]
    assert [await version_count(db_pool, i) for i in (a, b, c)] == [2, 1, 1]
    info = await rpc.call(contract.GET, contract.ImageRef(session_id=session_id, image_id=b))
    assert info.current.number == 1 and not info.can_redo


async def test_one_photo_at_a_time_per_session_while_other_sessions_go_on(
    rpc: RpcClient, db_pool: asyncpg.Pool
) -> None:
    session_id, (a, b) = await new_session(rpc, 2)
    other_session, (o,) = await new_session(rpc, 1)
    steps: Steps = []
    async with image_row_locked(db_pool, a):
        first = asyncio.create_task(run(rpc, batch(session_id, [a]), steps, "first"))
        await eventually(lambda: change_waiting(db_pool), bool, timeout=20)  # a is in flight
        second = asyncio.create_task(run(rpc, batch(session_id, [b]), steps, "second"))
        # Another session is not held up by the photo in flight: its batch finishes meanwhile.
        assert (await run(rpc, batch(other_session, [o]))).done == [o]
    await asyncio.gather(first, second)
    # The second batch's photo started only after the first batch's photo was done.
    assert steps == [
        ("first", a, "started"),
        ("first", a, "done"),
        ("second", b, "started"),
        ("second", b, "done"),
    ]
