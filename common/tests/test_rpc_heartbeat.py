"""Heartbeat calls: a long call stays alive while its replica works, and a dead replica is given up
after a few seconds of silence, not after the endpoint's timeout (against a real nats-server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from imagetools_common.contracts.base import HEARTBEAT_LOST_AFTER, Endpoint, Keyed, ServiceSpec, WireModel
from imagetools_common.embedded import EmbeddedNats
from imagetools_common.errors import UpstreamTimeout
from imagetools_common.rpc import RpcClient, RpcService, connect
from imagetools_common.rpc.retry import RetryingRpcClient

SPEC = ServiceSpec(name="beating-service", version="1.0.0", subject_prefix="test.beat.v1", description="x")


class Work(Keyed):
    seconds: float


class Done(WireModel):
    calls: int


# Timeouts far beyond what the tests wait: only the heartbeat can end a call to a dead replica early.
WORK = Endpoint(SPEC, "work", Work, Done, timeout=600.0, heartbeat=True)


class Worker:
    def __init__(self) -> None:
        self.calls = 0

    async def work(self, request: Work) -> Done:
        self.calls += 1
        await asyncio.sleep(request.seconds)
        return Done(calls=self.calls)


async def start_replica(url: str, worker: Worker) -> tuple[NATS, RpcService]:
    conn = await connect(url, "beating-replica")
    service = RpcService(conn, SPEC)
    service.add(WORK, worker.work)
    await service.start()
    return conn, service


class DeadReplica:
    """A replica that takes requests off the queue group and dies with them: no beat, no reply."""

    def __init__(self) -> None:
        self.taken = asyncio.Event()

    async def take(self, _msg: Msg) -> None:
        self.taken.set()

    async def join(self, url: str) -> NATS:
        conn = await connect(url, "dead-replica")
        await conn.subscribe(WORK.subject, queue="q", cb=self.take)  # nats.micro's queue group
        await conn.flush()
        return conn


@pytest.fixture
async def dead_then_alive(nats_server: EmbeddedNats) -> AsyncIterator[tuple[DeadReplica, Worker, list[NATS]]]:
    conns: list[NATS] = []
    yield DeadReplica(), Worker(), conns
    for conn in conns:
        await conn.close()


async def test_a_call_longer_than_the_silence_limit_is_kept_alive(
    nats_server: EmbeddedNats, nc: NATS
) -> None:
    worker = Worker()
    conn, service = await start_replica(nats_server.url, worker)
    try:
        reply = await RpcClient(nc).call(WORK, Work(seconds=HEARTBEAT_LOST_AFTER * 1.5))
    finally:
        await service.stop(grace=0)
        await conn.close()
    assert reply.calls == 1 == worker.calls


async def test_a_keyed_call_held_by_a_dead_replica_is_answered_by_another(
    nats_server: EmbeddedNats, nc: NATS, dead_then_alive: tuple[DeadReplica, Worker, list[NATS]]
) -> None:
    """The dead replica swallows the request; the caller notices the silence and retries elsewhere."""
    dead, worker, conns = dead_then_alive
    conns.append(await dead.join(nats_server.url))
    call = asyncio.create_task(
        RetryingRpcClient(nc, pauses=(0.0,)).call(WORK, Work(seconds=0, idempotency_key="key-dead-1"))
    )
    await asyncio.wait_for(dead.taken.wait(), 30)
    await conns.pop().close()  # the process is gone, as after a SIGKILL
    conn, service = await start_replica(nats_server.url, worker)
    conns.append(conn)
    try:
        reply = await asyncio.wait_for(call, 60)
    finally:
        await service.stop(grace=0)
    assert reply.calls == 1 == worker.calls


async def test_an_unkeyed_call_to_a_dead_replica_fails_without_waiting_out_its_timeout(
    nats_server: EmbeddedNats, nc: NATS, dead_then_alive: tuple[DeadReplica, Worker, list[NATS]]
) -> None:
    """Not retried (it may have been applied), but reported as a timeout long before 600 s."""
    dead, _, conns = dead_then_alive
    conns.append(await dead.join(nats_server.url))
    with pytest.raises(UpstreamTimeout, match="without a heartbeat"):
        await asyncio.wait_for(RetryingRpcClient(nc).call(WORK, Work(seconds=0)), 60)
    assert dead.taken.is_set()
