"""The gateway's caches of resolved sessions and image lists, across two replicas on the real bus.

Every replica answers from its cache until SESSION_CHANGED says the session changed; the tests
show a second replica sees an ended session, a rotated token and a changed image list at once
(its connection to NATS flushed, no waiting for the entries' TTL), and that a replica which may
have missed events (it reconnected) answers from the services again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from nats.aio.client import Client as NATS

from gateway import keys
from gateway.cookies import COOKIE_NAME
from imagetools_common.contracts import session
from imagetools_common.embedded import EmbeddedNats
from imagetools_common.rpc import RpcClient
from imagetools_common.testing import media
from imagetools_common.testing.waits import eventually

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
CSRF = {"X-Requested-With": "ImageTools"}


def form(name: str) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("file", media.jpeg(media.photo(64, 48)), filename=name, content_type="image/jpeg")
    return data


@pytest.fixture
async def replicas(backend: AsyncExitStack, make_client: ClientFactory) -> tuple[Client, Client]:
    """Two gateway replicas in front of the same services."""
    return await make_client(), await make_client()


async def start_session(client: Client, *names: str) -> tuple[str, list[str]]:
    """A session storing one small photo per name: its token and the images' ids."""
    token, ids = "", []
    for name in names:
        headers = {**CSRF, "Cookie": f"{COOKIE_NAME}={token}"} if token else CSRF
        response = await client.post("/api/v1/images", data=form(name), headers=headers)
        assert response.status == 201, await response.text()
        token = token or response.cookies[COOKIE_NAME].value
        ids += [image["id"] for image in (await response.json())["images"]]
    client.session.cookie_jar.clear()  # from here on every request names its session itself
    return token, ids


def as_owner(token: str) -> dict[str, str]:
    return {**CSRF, "Cookie": f"{COOKIE_NAME}={token}"}


async def listed(client: Client, token: str) -> list[str]:
    response = await client.get("/api/v1/images", headers=as_owner(token))
    assert response.status == 200, await response.text()
    return [image["id"] for image in (await response.json())["images"]]


async def active(client: Client, token: str) -> bool:
    response = await client.get("/api/v1/session", headers=as_owner(token))
    assert response.status == 200, await response.text()
    return bool((await response.json())["active"])


async def heard_everything(client: Client) -> None:
    """Whatever was published before now has reached this replica (a PING/PONG behind it)."""
    await client.app[keys.BUS].flush()


async def test_a_session_ended_on_one_replica_is_gone_on_the_other(replicas: tuple[Client, Client]) -> None:
    """Both replicas cached the session and its list; ending it on one ends it on both, at once."""
    first, second = replicas
    token, ids = await start_session(first, "a.jpg")
    for replica in replicas:
        assert await active(replica, token) and await listed(replica, token) == ids
    response = await first.delete("/api/v1/session", headers=as_owner(token))
    assert response.status == 204
    await heard_everything(second)
    for replica in replicas:
        assert not await active(replica, token)
        assert await listed(replica, token) == []


async def test_a_rotated_token_stops_working_on_every_replica(
    replicas: tuple[Client, Client], nc: NATS
) -> None:
    """After a rotation (an OpenRouter sign-in does one) the old cookie is no session anywhere; the new is."""
    first, second = replicas
    token, ids = await start_session(first, "a.jpg")
    assert await active(second, token) and await listed(second, token) == ids
    owner = await RpcClient(nc).call(session.RESOLVE, session.ResolveRequest(token=token))
    device = session.DeviceRef(session_id=owner.id, device_id=owner.device_id)
    rotated = await RpcClient(nc).call(session.ROTATE, device)
    await heard_everything(first)
    await heard_everything(second)
    for replica in replicas:
        assert not await active(replica, token)
        assert await listed(replica, token) == []
        assert await active(replica, rotated.token)
        assert await listed(replica, rotated.token) == ids


async def test_image_changes_on_one_replica_show_on_the_other(replicas: tuple[Client, Client]) -> None:
    """An upload and a delete through one replica change the list the other replica had cached."""
    first, second = replicas
    token, ids = await start_session(first, "a.jpg", "b.jpg")
    assert sorted(await listed(second, token)) == sorted(ids)
    response = await first.delete(f"/api/v1/images/{ids[0]}", headers=as_owner(token))
    assert response.status == 204
    await heard_everything(second)
    assert await listed(second, token) == [ids[1]]
    response = await first.post("/api/v1/images", data=form("c.jpg"), headers=as_owner(token))
    assert response.status == 201
    added = (await response.json())["images"][0]["id"]
    await heard_everything(second)
    assert sorted(await listed(second, token)) == sorted([ids[1], added])


async def test_after_a_reconnect_a_replica_answers_from_the_services(
    replicas: tuple[Client, Client], nats_server: EmbeddedNats, db_pool: asyncpg.Pool
) -> None:
    """A change whose event a replica may have missed (its bus went away) shows once it is back."""
    first, _ = replicas
    token, ids = await start_session(first, "a.jpg", "b.jpg")
    assert sorted(await listed(first, token)) == sorted(ids)
    # Deleted behind everyone's back: exactly what a replica sees when it missed the event.
    await db_pool.execute("DELETE FROM images.images WHERE id = $1", UUID(ids[0]))
    assert sorted(await listed(first, token)) == sorted(ids)  # still this replica's cached answer
    bus = first.app[keys.BUS]
    reconnects = bus.stats["reconnects"]
    await nats_server.restart()
    await eventually(
        lambda: health(first), lambda ok: ok and bus.stats["reconnects"] > reconnects, timeout=60
    )
    assert await listed(first, token) == [ids[1]]
    assert await active(first, token)


async def health(client: Client) -> bool:
    """Every service answers through this replica again."""
    response = await client.get("/health")
    return response.status == 200
