"""Hostile HTTP requests against the real gateway and services: a 4xx (or a hang-up), never a 5xx.

The corpus is built in memory, by category: each category is a generator of ``Attack``s aimed at
one session that holds one image. Raw bytes rather than a client library, because the point is
to send what a well-behaved client never would: lying Content-Lengths, broken multipart framing,
control characters in filenames, absurd headers. Every attack must leave the images as they were
and write no traceback or error line to the log.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from gateway.http import MAX_JSON_DEPTH, json_too_deep
from gateway.routes import ROUTES
from gateway.settings import GatewaySettings
from imagetools_common.testing import media
from imagetools_common.testing.hostile import HostileFile, hostile_images
from imagetools_common.testing.logs import CapturedLogs
from imagetools_common.testing.rawhttp import dechunk

CRLF = b"\r\n"


@dataclass(frozen=True)
class Target:
    """Where the attacks go: the gateway's address, a session cookie, an image of that session."""

    host: str
    port: int
    cookie: str
    image_id: str
    photo: bytes


@dataclass(frozen=True)
class Attack:
    name: str
    raw: bytes
    # The gateway may simply hang up (a body that never arrives is cut by the slow-client limits).
    may_close: bool = False
    # aiohttp's own HTTP parser answers these (text/plain 400), before any of our code runs.
    parser_error: bool = False
    # A hostile X-Request-ID the gateway must replace, never echo.
    request_id: str = ""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)


def request(
    target: Target,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    content_length: int | None = None,
    extra_head: bytes = b"",
    framed: bool = True,
) -> bytes:
    """One request as bytes: the session cookie, the CSRF header, ``Connection: close``.

    A Content-Length is added (the body's, or ``content_length``) unless ``framed`` is off or the
    headers name a Transfer-Encoding.
    """
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {target.host}:{target.port}",
        f"Cookie: {target.cookie}",
        "X-Requested-With: ImageTools",
        "Connection: close",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    has_body = content_length is not None or body or method in ("POST", "PUT", "PATCH")
    if framed and has_body and "Transfer-Encoding" not in (headers or {}):
        lines.append(f"Content-Length: {len(body) if content_length is None else content_length}")
    head = CRLF.join(line.encode("utf-8", "surrogateescape") for line in lines) + CRLF + extra_head
    return head + CRLF + body


def chunked(body: bytes, size: int = 64 * 1024) -> bytes:
    """``body`` in Transfer-Encoding: chunked framing."""
    pieces = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)
    ]
    return b"".join(pieces) + b"0\r\n\r\n"


