"""A NATS_URL naming several nodes of a real 3-node cluster: connecting, failing over, the limits."""

from __future__ import annotations

import asyncio
import socket

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NoRespondersError

from imagetools_common.contracts.base import Endpoint, ServiceSpec, WireModel
from imagetools_common.embedded import EmbeddedNatsCluster, free_port
from imagetools_common.errors import ServiceUnavailable
from imagetools_common.healthcheck import instance_answers
from imagetools_common.lifecycle import Runtime
from imagetools_common.rpc import RpcClient, connect
from imagetools_common.rpc.connection import check_max_payload
from imagetools_common.settings import Settings
from imagetools_common.testing.services import running, settings_for

PROBE = ServiceSpec(name="probe-service", version="1.0.0", subject_prefix="test.probe.v1", description="x")


async def nothing(_: Runtime[Settings]) -> None:
    """A service with no endpoints still answers $SRV.PING."""


async def test_a_client_connects_to_the_node_it_names_first(nats_cluster: EmbeddedNatsCluster) -> None:
    """The first server of the list is the one used (not a random one), whichever it is."""
    for first, node in enumerate(nats_cluster.nodes):
        nc = await connect(nats_cluster.url_from(first), f"placed-{first}")
        try:
            assert nc.connected_url is not None and nc.connected_url.port == node.port
            assert f"placed-{first}" in await asyncio.to_thread(node.clients)
        finally:
            await nc.close()


async def test_every_node_carries_the_largest_upload(nats_cluster: EmbeddedNatsCluster) -> None:
    """Each node runs deploy/nats/nats.conf: its max_payload passes the services' start-up check."""
    for first in range(len(nats_cluster.nodes)):
        nc = await connect(nats_cluster.url_from(first), "payload-check")
        try:
            check_max_payload(nc, 20 * 1024 * 1024)
        finally:
            await nc.close()


async def answered(nc: NATS, payload: bytes, attempts: int = 100) -> bytes:
    """The echo's reply, once the responder's interest has crossed the routes to ``nc``'s node."""
    for _ in range(attempts):
        try:
            return (await nc.request("cluster.echo", payload, timeout=5)).data
        except (NoRespondersError, ConnectionClosedError, TimeoutError):
            await asyncio.sleep(0.05)
    raise AssertionError(f"no reply to {payload!r} through node {nc.connected_url}")


async def test_a_request_survives_its_nodes_death(nats_cluster: EmbeddedNatsCluster) -> None:
    """Requester on node 0, responder on node 1: node 0 is SIGKILLed, the requester moves to the next
    node of its list by itself and its requests are answered across the cluster again; node 0 comes
    back and rejoins."""
    responder = await connect(nats_cluster.url_from(1), "responder")
    requester = await connect(nats_cluster.url_from(0), "requester")

    async def echo(msg: Msg) -> None:
        await msg.respond(msg.data)

    try:
        await responder.subscribe("cluster.echo", cb=echo)
        assert await answered(requester, b"before") == b"before"

        await nats_cluster.nodes[0].kill()
        assert await answered(requester, b"after") == b"after"
        assert requester.connected_url is not None
        assert requester.connected_url.port == nats_cluster.nodes[1].port  # the next in its list
    finally:
        await nats_cluster.nodes[0].start()
        await nats_cluster.wait_routed()
        await requester.close()
        await responder.close()


class Slow(WireModel):
    text: str


# A timeout far beyond the test's own: the error must come from the lost connection, not from it.
SLOW = Endpoint(PROBE, "slow", Slow, Slow, timeout=600)


async def test_a_call_in_flight_when_its_node_dies_fails_at_once(nats_cluster: EmbeddedNatsCluster) -> None:
    """The caller's node is SIGKILLed while its request is being worked on elsewhere: the reply
    would go to an inbox on the dead node, so the call ends as "bus unavailable" (which the
    retrying client resends where safe) instead of waiting out its 10-minute timeout; once the
    caller has moved to another node, calls are answered again."""
    responder = await connect(nats_cluster.url_from(1), "responder")
    caller = await connect(nats_cluster.url_from(0), "caller")
    received = asyncio.Event()
    release = asyncio.Event()

    async def slow(msg: Msg) -> None:
        if Slow.model_validate_json(msg.data).text == "in flight":
            received.set()
            await release.wait()
        await msg.respond(msg.data)

    async def answers(rpc: RpcClient) -> bool:
        try:
            return (await rpc.call(SLOW, Slow(text="ping"), timeout=5)).text == "ping"
        except ServiceUnavailable:  # interest not yet routed, or still reconnecting
            await asyncio.sleep(0.05)
            return False

    try:
        await responder.subscribe(SLOW.subject, cb=slow)
        rpc = RpcClient(caller)
        async with asyncio.timeout(60):
            while not await answers(rpc):
                pass
        call = asyncio.create_task(rpc.call(SLOW, Slow(text="in flight")))
        await received.wait()
        await nats_cluster.nodes[0].kill()
        with pytest.raises(ServiceUnavailable, match="connection to the message bus was lost"):
            async with asyncio.timeout(120):  # the test's own bound, far below SLOW's 600 s
                await call
        release.set()  # the responder handles one message at a time
        async with asyncio.timeout(60):
            while not await answers(rpc):
                pass
    finally:
        release.set()
        await nats_cluster.nodes[0].start()
        await nats_cluster.wait_routed()
        await caller.close()
        await responder.close()


async def test_the_health_check_reads_a_list(nats_cluster: EmbeddedNatsCluster) -> None:
    """The container check given the cluster's list finds its instance on another node even when
    the first node named is down; a NATS_URL the services would refuse is unhealthy, not a crash."""
    settings = settings_for(Settings, {"NATS_URL": nats_cluster.url_from(1), "SESSION_SECRET_KEY": "s" * 40})
    dead_first = f"nats://127.0.0.1:{free_port()},{nats_cluster.url_from(2)}"
    async with running(PROBE, settings, nothing):
        assert await instance_answers(dead_first, PROBE.name, socket.gethostname())
    assert not await instance_answers("nats://a:4222,,nats://b:4222", PROBE.name, socket.gethostname())


async def test_connecting_gives_up_when_no_node_answers() -> None:
    """With every server of the list down, a process stops after its wait with one clear error
    naming the list, instead of retrying for ever at start-up."""
    nowhere = f"nats://127.0.0.1:{free_port()},nats://127.0.0.1:{free_port()}"
    with pytest.raises(ConnectionError, match=f"cannot reach NATS at {nowhere} within 1 s"):
        await connect(nowhere, "nowhere", wait=1)
