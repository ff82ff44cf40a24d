"""The whole OpenRouter flow in headless Chromium, on the stack with the fake OpenRouter (OPENROUTER_FAKE=1,
``ai_stack``, shared with test_ai_processes).

Connect through the fake's approve page, pick a model, chat with a streamed reply and its cost, edit an
image (the fake inverts its colours), undo the edit, disconnect. The browser uses http://localhost:<port>,
the one plain-http host OpenRouter (and the fake) accept in a callback URL.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import aiohttp
import pytest
from PIL import Image, ImageStat
from playwright.async_api import Browser, Page, expect

from imagetools_common.stack import Stack
from imagetools_common.testing import media

pytestmark = pytest.mark.e2e

# Generous for a shared 2-core machine; these bound a wait, they are not the behaviour under test.
SLOW = 60_000
MONEY = re.compile(r"^\$\d+\.\d+$")  # a cost as the UI writes it: "$0.00042", "$0.12"


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small photo whose average colour is far from mid-grey, so an inversion is unmistakable."""
    image = media.photo(480, 320, seed=5)
    path = tmp_path_factory.mktemp("ai-photos") / "harbour.jpg"
    path.write_bytes(media.jpeg(image, quality=92))
    return path


def app_url(stack: Stack) -> str:
    return f"http://localhost:{stack.env['SERVER_PORT']}"


def fake_url(stack: Stack) -> str:
    """The fake OpenRouter's origin (the stack points OPENROUTER_API_BASE at its /api/v1)."""
    return stack.env["OPENROUTER_API_BASE"].removesuffix("/api/v1")


async def set_fake_mode(stack: Stack, mode: str, times: int = 1) -> None:
    url, body = f"{fake_url(stack)}/_fake/mode", {"mode": mode, "times": times}
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        assert response.status == 200, await response.text()


async def fetched(page: Page, url: str) -> Image.Image:
    """A version's bytes as the browser's session gets them (same cookies), decoded."""
    response = await page.request.get(url)
    assert response.ok, response.status
    image = Image.open(io.BytesIO(await response.body()))
    image.load()
    return image


async def pixels(page: Page, url: str) -> Image.Image:
    return (await fetched(page, url)).convert("RGB")


def mean(image: Image.Image) -> list[float]:
    return list(ImageStat.Stat(image).mean)


async def preview_src(page: Page, version: int) -> str:
    preview = page.get_by_test_id("editor").get_by_test_id("editor-preview")
    await expect(preview).to_have_attribute("data-version", str(version), timeout=SLOW)
    # The number changes at once; the picture once the new version has been decoded.
    await expect(preview).to_have_attribute("src", re.compile(rf"[?&]version={version}$"), timeout=SLOW)
    src = await preview.get_attribute("src")
    assert src is not None
    return src


async def connect(page: Page) -> None:
    """Connect OpenRouter through the fake's approve page and come back connected."""
    await page.get_by_test_id("ai-button").click()
    dialog = page.get_by_test_id("ai-dialog")
    await expect(dialog.get_by_test_id("openrouter-state")).to_have_text("Not connected")
    await expect(dialog.get_by_test_id("ai-models")).to_have_count(0)
    await dialog.get_by_test_id("openrouter-connect").click()
    # The fake's own page, as OpenRouter's: approve the app.
    await page.get_by_role("link", name="Approve").click()
    await page.wait_for_url(re.compile(r"^http://localhost:\d+/"))
    await expect(page.get_by_test_id("toast").filter(has_text="OpenRouter connected")).to_be_visible()
    assert "openrouter=" not in page.url
    await page.get_by_test_id("ai-button").click()
    await expect(dialog.get_by_test_id("openrouter-state")).to_have_text("Connected")
    await expect(dialog.get_by_test_id("openrouter-state")).to_have_attribute("data-source", "user")


