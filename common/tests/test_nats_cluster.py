"""A NATS_URL naming several nodes of a real 3-node cluster: connecting, failing over, the limits."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NoRespondersError

from imagetools_common.embedded import EmbeddedNatsCluster
from imagetools_common.healthcheck import instance_answers
from imagetools_common.rpc import connect
from imagetools_common.rpc.connection import check_max_payload


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


async def test_the_health_check_reads_a_list() -> None:
    """A NATS_URL the services would refuse is unhealthy, not a crash of the check."""
    assert not await instance_answers("nats://a:4222,,nats://b:4222", "image-service", "host")
