"""The NATS RPC layer against a real nats-server: typed calls, errors, ids, concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NATS
from pydantic import Field

from imagetools_common.contracts.base import Endpoint, ServiceSpec, WireModel
from imagetools_common.embedded import EmbeddedNats
from imagetools_common.errors import (
    BadGateway,
    BadRequest,
    Internal,
    NotFound,
    ServiceUnavailable,
    UpstreamTimeout,
)
from imagetools_common.rpc import (
    PayloadLimitTooSmall,
    RpcClient,
    RpcService,
    check_max_payload,
    connect,
    ping_all,
)
from imagetools_common.rpc.headers import current_request_id

SPEC = ServiceSpec(name="echo-service", version="1.2.3", subject_prefix="test.echo.v1", description="echo")


class Ping(WireModel):
    text: str = Field(max_length=50)
    delay: float = 0.0


class Pong(WireModel):
    text: str
    request_id: str | None


ECHO = Endpoint(SPEC, "echo", Ping, Pong, timeout=2.0)
MISSING = Endpoint(SPEC, "missing", Ping, Pong)
BROKEN = Endpoint(SPEC, "broken", Ping, Pong)
WRONG_SHAPE = Endpoint(SPEC, "wrong", Ping, Pong)
UPPER = Endpoint(SPEC, "upper", Ping, Pong, request_body=True, reply_body=True)
NOBODY = Endpoint(ServiceSpec("ghost", "1.0.0", "test.ghost.v1", "nobody"), "x", Ping, Pong)


async def echo(request: Ping) -> Pong:
    await asyncio.sleep(request.delay)
    return Pong(text=request.text, request_id=current_request_id())


async def missing(_: Ping) -> Pong:
    raise NotFound("no such thing", details={"field": "text"})


async def broken(_: Ping) -> Pong:
    raise RuntimeError("secret internals /etc/passwd")


async def wrong(_: Ping) -> Ping:
    return Ping(text="not a pong")


async def upper(request: Ping, body: bytes) -> tuple[Pong, bytes]:
    return Pong(text=request.text, request_id=None), body.upper()


@pytest.fixture
async def service(nats_server: EmbeddedNats) -> AsyncIterator[RpcService]:
    conn = await connect(nats_server.url, "echo")
    svc = RpcService(conn, SPEC)
    svc.add(ECHO, echo)
    svc.add(MISSING, missing)
    svc.add(BROKEN, broken)
    svc.add(WRONG_SHAPE, wrong)
    svc.add(UPPER, upper)
    async with svc:
        yield svc
    await conn.close()


async def test_typed_call_round_trip_carries_the_request_id(service: RpcService, nc: NATS) -> None:
    """A call returns the typed reply, and the handler sees the caller's request id."""
    import structlog

    with structlog.contextvars.bound_contextvars(request_id="req-42"):
        reply = await RpcClient(nc).call(ECHO, Ping(text="hi"))
    assert reply == Pong(text="hi", request_id="req-42")


async def test_domain_errors_cross_the_bus_with_details(service: RpcService, nc: NATS) -> None:
    """A NotFound raised in a handler arrives as NotFound with its message and details."""
    with pytest.raises(NotFound) as caught:
        await RpcClient(nc).call(MISSING, Ping(text="x"))
    assert caught.value.message == "no such thing" and caught.value.details == {"field": "text"}


async def test_unexpected_exceptions_do_not_leak(service: RpcService, nc: NATS) -> None:
    """A crash in a handler is answered as a generic internal error without its text."""
    with pytest.raises(Internal) as caught:
        await RpcClient(nc).call(BROKEN, Ping(text="x"))
    assert "passwd" not in caught.value.message


async def test_malformed_requests_and_replies_are_named(service: RpcService, nc: NATS) -> None:
    """A body that does not fit the contract is a bad_request; a bad reply is a bad gateway."""
    msg = await nc.request(ECHO.subject, b'{"text": 5}', timeout=2)
    assert msg.headers is not None and msg.headers["Nats-Service-Error-Code"] == "bad_request"
    with pytest.raises(BadGateway):
        await RpcClient(nc).call(WRONG_SHAPE, Ping(text="x"))