async def test_connect_chat_edit_undo_disconnect(ai_stack: Stack, browser: Browser, photo_file: Path) -> None:
    context = await browser.new_context(base_url=app_url(ai_stack))
    page = await context.new_page()
    try:
        await page.goto("/")
        await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
        await page.get_by_test_id("file-input").set_input_files(str(photo_file))
        await expect(page.get_by_test_id("image-card")).to_have_count(1, timeout=SLOW)

        await connect(page)

        # Pick the chat model; the choice is saved on the server (it survives a reload below).
        dialog = page.get_by_test_id("ai-dialog")
        chat_models = dialog.get_by_test_id("ai-model-chat")
        await expect(chat_models.get_by_test_id("ai-model-option")).not_to_have_count(0, timeout=SLOW)
        await expect(dialog.get_by_test_id("ai-model-edit")).to_contain_text("Gemini 2.5 Flash Image")
        await chat_models.locator('[data-model-id="openai/gpt-4o-mini"]').check()
        await expect(dialog.get_by_test_id("ai-model-current-chat")).to_have_text("OpenAI: GPT-4o-mini")
        await expect(chat_models).to_contain_text("$0.15 / M in · $0.60 / M out")
        await dialog.get_by_test_id("ai-close").click()

        # Chat: the reply appears piece by piece, then is saved with its cost.
        await page.get_by_test_id("image-card").click()
        editor = page.get_by_test_id("editor")
        await editor.get_by_test_id("editor-ai").click()
        await expect(editor.get_by_test_id("ai-chat-model")).to_have_text("GPT-4o-mini")
        await page.evaluate(
            """() => {
              window.__streamed = []
              new MutationObserver(() => {
                const el = document.querySelector('[data-testid=chat-pending-text]')
                const text = el ? el.textContent.trim() : ''
                const seen = window.__streamed
                if (text && seen[seen.length - 1] !== text) seen.push(text)
              }).observe(document.body, { subtree: true, childList: true, characterData: true })
            }"""
        )
        await editor.get_by_test_id("chat-input").fill("What's in this photo?")
        await editor.get_by_test_id("chat-input").press("Enter")
        reply = editor.locator("[data-testid=chat-message][data-role=assistant][data-saved=true]")
        await expect(reply).to_have_count(1, timeout=SLOW)
        await expect(reply).to_contain_text("480 × 320")  # the fake describes the image it received
        await expect(reply).to_contain_text("What's in this photo?")
        await expect(reply).to_contain_text("GPT-4o-mini")
        await expect(reply.get_by_test_id("chat-message-cost")).to_have_text(MONEY)
        await expect(editor.get_by_test_id("chat-total")).to_contain_text("Conversation: $")
        await expect(editor.get_by_test_id("chat-pending")).to_have_count(0)
        final = (await reply.locator(".text").text_content() or "").strip()
        streamed: list[str] = await page.evaluate("window.__streamed")
        partial = [text for text in streamed if text != final]
        assert len(partial) >= 2, f"expected the reply to grow in steps, saw {streamed!r}"
        assert all(final.startswith(text) for text in partial), streamed

        # AI edit: a new version whose pixels are the original's inverted.
        original = await pixels(page, await preview_src(page, 1))
        await editor.get_by_test_id("ai-edit-input").fill("invert the colours")
        await editor.get_by_test_id("ai-edit-apply").click()
        await expect(editor.get_by_test_id("ai-edit-result")).to_be_visible(timeout=SLOW)
        await expect(editor.get_by_test_id("ai-edit-text")).to_contain_text("inverted")
        await expect(editor.get_by_test_id("ai-edit-cost")).to_contain_text("Cost $")
        edited = await pixels(page, await preview_src(page, 2))
        await expect(editor.locator('[data-testid=history-item][data-version="2"]')).to_contain_text(
            "AI edit: invert the colours"
        )
        assert edited.size == original.size
        for before, after in zip(mean(original), mean(edited), strict=True):
            assert abs((255 - before) - after) < 4, (mean(original), mean(edited))
        # Not just the average: most pixels moved, each to its own inverse.
        sample = [(x, y) for x in range(5, 480, 47) for y in range(5, 320, 31)]
        for x, y in sample:
            a, b = original.getpixel((x, y)), edited.getpixel((x, y))
            assert isinstance(a, tuple) and isinstance(b, tuple)
            assert all(abs((255 - p) - q) <= 24 for p, q in zip(a, b, strict=True)), ((x, y), a, b)

        # The model answered a PNG: the panel says so, and brings it back to a JPEG as one more version.
        came_back = editor.get_by_test_id("ai-edit-came-back")
        await expect(came_back).to_contain_text("Came back 480×320 PNG; the original was 480×320 JPEG.")
        await came_back.get_by_test_id("ai-edit-restore").click()
        brought_back = await fetched(page, await preview_src(page, 3))
        assert (brought_back.format, brought_back.size) == ("JPEG", (480, 320))
        await editor.get_by_test_id("undo").click()
        await preview_src(page, 2)

        # Undo brings the original back, pixel for pixel; redo the edit again.
        await editor.get_by_test_id("undo").click()
        restored = await pixels(page, await preview_src(page, 1))
        assert restored.tobytes() == original.tobytes()
        await editor.get_by_test_id("redo").click()
        await preview_src(page, 2)
        await editor.get_by_test_id("undo").click()
        await preview_src(page, 1)

        # The conversation was saved (a reload shows it) and the chosen model stuck.
        await page.reload()
        await page.get_by_test_id("image-card").click()
        await expect(editor.get_by_test_id("chat-message")).to_have_count(2, timeout=SLOW)
        await expect(editor.get_by_test_id("ai-chat-model")).to_have_text("GPT-4o-mini")

        # Disconnect from the editor's AI panel; the panel then asks to connect again.
        await editor.get_by_test_id("ai-panel-settings").click()
        await expect(dialog.get_by_test_id("openrouter-state")).to_have_text("Connected")
        await dialog.get_by_test_id("openrouter-disconnect").click()
        await page.get_by_test_id("confirm-ok").click()
        await expect(dialog.get_by_test_id("openrouter-disconnected")).to_be_visible()
        await expect(dialog.get_by_test_id("openrouter-state")).to_have_text("Not connected")
        await expect(dialog.get_by_test_id("ai-models")).to_have_count(0)
        await dialog.get_by_test_id("ai-close").click()
        await expect(editor.get_by_test_id("ai-connect-cta")).to_be_visible()
        await expect(editor.get_by_test_id("ai-chat")).to_have_count(0)
    finally:
        await context.close()


