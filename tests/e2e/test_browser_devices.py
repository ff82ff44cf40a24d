"""Handing a session to another device in real Chromium: QR link and short code, the device list,
removal taking effect at once (also through a second gateway replica), and join tokens misused.

Every client gets its own address through X-Forwarded-For (the stack trusts loopback as a proxy),
so the tight per-address join limit is exercised on purpose in one test and nowhere else.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import segno
from playwright.async_api import Browser, BrowserContext, Page, expect

from imagetools_common.embedded import free_port, wait_for_port
from imagetools_common.stack import Stack
from imagetools_common.testing import media

pytestmark = pytest.mark.e2e

SLOW = 30_000
CSRF = {"X-Requested-With": "ImageTools"}
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def new_address() -> dict[str, str]:
    """A client address of its own (the gateway believes X-Forwarded-For from loopback)."""
    return {"X-Forwarded-For": next(_addresses)}


@pytest.fixture(scope="module")
def stack(ai_stack: Stack) -> Stack:
    """The shared stack whose app URL is http://localhost:<port> (join links name it) and which
    believes X-Forwarded-For from loopback (conftest's ``ai_stack``)."""
    return ai_stack


@pytest.fixture(scope="module")
async def second_gateway(stack: Stack) -> AsyncIterator[str]:
    """Another gateway replica on the same bus: what one gateway does, the other must see at once.
    It stops with the module (the stack is shared)."""
    port = free_port()
    first = stack.process_env.get("gateway", {})
    stack.process_env["gateway"] = {**first, "SERVER_PORT": str(port)}
    try:
        process = await stack.start_service("gateway")
    finally:
        stack.process_env["gateway"] = first
    await wait_for_port("127.0.0.1", port, timeout=30)
    yield f"http://localhost:{port}"
    await stack.stop_service(process)


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("devices") / "IMG_2041.jpg"
    path.write_bytes(media.jpeg(media.photo(640, 480, seed=11)))
    return path


def app_url(stack: Stack) -> str:
    return stack.env["OPENROUTER_APP_URL"]


@pytest.fixture
async def contexts(browser: Browser, stack: Stack) -> AsyncIterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        await context.close()


async def open_page(browser: Browser, stack: Stack, opened: list[BrowserContext], **options: Any) -> Page:
    context = await browser.new_context(base_url=app_url(stack), extra_http_headers=new_address(), **options)
    opened.append(context)
    return await context.new_page()


async def open_devices(page: Page) -> Any:
    await page.get_by_test_id("devices-button").click()
    dialog = page.get_by_test_id("devices-dialog")
    await expect(dialog).to_be_visible()
    return dialog


async def make_offer(page: Page, button: str) -> dict[str, Any]:
    """Press Show QR code / New code; the offer as the API gave it to the page."""
    async with page.expect_response("**/api/v1/session/join-offer") as answer:
        await page.get_by_test_id("devices-dialog").get_by_test_id(button).click()
    response = await answer.value
    assert response.status == 201
    offer: dict[str, Any] = await response.json()
    return offer


async def confirm(page: Page, label: str) -> None:
    ok = page.get_by_test_id("confirm-dialog").get_by_test_id("confirm-ok")
    await expect(ok).to_have_text(label)
    await ok.click()


async def session_of(page: Page, base: str | None = None) -> dict[str, Any]:
    response = await page.request.get(f"{base or ''}/api/v1/session")
    assert response.ok
    body: dict[str, Any] = await response.json()
    return body


async def test_a_phone_joins_by_qr_and_a_laptop_by_code_then_leave_remove_end(
    browser: Browser, stack: Stack, second_gateway: str, photo: Path, contexts: list[BrowserContext]
) -> None:
    desktop = await open_page(browser, stack, contexts)
    await desktop.goto("/")
    await desktop.get_by_test_id("file-input").set_input_files(str(photo))
    await expect(desktop.get_by_test_id("image-card")).to_have_count(1, timeout=SLOW)

    dialog = await open_devices(desktop)
    offer = await make_offer(desktop, "make-join-offer")
    # The link is the configured public URL, the token only in the fragment; the QR holds exactly it.
    base, _, token = offer["url"].partition("#")
    assert base == f"{app_url(stack)}/join" and len(token) == 43
    assert offer["qr_image"] == segno.make(offer["url"], error="m").svg_data_uri(scale=6, border=2)
    await expect(dialog.get_by_role("img", name="QR code")).to_have_attribute("src", offer["qr_image"])
    await expect(dialog.get_by_test_id("join-code")).to_have_text(offer["code"])
    await expect(dialog.get_by_test_id("join-countdown")).to_contain_text(":")
    assert 240 < offer["expires_in"] <= 300

    # A phone scans the QR code: the link opens the app, which asks, then joins.
    phone = await open_page(
        browser, stack, contexts, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        user_agent=ANDROID_CHROME,
    )  # fmt: skip
    await phone.goto(offer["url"])
    await confirm(phone, "Join session")
    await expect(phone.get_by_test_id("toast").filter(has_text="Joined")).to_be_visible()
    await expect(phone.get_by_test_id("image-card")).to_have_count(1, timeout=SLOW)
    await expect(phone.get_by_test_id("image-card")).to_contain_text("IMG_2041")
    assert phone.url == f"{app_url(stack)}/"  # the token left the address bar

    # That offer is used up: the desktop makes a new one, and a laptop types its code.
    second = await make_offer(desktop, "renew-join-offer")
    assert second["code"] != offer["code"]
    laptop = await open_page(browser, stack, contexts, user_agent=LINUX_FIREFOX)
    await laptop.goto("/")
    laptop_dialog = await open_devices(laptop)
    await laptop_dialog.get_by_test_id("join-code-input").fill(second["code"].replace("-", " ").lower())
    await laptop_dialog.get_by_test_id("join-submit").click()
    await expect(laptop_dialog).to_be_hidden()
    await expect(laptop.get_by_test_id("image-card")).to_contain_text("IMG_2041", timeout=SLOW)

    # The desktop's list: three devices named after their browsers, this one marked.
    await dialog.get_by_test_id("devices-close").click()
    dialog = await open_devices(desktop)
    rows = dialog.get_by_test_id("device")
    await expect(rows).to_have_count(3)
    await expect(rows.filter(has=desktop.get_by_test_id("this-device"))).to_have_count(1)
    await expect(rows.filter(has_text="Chrome on Android")).to_have_count(1)
    laptop_row = rows.filter(has_text="Firefox on Linux")
    await expect(laptop_row).to_have_count(1)

    # The laptop has used the second gateway too (a replica that may have cached its session).
    assert (await session_of(laptop, second_gateway))["active"]
    await laptop_row.get_by_test_id("remove-device").click()
    await confirm(desktop, "Remove device")
    await expect(rows).to_have_count(2)
    # Removed at once, on both gateways: the laptop's cookie opens nothing any more.
    assert not (await session_of(laptop, second_gateway))["active"]
    assert not (await session_of(laptop))["active"]
    await laptop.reload()
    await expect(laptop.get_by_test_id("image-counter")).to_have_text("0 / 5")
    await expect(laptop.get_by_test_id("image-card")).to_have_count(0)

    # The phone leaves by itself; the desktop still has the photo.
    phone_dialog = await open_devices(phone)
    await phone_dialog.get_by_test_id("leave-session").click()
    await confirm(phone, "Leave")
    await expect(phone.get_by_test_id("toast").filter(has_text="You left the session")).to_be_visible()
    await expect(phone.get_by_test_id("image-card")).to_have_count(0)
    assert (await session_of(desktop))["image_count"] == 1

    # End for everyone: confirmed, then nothing is left.
    await dialog.get_by_test_id("devices-close").click()
    dialog = await open_devices(desktop)
    await expect(dialog.get_by_test_id("device")).to_have_count(1)
    await dialog.get_by_test_id("end-for-everyone").click()
    await confirm(desktop, "End session and delete")
    await expect(desktop.get_by_test_id("image-card")).to_have_count(0)
    assert not (await session_of(desktop))["active"]


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[Any]:
    """API clients, each with its own cookie jar and address."""
    opened: list[aiohttp.ClientSession] = []

    def make() -> aiohttp.ClientSession:
        http = aiohttp.ClientSession(
            base_url=stack.gateway_url,
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            headers={**CSRF, **new_address()},
        )
        opened.append(http)
        return http

    yield make
    for http in opened:
        await http.close()


async def call(http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with http.request(method, path, **kwargs) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None)


async def test_join_tokens_and_codes_misused(client: Any, stack: Stack) -> None:
    """Reused, expired, malformed, cross-site and guessed joins are refused precisely; nothing is
    logged that could join; an address that keeps guessing codes is cut off with 429."""
    host = client()
    status, offer = await call(host, "POST", "/api/v1/session/join-offer", headers={"Host": "evil.example"})
    assert status == 201 and offer["url"].startswith(f"{app_url(stack)}/join#")  # never the Host header
    token = offer["url"].partition("#")[2]

    guest = client()
    # From another site: the CSRF guard refuses it, and the offer is still good afterwards.
    status, body = await call(
        guest,
        "POST",
        "/api/v1/session/join",
        json={"token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert status == 403 and body["error"]["code"] == "csrf_failed"
    for wrong in (
        {"token": token[:-1]},
        {"token": token + "A"},
        {"code": "ABCD"},
        {},
        {"token": token, "code": "x"},
    ):
        status, body = await call(guest, "POST", "/api/v1/session/join", json=wrong)
        assert status == 422, (wrong, body)
    status, body = await call(guest, "POST", "/api/v1/session/join", json={"token": "A" * 43})
    assert status == 404 and body["error"]["code"] == "not_found"
    status, joined = await call(guest, "POST", "/api/v1/session/join", json={"token": token})
    assert status == 200 and joined["active"]
    status, body = await call(client(), "POST", "/api/v1/session/join", json={"token": token})
    assert status == 410 and "already used" in body["error"]["message"]

    # A browser already in a session must say it leaves it; joining its own session is a conflict.
    status, again = await call(host, "POST", "/api/v1/session/join-offer")
    status, body = await call(guest, "POST", "/api/v1/session/join", json={"code": again["code"]})
    assert status == 409 and "leave_current" in body["error"]["message"]
    status, body = await call(
        guest, "POST", "/api/v1/session/join", json={"code": again["code"], "leave_current": True}
    )
    assert status == 409 and "already in that session" in body["error"]["message"]

    # Expired: five minutes on, by the database's clock.
    conn = await asyncpg.connect(stack.env["DATABASE_URL"])
    try:
        await conn.execute(
            "UPDATE sessions.join_offers SET created_at = now() - interval '6 minutes', "
            "expires_at = now() - interval '1 minute' WHERE token_hash = $1",
            hashlib.sha256(again["url"].partition("#")[2].encode()).digest(),
        )
    finally:
        await conn.close()
    status, body = await call(client(), "POST", "/api/v1/session/join", json={"code": again["code"]})
    assert status == 410 and "expired" in body["error"]["message"]

    # Five wrong codes against an offer kill it: the right code is then refused too.
    status, target = await call(host, "POST", "/api/v1/session/join-offer")
    code = target["code"].replace("-", "")
    wrong_code = code[:3] + ("2222222" if code[3:] != "2222222" else "3333333")
    guesser = client()
    for _ in range(5):
        status, body = await call(guesser, "POST", "/api/v1/session/join", json={"code": wrong_code})
        assert status == 404, body
    status, body = await call(client(), "POST", "/api/v1/session/join", json={"code": target["code"]})
    assert status == 410 and "Too many wrong codes" in body["error"]["message"]
    # The same address keeps guessing: after RATE_LIMIT_JOIN (10) a minute it is cut off.
    statuses = [
        (await call(guesser, "POST", "/api/v1/session/join", json={"code": "ABCDE-FGHJK"}))[0]
        for _ in range(6)
    ]
    assert statuses == [404] * 5 + [429]
    async with guesser.post("/api/v1/session/join", json={"code": "ABCDE-FGHJK"}) as refused:
        assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0

    # Nothing that could join a session reached a log line (access log or services).
    assert stack.log_dir is not None
    logged = "".join(path.read_text() for path in stack.log_dir.glob("*.log"))
    for secret in (token, offer["code"], offer["code"].replace("-", ""), target["code"], code):
        assert secret not in logged
    assert "/api/v1/session/join" in logged  # the access log is there and was read
