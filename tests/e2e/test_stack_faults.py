"""The whole stack as processes spread over a 3-node NATS cluster, as on Kubernetes: health, and
recovery when a service, a NATS node, the whole bus or PostgreSQL goes away while users work.

Each process names its own node first in NATS_URL (then the others), so requests cross cluster
routes: the gateway publishes on node 0, session-service answers on node 1, image-service on node 2.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from gateway.health import HealthProbe
from imagetools_common.contracts import session
from imagetools_common.embedded import EmbeddedNatsCluster
from imagetools_common.rpc import connect, ping_all
from imagetools_common.stack import Stack
from imagetools_common.testing.load import GENEROUS_LIMITS, UNSAFE, Tally, under_load
from imagetools_common.testing.waits import eventually

pytestmark = pytest.mark.e2e

# The node each process names first; its connection name is how the nodes list it (connz).
NODE_OF = {"gateway": 0, "session-service": 1, "image-service": 2, "oauth-service": 0}
BACKEND = {name: 1 for name in NODE_OF if name != "gateway"}


@pytest.fixture(scope="module")
async def stack(nats_cluster: EmbeddedNatsCluster, make_stack: Callable[..., Awaitable[Stack]]) -> Stack:
    """The topology on the cluster (set up first, so it stops only after the services drained), with
    its own PostgreSQL, so the tests may restart either."""
    return await make_stack(
        "faults",
        own_database=True,
        NATS_URL=nats_cluster.url_from(0),
        process_env={kind: {"NATS_URL": nats_cluster.url_from(node)} for kind, node in NODE_OF.items()},
        **GENEROUS_LIMITS,
    )


_PROBE = inspect.signature(HealthProbe).parameters
# One /health cache period: the cached report's lifetime plus the ping window of the next probe.
HEALTH_PERIOD = _PROBE["ttl"].default + _PROBE["window"].default
NOTICED_WITHIN = 10 * HEALTH_PERIOD


async def health(http: aiohttp.ClientSession) -> tuple[int, dict[str, Any]]:
    async with http.get("/health") as response:
        return response.status, await response.json()


async def wait_health(http: aiohttp.ClientSession, want: int, timeout: float = 30.0) -> dict[str, Any]:
    """Poll /health until it answers ``want`` (failing after ``timeout`` seconds); the report that did."""
    _, body = await eventually(lambda: health(http), lambda answer: answer[0] == want, timeout=timeout)
    return body


async def test_every_process_reports_healthy(http: aiohttp.ClientSession) -> None:
    """With the stack up, /health is 200 and lists each service with one replica."""
    body = await wait_health(http, 200)
    assert body["status"] == "healthy"
    assert {k: v["replicas"] for k, v in body["services"].items()} == {
        "gateway": 1, "session-service": 1, "image-service": 1, "oauth-service": 1,
    }  # fmt: skip


async def placement(cluster: EmbeddedNatsCluster) -> dict[str, int]:
    """The node each ImageTools process is connected to, by its connection name."""
    found: dict[str, int] = {}
    for index, node in enumerate(cluster.nodes):
        if node.running:
            for name in await asyncio.to_thread(node.clients):
                if name in NODE_OF:
                    found[name] = index
    return found


async def wait_reconnected(cluster: EmbeddedNatsCluster, survivor: int) -> None:
    """Until every process is connected to a running node and every service answers a ping sent
    through node ``survivor``: the clients of a dead node have moved and subscribed again."""
    nc = await connect(cluster.url_from(survivor), "cluster-watch")
    try:
        async with asyncio.timeout(120):  # reconnecting takes well under a second; 120 s is "never"
            while True:
                found = await ping_all(nc, window=0.1)
                answering = all(len(found.get(name, [])) >= n for name, n in BACKEND.items())
                if answering and set(await placement(cluster)) == set(NODE_OF):
                    return
    finally:
        await nc.close()


def report(what: str, tally: Tally, totals: list[int], faults: list[tuple[float, float]]) -> None:
    """One line for the log: what users got, what was stored, and for each fault (when it began,
    how long until it was over) how long it took and the longest time nobody was served."""
    ends = [at for at, _ in faults[1:]] + [float("inf")]  # each fault's window ends at the next
    felt = "; ".join(f"over after {took:.2f} s, nobody served for {tally.outage(at, until):.2f} s"
                     for (at, took), until in zip(faults, ends, strict=True))  # fmt: skip
    print(f"\n{what}: statuses {dict(tally.by_status)}, (checked, lost, dup.) {totals}; {felt}")


async def loses_nothing(stack: Stack, what: str, fault: Callable[[], Awaitable[float]]) -> None:
    """Users edit while ``fault`` happens twice (it returns how long until it was over): every
    answer a success or a 503 (each 503 resent with its key succeeds), every change that got a 2xx
    stored exactly once, nothing by half."""
    faults: list[tuple[float, float]] = []

    async def timed() -> None:
        began = time.perf_counter()
        faults.append((began, await fault()))

    tally, totals = await under_load(stack.gateway_url, timed)
    report(what, tally, totals, faults)
    checked, lost, duplicated = totals
    assert tally.wrong == [] and tally.gave_up == 0
    assert set(tally.by_status) <= {200, 201, 503}
    assert checked > 0 and lost == 0 and duplicated == 0


async def seconds(action: Callable[[], Awaitable[None]]) -> float:
    began = time.perf_counter()
    await action()
    return time.perf_counter() - began


async def test_processes_spread_over_the_cluster(stack: Stack, nats_cluster: EmbeddedNatsCluster) -> None:
    """Each process is connected to the node its NATS_URL names first, and requests cross routes."""
    assert await placement(nats_cluster) == NODE_OF
    await stack.wait_for_services(BACKEND)  # asked on node 0, answered on nodes 1 and 2


async def test_a_nats_node_killed_under_load_loses_nothing(
    stack: Stack, nats_cluster: EmbeddedNatsCluster
) -> None:
    """SIGKILL image-service's node, then the gateway's, each restarted once everyone has moved, while
    users edit: the processes on it move to another node, and every change is stored exactly once."""
    victims = iter([NODE_OF["image-service"], NODE_OF["gateway"]])

    async def kill_a_node() -> float:
        """Over once every process on the node has moved; the node then comes back for the next."""
        victim = next(victims)
        node = nats_cluster.nodes[victim]
        survivor = (victim + 1) % len(nats_cluster.nodes)

        async def kill() -> None:
            await node.kill()
            await wait_reconnected(nats_cluster, survivor)

        moved = await seconds(kill)
        await node.start()
        await nats_cluster.wait_routed()
        return moved

    await loses_nothing(stack, "NATS node SIGKILLed x2", kill_a_node)
    await stack.wait_for_services(BACKEND)  # the restarted nodes route again: the cluster is whole


async def test_postgres_restarts_under_load_lose_nothing(stack: Stack) -> None:
    """pg_ctl restart -m fast, twice, while users edit."""
    postgres = stack.postgres
    assert postgres is not None
    await loses_nothing(stack, "PostgreSQL restarted x2", lambda: seconds(postgres.restart))


async def test_session_service_killed_then_restarted(stack: Stack, http: aiohttp.ClientSession) -> None:
    """A dead session-service shows in /health and API calls get a prompt 503; a restart recovers."""
    # Storing something starts the session (a cookie-less visitor's reads never reach session-service).
    async with http.put("/api/v1/settings/ui.seen", json={"value": True}, headers=UNSAFE) as response:
        assert response.status == 200
    async with http.get("/api/v1/session") as response:
        assert response.status == 200
        before = await response.json()
    victim = next(p for p in stack.processes if p.module == "session_service")
    await stack.stop_service(victim, kill=True)

    # The dead process's connection closes with it, so the next ping misses it: /health says so once
    # its cache runs out. Allowed: many cache periods (a loaded machine), far less than a cached
    # report outliving the death, or a dead instance still counted, would take.
    body = await wait_health(http, 503, timeout=NOTICED_WITHIN)
    assert body["missing"] == ["session-service"]
    # A call that needs session-service: nobody answers, so every attempt fails at once (no
    # responders) rather than waiting out the endpoint's timeout: the whole call, retries
    # included, ends within one timeout. (The session itself may still come from the gateway's
    # cache for its last seconds: nothing can change it while session-service is down.)
    loop = asyncio.get_running_loop()
    asked_at = loop.time()
    async with http.get("/api/v1/settings/ui.seen") as response:
        assert response.status == 503
        assert (await response.json())["error"]["code"] == "service_unavailable"
    assert loop.time() - asked_at < session.GET_SETTING.timeout

    await stack.start_service("session-service")
    await wait_health(http, 200)
    async with http.get("/api/v1/session") as response:
        assert response.status == 200
        assert (await response.json())["created_at"] == before[
            "created_at"
        ]  # same session, gateway untouched


async def test_nats_restart_recovers_every_service(
    nats_cluster: EmbeddedNatsCluster, http: aiohttp.ClientSession
) -> None:
    """After the whole bus restarts, every service reconnects by itself and the API works again."""
    await nats_cluster.restart()

    async def health_and_session() -> tuple[int, dict[str, Any], int]:
        status, body = await health(http)
        async with http.get("/api/v1/session") as response:
            return status, body, response.status

    _, body, _ = await eventually(
        health_and_session, lambda answer: answer[0] == answer[2] == 200, timeout=30, interval=0.2
    )
    assert body["missing"] == []


async def test_nats_restarts_under_load_lose_nothing(stack: Stack, nats_cluster: EmbeddedNatsCluster) -> None:
    """The whole bus restarts twice while users edit: requests in the gap get a 503 or are retried."""
    await loses_nothing(stack, "every NATS node restarted x2", lambda: seconds(nats_cluster.restart))