async def exchange(port: int, raw: bytes, timeout: float = 30.0) -> Reply | None:
    """Send ``raw`` and read until the gateway closes; None when it hung up without answering."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def send() -> None:
        try:
            writer.write(raw)
            await writer.drain()
        except ConnectionError:
            pass  # the gateway answered (413, say) and stopped reading: that is allowed

    sender = asyncio.create_task(send())
    received = bytearray()
    try:
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                received += chunk
    except ConnectionError:
        pass
    finally:
        sender.cancel()
        writer.close()
    return parse_reply(bytes(received)) if received else None


def parse_reply(data: bytes) -> Reply:
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return Reply(int(status_line.split()[1]), headers, body)


# Multipart --------------------------------------------------------------------------------------

BOUNDARY = "hostile0boundary0Zx81"


def part(disposition: str, data: bytes, boundary: str = BOUNDARY, content_type: str = "image/jpeg") -> bytes:
    return (
        f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n".encode(
            "utf-8", "surrogateescape"
        )
        + data
        + CRLF
    )


def encoded_part(encoding_header: str, data: bytes) -> bytes:
    disposition = 'Content-Disposition: form-data; name="file"; filename="e.jpg"'
    return f"--{BOUNDARY}\r\n{disposition}\r\n{encoding_header}\r\n\r\n".encode() + data + CRLF


def closing(boundary: str = BOUNDARY) -> bytes:
    return f"--{boundary}--\r\n".encode()


def upload(
    target: Target, body: bytes, content_type: str = f"multipart/form-data; boundary={BOUNDARY}"
) -> bytes:
    return request(target, "POST", "/api/v1/images", {"Content-Type": content_type}, body)


def multipart(t: Target) -> Iterator[Attack]:
    good = part('form-data; name="file"; filename="cat.jpg"', t.photo)
    yield Attack("no-boundary", upload(t, good + closing(), "multipart/form-data"))
    yield Attack(
        "wrong-boundary", upload(t, good + closing(), "multipart/form-data; boundary=someOtherBoundary")
    )
    long = "b" * 100
    yield Attack(
        "boundary-over-70",
        upload(
            t,
            part('form-data; name="file"; filename="a.jpg"', t.photo, long) + closing(long),
            f"multipart/form-data; boundary={long}",
        ),
    )
    yield Attack("empty-boundary", upload(t, good + closing(), 'multipart/form-data; boundary=""'))
    yield Attack(
        "nul-in-filename",
        upload(t, part('form-data; name="file"; filename="a\x00b.jpg"', t.photo) + closing()),
    )
    yield Attack(
        "crlf-in-filename",
        upload(t, part('form-data; name="file"; filename="a\r\nX-Evil: 1.jpg"', t.photo) + closing()),
    )
    yield Attack(
        "control-in-filename",
        upload(t, part('form-data; name="file"; filename="a\x1b[31m.jpg"', t.photo) + closing()),
    )
    yield Attack(
        "encoded-nul-filename",
        upload(t, part("form-data; name=\"file\"; filename*=UTF-8''a%00b.jpg", t.photo) + closing()),
    )
    yield Attack(
        "bad-utf8-filename",
        upload(t, part('form-data; name="file"; filename="a\udcff\udcfe.jpg"', t.photo) + closing()),
    )
    yield Attack("random-body", upload(t, random.Random(9).randbytes(8192)))
    yield Attack("empty-body", upload(t, b""))
    cut = good[: len(good) // 2]
    yield Attack("cut-before-closing-boundary", upload(t, cut))
    yield Attack("no-closing-boundary", upload(t, good))
    yield Attack(
        "headers-never-end",
        upload(t, f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"'.encode()),
    )
    yield Attack(
        "part-header-20kb",
        upload(t, part('form-data; name="file"; filename="' + "a" * 20_000 + '.jpg"', t.photo) + closing()),
    )
    yield Attack(
        "no-disposition",
        upload(t, f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\n".encode() + t.photo + CRLF + closing()),
    )
    yield Attack(
        "only-other-fields",
        upload(t, b"".join(part(f'form-data; name="x{i}"', b"1") for i in range(2000)) + closing()),
    )
    nested = "nestedBoundary"
    inner = part('form-data; name="file"; filename="n.jpg"', t.photo, nested) + closing(nested)
    yield Attack(
        "nested-multipart",
        upload(
            t,
            part('form-data; name="file"', inner, content_type=f"multipart/mixed; boundary={nested}")
            + closing(),
        ),
    )
    yield Attack(
        "not-an-image",
        upload(t, part('form-data; name="file"; filename="x.jpg"', b"<?php echo 1; ?>") + closing()),
    )
    yield Attack(
        "base64-transfer-encoding",
        upload(
            t,
            encoded_part("Content-Transfer-Encoding: base64", b"!!!notbase64!!!") + closing(),
        ),
    )
    yield Attack(
        "body-gzip-not-gzip",
        request(
            t,
            "POST",
            "/api/v1/images",
            {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Content-Encoding": "gzip"},
            b"\x1f\x8bnot gzip at all",
        ),
    )
    yield Attack(
        "gzip-part",
        upload(
            t,
            encoded_part("Content-Encoding: gzip", b"\x1f\x8bnotgzip") + closing(),
        ),
    )


# Query and path values -------------------------------------------------------------------------

HOSTILE_NUMBERS = (
    "²",
    "①",
    "٣",
    "\uff11",  # fullwidth 1
    "-1",
    "0",
    "+1",
    " 1",
    "1 ",
    "1e3",
    "0x1",
    "99999999999",
    "9" * 400,
    "",
    "1%00",
    "%ff",
)


def query_values(t: Target) -> Iterator[Attack]:
    base = f"/api/v1/images/{t.image_id}"
    for kind in ("content", "thumbnail", "mask"):
        for number in HOSTILE_NUMBERS:
            yield Attack(
                f"{kind}-version-{number.encode().hex()}",
                request(t, "GET", f"{base}/{kind}?version={quote(number)}"),
            )
    yield Attack("original-garbage", request(t, "GET", f"{base}/content?original=%00&download=%ff"))
    yield Attack("image-id-not-uuid", request(t, "GET", "/api/v1/images/%00%ff/content"))
    yield Attack("image-id-10kb", request(t, "GET", "/api/v1/images/" + "a" * 7000))
    yield Attack("profile-id-10kb", request(t, "DELETE", "/api/v1/profiles/" + "p" * 7000))
    yield Attack("profile-id-nul", request(t, "DELETE", "/api/v1/profiles/a%00b"))
    yield Attack(
        "profile-id-nul-update",
        request(
            t,
            "PUT",
            "/api/v1/profiles/a%00b",
            {"Content-Type": "application/json"},
            b'{"name": "n", "settings": {"quality": 80}}',
        ),
    )
    yield Attack("setting-key-hostile", request(t, "GET", "/api/v1/settings/ui.%00%0d%0a"))
    yield Attack("query-repeated", request(t, "GET", f"{base}/content?" + "&".join(["version=1"] * 500)))


# JSON bodies -----------------------------------------------------------------------------------


def _concrete(path: str, t: Target) -> str:
    return (
        path.replace("{image_id}", t.image_id).replace("{key}", "ui.theme").replace("{profile_id}", "custom")
    )


JSON_ROUTES = [(r.method, r.path) for r in ROUTES if r.body is not None]


def json_bodies(t: Target) -> Iterator[Attack]:
    deep_arrays = b"[" * 100_000 + b"]" * 100_000
    deep_objects = b'{"a":' * 40_000 + b"1" + b"}" * 40_000
    unclosed = b"[" * 200_000
    for method, path in JSON_ROUTES:
        url = _concrete(path, t)
        json_type = {"Content-Type": "application/json"}
        name = f"{method}-{path}".replace("/api/v1/", "").replace("/", "-")
        yield Attack(f"{name}-arrays-100000-deep", request(t, method, url, json_type, deep_arrays))
        yield Attack(f"{name}-objects-40000-deep", request(t, method, url, json_type, deep_objects))
        yield Attack(f"{name}-unclosed-200000", request(t, method, url, json_type, unclosed))
        yield Attack(
            f"{name}-deep-inside-field", request(t, method, url, json_type, b'{"value":' + deep_arrays + b"}")
        )
        yield Attack(f"{name}-nan", request(t, method, url, json_type, b'{"value": NaN, "ids": [Infinity]}'))
        yield Attack(
            f"{name}-huge-number", request(t, method, url, json_type, b'{"version": 1' + b"0" * 5000 + b"}")
        )
        yield Attack(
            f"{name}-utf16",
            request(
                t,
                method,
                url,
                {"Content-Type": "application/json; charset=utf-16"},
                '{"value": 1}'.encode("utf-16"),
            ),
        )
        yield Attack(
            f"{name}-escaped-nul",
            request(t, method, url, json_type, b'{"value": {"k\\u0000": "\\u0000"}, "name": "a\\u0000"}'),
        )
        yield Attack(
            f"{name}-deflate-not-deflate",
            request(t, method, url, {**json_type, "Content-Encoding": "deflate"}, b'{"value": 1}'),
        )
        yield Attack(
            f"{name}-lone-surrogate",
            request(t, method, url, json_type, b'{"value": "\\ud800", "message": "\\udfff"}'),
        )

    # NUL in free text bound for a PostgreSQL column (text and jsonb cannot hold it).
    profile = b'{"name": "a\\u0000b", "settings": {"quality": 80}}'
    for method, path, body in [
        ("POST", "/api/v1/profiles", profile),
        ("PUT", "/api/v1/profiles/custom", profile),
        ("PUT", "/api/v1/settings/ui.theme", b'{"value": {"k\\u0000": ["\\u0000"]}}'),
        ("POST", f"/api/v1/images/{t.image_id}/chat", b'{"message": "hi\\u0000"}'),
        ("POST", f"/api/v1/images/{t.image_id}/ai-edit", b'{"instruction": "hi\\u0000"}'),
    ]:
        name = f"{method}-{path}".replace("/api/v1/", "").replace("/", "-")
        yield Attack(
            f"{name}-nul-in-text", request(t, method, path, {"Content-Type": "application/json"}, body)
        )


# Headers ---------------------------------------------------------------------------------------


def headers(t: Target) -> Iterator[Attack]:
    undo = f"/api/v1/images/{t.image_id}/undo"
    for name, key in [
        ("10kb", "k" * 7000),
        ("short", "abc"),
        ("unicode", "ключ-12345678"),
        ("spaces", "a b c d e f g h"),
        ("quotes", '"12345678"'),
        ("empty", ""),
    ]:
        yield Attack(f"idempotency-key-{name}", request(t, "POST", undo, {"Idempotency-Key": key}))
        yield Attack(
            f"idempotency-key-{name}-upload",
            request(
                t,
                "POST",
                "/api/v1/images",
                {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Idempotency-Key": key},
                closing(),
            ),
        )
    yield Attack(
        "idempotency-key-twice",
        request(t, "POST", undo, extra_head=b"Idempotency-Key: aaaaaaaa1\r\nIdempotency-Key: bbbbbbbb2\r\n"),
    )
    for name, value in [
        ("10kb", "r" * 7000),
        ("script", "<script>alert(1)</script>"),
        ("unicode", "é" * 20),
        ("json", '{"a":1}'),
    ]:
        attack = request(t, "GET", "/api/v1/images", {"X-Request-ID": value})
        yield Attack(f"request-id-{name}", attack, request_id=value)
    yield Attack(
        "header-over-8kb", request(t, "GET", "/api/v1/images", {"X-Big": "x" * 20_000}), parser_error=True
    )
    yield Attack(
        "many-headers",
        request(t, "GET", "/api/v1/images", {f"X-H{i}": "v" for i in range(500)}),
        parser_error=True,
    )
    yield Attack(
        "nul-in-header",
        request(t, "GET", "/api/v1/images", extra_head=b"X-Nul: a\x00b\r\n"),
        parser_error=True,
    )
    yield Attack(
        "obs-fold", request(t, "GET", "/api/v1/images", extra_head=b"X-Fold: a\r\n b\r\n"), parser_error=True
    )
    yield Attack(
        "cookie-10kb", request(t, "GET", "/api/v1/images", extra_head=b"Cookie: " + b"c" * 7000 + b"\r\n")
    )
    yield Attack(
        "host-hostile",
        request(t, "GET", "/api/v1/images", extra_head=b"Host: evil\x7f\r\n"),
        parser_error=True,
    )
    yield Attack("origin-null", request(t, "POST", undo, {"Origin": "null"}))
    yield Attack(
        "bad-method",
        b"BREW /api/v1/images HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        parser_error=True,
    )
    yield Attack("http-0.9", b"GET /\r\n\r\n", parser_error=True, may_close=True)
    yield Attack(
        "not-http",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64),
        parser_error=True,
        may_close=True,
    )


# Content-Length and chunked bodies --------------------------------------------------------------


def lengths(t: Target) -> Iterator[Attack]:
    json_type = {"Content-Type": "application/json"}
    body = json.dumps({"ids": [t.image_id]}).encode()
    archive = "/api/v1/archive"
    yield Attack(
        "json-length-shorter",
        request(t, "POST", archive, json_type, body, content_length=5),
        parser_error=True,
    )
    yield Attack(
        "json-length-longer",
        request(t, "POST", archive, json_type, body, content_length=len(body) + 100),
        may_close=True,
    )
    form = part('form-data; name="file"; filename="cat.jpg"', t.photo) + closing()
    yield Attack(
        "upload-length-shorter",
        upload(t, form).replace(
            f"Content-Length: {len(form)}".encode(), f"Content-Length: {len(form) // 2}".encode()
        ),
        parser_error=True,  # the rest of the body is read as a (malformed) next request
    )
    yield Attack(
        "upload-length-longer",
        upload(t, form).replace(
            f"Content-Length: {len(form)}".encode(), f"Content-Length: {len(form) + 5000}".encode()
        ),
        may_close=True,
    )
    yield Attack(
        "upload-length-10gb",
        upload(t, form).replace(f"Content-Length: {len(form)}".encode(), b"Content-Length: 10737418240"),
        may_close=True,
    )
    for name, value in [
        ("negative", b"-1"),
        ("text", b"abc"),
        ("twice", b"5\r\nContent-Length: 6"),
        ("huge", b"9" * 40),
    ]:
        head = b"Content-Length: " + value + CRLF
        yield Attack(
            f"length-{name}",
            request(t, "POST", archive, json_type, extra_head=head, framed=False),
            parser_error=True,
        )
    cap = 1024 * 1024  # the corpus gateway runs with MAX_UPLOAD_SIZE_MB=1
    big = part('form-data; name="file"; filename="big.jpg"', t.photo + bytes(2 * cap)) + closing()
    te = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Transfer-Encoding": "chunked"}
    yield Attack("chunked-upload-past-the-cap", request(t, "POST", "/api/v1/images", te, chunked(big)))
    yield Attack(
        "chunked-json-past-the-cap",
        request(
            t,
            "PUT",
            "/api/v1/settings/ui.theme",
            {**json_type, "Transfer-Encoding": "chunked"},
            chunked(b'{"value": "' + b"x" * 400_000 + b'"}'),
        ),
    )
    yield Attack(
        "chunk-size-garbage",
        request(
            t, "POST", archive, {**json_type, "Transfer-Encoding": "chunked"}, b"zz\r\nhello\r\n0\r\n\r\n"
        ),
        parser_error=True,
    )
    yield Attack(
        "chunk-size-huge",
        request(
            t,
            "POST",
            archive,
            {**json_type, "Transfer-Encoding": "chunked"},
            b"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
        ),
        parser_error=True,
        may_close=True,
    )
    yield Attack(
        "length-and-chunked",
        request(
            t,
            "POST",
            archive,
            {**json_type, "Transfer-Encoding": "chunked"},
            chunked(body),
            extra_head=b"Content-Length: 3\r\n",
        ),
        parser_error=True,
    )
    yield Attack(
        "transfer-encoding-unknown",
        request(t, "POST", archive, {**json_type, "Transfer-Encoding": "gzip, chunked2"}, body),
        parser_error=True,
    )


# Archive ---------------------------------------------------------------------------------------


def archives(t: Target) -> Iterator[Attack]:
    json_type = {"Content-Type": "application/json"}
    same = json.dumps({"ids": [t.image_id] * 10_000}).encode()
    yield Attack("same-id-10000-times", request(t, "POST", "/api/v1/archive", json_type, same))
    yield Attack(
        "same-id-1000-times",
        request(t, "POST", "/api/v1/archive", json_type, json.dumps({"ids": [t.image_id] * 1000}).encode()),
    )
    strangers = json.dumps({"ids": [f"00000000-0000-4000-8000-{i:012d}" for i in range(1000)]}).encode()
    yield Attack("1000-unknown-ids", request(t, "POST", "/api/v1/archive", json_type, strangers))
    yield Attack(
        "ids-not-uuids",
        request(t, "POST", "/api/v1/archive", json_type, b'{"ids": ["../../etc/passwd", "\\u0000"]}'),
    )
    yield Attack(
        "delete-same-id-10000-times",
        request(
            t,
            "POST",
            "/api/v1/images/delete",
            json_type,
            json.dumps({"ids": ["00000000-0000-4000-8000-000000000000"] * 10_000}).encode(),
        ),
    )


# Range and Accept-Encoding ---------------------------------------------------------------------


def ranges(t: Target) -> Iterator[Attack]:
    many = "bytes=" + ",".join(f"{i}-{i}" for i in range(800))  # just under aiohttp's 8 KiB field limit
    for where, path in [
        ("content", f"/api/v1/images/{t.image_id}/content?version=1"),
        ("asset", "/assets/app-3f2a1b.js"),
        ("index", "/"),
        ("favicon", "/favicon.svg"),
    ]:
        for name, value in [
            ("800-ranges", many),
            ("past-the-end", "bytes=999999999-"),
            ("suffix-zero", "bytes=-0"),
            ("reversed", "bytes=5-1"),
            ("garbage", "bytes=abc"),
            ("overflow", "bytes=0-18446744073709551616"),
            ("other-unit", "items=0-1"),
            ("empty", "bytes="),
            ("negative", "bytes=-5--1"),
        ]:
            yield Attack(f"{where}-range-{name}", request(t, "GET", path, {"Range": value}))
        yield Attack(
            f"{where}-range-10000",
            request(t, "GET", path, {"Range": "bytes=" + ",".join(["0-0"] * 10_000)}),
            parser_error=True,
        )
        yield Attack(
            f"{where}-accept-encoding-8kb",
            request(
                t, "GET", path, {"Accept-Encoding": ", ".join(["gzip;q=0.1", "br;q=0.2", "x"] * 500)[:8000]}
            ),
        )
        yield Attack(
            f"{where}-if-none-match-8kb", request(t, "GET", path, {"If-None-Match": '"' + "e" * 8000 + '"'})
        )
        yield Attack(
            f"{where}-if-range-garbage",
            request(t, "GET", path, {"Range": "bytes=0-1", "If-Range": "\x7fgarbage"}),
            parser_error=True,
        )
        yield Attack(
            f"{where}-if-modified-since-garbage",
            request(t, "GET", path, {"If-Modified-Since": "yesterday-ish"}),
        )


# OAuth callback --------------------------------------------------------------------------------


def oauth(t: Target) -> Iterator[Attack]:
    for name, query in [
        ("code-10kb", "code=" + "c" * 7000 + "&state=s"),
        ("code-nul", "code=a%00b&state=s"),
        ("state-10kb", "code=abc&state=" + "s" * 7000),
        ("error-nul", "error=%00%0d%0a&state=s"),
        ("code-crlf", "code=a%0d%0aSet-Cookie:%20x=1&state=s"),
        ("code-bad-utf8", "code=%ff%fe&state=s"),
        ("code-repeated", "&".join(["code=a"] * 300) + "&state=s"),
    ]:
        yield Attack(f"callback-{name}", request(t, "GET", f"/oauth/callback?{query}"))


CORPUS: dict[str, Callable[[Target], Iterator[Attack]]] = {
    "multipart": multipart,
    "query": query_values,
    "json": json_bodies,
    "headers": headers,
    "lengths": lengths,
    "archive": archives,
    "ranges": ranges,
    "oauth": oauth,
}


# The tests ------------------------------------------------------------------------------------

Client = TestClient[Any, Any]
CSRF = {"X-Requested-With": "ImageTools"}
# Room for a whole corpus from one address and session (the limits have their own tests).
UNLIMITED = {name: 1_000_000 for name in GatewaySettings.model_fields if name.startswith("rate_limit_")}
UNLIMITED.pop("rate_limit_address_factor", None)


@pytest.fixture(scope="module")
def photo() -> bytes:
    return media.jpeg(media.photo(64, 48))


@pytest.fixture
async def target(backend: Any, make_client: Any, photo: bytes) -> tuple[Client, Target]:
    """A gateway with a 1 MiB upload cap and quick slow-client limits, and a session with one image."""
    client: Client = await make_client(max_upload_size_mb=1, http_body_idle_seconds=1.0, **UNLIMITED)
    form = {"file": photo}
    stored = await client.post("/api/v1/images", data=form, headers=CSRF)
    assert stored.status == 201, await stored.text()
    image = (await stored.json())["images"][0]
    cookie = "; ".join(f"{c.key}={c.value}" for c in client.session.cookie_jar)
    server = client.server
    return client, Target(str(server.host), int(server.port or 0), cookie, image["id"], photo)


async def state(client: Client) -> list[tuple[str, int, int]]:
    """What an attack must not change: which images there are and their versions."""
    listed = await (await client.get("/api/v1/images")).json()
    return [(i["id"], i["current"]["number"], len(i["versions"])) for i in listed["images"]]


def problems_with(attack: Attack, reply: Reply | None) -> str | None:
    """What is wrong with the gateway's answer to ``attack``, or None."""
    if reply is None:
        return None if attack.may_close else "hung up without an answer"
    if reply.status >= 500:
        return f"answered {reply.status}: {reply.body[:300]!r}"
    echoed = (reply.headers.get("x-request-id", ""), reply.body.decode("latin-1"))
    if attack.request_id and any(attack.request_id in text for text in echoed):
        return "echoed the hostile request id"
    if "aiohttp" in reply.headers.get("server", "") or "python" in reply.headers.get("server", "").lower():
        return f"Server header names the software: {reply.headers['server']}"
    # 416 is a byte-range answer (with Content-Range), not an error of the API.
    if reply.status >= 400 and reply.status != 416 and not attack.parser_error:
        try:
            error = json.loads(reply.body)["error"]
            assert error["code"] and error["message"]
        except (ValueError, KeyError, TypeError, AssertionError):
            return f"answered {reply.status} without a JSON error: {reply.body[:200]!r}"
    return None


