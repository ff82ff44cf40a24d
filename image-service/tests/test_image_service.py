"""image-service on its own over real NATS and PostgreSQL (the foundation slice: counting)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from imagetools_common.contracts import image, session
from imagetools_common.contracts.base import Empty
from imagetools_common.rpc import RpcClient
from imagetools_common.settings import Settings
from imagetools_common.testing.services import running, settings_for
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings


@pytest.fixture
async def services(base_env: dict[str, str]) -> AsyncIterator[None]:
    async with (
        running(
            session.SERVICE,
            settings_for(SessionSettings, base_env),
            register_sessions,
            storage=SESSION_STORAGE,
        ),
        running(image.SERVICE, settings_for(Settings, base_env), register_images, storage=IMAGE_STORAGE),
    ):
        yield


@pytest.mark.usefixtures("services")
async def test_counts_a_sessions_images_and_they_go_with_it(nc: NATS, db_pool: asyncpg.Pool) -> None:
    """The count is per session, and ending the session deletes its images (cascade)."""
    rpc = RpcClient(nc)
    a, b = [await rpc.call(session.CREATE, Empty()) for _ in range(2)]
    await db_pool.execute(
        "INSERT INTO images.images (session_id) VALUES ($1), ($1), ($2)", a.session.id, b.session.id
    )
    count = await rpc.call(image.COUNT, session.SessionRef(session_id=a.session.id))
    assert count.count == 2
    await rpc.call(session.END, session.SessionRef(session_id=a.session.id))
    assert (
        await db_pool.fetchval("SELECT count(*) FROM images.images WHERE session_id = $1", a.session.id) == 0
    )
    assert (await rpc.call(image.COUNT, session.SessionRef(session_id=b.session.id))).count == 1
