from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from imagetools_common.contracts import session
from imagetools_common.testing.services import running, settings_for
from session_service.__main__ import STORAGE
from session_service.handlers import register
from session_service.settings import SessionSettings


@pytest.fixture
async def session_service(base_env: dict[str, str]) -> AsyncIterator[SessionSettings]:
    """session-service running in this loop against the real NATS and PostgreSQL."""
    settings = settings_for(SessionSettings, base_env, session_sweep_interval_seconds=0.2)
    async with running(session.SERVICE, settings, register, storage=STORAGE):
        yield settings
