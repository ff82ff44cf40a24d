"""The whole stack as processes: health, and recovery when a service or NATS goes away."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from imagetools_common.stack import Stack

pytestmark = pytest.mark.e2e


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
