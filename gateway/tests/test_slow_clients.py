"""Slow and silent clients over real sockets: cut when they stall or trickle, never when they progress.

The limits run at small values here (settings overrides) so every test waits a second or two for
the close it expects; each wait has a generous timeout and never measures time itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import random
import socket
import zipfile
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from gateway.settings import GatewaySettings
from imagetools_common.testing import media
from imagetools_common.testing.logs import CapturedLogs
from imagetools_common.testing.rawhttp import dechunk

Client = TestClient[Any, Any]
CSRF = {"X-Requested-With": "ImageTools"}
BOUNDARY = "slowClientBoundary42"
# Far longer than any limit below: a connection still open after this was never going to be cut.
WAIT = 30.0
UNLIMITED = {name: 1_000_000 for name in GatewaySettings.model_fields if name.startswith("rate_limit_")}
UNLIMITED.pop("rate_limit_address_factor", None)
QUICK = {
    "http_header_timeout_seconds": 1.0,
    "http_keepalive_seconds": 1.0,
    "http_body_idle_seconds": 0.5,
    "http_body_min_bytes_per_second": 1024,
    **UNLIMITED,
}


@pytest.fixture(scope="module")
def photo() -> bytes:
    return media.jpeg(media.photo(800, 600))


async def gateway(make_client: Any, **overrides: Any) -> Client:
    return await make_client(**{**QUICK, **overrides})


def cookie_of(client: Client) -> str:
    return "; ".join(f"{c.key}={c.value}" for c in client.session.cookie_jar)


def head(client: Client, method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{client.server.port}",
        "X-Requested-With: ImageTools",
    ]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def upload_body(photo: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="slow.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def upload_head(client: Client, body: bytes, cookie: str = "") -> bytes:
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Content-Length": str(len(body))}
    return head(client, "POST", "/api/v1/images", {**headers, **({"Cookie": cookie} if cookie else {})})


async def closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the gateway sends until it closes the connection (fails if it never does)."""
    received = bytearray()
    async with asyncio.timeout(WAIT):
        try:
            while chunk := await reader.read(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return bytes(received)


async def image_count(client: Client) -> int:
    return len((await (await client.get("/api/v1/images")).json())["images"])


async def test_headers_trickled_past_the_deadline_are_cut(backend: Any, make_client: Any) -> None:
    """A client sending its headers a byte a second is disconnected at the head deadline, unanswered."""
    client = await gateway(make_client, http_keepalive_seconds=120.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)

    async def trickle() -> None:
        try:
            for byte in head(client, "GET", "/health", {"X-Long": "x" * 500}):
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(1.0)
        except ConnectionError:
            return  # cut off: what the test waits for below

    sender = asyncio.create_task(trickle())
    assert await closed(reader) == b""
    sender.cancel()
    writer.close()


async def test_a_silent_connection_is_cut_at_the_head_deadline(backend: Any, make_client: Any) -> None:
    """A connection that never sends a byte is closed by the head deadline, not left to keep-alive."""
    client = await gateway(make_client, http_keepalive_seconds=120.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    assert await closed(reader) == b""
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed(backend: Any, make_client: Any) -> None:
    """After a response, a kept-alive connection that stays idle is closed by the gateway."""
    client = await gateway(make_client, http_header_timeout_seconds=120.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(head(client, "GET", "/api/v1/session", {}))
    response = await closed(reader)
    assert response.startswith(b"HTTP/1.1 200") and b"Server: ImageTools" in response
    writer.close()


async def test_a_stalled_upload_is_cut_and_stores_nothing(
    backend: Any, make_client: Any, photo: bytes, logs: CapturedLogs
) -> None:
    """An upload whose body stops half-way is disconnected; nothing of it is stored or logged as an error."""
    client = await gateway(make_client)
    first = await client.post("/api/v1/images", data={"file": io.BytesIO(photo)}, headers=CSRF)
    assert first.status == 201
    body = upload_body(photo)
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(upload_head(client, body, cookie_of(client)) + body[: len(body) // 2])
    assert await closed(reader) == b""
    writer.close()
    await logs.wait_for(lambda e: e["event"] == "closed a connection: request body too slow", timeout=WAIT)
    assert await image_count(client) == 1
    assert logs.problems() == []


async def test_a_slow_but_steady_upload_succeeds(backend: Any, make_client: Any, photo: bytes) -> None:
    """An upload spread over several body windows, each bringing more than the minimum rate, is stored."""
    client = await gateway(make_client)
    body = upload_body(photo)
    piece = 4096  # about 40 KiB a second at one piece every 0.1 s: far above the 1 KiB/s floor
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(upload_head(client, body))
    for start in range(0, len(body), piece):
        writer.write(body[start : start + piece])
        await writer.drain()
        await asyncio.sleep(0.1)
    assert len(body) // piece * 0.1 > 3 * QUICK["http_body_idle_seconds"]  # it did span several windows
    response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
    assert response.startswith(b"HTTP/1.1 201"), response
    writer.close()


async def test_a_long_download_read_slowly_is_not_cut(backend: Any, make_client: Any, photo: bytes) -> None:
    """A ZIP that takes the client far longer than every limit to read arrives whole."""
    client = await gateway(make_client)
    ids = []
    for _ in range(4):
        stored = await client.post("/api/v1/images", data={"file": io.BytesIO(photo)}, headers=CSRF)
        ids.append((await stored.json())["images"][0]["id"])
    body = json.dumps({"ids": ids}).encode()
    headers = {
        "Cookie": cookie_of(client),
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    headers["Connection"] = "close"
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port, limit=16 * 1024)
    writer.write(head(client, "POST", "/api/v1/archive", headers) + body)
    received = bytearray()
    async with asyncio.timeout(WAIT * 4):
        while chunk := await reader.read(16 * 1024):
            received += chunk
            await asyncio.sleep(0.05)  # about 300 KiB/s: several seconds for the whole ZIP
    writer.close()
    response_head, _, payload = bytes(received).partition(b"\r\n\r\n")
    assert response_head.startswith(b"HTTP/1.1 200") and b"Transfer-Encoding: chunked" in response_head
    with zipfile.ZipFile(io.BytesIO(dechunk(payload))) as archive:
        assert len(archive.namelist()) == 4 and archive.testzip() is None


@pytest.fixture(scope="module")
def noise_png() -> bytes:
    """Built before the test (encoding takes a second of CPU). Noise compresses badly: a PNG of
    ~12 MB, more than the kernel's socket buffers hold."""
    side = 2000
    return media.encoded(
        Image.frombytes("RGB", (side, side), random.Random(5).randbytes(side * side * 3)), "PNG"
    )


async def test_a_download_never_read_is_cut(
    backend: Any, make_client: Any, noise_png: bytes, logs: CapturedLogs
) -> None:
    """A client that asks for a large file and stops reading loses the connection (it held the socket
    and the file's bytes for as long as it liked)."""
    client = await gateway(make_client)
    stored = await client.post("/api/v1/images", data={"file": io.BytesIO(noise_png)}, headers=CSRF)
    assert stored.status == 201, await stored.text()
    image_id = (await stored.json())["images"][0]["id"]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, never read from
    sock.connect(("127.0.0.1", client.server.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    path = f"/api/v1/images/{image_id}/content?original=true"
    writer.write(head(client, "GET", path, {"Cookie": cookie_of(client)}))
    await writer.drain()
    cut = "response read too slowly"
    await logs.wait_for(lambda e: cut in str(e["event"]), timeout=WAIT)
    # Cut means the socket is gone, not closing politely once the unread bytes are flushed.
    received = 0
    with contextlib.suppress(ConnectionResetError):
        async with asyncio.timeout(WAIT):
            while chunk := await reader.read(1024 * 1024):
                received += len(chunk)
    writer.close()
    assert received < len(noise_png)


async def test_a_client_hanging_up_mid_upload_is_not_an_error(
    backend: Any, make_client: Any, photo: bytes, logs: CapturedLogs
) -> None:
    """A browser closed mid-upload stores nothing, and the log has no error, traceback or 500 for it."""
    client = await gateway(make_client, http_body_idle_seconds=60.0)
    first = await client.post("/api/v1/images", data={"file": io.BytesIO(photo)}, headers=CSRF)
    assert first.status == 201
    server = client.server.handler
    before = len(server.connections)
    body = upload_body(photo)
    _, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(upload_head(client, body, cookie_of(client)) + body[: len(body) // 2])
    await writer.drain()
    async with asyncio.timeout(WAIT):
        while len(server.connections) <= before:  # noqa: ASYNC110 - no event for "the gateway accepted it"
            await asyncio.sleep(0.02)
    writer.close()
    async with asyncio.timeout(WAIT):
        while len(server.connections) > before:  # noqa: ASYNC110 - the connection's handler has finished
            await asyncio.sleep(0.02)
    assert await image_count(client) == 1
    assert logs.problems() == []
    assert not [e for e in logs.entries if e.get("logger") == "gateway.access" and e.get("status") == 500]
