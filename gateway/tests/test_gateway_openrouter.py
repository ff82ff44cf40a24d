"""Connecting OpenRouter end to end: gateway, oauth-service and a fake OpenRouter, all real servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from nats.aio.client import Client as NATS
from yarl import URL

from gateway.access_log import AccessLogger
from gateway.app import create_app
from gateway.cookies import COOKIE_NAME
from gateway.settings import GatewaySettings
from imagetools_common.contracts import oauth, session
from imagetools_common.embedded import free_port
from imagetools_common.testing.services import running, settings_for
from oauth_service.__main__ import STORAGE as OAUTH_STORAGE
from oauth_service.fake_openrouter import FakeState, Mode, create_fake
from oauth_service.handlers import register as register_oauth
from oauth_service.settings import OAuthSettings
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings

CSRF = {"X-Requested-With": "ImageTools"}


class World:
    """The fake, the services and a gateway whose public URL is its real loopback address."""

    def __init__(self, fake: FakeState, base: str, http: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.base = base
        self.http = http

    async def connect(self) -> str:
        """Start a flow and let the fake approve it; the callback URL the browser is sent to."""
        async with self.http.post(f"{self.base}/api/v1/openrouter/connect", headers=CSRF) as response:
            assert response.status == 200, await response.text()
            authorize = (await response.json())["authorize_url"]
        approve = authorize.replace("/auth?", "/auth/approve?")
        async with self.http.get(approve, allow_redirects=False) as response:
            assert response.status == 302
            return response.headers["Location"]

    async def follow(self, url: str) -> tuple[int, dict[str, str], Any]:
        async with self.http.get(url, allow_redirects=False) as response:
            return response.status, dict(response.headers), response

    async def status(self) -> dict[str, Any]:
        async with self.http.get(f"{self.base}/api/v1/openrouter/status") as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())


@pytest.fixture
async def world(base_env: dict[str, str]) -> AsyncIterator[World]:
    fake = FakeState(stream_delay=0)
    async with AsyncExitStack() as stack:
        fake_server = TestServer(create_fake(fake), host="127.0.0.1", port=0)
        await fake_server.start_server()
        stack.push_async_callback(fake_server.close)
        port = free_port()
        app_url = f"http://127.0.0.1:{port}"
        oauth_settings = settings_for(
            OAuthSettings,
            base_env,
            openrouter_app_url=app_url,
            openrouter_api_base=str(fake_server.make_url("/api/v1")),
            openrouter_auth_url=str(fake_server.make_url("/auth")),
        )
        await stack.enter_async_context(
            running(session.SERVICE, settings_for(SessionSettings, base_env), register_sessions,
                    storage=SESSION_STORAGE)
        )  # fmt: skip
        await stack.enter_async_context(
            running(oauth.SERVICE, oauth_settings, register_oauth, storage=OAUTH_STORAGE)
        )
        gateway = TestServer(
            create_app(settings_for(GatewaySettings, base_env, openrouter_app_url=app_url)),
            host="127.0.0.1",
            port=port,
        )
        await gateway.start_server(access_log_class=AccessLogger)
        stack.push_async_callback(gateway.close)
        http = await stack.enter_async_context(
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        )
        yield World(fake, app_url, http)


def cookie(world: World) -> str:
    return str(world.http.cookie_jar.filter_cookies(URL(world.base))[COOKIE_NAME].value)


async def test_connect_round_trip(world: World) -> None:
    """Connect, approve, return: the key is stored, status shows its limits, the session token rotates."""
    assert (await world.status())["state"] == "disconnected"
    callback = await world.connect()  # starting the flow stores it, so it starts the session
    before = cookie(world)
    assert callback.startswith(f"{world.base}/oauth/callback?code=")
    status, headers, _ = await world.follow(callback)
    assert status == 303 and headers["Location"] == "/?openrouter=connected"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert cookie(world) != before
    shown = await world.status()
    assert shown["state"] == "connected" and shown["source"] == "user"
    assert shown["limit"] == 10.0 and shown["revoke_url"].endswith(shown["key_hash"])
    assert len(world.fake.calls("/api/v1/auth/keys")) == 1
    # The old token is dead: replaying it is no session, so nothing is connected.
    async with aiohttp.ClientSession() as stranger:
        headers = {"Cookie": f"{COOKIE_NAME}={before}"}
        async with stranger.get(f"{world.base}/api/v1/openrouter/status", headers=headers) as response:
            assert (await response.json())["state"] == "disconnected"


async def test_callback_is_single_use_and_bound_to_the_session(world: World) -> None:
    """A replayed callback, or one arriving in another session, exchanges nothing."""
    callback = await world.connect()
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other,
        other.get(callback, allow_redirects=False) as response,
    ):
        assert response.status == 303 and "openrouter=failed" in response.headers["Location"]
    _, headers, _ = await world.follow(callback)
    assert "openrouter=connected" in headers["Location"]
    _, headers, _ = await world.follow(callback)
    assert "openrouter=failed" in headers["Location"]
    assert len(world.fake.calls("/api/v1/auth/keys")) == 1


async def test_concurrent_callbacks_exchange_once(world: World) -> None:
    """Two simultaneous callbacks for one flow lead to exactly one code exchange."""
    callback = await world.connect()
    results = await asyncio.gather(world.follow(callback), world.follow(callback))
    outcomes = sorted(h["Location"].split("=", 1)[1][:9] for _, h, _ in results)
    assert outcomes == ["connected", "failed&re"]
    assert len(world.fake.calls("/api/v1/auth/keys")) == 1


async def test_denial_wrong_state_and_expired_flow(world: World) -> None:
    """Denial, a forged state and a flow older than ten minutes all fail without an exchange."""
    await world.connect()
    _, headers, _ = await world.follow(f"{world.base}/oauth/callback?error=access_denied")
    assert "declined" in parse_qs(urlsplit(headers["Location"]).query)["reason"][0]
    callback = await world.connect()
    forged = callback.split("&state=")[0] + "&state=forged"
    _, headers, _ = await world.follow(forged)
    assert "did+not+match" in headers["Location"]
    assert world.fake.calls("/api/v1/auth/keys") == []


async def test_a_callback_without_its_state_changes_nothing(world: World) -> None:
    """A code without state is refused, and a planted denial or code for another state does not
    cancel the attempt in progress: the real callback still connects afterwards."""
    callback = await world.connect()
    code = parse_qs(urlsplit(callback).query)["code"][0]
    for planted in (
        f"{world.base}/oauth/callback?code={code}",
        f"{world.base}/oauth/callback?error=access_denied",
        f"{world.base}/oauth/callback?error=access_denied&state=someone-elses",
        f"{world.base}/oauth/callback?code={code}&state=someone-elses",
    ):
        _, headers, _ = await world.follow(planted)
        assert "openrouter=failed" in headers["Location"], planted
    assert world.fake.calls("/api/v1/auth/keys") == []
    assert (await world.status())["state"] != "connected"
    _, headers, _ = await world.follow(callback)
    assert headers["Location"].endswith("openrouter=connected"), headers["Location"]
    assert len(world.fake.calls("/api/v1/auth/keys")) == 1


async def test_a_denial_with_the_flows_state_cancels_it(world: World) -> None:
    """OpenRouter's denial carrying this attempt's state ends the attempt: its code is then useless."""
    callback = await world.connect()
    state = parse_qs(urlsplit(callback).query)["state"][0]
    _, headers, _ = await world.follow(f"{world.base}/oauth/callback?error=access_denied&state={state}")
    assert "declined" in parse_qs(urlsplit(headers["Location"]).query)["reason"][0]
    _, headers, _ = await world.follow(callback)
    assert "openrouter=failed" in headers["Location"]
    assert world.fake.calls("/api/v1/auth/keys") == []


async def test_revoked_key_asks_to_reconnect_and_disconnect_links_to_revoke(world: World) -> None:
    """A 401 from OpenRouter marks the key invalid; disconnecting forgets it and links to revoke it."""
    await world.follow(await world.connect())
    world.fake.set_mode(Mode.UNAUTHORIZED)
    assert (await world.status())["state"] == "invalid"
    world.fake.set_mode(Mode.OK)
    assert (await world.status())["state"] == "invalid"  # stays invalid until reconnected
    async with world.http.delete(f"{world.base}/api/v1/openrouter", headers=CSRF) as response:
        body = await response.json()
    assert body["state"] == "disconnected" and body["revoke_url"].startswith("https://openrouter.ai/keys/")


async def test_the_key_never_reaches_the_browser_or_the_bus(world: World, nc: NATS) -> None:
    """No response the browser gets and no NATS message carries key material."""
    seen: list[bytes] = []

    async def record(msg: Any) -> None:
        seen.append(msg.data)

    sub = await nc.subscribe(">", cb=record)
    await world.follow(await world.connect())
    bodies = [await (await world.http.get(f"{world.base}/api/v1/openrouter/status")).read()]
    async with world.http.delete(f"{world.base}/api/v1/openrouter", headers=CSRF) as deleted:
        bodies.append(await deleted.read())
    await sub.unsubscribe()
    assert seen and bodies
    assert all(b"sk-or-" not in data for data in [*seen, *bodies])
