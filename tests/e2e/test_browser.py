"""The web app in real headless Chromium against the whole stack."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, expect

from imagetools_common.stack import Stack

pytestmark = pytest.mark.e2e


async def test_page_shows_the_session(stack: Stack, browser: Browser, tmp_path: Path) -> None:
    """A first visit shows ImageTools with "0 / 5" images and "expires in 7 days", with no CSP errors."""
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
    await expect(page.get_by_test_id("session-expiry")).to_have_text("expires in 7 days")
    await expect(page).to_have_title("ImageTools")
    cookies = await context.cookies()
    assert [c["name"] for c in cookies] == ["imagetools_session"] and cookies[0]["httpOnly"]
    await page.screenshot(path=str(tmp_path / "home.png"))
    assert problems == []
    await context.close()


async def test_about_dialog_and_ending_the_session(stack: Stack, browser: Browser) -> None:
    """The About dialog shows the limits and version; deleting the session starts a fresh one."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(stack.gateway_url)
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    first = {c["name"]: c["value"] for c in await context.cookies()}
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
    second = {c["name"]: c["value"] for c in await context.cookies()}
    assert second["imagetools_session"] != first["imagetools_session"]
    await context.close()


async def test_offline_banner_appears_and_clears(stack: Stack, browser: Browser) -> None:
    """When a service dies the page says which one, and the banner clears itself when it returns."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(stack.gateway_url)
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    victim = next(p for p in stack.processes if p.module == "oauth_service")
    await victim.stop()
    stack.processes.remove(victim)
    await page.wait_for_timeout(1500)  # past the gateway's one-second health cache
    await page.reload()
    banner = page.get_by_test_id("offline-banner")
    await expect(banner).to_contain_text("oauth-service", timeout=20_000)
    await stack.start_service("oauth-service")
    await expect(banner).to_be_hidden(timeout=40_000)
    await context.close()
