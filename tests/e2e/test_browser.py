"""The web app in real headless Chromium against the whole stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, ConsoleMessage, expect

from imagetools_common.stack import Stack
from imagetools_common.testing import media
from imagetools_common.testing.waits import eventually

pytestmark = pytest.mark.e2e


async def test_page_shows_the_session(stack: Stack, browser: Browser, tmp_path: Path) -> None:
    """A first visit shows "0 / 5" and how long photos are kept, stores nothing, and has no CSP errors;
    the first upload starts the session, and the header then counts down its expiry."""
    context = await browser.new_context()
    page = await context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(stack.gateway_url)
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    await expect(page.get_by_test_id("session-expiry")).to_have_text("photos kept 7 days")
    await expect(page.get_by_test_id("privacy-note")).to_contain_text("Nothing is stored until you add one")
    await expect(page).to_have_title("ImageTools")
    assert await context.cookies() == []
    await page.screenshot(path=str(tmp_path / "home.png"))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(media.jpeg(media.photo(320, 240)))
    await page.get_by_test_id("file-input").set_input_files(str(photo))
    await expect(page.get_by_test_id("image-counter")).to_have_text("1 / 5", timeout=30_000)
    await expect(page.get_by_test_id("session-expiry")).to_have_text("expires in 7 days")
    cookies = await context.cookies()
    assert [c["name"] for c in cookies] == ["imagetools_session"] and cookies[0]["httpOnly"]
    assert problems == []
    await context.close()


async def test_about_dialog_and_ending_the_session(stack: Stack, browser: Browser, tmp_path: Path) -> None:
    """About shows the limits and version; deleting the session leaves none until the next upload."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(stack.gateway_url)
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    await page.get_by_test_id("about-button").click()
    await expect(page.get_by_test_id("about-version")).to_contain_text("0.1.0")
    await expect(page.get_by_test_id("delete-session")).to_have_count(0)  # nothing stored, nothing to delete
    await page.keyboard.press("Escape")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(media.jpeg(media.photo(320, 240)))
    await page.get_by_test_id("file-input").set_input_files(str(photo))
    await expect(page.get_by_test_id("image-counter")).to_have_text("1 / 5", timeout=30_000)
    await page.get_by_test_id("about-button").click()
    dialog = page.get_by_test_id("about-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.get_by_test_id("about-version")).to_contain_text("0.1.0")
    await page.get_by_test_id("delete-session").click()
    async with page.expect_response(
        lambda r: r.url.endswith("/api/v1/session") and r.request.method == "GET"
    ):
        await page.get_by_test_id("confirm-delete-session").click()
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    await expect(page.get_by_test_id("session-expiry")).to_have_text("photos kept 7 days")
    assert await context.cookies() == []
    await context.close()


async def health_report(stack: Stack) -> dict[str, Any]:
    """The gateway's /health report, as the page would hear it."""
    async with aiohttp.ClientSession() as http, http.get(f"{stack.gateway_url}/health") as response:
        report: dict[str, Any] = await response.json()
        return report


async def test_offline_banner_appears_and_clears(stack: Stack, browser: Browser) -> None:
    """When a service dies the page says which one, and the banner clears itself when it returns."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(stack.gateway_url)
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    victim = next(p for p in stack.processes if p.module == "oauth_service")
    await stack.stop_service(victim)
    # The page checks /health at load: reload once the gateway's (cached) report has seen the death.
    await eventually(
        lambda: health_report(stack), lambda report: "oauth-service" in report["missing"], timeout=30
    )
    await page.reload()
    banner = page.get_by_test_id("offline-banner")
    await expect(banner).to_contain_text("oauth-service", timeout=20_000)
    await stack.start_service("oauth-service")
    await expect(banner).to_be_hidden(timeout=40_000)
    await context.close()


async def test_the_banner_names_a_broken_part_and_clears_when_it_goes(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    """A replica with a corrupt background model: the banner names the broken part, not "unavailable"."""
    (tmp_path / "isnet-medium.onnx").write_bytes(b"\x08\x07" * 4096)
    healthy_env = stack.process_env.get("image-service", {})
    stack.process_env["image-service"] = {**healthy_env, "MODELS_DIR": str(tmp_path)}
    try:
        broken = await stack.start_service("image-service")
    finally:
        stack.process_env["image-service"] = healthy_env
    context = await browser.new_context()
    page = await context.new_page()
    await eventually(
        lambda: health_report(stack),
        lambda report: any("corrupt" in p for p in report["problems"]),
        timeout=60,
    )
    await page.goto(stack.gateway_url)
    banner = page.get_by_test_id("offline-banner")
    await expect(banner).to_contain_text("Part of ImageTools is not working", timeout=20_000)
    await expect(banner).not_to_contain_text("Some services are unavailable")
    await expect(page.get_by_test_id("health-problems")).to_contain_text("isnet-medium")
    await expect(page.get_by_test_id("health-problems")).to_contain_text("corrupt")
    await stack.stop_service(broken)
    await expect(banner).to_be_hidden(timeout=40_000)
    await context.close()