async def test_requests_run_concurrently(nats_server: EmbeddedNats, nc: NATS) -> None:
    """Requests do not queue behind each other (micro alone would serialise them): all 20 run at once."""
    all_in = asyncio.Event()
    active = 0

    async def gathered(request: Ping) -> Pong:
        nonlocal active
        active += 1
        if active == 20:
            all_in.set()
        # Each handler waits for the others: a serialising service would never get past the first.
        await asyncio.wait_for(all_in.wait(), 10)
        return Pong(text=request.text, request_id=None)

    conn = await connect(nats_server.url, "concurrent")
    svc = RpcService(conn, SPEC)
    svc.add(ECHO, gathered)
    async with svc:
        replies = await asyncio.gather(
            *(RpcClient(nc).call(ECHO, Ping(text=str(i)), timeout=15) for i in range(20))
        )
    await conn.close()
    assert [r.text for r in replies] == [str(i) for i in range(20)]


async def test_no_responders_is_service_unavailable_at_once(nc: NATS) -> None:
    """Calling a service nobody runs fails as 503 within moments, not after the timeout."""
    with pytest.raises(ServiceUnavailable, match="ghost is not available"):
        await RpcClient(nc).call(NOBODY, Ping(text="x"), timeout=30)


async def test_slow_replies_time_out(service: RpcService, nc: NATS) -> None:
    """A reply slower than the caller's timeout becomes an UpstreamTimeout."""
    with pytest.raises(UpstreamTimeout, match=r"within 0\.2 s"):
        await RpcClient(nc).call(ECHO, Ping(text="x", delay=1.0), timeout=0.2)


async def test_stop_drains_in_flight_requests(nats_server: EmbeddedNats, nc: NATS) -> None:
    """Stopping a service lets a request already being handled finish and answer."""
    handling = asyncio.Event()

    async def slow_echo(request: Ping) -> Pong:
        handling.set()
        return await echo(request)

    conn = await connect(nats_server.url, "drain")
    svc = RpcService(conn, SPEC)
    svc.add(ECHO, slow_echo)
    await svc.start()
    try:
        call = asyncio.create_task(RpcClient(nc).call(ECHO, Ping(text="late", delay=0.5)))
        await asyncio.wait_for(handling.wait(), 5)  # stop only once the request is really in flight
        await svc.stop()
        assert (await call).text == "late"
    finally:
        await svc.stop()
        await conn.close()


async def test_ping_finds_every_replica(nats_server: EmbeddedNats, nc: NATS) -> None:
    """Discovery counts each running instance of a service."""
    conns = [await connect(nats_server.url, f"replica{i}") for i in range(3)]
    services = [RpcService(c, SPEC) for c in conns]
    try:
        for s in services:
            await s.start()
        found = await ping_all(nc, window=0.3)
        ours = {s.id for s in services}
        mine = [i for i in found["echo-service"] if i.id in ours]
        assert len(mine) == 3 and {i.version for i in mine} == {"1.2.3"}
    finally:
        for s, c in zip(services, conns, strict=True):
            await s.stop()
            await c.close()


async def test_the_project_config_fits_the_upload_limit(nc: NATS) -> None:
    """The project's NATS config carries a 20 MiB upload; 100 MiB would be refused at start-up."""
    check_max_payload(nc, 20 * 1024 * 1024)
    with pytest.raises(PayloadLimitTooSmall, match="raise max_payload"):
        check_max_payload(nc, 100 * 1024 * 1024)


async def test_bad_requests_are_rejected_before_the_handler(service: RpcService, nc: NATS) -> None:
    """Contract validation (a too-long field) happens in the wrapper, not in every handler."""
    msg = await nc.request(ECHO.subject, b'{"text": "' + b"x" * 60 + b'"}', timeout=2)
    assert msg.headers is not None and msg.headers["Nats-Service-Error-Code"] == BadRequest.code


async def test_binary_bodies_cross_in_both_directions(service: RpcService, nc: NATS) -> None:
    """An endpoint can take raw bytes after its model and answer with raw bytes: 5 MB survive intact."""
    body = b"abc\x00" * (5 * 1024 * 1024 // 4)
    header, data = await RpcClient(nc).exchange(UPPER, Ping(text="t"), body)
    assert header.text == "t" and data == body.upper()
