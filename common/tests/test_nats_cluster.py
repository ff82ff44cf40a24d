"""A NATS_URL naming several nodes of a real 3-node cluster: connecting, failing over, the limits."""

from __future__ import annotations

import asyncio
import socket

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NoRespondersError

from imagetools_common.contracts.base import ServiceSpec
from imagetools_common.embedded import EmbeddedNatsCluster, free_port
from imagetools_common.healthcheck import instance_answers
from imagetools_common.lifecycle import Runtime
from imagetools_common.rpc import connect
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
