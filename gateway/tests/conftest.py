from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.access_log import AccessLogger
from gateway.app import create_app
from gateway.connections import GuardedRunner
from gateway.settings import GatewaySettings
from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from image_service.settings import ImageSettings
from imagetools_common.contracts import image, oauth, session
from imagetools_common.testing.services import running, settings_for
from oauth_service.__main__ import STORAGE as OAUTH_STORAGE
from oauth_service.handlers import register as register_oauth
from oauth_service.settings import OAuthSettings
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings

INDEX = "<!doctype html><html><head><script type=module src=/assets/app-3f2a1b.js></script></head></html>"

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


class GatewayTestServer(TestServer):
    """aiohttp's test server with the gateway's own runner (slow-client limits, neutral Server header)."""

    async def _make_runner(self, **kwargs: Any) -> GuardedRunner:
        return GuardedRunner(self.app, **kwargs)


@pytest.fixture
def web_dist(tmp_path: Path) -> Path:
    """A stand-in for the built web app: an index and one hashed asset."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "app-3f2a1b.js").write_text("console.log('app')")
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return dist


@pytest.fixture
async def backend(base_env: dict[str, str]) -> AsyncIterator[AsyncExitStack]:
    """session-, image- and oauth-service running in this loop over the real NATS and PostgreSQL."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(
            running(session.SERVICE, settings_for(SessionSettings, base_env), register_sessions,
                    storage=SESSION_STORAGE)
        )  # fmt: skip
        await stack.enter_async_context(
            running(
                image.SERVICE, settings_for(ImageSettings, base_env), register_images, storage=IMAGE_STORAGE
            )
        )
        await stack.enter_async_context(
            running(
                oauth.SERVICE, settings_for(OAuthSettings, base_env), register_oauth, storage=OAUTH_STORAGE
            )
        )
        yield stack


@pytest.fixture
async def make_client(base_env: dict[str, str], web_dist: Path) -> AsyncIterator[ClientFactory]:
    """Start a real gateway on a loopback port with settings overrides; returns an HTTP client for it."""
    clients: list[TestClient[Any, Any]] = []

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        settings = settings_for(GatewaySettings, base_env, **{"web_dist_dir": web_dist, **overrides})
        server = GatewayTestServer(create_app(settings))
        await server.start_server(access_log_class=AccessLogger)  # as `python -m gateway` runs it
        client = TestClient(server)
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(backend: AsyncExitStack, make_client: ClientFactory) -> TestClient[Any, Any]:
    """A gateway with every backend service up."""
    return await make_client()
