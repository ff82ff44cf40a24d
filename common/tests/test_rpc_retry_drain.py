"""Safe retries and draining replicas, against a real nats-server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NATS

from imagetools_common.contracts.base import Endpoint, Keyed, ServiceSpec, WireModel
from imagetools_common.embedded import EmbeddedNats
from imagetools_common.errors import UpstreamTimeout
from imagetools_common.rpc import RpcService, connect
from imagetools_common.rpc.retry import RetryingRpcClient, safe_to_retry

SPEC = ServiceSpec(name="counter-service", version="1.0.0", subject_prefix="test.counter.v1", description="x")


class Bump(Keyed):
    label: str


class Count(WireModel):
    seen: int


class Label(WireModel):
    label: str


BUMP = Endpoint(SPEC, "bump", Bump, Count, timeout=0.5)
READ = Endpoint(SPEC, "read", Label, Count, timeout=0.5, read_only=True)
SLOW = Endpoint(SPEC, "slow", Label, Count, timeout=30.0)


class Counter:
    """Counts calls per label; the first call of each label never answers (a replica that died)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self._counted = asyncio.Condition()

    async def bump(self, request: Bump) -> Count:
        return await self._count(request.label)

    async def read(self, request: Label) -> Count:
        return await self._count(request.label)

    async def reached(self, label: str) -> None:
        """Wait until a call with this label has reached the service."""
        async with asyncio.timeout(10), self._counted:
            await self._counted.wait_for(lambda: label in self.calls)

    async def _count(self, label: str) -> Count:
        self.calls[label] = self.calls.get(label, 0) + 1
        async with self._counted:
            self._counted.notify_all()
        if self.calls[label] == 1:
            await asyncio.Event().wait()  # cancelled when the service stops
        return Count(seen=self.calls[label])


@pytest.fixture
async def counter(nats_server: EmbeddedNats) -> AsyncIterator[Counter]:
    conn = await connect(nats_server.url, "counter")
    counter = Counter()
    service = RpcService(conn, SPEC)
    service.add(BUMP, counter.bump)
    service.add(READ, counter.read)
    await service.start()
    try:
        yield counter
    finally:
        await service.stop(grace=0)
        await conn.close()


@pytest.fixture
def client(nc: NATS) -> RetryingRpcClient:
    return RetryingRpcClient(nc, pauses=(0.0, 0.0))


def test_only_reads_and_keyed_requests_are_safe_to_retry() -> None:
    assert safe_to_retry(READ, Label(label="a"))
    assert safe_to_retry(BUMP, Bump(label="a", idempotency_key="key-12345"))
    assert not safe_to_retry(BUMP, Bump(label="a"))
    assert not safe_to_retry(SLOW, Label(label="a"))


async def test_a_keyed_mutation_is_retried_after_a_timeout(
    counter: Counter, client: RetryingRpcClient
) -> None:
    """The first attempt is lost; the retry is answered (the service dedupes by key, see image-service)."""
    reply = await client.call(BUMP, Bump(label="keyed", idempotency_key="key-12345"))
    # A retry that itself outlived the short timeout on a busy machine is a third attempt, not a failure.
    assert reply.seen == counter.calls["keyed"] >= 2


async def test_a_read_is_retried_after_a_timeout(counter: Counter, client: RetryingRpcClient) -> None:
    """A read whose first attempt is lost is asked again and answered."""
    reply = await client.call(READ, Label(label="read"))
    assert reply.seen == counter.calls["read"] >= 2


async def test_an_unkeyed_mutation_is_never_sent_twice(counter: Counter, client: RetryingRpcClient) -> None:
    """Without a key a timeout reaches the caller: the first attempt may have been applied."""
    with pytest.raises(UpstreamTimeout):
        await client.call(BUMP, Bump(label="unkeyed"))
    # A retry would have been sent before the error was raised, so before this marker on the same
    # subject: requests are handled in the order they arrive, so once the marker has reached the
    # service, so has any retry.
    marker = asyncio.create_task(client.call(BUMP, Bump(label="marker")))
    await counter.reached("marker")
    marker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await marker
    assert counter.calls["unkeyed"] == 1


async def test_a_stopping_replica_answers_every_request_it_was_sent(
    nats_server: EmbeddedNats, nc: NATS
) -> None:
    """Requests already routed to a replica when it stops are still answered, none waits out a timeout.

    Two replicas share the queue group; one stops while a burst of slow requests is in flight.
    """
    gate = asyncio.Event()
    handled: dict[str, int] = {}
    a_holds_one = asyncio.Event()

    def replica_handler(name: str):  # type: ignore[no-untyped-def]
        async def slow(request: Label) -> Count:
            if name == "a":
                a_holds_one.set()
            await gate.wait()
            handled[name] = handled.get(name, 0) + 1
            return Count(seen=handled[name])

        return slow

    services, conns = [], []
    for name in ("a", "b"):
        conn = await connect(nats_server.url, f"replica-{name}")
        service = RpcService(conn, SPEC)
        service.add(SLOW, replica_handler(name))
        await service.start()
        services.append(service)
        conns.append(conn)
    client = RetryingRpcClient(nc)
    try:
        calls = [asyncio.create_task(client.call(SLOW, Label(label=str(i)))) for i in range(100)]
        # The precondition: replica a holds requests when it is told to stop (on a busy machine a
        # single event-loop turn is not enough for any to reach it).
        await asyncio.wait_for(a_holds_one.wait(), 10)
        stopping = asyncio.create_task(services[0].stop())
        gate.set()
        replies = await asyncio.gather(*calls)
        await stopping
        assert len(replies) == 100
        assert sum(handled.values()) == 100 and handled.get("a", 0) > 0
    finally:
        for service, conn in zip(services, conns, strict=True):
            await service.stop(grace=0)
            await conn.close()
