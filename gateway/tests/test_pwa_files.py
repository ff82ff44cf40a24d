"""The installable app's files and its share target's fallback, over a real gateway.

No backend service runs here: the share target's fallback must answer without one (it reads and
creates no session), and the app's files are the gateway's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from imagetools_common.testing import media

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
MIB = 1024 * 1024


def share_form(*files: tuple[str, bytes, str]) -> aiohttp.FormData:
    """The body a phone's share sheet posts: one ``photos`` part per shared file."""
    form = aiohttp.FormData()
    for name, data, content_type in files:
        form.add_field("photos", data, filename=name, content_type=content_type)
    return form


async def test_service_worker_and_manifest_are_revalidated_with_their_types(
    make_client: ClientFactory, web_dist: Path
) -> None:
    """A browser checks sw.js and the manifest for a new version every time, and reads the manifest's type."""
    (web_dist / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    (web_dist / "manifest.webmanifest").write_text('{"name": "ImageTools"}')
    client = await make_client()
    worker = await client.get("/sw.js")
    assert worker.status == 200 and worker.headers["Cache-Control"] == "no-cache"
    assert worker.content_type in ("text/javascript", "application/javascript")  # a worker needs a JS type
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.status == 200 and manifest.headers["Cache-Control"] == "no-cache"
    assert manifest.content_type == "application/manifest+json"
    assert "default-src 'self'" in worker.headers["Content-Security-Policy"]


async def test_a_share_reaching_the_server_lands_in_the_app_asking_to_share_again(
    make_client: ClientFactory,
) -> None:
    """Without the CSRF header, from another site or none, any body: a 303 to /?share=again, no cookie."""
    client = await make_client()
    photo = media.jpeg(media.photo(64, 48))
    bodies: list[Any] = [
        share_form(("IMG_1.jpg", photo, "image/jpeg"), ("notes.txt", b"text", "text/plain")),
        share_form(),
        share_form(*[(f"IMG_{n}.jpg", photo, "image/jpeg") for n in range(50)]),
        b"--not-multipart",
    ]
    for body in bodies:
        for headers in (
            {},
            {"Origin": "null", "Sec-Fetch-Site": "none"},
            {"Origin": "https://elsewhere.example"},
        ):
            response = await client.post("/share-target", data=body, headers=headers, allow_redirects=False)
            assert response.status == 303, await response.text()
            assert response.headers["Location"] == "/?share=again"
            assert "Set-Cookie" not in response.headers


async def test_a_share_bigger_than_an_upload_is_redirected_without_being_read(
    make_client: ClientFactory,
) -> None:
    """A 200 MiB body is answered at once from its headers, and the connection closes after the redirect."""
    client = await make_client(max_upload_size_mb=1)
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /share-target HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: multipart/form-data; boundary=x\r\n"
        + f"Content-Length: {200 * MIB}\r\n\r\n".encode()
        + b"--x\r\n"
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    assert head.startswith(b"HTTP/1.1 303") and b"Location: /?share=again" in head
    assert await asyncio.wait_for(reader.read(), timeout=10) == b""  # closed: the rest is never read
    writer.close()


async def test_the_share_target_is_documented_without_the_csrf_header(make_client: ClientFactory) -> None:
    """The document states the share target's redirect and asks no CSRF header of it (unlike other writes)."""
    client = await make_client()
    spec = await (await client.get("/api/v1/openapi.json")).json()
    operation = spec["paths"]["/share-target"]["post"]
    assert set(operation["responses"]) == {"303"}
    assert "parameters" not in operation
