"""The whole stack as processes: health, and recovery when a service, NATS or PostgreSQL goes away."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from imagetools_common.stack import Stack
from imagetools_common.testing.load import GENEROUS_LIMITS, UNSAFE, Tally, User, drive, when

pytestmark = pytest.mark.e2e

USERS = 4


@pytest.fixture(scope="module")
async def stack(make_stack: Callable[..., Awaitable[Stack]]) -> Stack:
    """The topology with its own NATS and PostgreSQL, so the tests may restart either."""
    return await make_stack("faults", own_database=True, **GENEROUS_LIMITS)


async def health(http: aiohttp.ClientSession) -> tuple[int, dict[str, Any]]:
    async with http.get("/health") as response:
        return response.status, await response.json()


async def wait_health(http: aiohttp.ClientSession, want: int, attempts: int = 100) -> dict[str, Any]:
    """Poll /health (bounded) until it answers ``want``; the report that did."""
    for _ in range(attempts):
        status, body = await health(http)
        if status == want:
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"/health never answered {want}; last: {status} {body}")


async def test_every_process_reports_healthy(http: aiohttp.ClientSession) -> None:
    """With the stack up, /health is 200 and lists each service with one replica."""
    body = await wait_health(http, 200)
    assert body["status"] == "healthy"
    assert {k: v["replicas"] for k, v in body["services"].items()} == {
        "gateway": 1, "session-service": 1, "image-service": 1, "oauth-service": 1,
    }  # fmt: skip


async def test_session_service_killed_then_restarted(stack: Stack, http: aiohttp.ClientSession) -> None:
    """A dead session-service shows in /health and API calls get a prompt 503; a restart recovers."""
    # Storing something starts the session (a cookie-less visitor's reads never reach session-service).
    async with http.put("/api/v1/settings/ui.seen", json={"value": True}, headers=UNSAFE) as response:
        assert response.status == 200
    async with http.get("/api/v1/session") as response:
        assert response.status == 200
        before = await response.json()
    victim = next(p for p in stack.processes if p.module == "session_service")
    await victim.kill()
    stack.processes.remove(victim)

    loop = asyncio.get_running_loop()
    killed_at = loop.time()
    body = await wait_health(http, 503)
    noticed = loop.time() - killed_at
    assert body["missing"] == ["session-service"]
    async with http.get("/api/v1/session") as response:
        assert response.status == 503
        assert (await response.json())["error"]["code"] == "service_unavailable"
    print(f"/health reported session-service missing {noticed:.2f} s after SIGKILL")

    await stack.start_service("session-service")
    await wait_health(http, 200)
    async with http.get("/api/v1/session") as response:
        assert response.status == 200
        assert (await response.json())["created_at"] == before[
            "created_at"
        ]  # same session, gateway untouched


async def test_nats_restart_recovers_every_service(stack: Stack, http: aiohttp.ClientSession) -> None:
    """After NATS restarts, every service reconnects by itself and the API works again."""
    assert stack.nats is not None
    await stack.nats.restart()
    for _ in range(150):
        await asyncio.sleep(0.2)
        status, body = await health(http)
        async with http.get("/api/v1/session") as response:
            if status == 200 and response.status == 200:
                break
    else:
        raise AssertionError(f"no recovery after the NATS restart: {status} {body}")
    assert body["missing"] == []


async def under_load(
    stack: Stack, fault: Callable[[], Awaitable[None]], times: int = 2
) -> tuple[Tally, list[int]]:
    """Users working while ``fault`` happens ``times`` (each after 30 more answers); what they got,
    and (versions checked, lost, duplicated) over every image they made."""
    tally = Tally()
    users = [User(stack.gateway_url, seed, tally) for seed in range(USERS)]
    done = asyncio.Event()

    async def answers(more: int) -> None:
        mark = tally.answered
        await when(lambda: tally.answered >= mark + more)

    async def faults() -> None:
        try:
            for _ in range(times):
                await answers(30)
                await fault()
            await answers(30)
        finally:
            done.set()  # the load stops even when a fault step failed, so the test reports it

    injecting = asyncio.create_task(faults())
    try:
        await drive(users, done)
        await injecting
        totals = [sum(column) for column in zip(*[await u.verify() for u in users], strict=True)]
    finally:
        for user in users:
            await user.close()
    print(
        f"\n{fault.__qualname__} x{times}: statuses {dict(tally.by_status)}, (checked, lost, dup.) {totals}"
    )
    return tally, totals


async def test_postgres_restarts_under_load_lose_nothing(stack: Stack) -> None:
    """pg_ctl restart -m fast, twice, while users edit: no 5xx but 503 (and each 503 resent with its
    key succeeds), every change that got a 2xx stored exactly once, nothing by half."""
    assert stack.postgres is not None
    tally, (checked, lost, duplicated) = await under_load(stack, stack.postgres.restart)
    assert tally.wrong == [] and tally.gave_up == 0
    assert set(tally.by_status) <= {200, 201, 503}
    assert checked > 0 and lost == 0 and duplicated == 0


async def test_nats_restarts_under_load_lose_nothing(stack: Stack) -> None:
    """The bus restarts twice while users edit: requests in the gap get a 503 or are retried, and
    nothing is lost or applied twice."""
    assert stack.nats is not None
    tally, (checked, lost, duplicated) = await under_load(stack, stack.nats.restart)
    assert tally.wrong == [] and tally.gave_up == 0
    assert set(tally.by_status) <= {200, 201, 503}
    assert checked > 0 and lost == 0 and duplicated == 0
