"""The gateway over HTTP against real services on real NATS and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from http.cookies import SimpleCookie
from typing import Any
from uuid import uuid4

import pytest
from aiohttp.test_utils import TestClient

from gateway.cookies import COOKIE_NAME, SECURE_COOKIE_NAME
from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from image_service.settings import ImageSettings
from imagetools_common.contracts import image
from imagetools_common.testing.logs import CapturedLogs
from imagetools_common.testing.services import running, settings_for
from imagetools_common.testing.waits import eventually

CSRF = {"X-Requested-With": "ImageTools"}
Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


def set_cookie(response: Any) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        jar.load(header)
    return jar


async def error_of(response: Any, status: int, code: str) -> str:
    assert response.status == status, await response.text()
    body = await response.json()
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    return str(body["error"]["message"])


# Health ----------------------------------------------------------------------------------------


async def test_health_reports_every_service(client: Client) -> None:
    """GET /health is 200 and counts one replica of each service."""
    response = await client.get("/health")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "healthy" and body["missing"] == []
    assert {name: s["replicas"] for name, s in body["services"].items()} == {
        "gateway": 1, "session-service": 1, "image-service": 1, "oauth-service": 1,
    }  # fmt: skip


async def test_health_counts_replicas(client: Client, base_env: dict[str, str]) -> None:
    """Two more image-service instances show up as three replicas."""
    settings = settings_for(ImageSettings, base_env)

    async def health() -> Any:
        return await (await client.get("/health")).json()

    async with running(image.SERVICE, settings, register_images, storage=IMAGE_STORAGE, replicas=2):
        # Until the one-second health cache expires /health may still count one replica.
        await eventually(health, lambda body: body["services"]["image-service"]["replicas"] == 3, timeout=30)


async def test_health_names_what_is_missing(make_client: ClientFactory) -> None:
    """With no backend running, /health is 503 and names every missing service."""
    client = await make_client()
    response = await client.get("/health")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unhealthy"
    assert body["missing"] == ["session-service", "image-service", "oauth-service"]


async def test_api_calls_fail_fast_when_a_service_is_down(make_client: ClientFactory) -> None:
    """With session-service absent an API call answers 503 at once instead of hanging."""
    client = await make_client()
    response = await client.put("/api/v1/settings/ui.x", json={"value": 1}, headers=CSRF)
    assert "session-service is not available" in await error_of(response, 503, "service_unavailable")


# Sessions and cookies --------------------------------------------------------------------------


async def start_session(client: Client) -> Any:
    """Store something, which is what starts a session; the response carries the new cookie."""
    response = await client.put("/api/v1/settings/ui.started", json={"value": True}, headers=CSRF)
    assert response.status == 200, await response.text()
    return response


async def test_first_write_issues_a_session_cookie(client: Client) -> None:
    """The first write creates a session and sets an HttpOnly, Lax, host-wide cookie for 7 days."""
    response = await start_session(client)
    body = await (await client.get("/api/v1/session")).json()
    assert body["active"] and body["image_count"] == 0
    assert body["limits"] == {"max_images": 5, "max_upload_mb": 20, "expiry_days": 7}
    cookie = set_cookie(response)[COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert cookie["max-age"] == str(7 * 86400) and not cookie["secure"]
    assert len(cookie.value) >= 43


async def test_the_cookie_keeps_the_same_session(client: Client) -> None:
    """A browser that sends its cookie back keeps its session and gets no new cookie."""
    await start_session(client)
    first = await (await client.get("/api/v1/session")).json()
    again = await client.get("/api/v1/session")
    assert (await again.json())["created_at"] == first["created_at"]
    assert "Set-Cookie" not in again.headers


@pytest.mark.parametrize(
    "value",
    ["garbage", "A" * 43, "A" * 5000, "ä-not-ascii", '"quoted"', "x;y"],
    ids=["garbage", "forged", "huge", "non-ascii", "quoted", "semicolon"],
)
async def test_bad_cookies_are_no_session(client: Client, value: str) -> None:
    """Forged, malformed or oversized cookies never error: no session to read, a fresh one to write."""
    cookie = {"Cookie": f"{COOKIE_NAME}={value}"}
    response = await client.get("/api/v1/session", headers=cookie)
    assert response.status == 200 and (await response.json())["active"] is False
    assert "Set-Cookie" not in response.headers
    response = await client.put("/api/v1/settings/ui.x", json={"value": 1}, headers={**CSRF, **cookie})
    assert response.status == 200
    assert set_cookie(response)[COOKIE_NAME].value != value


async def test_https_deployments_use_secure_host_cookies(
    make_client: ClientFactory, backend: AsyncExitStack
) -> None:
    """Behind https the cookie is Secure with the __Host- prefix, and HSTS is sent."""
    client = await make_client(openrouter_app_url="https://images.example.com")
    origin = {"Origin": "https://images.example.com"}
    response = await client.put("/api/v1/settings/ui.x", json={"value": 1}, headers={**CSRF, **origin})
    cookie = set_cookie(response)[SECURE_COOKIE_NAME]
    assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_ending_the_session_deletes_it(client: Client) -> None:
    """DELETE /api/v1/session ends the session and clears the cookie; the old token is dead."""
    await start_session(client)
    old = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE_NAME].value
    response = await client.delete("/api/v1/session", headers=CSRF)
    assert response.status == 204
    assert set_cookie(response)[COOKIE_NAME]["max-age"] == "0"
    replay = await client.get("/api/v1/session", headers={"Cookie": f"{COOKIE_NAME}={old}"})
    assert (await replay.json())["active"] is False


# CSRF and CORS ---------------------------------------------------------------------------------


async def test_cross_site_posts_are_refused(client: Client) -> None:
    """An unsafe request from another origin, a cross-site fetch or one without the header is 403."""
    for headers in (
        {**CSRF, "Origin": "https://evil.example"},
        {**CSRF, "Sec-Fetch-Site": "cross-site"},
        {**CSRF, "Origin": "null"},
        {},
    ):
        response = await client.delete("/api/v1/session", headers=headers)
        await error_of(response, 403, "csrf_failed")


async def test_same_origin_requests_pass_the_csrf_check(client: Client) -> None:
    """The app's own requests (same origin, with the header) are accepted."""
    origin = str(client.make_url("/")).rstrip("/")
    headers = {**CSRF, "Origin": origin, "Sec-Fetch-Site": "same-origin"}
    assert (await client.delete("/api/v1/session", headers=headers)).status == 204


