"""The usual world of an image-service test: the service and session-service over real NATS and
PostgreSQL, a short history (two versions kept, so pruning is cheap to reach) and a session.

A module that needs other settings defines its own ``rpc`` (and ``session_id``), which wins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import pytest
from nats.aio.client import Client as NATS

from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from image_service.settings import ImageSettings
from imagetools_common.contracts import image, session
from imagetools_common.contracts.base import Empty
from imagetools_common.rpc import RpcClient
from imagetools_common.testing.services import running, settings_for
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings


@pytest.fixture
async def rpc(base_env: dict[str, str], nc: NATS) -> AsyncIterator[RpcClient]:
    images = settings_for(ImageSettings, base_env, undo_stack_limit=2)
    sessions = settings_for(SessionSettings, base_env)
    async with (
        running(session.SERVICE, sessions, register_sessions, storage=SESSION_STORAGE),
        running(image.SERVICE, images, register_images, storage=IMAGE_STORAGE),
    ):
        yield RpcClient(nc)


async def _new_session(rpc: RpcClient) -> UUID:
    return (await rpc.call(session.CREATE, Empty())).session.id


@pytest.fixture
async def session_id(rpc: RpcClient) -> UUID:
    return await _new_session(rpc)


@pytest.fixture
async def stranger(rpc: RpcClient) -> UUID:
    """A second session, whose requests must never reach the first one's images."""
    return await _new_session(rpc)