async def test_chat_errors_are_shown_where_they_happen(
    ai_stack: Stack, browser: Browser, photo_file: Path
) -> None:
    """402 links to OpenRouter's credits; 429 holds Send for Retry-After; a broken stream is retried; Stop."""
    context = await browser.new_context(base_url=app_url(ai_stack))
    page = await context.new_page()
    try:
        await page.goto("/")
        await page.get_by_test_id("file-input").set_input_files(str(photo_file))
        await expect(page.get_by_test_id("image-card")).to_have_count(1, timeout=SLOW)
        await connect(page)
        await page.get_by_test_id("ai-dialog").get_by_test_id("ai-close").click()
        await page.get_by_test_id("image-card").click()
        editor = page.get_by_test_id("editor")
        chat_input = editor.get_by_test_id("chat-input")
        problem = editor.get_by_test_id("ai-problem")
        saved = editor.locator("[data-testid=chat-message][data-saved=true]")

        await set_fake_mode(ai_stack, "402")
        await chat_input.fill("Write alt text")
        await chat_input.press("Enter")
        await expect(problem).to_have_attribute("data-kind", "credits", timeout=SLOW)
        await expect(editor.get_by_test_id("ai-credits-link")).to_have_attribute(
            "href", "https://openrouter.ai/credits"
        )
        await expect(saved).to_have_count(0)
        await editor.get_by_test_id("ai-problem-dismiss").click()
        await expect(chat_input).to_have_value("Write alt text")

        await set_fake_mode(ai_stack, "429")
        await chat_input.press("Enter")
        await expect(problem).to_have_attribute("data-kind", "rate_limited", timeout=SLOW)
        await expect(editor.get_by_test_id("ai-countdown")).to_contain_text("try again in")
        await chat_input.fill("Write alt text")
        await expect(editor.get_by_test_id("chat-send")).to_be_disabled()
        await expect(editor.get_by_test_id("chat-send")).to_be_enabled(timeout=SLOW)
        await editor.get_by_test_id("ai-problem-dismiss").click()

        await set_fake_mode(ai_stack, "midstream")
        await chat_input.fill("Write alt text")
        await chat_input.press("Enter")
        await expect(problem).to_have_attribute("data-kind", "retryable", timeout=SLOW)
        await expect(editor.get_by_test_id("chat-pending")).to_have_attribute("data-state", "failed")
        await expect(saved).to_have_count(0)
        await editor.get_by_test_id("ai-retry").click()
        await expect(saved).to_have_count(2, timeout=SLOW)
        await expect(problem).to_have_count(0)

        # Stop: the reply is abandoned, shown as not saved, and gone after a reload.
        await set_fake_mode(ai_stack, "slow")
        await chat_input.fill("Suggest a caption")
        await chat_input.press("Enter")
        await editor.get_by_test_id("chat-stop").click()
        await expect(editor.get_by_test_id("chat-stopped")).to_contain_text("Stopped, not saved.")
        await expect(editor.get_by_test_id("chat-send")).to_be_visible()
        await page.reload()
        await page.get_by_test_id("image-card").click()
        await expect(saved).to_have_count(2, timeout=SLOW)
        await expect(editor.get_by_test_id("chat-message")).to_have_count(2)
        stopped = editor.get_by_test_id("chat-message").filter(has_text="Suggest a caption")
        await expect(stopped).to_have_count(0)
    finally:
        await context.close()