@pytest.mark.parametrize("category", sorted(CORPUS))
async def test_hostile_requests_are_refused_cleanly(
    category: str, target: tuple[Client, Target], logs: CapturedLogs
) -> None:
    """Each hostile request of the category: a 4xx JSON error or a hang-up; nothing changed or logged."""
    client, t = target
    before = await state(client)
    problems: list[str] = []
    for attack in CORPUS[category](t):
        if (problem := problems_with(attack, await exchange(t.port, attack.raw))) is not None:
            problems.append(f"{attack.name}: {problem}")
    assert not problems, "\n".join(problems)
    assert await state(client) == before
    assert not (logged := logs.problems()), "\n".join(logged)


@pytest.fixture(scope="module")
def hostile_files() -> list[HostileFile]:
    """Built before the test starts: making the bombs and animations takes seconds of CPU."""
    return hostile_images()


async def test_hostile_images_upload_as_an_image_or_a_4xx(
    backend: Any, make_client: Any, hostile_files: list[HostileFile], logs: CapturedLogs
) -> None:
    """Each file of the hostile image corpus uploads as 201 or a 4xx JSON error; no 5xx, no error logged."""
    client: Client = await make_client(**UNLIMITED)
    problems: list[str] = []
    for hostile in hostile_files:
        form = aiohttp.FormData()
        form.add_field(
            "file", hostile.data, filename=hostile.filename, content_type="application/octet-stream"
        )
        response = await client.post("/api/v1/images", data=form, headers=CSRF)
        body = await response.json()
        if response.status == 201:
            for image in body["images"]:  # keep the session under its image limit
                assert (await client.delete(f"/api/v1/images/{image['id']}", headers=CSRF)).status == 204
        elif not (400 <= response.status < 500 and body["error"]["message"]):
            problems.append(f"{hostile.category}/{hostile.name}: {response.status} {body}")
    assert not problems, "\n".join(problems)
    assert not (logged := logs.problems()), "\n".join(logged)


def test_json_depth_counts_only_real_nesting() -> None:
    """Brackets inside strings (escaped quotes included) do not nest; unclosed openers do."""
    assert not json_too_deep(b'{"a": "' + b"[" * 500 + b'"}')
    assert not json_too_deep(b'["\\"' + b"[" * 500 + b'"]')
    assert not json_too_deep(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert json_too_deep(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert json_too_deep(b'{"a":' * (MAX_JSON_DEPTH + 1))
    assert json_too_deep(b'["\\\\"' + b",[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"]")
