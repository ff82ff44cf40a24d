"""Share links over HTTP: made by a session, served to anyone without one, with honest HTTP semantics."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from gateway import byte_ranges
from gateway.share_page import loggable
from imagetools_common.testing import media
from imagetools_common.testing.logs import CapturedLogs

CSRF = {"X-Requested-With": "ImageTools"}
Client = TestClient[Any, Any]


async def upload(client: Client, data: bytes, name: str = "Holiday.JPG") -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="image/jpeg")
    reply = await client.post("/api/v1/images", data=form, headers=CSRF)
    assert reply.status == 201
    image: dict[str, Any] = (await reply.json())["images"][0]
    return image


async def share(client: Client, image_id: str, **body: Any) -> dict[str, Any]:
    reply = await client.post(
        f"/api/v1/images/{image_id}/share-links", json={"expires_in_hours": 24, **body}, headers=CSRF
    )
    assert reply.status == 201, await reply.text()
    made: dict[str, Any] = await reply.json()
    return made


def test_byte_ranges_follow_the_rfc() -> None:
    """One range is served (clipped to the file); several or unreadable ones get all; past the end is 416."""
    etag = '"x"'
    cases = {
        "bytes=0-9": byte_ranges.Part(0, 9),
        "bytes=90-": byte_ranges.Part(90, 99),
        "bytes=-10": byte_ranges.Part(90, 99),
        "bytes=-500": byte_ranges.Part(0, 99),
        "bytes=50-5000": byte_ranges.Part(50, 99),
        "bytes=0-1,5-6": None,
        "bytes=5-1": None,
        "items=0-1": None,
        "bytes=abc": None,
    }
    for header, part in cases.items():
        assert byte_ranges.wanted(header, None, etag, 100) == part, header
    assert byte_ranges.wanted("bytes=0-9", '"other"', etag, 100) is None
    assert byte_ranges.wanted("bytes=0-9", etag, etag, 100) == byte_ranges.Part(0, 9)
    for unsatisfiable in ("bytes=100-", "bytes=-0"):
        with pytest.raises(byte_ranges.Unsatisfiable):
            byte_ranges.wanted(unsatisfiable, None, etag, 100)


def test_logged_paths_never_carry_a_token() -> None:
    """A share path is logged without its token; every other path as it is."""
    assert loggable("/s/abcDEF_-123/file") == "/s/…/file"
    assert loggable("/s/abcDEF_-123") == "/s/…"
    assert loggable("/api/v1/images") == "/api/v1/images"


async def test_a_link_serves_its_page_and_bytes_without_a_session(client: Client, logs: CapturedLogs) -> None:
    """Without a cookie: the page (no script, strict CSP), the bytes with ETag, HEAD and ranges; none set."""
    photo = media.jpeg(media.photo(320, 240))
    image = await upload(client, photo)
    made = await share(client, image["id"], expires_in_hours=1)
    path = made["path"]
    token = path.removeprefix("/s/")
    assert re.fullmatch(r"/s/[A-Za-z0-9_\-]{43}", path) and made["link"]["version"] == 1
    listed = await (await client.get(f"/api/v1/images/{image['id']}/share-links")).json()
    assert [link["id"] for link in listed["links"]] == [made["link"]["id"]] and token not in str(listed)
    served_bytes = await (await client.get(image["content_url"])).read()

    async with aiohttp.ClientSession(
        base_url=str(client.make_url("/")), cookie_jar=aiohttp.DummyCookieJar()
    ) as stranger:
        async with stranger.get(path) as page:
            html = await page.text()
            assert page.status == 200 and page.content_type == "text/html"
            assert "Set-Cookie" not in page.headers
            assert page.headers["Cache-Control"] == "private, no-store"
            assert page.headers["Referrer-Policy"] == "no-referrer"
            csp = page.headers["Content-Security-Policy"]
            assert csp.startswith("default-src 'none'") and "script-src" not in csp
            assert "<script" not in html and "/assets/" not in html
            assert "Holiday.jpg" in html and f'src="{path}/file"' in html
            assert f'href="{path}/file?download=1"' in html and "320 × 240 px" in html
            assert "This link works until" in html and image["id"] not in html

        async with stranger.get(f"{path}/file?download=1") as download:
            body = await download.read()
            assert download.status == 200 and body == served_bytes
            assert download.content_type == "image/jpeg" and "Set-Cookie" not in download.headers
            assert download.headers["Content-Disposition"].startswith('attachment; filename="Holiday.jpg"')
            assert download.headers["Accept-Ranges"] == "bytes"
            max_age = int(download.headers["Cache-Control"].removeprefix("private, max-age="))
            assert 0 < max_age <= 3600
            etag = download.headers["ETag"]
        async with stranger.get(f"{path}/file") as inline:
            assert inline.headers["Content-Disposition"].startswith("inline;")
        async with stranger.head(f"{path}/file") as head:
            assert head.status == 200 and int(head.headers["Content-Length"]) == len(served_bytes)
            assert await head.read() == b"" and head.headers["ETag"] == etag
        async with stranger.head(path) as head_page:
            assert head_page.status == 200 and "Set-Cookie" not in head_page.headers
        async with stranger.get(f"{path}/file", headers={"If-None-Match": etag}) as cached:
            assert cached.status == 304
        async with stranger.get(f"{path}/file", headers={"Range": "bytes=10-19"}) as part:
            assert part.status == 206 and await part.read() == served_bytes[10:20]
            assert part.headers["Content-Range"] == f"bytes 10-19/{len(served_bytes)}"
        async with stranger.get(f"{path}/file", headers={"Range": "bytes=-5", "If-Range": etag}) as tail:
            assert tail.status == 206 and await tail.read() == served_bytes[-5:]
        async with stranger.get(f"{path}/file", headers={"Range": f"bytes={len(served_bytes)}-"}) as past:
            assert past.status == 416 and past.headers["Content-Range"] == f"bytes */{len(served_bytes)}"
        async with stranger.get(
            f"{path}/file", headers={"Range": "bytes=0-1", "If-Range": '"stale"'}
        ) as stale:
            assert stale.status == 200 and await stale.read() == served_bytes
    lines = [str(entry) for entry in logs.entries]
    assert any("/s/…/file" in line for line in lines)
    assert not any(token in line for line in lines)


async def test_every_dead_link_is_the_same_404(client: Client) -> None:
    """Revoked, deleted, unknown and malformed links answer alike, on the page and on the file."""
    image = await upload(client, media.jpeg(media.photo(160, 120)))
    other = await upload(client, media.jpeg(media.photo(160, 120)), "Other.jpg")
    revoked = await share(client, image["id"])
    deleted = await share(client, other["id"])
    refused = await client.delete(f"/api/v1/images/{image['id']}/share-links/{revoked['link']['id']}")
    assert refused.status == 403  # CSRF: a revoke is an unsafe request like any other
    gone = await client.delete(
        f"/api/v1/images/{image['id']}/share-links/{revoked['link']['id']}", headers=CSRF
    )
    assert gone.status == 204
    assert (await client.delete(f"/api/v1/images/{other['id']}", headers=CSRF)).status == 204

    pages, files = set(), set()
    async with aiohttp.ClientSession(base_url=str(client.make_url("/"))) as stranger:
        for path in (revoked["path"], deleted["path"], "/s/" + "A" * 43, "/s/short", "/s/%00"):
            async with stranger.get(path) as page:
                assert page.status == 404 and page.content_type == "text/html"
                pages.add(await page.text())
            async with stranger.get(f"{path}/file") as file:
                assert file.status == 404
                files.add((await file.json())["error"]["message"])
        async with stranger.get(f"{revoked['path']}/file/more") as beyond:
            assert beyond.status == 404 and "script" not in await beyond.text()  # never the web app
    assert len(pages) == 1 and "This link does not work" in pages.pop()
    assert files == {"this link does not exist or no longer works"}


async def test_links_are_made_only_for_the_sessions_own_images(client: Client, make_client: Any) -> None:
    """Bad bodies are 422s, another session's image a 404, and a link never outlives the session."""
    image = await upload(client, media.jpeg(media.photo(160, 120)))
    base = f"/api/v1/images/{image['id']}/share-links"
    for body in (
        {"expires_in_hours": 0},
        {"expires_in_hours": "1"},
        {},
        {"expires_in_hours": 1, "version": 0},
    ):
        reply = await client.post(base, json=body, headers=CSRF)
        assert reply.status == 422, body
    no_version = await client.post(base, json={"expires_in_hours": 1, "version": 7}, headers=CSRF)
    assert no_version.status == 404
    session = await (await client.get("/api/v1/session")).json()
    long = await share(client, image["id"], expires_in_hours=24 * 365)
    assert long["link"]["expires_at"] == session["expires_at"]

    stranger = await make_client()
    assert (await stranger.post(base, json={"expires_in_hours": 1}, headers=CSRF)).status == 404
    assert (await stranger.get(base)).status == 404
    revoke = f"{base}/{long['link']['id']}"
    assert (await stranger.delete(revoke, headers=CSRF)).status == 404
    assert (await client.get(long["path"])).status == 200


async def test_a_link_is_rate_limited_per_link(make_client: Any, backend: Any) -> None:
    """Past RATE_LIMIT_SHARE_LINKS requests a minute a link answers 429, while another link still works."""
    client = await make_client(rate_limit_share_links=2)
    image = await upload(client, media.jpeg(media.photo(160, 120)))
    busy, quiet = await share(client, image["id"]), await share(client, image["id"])
    statuses = [(await client.get(busy["path"])).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert (await client.get(quiet["path"])).status == 200
