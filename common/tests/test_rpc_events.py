"""Typed events over a real nats-server: delivery, decoding, errors and the request id."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import structlog
from nats.aio.client import Client as NATS
from structlog.testing import capture_logs

from imagetools_common.contracts.base import Delivery, Event, ServiceSpec, WireModel
from imagetools_common.embedded import EmbeddedNats
from imagetools_common.rpc import RpcClient, RpcService, connect

WAIT = 10.0


def spec(name: str) -> ServiceSpec:
    return ServiceSpec(name=name, version="1.0.0", subject_prefix=f"test.{name}.v1", description=name)


PUBLISHER = spec("publisher")


class Happened(WireModel):
    number: int


NEWS = Event(PUBLISHER, "news", Happened, Delivery.BROADCAST)
CHORE = Event(PUBLISHER, "chore", Happened, Delivery.QUEUE)


class Heard:
    """What a handler received (with the log context it ran in); ``arrived`` once it has ``expect``."""

    def __init__(self, expect: int = 1) -> None:
        self.numbers: list[int] = []
        self.contexts: list[dict[str, Any]] = []
        self.expect = expect
        self.arrived = asyncio.Event()

    async def __call__(self, payload: Happened) -> None:
        self.numbers.append(payload.number)
        self.contexts.append(structlog.contextvars.get_contextvars())
        if len(self.numbers) >= self.expect:
            self.arrived.set()


@pytest.fixture
async def stack(nats_server: EmbeddedNats) -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as exits:
        yield exits


async def subscriber(
    exits: AsyncExitStack, url: str, name: str, event: Event[Happened], handler: Any
) -> RpcService:
    """One replica of service ``name`` on its own connection, handling ``event``."""
    conn = await connect(url, name)
    exits.push_async_callback(conn.close)
    service = RpcService(conn, spec(name))
    service.on(event, handler)
    await service.start()
    exits.push_async_callback(service.stop)
    return service


async def test_a_broadcast_reaches_every_subscriber(
    nats_server: EmbeddedNats, nc: NATS, stack: AsyncExitStack
) -> None:
    """Every replica hears a broadcast event, once."""
    replicas = [Heard(), Heard(), Heard()]
    services = [await subscriber(stack, nats_server.url, "listener", NEWS, h) for h in replicas]
    await RpcClient(nc).publish(NEWS, Happened(number=7))
    await asyncio.wait_for(asyncio.gather(*(h.arrived.wait() for h in replicas)), WAIT)
    for service in services:
        await service.stop()  # handles whatever had arrived: a duplicate would show now
    assert [h.numbers for h in replicas] == [[7], [7], [7]]


async def test_a_queue_event_reaches_exactly_one_replica_of_each_service(
    nats_server: EmbeddedNats, nc: NATS, stack: AsyncExitStack
) -> None:
    """Each queue event is handled by one replica of every subscribing service, never by two."""
    workers, auditor = Heard(expect=40), Heard(expect=40)  # both worker replicas report to one tally
    services = [await subscriber(stack, nats_server.url, "worker", CHORE, workers) for _ in range(2)]
    services.append(await subscriber(stack, nats_server.url, "auditor", CHORE, auditor))
    rpc = RpcClient(nc)
    for number in range(40):
        await rpc.publish(CHORE, Happened(number=number))
    await asyncio.wait_for(asyncio.gather(workers.arrived.wait(), auditor.arrived.wait()), WAIT)
    for service in services:
        await service.stop()  # handles whatever had arrived: a duplicate would show now
    assert sorted(workers.numbers) == list(range(40))
    assert sorted(auditor.numbers) == list(range(40))


async def test_a_malformed_event_is_dropped_and_logged(
    nats_server: EmbeddedNats, nc: NATS, stack: AsyncExitStack
) -> None:
    """A payload that is not the event's model never reaches the handler; the next good one does."""
    heard = Heard()
    await subscriber(stack, nats_server.url, "listener", NEWS, heard)
    with capture_logs() as logs:
        await nc.publish(NEWS.subject, b'{"number": "seven", "secret": "do not log me"}')
        await nc.publish(NEWS.subject, b"not json")
        await RpcClient(nc).publish(NEWS, Happened(number=8))
        await asyncio.wait_for(heard.arrived.wait(), WAIT)
    assert heard.numbers == [8]
    dropped = [entry for entry in logs if entry["event"] == "malformed event dropped"]
    assert [entry["log_level"] for entry in dropped] == ["warning", "warning"]
    assert "do not log me" not in repr(logs)


async def test_a_failing_handler_is_logged_by_name_and_the_subscription_lives_on(
    nats_server: EmbeddedNats, nc: NATS, stack: AsyncExitStack
) -> None:
    """A handler's exception is logged with the handler's name and the error type, not its text."""
    heard = Heard()

    async def fragile(payload: Happened) -> None:
        if payload.number == 1:
            raise RuntimeError("user data: /home/alice/holiday.jpg")
        await heard(payload)

    await subscriber(stack, nats_server.url, "listener", NEWS, fragile)
    rpc = RpcClient(nc)
    with capture_logs() as logs:
        await rpc.publish(NEWS, Happened(number=1))
        await rpc.publish(NEWS, Happened(number=2))
        # Events are handled in the order they came, so the failure is logged by the time 2 arrives.
        await asyncio.wait_for(heard.arrived.wait(), WAIT)
    failed = next(e for e in logs if e["event"] == "event handler failed")
    assert failed["log_level"] == "error"
    assert failed["handler"].endswith("fragile")
    assert failed["error"] == "RuntimeError"
    assert "alice" not in repr(logs)
    assert heard.numbers == [2]


async def test_the_handler_runs_with_the_publishers_request_id(
    nats_server: EmbeddedNats, nc: NATS, stack: AsyncExitStack
) -> None:
    """The request id bound where an event is published is bound where it is handled, with its subject."""
    heard = Heard()
    await subscriber(stack, nats_server.url, "listener", NEWS, heard)
    with structlog.contextvars.bound_contextvars(request_id="req-events-1"):
        await RpcClient(nc).publish(NEWS, Happened(number=3))
    await asyncio.wait_for(heard.arrived.wait(), WAIT)
    assert heard.contexts[0]["request_id"] == "req-events-1"
    assert heard.contexts[0]["subject"] == "test.publisher.v1.events.news"
