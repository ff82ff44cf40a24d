"""The session model over HTTP: reads create nothing, writes start a session, limits hold per address.

A real gateway, session-, image- and oauth-service over the real NATS and PostgreSQL; session
rows are counted in the database. Limits are configured small so a test reaches them quickly.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from gateway.openapi import ApiRoute
from gateway.routes import ROUTES
from gateway.views import system
from imagetools_common.testing import media

CSRF = {"X-Requested-With": "ImageTools"}
Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
MISSING = uuid.uuid4()


async def session_rows(db_pool: asyncpg.Pool) -> int:
    return int(await db_pool.fetchval("SELECT count(*) FROM sessions.sessions"))


def issued_cookie(response: aiohttp.ClientResponse) -> bool:
    """Whether the response gives the browser a session cookie (clearing one is not giving one)."""
    return any(cookie.value for cookie in response.cookies.values())


def upload_form() -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", media.jpeg(media.photo(32, 24)), filename="a.jpg", content_type="image/jpeg")
    return form


async def upload(client: Client) -> str:
    async with client.post("/api/v1/images", data=upload_form(), headers=CSRF) as response:
        assert response.status == 201, await response.text()
        return str((await response.json())["images"][0]["id"])


# Reads create nothing ---------------------------------------------------------------------------

READS = [
    ("GET", "/api/v1/session", 200),
    ("GET", "/api/v1/images", 200),
    ("GET", "/api/v1/presets", 200),
    ("GET", "/api/v1/settings/ui.theme", 200),
    ("GET", "/api/v1/openrouter/status", 200),
    ("GET", "/api/v1/privacy", 200),
    ("GET", "/api/v1/ai/models", 409),  # no key anywhere: "connect OpenRouter"
    ("GET", f"/api/v1/images/{MISSING}", 404),
    ("GET", f"/api/v1/images/{MISSING}/content", 404),
    ("GET", f"/api/v1/images/{MISSING}/thumbnail", 404),
    ("GET", f"/api/v1/images/{MISSING}/metadata", 404),
    ("GET", f"/api/v1/images/{MISSING}/mask", 404),
    ("GET", f"/api/v1/images/{MISSING}/chat", 404),
    ("GET", "/oauth/callback?state=s&code=c", 303),
    # Deleting or changing what does not exist is not storing anything either.
    ("DELETE", "/api/v1/session", 204),
    ("DELETE", "/api/v1/settings/ui.theme", 204),
    ("DELETE", "/api/v1/images", 200),
    ("DELETE", f"/api/v1/images/{MISSING}", 404),
    ("DELETE", "/api/v1/openrouter", 200),
    ("DELETE", f"/api/v1/images/{MISSING}/chat", 404),
    ("DELETE", "/api/v1/profiles/web", 200),
    ("POST", f"/api/v1/images/{MISSING}/operations", 404),
    ("POST", f"/api/v1/images/{MISSING}/undo", 404),
    ("POST", f"/api/v1/images/{MISSING}/redo", 404),
    ("POST", f"/api/v1/images/{MISSING}/revert", 404),
    ("POST", f"/api/v1/images/{MISSING}/chat", 404),
    ("POST", f"/api/v1/images/{MISSING}/ai-edit", 404),
    ("POST", "/api/v1/images/delete", 200),
    ("POST", "/api/v1/archive", 404),
]
BODIES: dict[str, Any] = {
    "operations": {"type": "rotate", "degrees": 90},
    "revert": {"version": 1},
    "chat": {"message": "hi"},
    "ai-edit": {"instruction": "invert"},
    "delete": {"ids": [str(MISSING)]},
    "archive": {"ids": [str(MISSING)]},
}


async def test_a_cookie_less_storm_of_reads_creates_no_session(
    backend: Any, make_client: ClientFactory, db_pool: asyncpg.Pool
) -> None:
    """Every read (and every change to nothing) answers as for an empty session and stores nothing."""
    client = await make_client()
    before = await session_rows(db_pool)
    for _ in range(5):
        for method, path, status in READS:
            body = BODIES.get(path.rsplit("/", 1)[-1])
            async with client.request(
                method, path, json=body, headers=CSRF, allow_redirects=False
            ) as response:
                assert response.status == status, (method, path, await response.text())
                assert not issued_cookie(response), (method, path)
    assert await session_rows(db_pool) == before


async def test_reads_without_a_session_look_like_an_empty_session(
    backend: Any, make_client: ClientFactory
) -> None:
    client = await make_client(session_expiry_days=3)
    async with client.get("/api/v1/session") as response:
        view = await response.json()
    assert view["active"] is False and view["created_at"] is None and view["expires_at"] is None
    assert view["image_count"] == 0
    assert view["limits"] == {"max_images": 5, "max_upload_mb": 20, "expiry_days": 3}
    async with client.get("/api/v1/images") as response:
        assert await response.json() == {"images": [], "max_images": 5}
    async with client.get("/api/v1/presets") as response:
        presets = (await response.json())["presets"]
    assert {p["id"] for p in presets} >= {"email", "web", "web_hq"}
    async with client.get("/api/v1/settings/ui.theme") as response:
        assert await response.json() == {"key": "ui.theme", "value": None}


async def test_the_first_write_starts_the_session(
    backend: Any, make_client: ClientFactory, db_pool: asyncpg.Pool
) -> None:
    """Storing a setting creates the row and the cookie; then the session is active with its dates."""
    client = await make_client()
    before = await session_rows(db_pool)
    async with client.put("/api/v1/settings/ui.theme", json={"value": "dark"}, headers=CSRF) as response:
        assert response.status == 200
        assert "imagetools_session=" in response.headers["Set-Cookie"]
    assert await session_rows(db_pool) == before + 1
    async with client.get("/api/v1/session") as response:
        view = await response.json()
    assert view["active"] is True and view["created_at"] < view["expires_at"]
    async with client.get("/api/v1/settings/ui.theme") as response:
        assert (await response.json())["value"] == "dark"
    await upload(client)  # the same session, no new row
    assert await session_rows(db_pool) == before + 1


async def test_an_upload_without_any_file_creates_nothing(
    backend: Any, make_client: ClientFactory, db_pool: asyncpg.Pool
) -> None:
    client = await make_client()
    before = await session_rows(db_pool)
    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="x.txt")
    async with client.post("/api/v1/images", data=form, headers=CSRF) as response:
        assert response.status == 422 and not issued_cookie(response)
    assert await session_rows(db_pool) == before


async def test_cookie_less_writes_beyond_the_address_limit_are_refused_and_create_nothing(
    backend: Any, make_client: ClientFactory, db_pool: asyncpg.Pool
) -> None:
    client = await make_client(rate_limit_new_sessions=3)
    before = await session_rows(db_pool)
    await upload(client)  # this visitor's own session: 1 of the 3
    kept = {cookie.key: cookie.value for cookie in client.session.cookie_jar}
    statuses = []
    for _ in range(5):
        client.session.cookie_jar.clear()
        async with client.put("/api/v1/settings/ui.a", json={"value": 1}, headers=CSRF) as response:
            statuses.append(response.status)
            if response.status == 429:
                assert 0 < int(response.headers["Retry-After"]) <= 60
                assert (await response.json())["error"]["code"] == "rate_limited"
                assert not issued_cookie(response)
    assert statuses == [200, 200, 429, 429, 429]
    assert await session_rows(db_pool) == before + 3
    # A visitor who has a session keeps storing: the limit is on new sessions only.
    client.session.cookie_jar.update_cookies(kept, response_url=client.make_url("/"))
    async with client.put("/api/v1/settings/ui.b", json={"value": 2}, headers=CSRF) as response:
        assert response.status == 200 and not issued_cookie(response)
    assert await session_rows(db_pool) == before + 3


# Every limit holds, with one cookie and with the cookie dropped each time ------------------------

SESSION_RATE, FACTOR = 2, 3
Send = Callable[[Client, str], Awaitable[int]]


async def _status(response: aiohttp.ClientResponse) -> int:
    await response.read()
    return response.status


async def send_upload(client: Client, image_id: str) -> int:
    return await _status(await client.post("/api/v1/images", data=upload_form(), headers=CSRF))


async def send_operation(client: Client, image_id: str) -> int:
    body = {"type": "rotate", "degrees": 90}
    return await _status(await client.post(f"/api/v1/images/{image_id}/operations", json=body, headers=CSRF))


async def send_undo(client: Client, image_id: str) -> int:
    return await _status(await client.post(f"/api/v1/images/{image_id}/undo", headers=CSRF))


async def send_chat(client: Client, image_id: str) -> int:
    body = {"message": "what is this?"}
    return await _status(await client.post(f"/api/v1/images/{image_id}/chat", json=body, headers=CSRF))


async def send_edit(client: Client, image_id: str) -> int:
    body = {"instruction": "invert"}
    return await _status(await client.post(f"/api/v1/images/{image_id}/ai-edit", json=body, headers=CSRF))


async def send_connect(client: Client, image_id: str) -> int:
    return await _status(await client.post("/api/v1/openrouter/connect", headers=CSRF))


async def send_callback(client: Client, image_id: str) -> int:
    return await _status(await client.get("/oauth/callback?state=s&code=c", allow_redirects=False))


@pytest.mark.parametrize(
    ("budget", "send"),
    [
        ("uploads", send_upload),
        ("operations", send_operation),
        ("operations", send_undo),
        ("ai_chat", send_chat),
        ("ai_edits", send_edit),
        ("openrouter", send_connect),
        ("openrouter", send_callback),
    ],
)
@pytest.mark.parametrize("drop_cookie", [False, True], ids=["one-cookie", "cookie-dropped"])
async def test_each_limit_holds_per_session_and_per_address(
    backend: Any, make_client: ClientFactory, budget: str, send: Send, drop_cookie: bool
) -> None:
    """N a minute for a session; N × factor for the address, however the cookie is juggled."""
    client = await make_client(
        **{f"rate_limit_{budget}": SESSION_RATE},
        rate_limit_address_factor=FACTOR,
        rate_limit_new_sessions=100,
        max_images_per_session=20,
    )
    if budget == "uploads":  # a visitor who already has a session
        image_id = str(MISSING)
        await _status(await client.put("/api/v1/settings/ui.a", json={"value": 1}, headers=CSRF))
    else:
        image_id = await upload(client)
    allowed = SESSION_RATE * FACTOR if drop_cookie else SESSION_RATE
    statuses = []
    for _ in range(allowed + 2):
        if drop_cookie:
            client.session.cookie_jar.clear()
        statuses.append(await send(client, image_id))
    assert 429 not in statuses[:allowed], statuses
    assert statuses[allowed:] == [429, 429], statuses
    assert all(s < 500 for s in statuses), statuses


async def test_forwarded_for_counts_only_from_a_trusted_proxy(
    backend: Any, make_client: ClientFactory
) -> None:
    """Behind a trusted proxy each forwarded client has its own budget; from others the header is noise."""

    async def new_session(client: Client, forwarded_for: str) -> int:
        client.session.cookie_jar.clear()
        headers = {**CSRF, "X-Forwarded-For": forwarded_for}
        return await _status(await client.put("/api/v1/settings/ui.a", json={"value": 1}, headers=headers))

    proxied = await make_client(rate_limit_new_sessions=2, trusted_proxies="127.0.0.1")
    assert [await new_session(proxied, "6.6.6.6, 198.51.100.1") for _ in range(3)] == [200, 200, 429]
    # A spoofed left-most entry changes nothing: the proxy's right-most entry is the client.
    assert await new_session(proxied, "7.7.7.7, 198.51.100.1") == 429
    assert await new_session(proxied, "198.51.100.2") == 200

    direct = await make_client(rate_limit_new_sessions=2, trusted_proxies="10.9.9.9")
    statuses = [await new_session(direct, f"198.51.100.{n}") for n in range(4)]
    assert statuses == [200, 200, 429, 429]


# Declared once, documented once -----------------------------------------------------------------


async def test_the_openapi_document_states_every_limit(backend: Any, make_client: ClientFactory) -> None:
    client = await make_client(
        rate_limit_operations=7, rate_limit_address_factor=4, rate_limit_new_sessions=9
    )
    async with client.get("/api/v1/openapi.json") as response:
        document = await response.json()
    limited = [r for r in ROUTES if r.limit is not None or r.creates_session]
    assert {r.handler.__name__ for r in limited} >= {
        "upload_images", "apply_operation", "undo", "redo", "revert", "chat", "ai_edit", "connect",
        "oauth_callback", "put_setting", "create_profile", "select_models", "put_privacy",
    }  # fmt: skip
    for route in limited:
        operation = document["paths"][route.openapi_path][route.method.lower()]
        assert "429" in operation["responses"], route.path
        if route.creates_session:
            assert operation["x-new-sessions-per-minute-per-address"] == 9
    operation = document["paths"]["/api/v1/images/{image_id}/undo"]["post"]
    assert operation["x-rate-limit"]["per_minute_per_session"] == 7
    assert operation["x-rate-limit"]["per_minute_per_address"] == 28


def test_a_safe_method_cannot_be_declared_to_create_a_session() -> None:
    with pytest.raises(ValueError, match="safe method"):
        ApiRoute("GET", "/x", system.openapi, "x", "system", creates_session=True)
    assert not [r for r in ROUTES if r.creates_session and r.method in ("GET", "HEAD", "OPTIONS")]