async def test_cors_only_for_configured_origins(make_client: ClientFactory, backend: AsyncExitStack) -> None:
    """Preflights from CORS_ORIGINS are allowed with credentials for that origin only; others get nothing."""
    client = await make_client(cors_origins="https://app.example")
    preflight = {"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-requested-with"}
    ok = await client.options("/api/v1/settings/ui.x", headers={**preflight, "Origin": "https://app.example"})
    assert ok.status == 204
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert ok.headers["Access-Control-Allow-Credentials"] == "true"
    evil = await client.options(
        "/api/v1/settings/ui.x", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert evil.status == 403 and "Access-Control-Allow-Origin" not in evil.headers
    put = await client.put(
        "/api/v1/settings/ui.x", json={"value": 1}, headers={**CSRF, "Origin": "https://app.example"}
    )
    assert put.status == 200 and put.headers["Access-Control-Allow-Origin"] == "https://app.example"
    plain = await client.get("/api/v1/session", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in plain.headers


# Bodies and errors -----------------------------------------------------------------------------


async def test_settings_round_trip(client: Client) -> None:
    """A UI preference is stored per session and read back."""
    put = await client.put("/api/v1/settings/ui.theme", json={"value": {"dark": True}}, headers=CSRF)
    assert put.status == 200
    got = await (await client.get("/api/v1/settings/ui.theme")).json()
    assert got == {"key": "ui.theme", "value": {"dark": True}}
    assert (await client.delete("/api/v1/settings/ui.theme", headers=CSRF)).status == 204
    assert (await (await client.get("/api/v1/settings/ui.theme")).json())["value"] is None


async def test_non_json_bodies_are_refused_precisely(client: Client) -> None:
    """text/plain is 415, broken JSON 400, a missing field 422 naming it, an oversized body 413."""
    url = "/api/v1/settings/ui.theme"
    plain = await client.put(url, data='{"value": 1}', headers={**CSRF, "Content-Type": "text/plain"})
    await error_of(plain, 415, "unsupported_media_type")
    broken = await client.put(url, data="{not json", headers={**CSRF, "Content-Type": "application/json"})
    await error_of(broken, 400, "bad_request")
    missing = await client.put(url, json={"valeu": 1}, headers=CSRF)
    assert (await error_of(missing, 422, "validation_error")).startswith("value")
    big = await client.put(url, json={"value": "x" * 300_000}, headers=CSRF)
    await error_of(big, 413, "payload_too_large")
    service_limit = await client.put(url, json={"value": "x" * 20_000}, headers=CSRF)
    await error_of(service_limit, 422, "validation_error")
    bad_key = await client.put("/api/v1/settings/sessions.secret", json={"value": 1}, headers=CSRF)
    assert (await error_of(bad_key, 422, "validation_error")).startswith("key")


async def test_json_bodies_are_typed_strictly(client: Client) -> None:
    """A string or a boolean where the API says integer, or 1 where it says boolean, is a 422 naming it."""
    for settings in ({"quality": "80"}, {"quality": True}, {"quality": 80.5}):
        lax = await client.post("/api/v1/profiles", json={"name": "Mail", "settings": settings}, headers=CSRF)
        assert (await error_of(lax, 422, "validation_error")).startswith("settings.quality")
    privacy = await client.put("/api/v1/privacy", json={"keep_location": 1}, headers=CSRF)
    assert (await error_of(privacy, 422, "validation_error")).startswith("keep_location")
    typed = await client.post(
        "/api/v1/profiles", json={"name": "Mail", "settings": {"quality": 80}}, headers=CSRF
    )
    assert typed.status == 201, await typed.text()
    assert (await typed.json())["settings"]["quality"] == 80


async def test_unknown_api_routes_are_json_404(client: Client) -> None:
    """Unknown API paths answer JSON 404 (never the web app); wrong methods, GET included, JSON 405."""
    await error_of(await client.get("/api/v1/nope"), 404, "not_found")
    await error_of(await client.post("/api/v1/nope", headers=CSRF), 404, "not_found")
    response = await client.post("/api/v1/openapi.json", headers=CSRF)
    await error_of(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    post_only = await client.get("/api/v1/openrouter/connect")
    await error_of(post_only, 405, "method_not_allowed")
    assert post_only.headers["Allow"] == "POST"
    await error_of(await client.post("/some/page", headers=CSRF), 405, "method_not_allowed")


async def test_head_answers_wherever_get_does(client: Client) -> None:
    """HEAD on an API read gives GET's status and headers without a body."""
    for path in ("/health", "/api/v1/session", "/api/v1/openapi.json", "/api/v1/images"):
        got = await client.get(path)
        head = await client.head(path)
        assert head.status == got.status == 200, path
        assert head.headers["Content-Type"] == got.headers["Content-Type"], path
        assert await head.read() == b"", path
    await error_of(await client.get(f"/api/v1/images/{uuid4()}/content"), 404, "not_found")
    assert (await client.head(f"/api/v1/images/{uuid4()}/content")).status == 404


async def test_oversized_headers_are_refused_cleanly(client: Client) -> None:
    """A header past the parser's limit is a 4xx without a stack trace, and the server lives on."""
    response = await client.get("/api/v1/session", headers={"X-Big": "x" * 20_000})
    assert 400 <= response.status < 500
    assert "Traceback" not in await response.text()
    assert (await client.get("/health")).status == 200


async def test_request_ids(client: Client) -> None:
    """Every response has a request id; a plausible one from the caller is kept, others replaced."""
    kept = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["X-Request-Id"] == "abc-123"
    replaced = await client.get("/health", headers={"X-Request-ID": "bad id\u00e9" * 20})
    assert replaced.headers["X-Request-Id"] != "bad id" and len(replaced.headers["X-Request-Id"]) == 16


async def test_access_log_has_no_query_strings(client: Client, logs: CapturedLogs) -> None:
    """The one line per request logs the path without its query (it may carry OAuth codes)."""
    await client.get("/health?code=supersecret")
    # aiohttp writes the access line after the response has gone out: wait for it.
    line = await logs.wait_for(lambda e: e.get("logger") == "gateway.access" and e.get("path") == "/health")
    assert line["status"] in (200, 503)
    assert "supersecret" not in logs.text()


# Security headers, web app, docs ---------------------------------------------------------------


async def test_security_headers_everywhere(client: Client) -> None:
    """App, API and error responses all carry the CSP (no inline scripts), nosniff and frame denial."""
    for path in ("/", "/health", "/api/v1/nope", "/assets/app-3f2a1b.js"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


async def test_web_app_routes_and_caching(client: Client) -> None:
    """App routes get index.html (revalidated); hashed assets are cached for a year; missing files 404."""
    for path in ("/", "/images/123", "/about"):
        response = await client.get(path)
        assert response.status == 200 and "<!doctype html>" in await response.text()
        assert response.headers["Cache-Control"] == "no-cache"
    asset = await client.get("/assets/app-3f2a1b.js")
    assert asset.status == 200 and "immutable" in asset.headers["Cache-Control"]
    await error_of(await client.get("/assets/app-000000.js"), 404, "not_found")
    for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2f..%2fetc%2fpasswd"):
        response = await client.get(path)
        assert "root:" not in await response.text()


async def test_openapi_documents_every_route(client: Client) -> None:
    """The OpenAPI document is generated from the route table and describes the error shape."""
    spec = await (await client.get("/api/v1/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    assert {"/health", "/api/v1/session", "/api/v1/settings/{key}"} <= set(spec["paths"])
    assert set(spec["paths"]["/api/v1/session"]) == {"get", "delete"}
    assert "ErrorBody" in spec["components"]["schemas"]
    delete = spec["paths"]["/api/v1/session"]["delete"]
    assert any(p["name"] == "X-Requested-With" for p in delete["parameters"])
    # What follows from a route's shape is stated without being listed by hand.
    operations = [op for methods in spec["paths"].values() for op in methods.values()]
    for op in operations:
        if "requestBody" in op:
            assert {"400", "403", "413", "415", "422"} <= set(op["responses"]), op["operationId"]
        if "x-rate-limit" in op:
            assert "Retry-After" in op["responses"]["429"]["headers"], op["operationId"]
    setting = spec["paths"]["/api/v1/settings/{key}"]["put"]["parameters"][0]
    assert setting["schema"]["pattern"] == r"^ui\.[a-z0-9_.\-]{1,60}$"
    content = spec["paths"]["/api/v1/images/{image_id}/content"]["get"]
    assert [p["name"] for p in content["parameters"]] == [
        "image_id",
        "version",
        "original",
        "download",
        "If-None-Match",
    ]
    assert content["parameters"][0]["schema"]["format"] == "uuid" and "304" in content["responses"]


async def test_docs_page_uses_only_local_assets(client: Client) -> None:
    """The API docs page loads Swagger UI from this server (no CDN) and is allowed its inline styles."""
    response = await client.get("/api/v1/docs")
    html = await response.text()
    assert response.status == 200 and "/api/v1/openapi.json" not in html  # loaded by the init script
    assert "http://" not in html and "https://" not in html
    assert "style-src 'self' 'unsafe-inline'" in response.headers["Content-Security-Policy"]
    init = await client.get("/api/v1/docs/init.js")
    assert init.status == 200 and "/api/v1/openapi.json" in await init.text()


async def test_unbuilt_web_app_is_explained(make_client: ClientFactory, tmp_path: Any) -> None:
    """Without web/dist the page says how to build it instead of failing obscurely."""
    client = await make_client(web_dist_dir=tmp_path / "nowhere")
    assert "make web" in await error_of(await client.get("/"), 503, "service_unavailable")
