"""Streamed replies over a real nats-server: chunks in order, an end, errors, keep-alives, cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from imagetools_common.contracts.base import ServiceSpec, StreamEndpoint, WireModel
from imagetools_common.embedded import EmbeddedNats
from imagetools_common.errors import BadRequest, RateLimited, ServiceUnavailable, UpstreamTimeout
from imagetools_common.rpc import RpcClient, RpcService, connect
from imagetools_common.rpc.streaming import INBOX_HEADER, Emit

SPEC = ServiceSpec(name="words-service", version="1.0.0", subject_prefix="test.words.v1", description="words")


class Say(WireModel):
    words: list[str]
    fail_after: int | None = None
    pause: float = 0.0


class Word(WireModel):
    text: str


class Said(WireModel):
    count: int


SAY = StreamEndpoint(SPEC, "say", Say, Word, Said, idle_timeout=0.6)
HANG = StreamEndpoint(SPEC, "hang", Say, Word, Said, idle_timeout=0.6)
NOBODY = StreamEndpoint(ServiceSpec("ghost", "1", "test.ghost.v1", "x"), "say", Say, Word, Said)


class Recorder:
    def __init__(self) -> None:
        self.cancelled = asyncio.Event()
        self.started = asyncio.Event()


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def service(nats_server: EmbeddedNats, recorder: Recorder) -> AsyncIterator[None]:
    async def say(request: Say, emit: Emit) -> Said:
        recorder.started.set()
        try:
            for n, word in enumerate(request.words):
                if request.fail_after is not None and n == request.fail_after:
                    raise RateLimited("slow down", details={"retry_after": 3})
                await emit(Word(text=word))
                await asyncio.sleep(request.pause)
        except asyncio.CancelledError:
            recorder.cancelled.set()
            raise
        return Said(count=len(request.words))

    conn = await connect(nats_server.url, "words")
    svc = RpcService(conn, SPEC)
    svc.add_stream(SAY, say)
    async with svc:
        yield
    await conn.close()


@pytest.fixture
def rpc(nc: NATS) -> RpcClient:
    return RpcClient(nc)


async def test_chunks_arrive_in_order_then_the_end(service: None, rpc: RpcClient) -> None:
    """Every chunk arrives, in order, and the end model follows."""
    words = [f"w{n}" for n in range(200)]
    async with rpc.stream(SAY, Say(words=words)) as stream:
        got = [chunk.text async for chunk in stream]
    assert got == words
    assert stream.result == Said(count=200)


async def test_an_error_after_some_chunks_is_raised_with_its_details(service: None, rpc: RpcClient) -> None:
    """A domain error mid-stream reaches the caller as that error, details included."""
    got: list[str] = []

    async def listen(request: Say) -> None:
        async with rpc.stream(SAY, request) as stream:
            async for chunk in stream:
                got.append(chunk.text)

    with pytest.raises(RateLimited) as raised:
        await listen(Say(words=["a", "b", "c"], fail_after=2))
    assert got == ["a", "b"] and raised.value.details == {"retry_after": 3}


async def test_keepalives_keep_a_slow_stream_alive(service: None, rpc: RpcClient) -> None:
    """Work slower than the idle timeout survives, because the service sends keep-alives."""
    beats = 0

    async def beat() -> None:
        nonlocal beats
        beats += 1

    async with rpc.stream(SAY, Say(words=["x", "y"], pause=1.0), on_keepalive=beat) as stream:
        got = [chunk.text async for chunk in stream]
    assert got == ["x", "y"] and beats >= 2


async def test_leaving_early_cancels_the_work(service: None, rpc: RpcClient, recorder: Recorder) -> None:
    """A caller that stops listening cancels the handler at the service."""
    async with rpc.stream(SAY, Say(words=["a"] * 100, pause=0.2)) as stream:
        async for _ in stream:
            break
    await asyncio.wait_for(recorder.cancelled.wait(), 10)


async def test_no_service_and_a_silent_service(service: None, rpc: RpcClient, nc: NATS) -> None:
    """Nobody listening is 503; a responder that never sends anything is a timeout, not a hang."""
    with pytest.raises(ServiceUnavailable):
        async with rpc.stream(NOBODY, Say(words=[])):
            pass

    async def start_and_go_quiet(msg: Msg) -> None:
        await msg.respond(b'{"cancel": "_INBOX.nowhere"}')

    sub = await nc.subscribe(HANG.subject, cb=start_and_go_quiet)

    async def listen() -> None:
        async with rpc.stream(HANG, Say(words=[])) as stream:
            async for _ in stream:
                pass

    with pytest.raises(UpstreamTimeout):
        await listen()
    await sub.unsubscribe()


async def test_the_service_publishes_only_to_inboxes(service: None, nc: NATS) -> None:
    """A request naming a non-inbox subject as its reply stream is refused before any work."""
    for inbox in ("image.v1.delete", "_INBOX.>", ""):
        msg = await nc.request(
            SAY.subject, Say(words=["a"]).model_dump_json().encode(), timeout=2, headers={INBOX_HEADER: inbox}
        )
        assert msg.headers and msg.headers.get("Nats-Service-Error-Code") == BadRequest.code
