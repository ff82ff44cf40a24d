"""The compare view and compression previews in real headless Chromium against the whole stack."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, Response, expect

from imagetools_common.stack import Stack
from imagetools_common.testing import media

pytestmark = pytest.mark.e2e

# Preset previews run one after another on a busy 2-core machine: generous, it only bounds a hang.
PREVIEW_TIMEOUT_MS = 60_000
LAYER_TRANSFORMS = """
(root) => [...root.querySelectorAll('.zoom-layer')].map((layer) => layer.style.transform)
"""


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compare") / "harbour.jpg"
    path.write_bytes(media.jpeg(media.photo(1000, 750, seed=5), quality=95))
    return path


async def layers(view: Locator) -> list[str]:
    transforms: list[str] = await view.evaluate(LAYER_TRANSFORMS)
    return transforms


async def applied_bytes(page: Page, image_id: str) -> tuple[dict[str, Any], bytes]:
    """The current version as the API describes it, and its file."""
    info = await (await page.request.get(f"/api/v1/images/{image_id}")).json()
    content = await page.request.get(info["content_url"])
    return info["current"], await content.body()


async def test_previews_and_compare(stack: Stack, browser: Browser, photo: Path) -> None:
    """Each preset and the custom settings say what they will make before Apply, and Apply keeps
    exactly that file; the compare view's divider works from the keyboard and its two sides zoom
    and pan as one (wheel, drag, keys, 1:1)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 860}, base_url=stack.gateway_url)
    page = await context.new_page()
    previews: dict[str, dict[str, Any]] = {}

    async def remember(response: Response) -> None:
        if response.request.method == "POST" and response.url.endswith("/previews") and response.ok:
            body = await response.json()
            previews[body["id"]] = body

    page.on("response", remember)
    await page.goto("/")
    await page.get_by_test_id("file-input").set_input_files(str(photo))
    card = page.get_by_test_id("image-card")
    await expect(card).to_have_count(1, timeout=30_000)
    await card.locator("button.open").click()
    editor = page.get_by_test_id("editor")
    image_id = await editor.get_attribute("data-image-id")
    assert image_id

    # Every preset's result is shown before anything is applied ("—" while computing).
    estimates = {p: editor.get_by_test_id(f"preset-estimate-{p}") for p in ("email", "web", "web_hq")}
    for estimate in estimates.values():
        await expect(estimate).to_have_attribute("data-state", "done", timeout=PREVIEW_TIMEOUT_MS)
    email_text = (await estimates["email"].inner_text()).split("Result:")[-1].strip()
    assert "800×600" in email_text and "JPEG q" in email_text
    assert len(previews) == 3
    assert "1 / 5" in await page.get_by_test_id("image-counter").inner_text()

    # Apply keeps the previewed file itself: same size, dimensions, format, quality and bytes.
    email = next(p for p in previews.values() if p["preset"] == "email")
    await editor.get_by_test_id("preset-email").click(no_wait_after=True)
    await expect(editor.get_by_test_id("compress-result")).to_contain_text(
        email_text, timeout=PREVIEW_TIMEOUT_MS
    )
    current, data = await applied_bytes(page, image_id)
    assert (current["number"], current["bytes"], current["width"], current["height"]) == (
        2, email["bytes"], email["width"], email["height"],
    )  # fmt: skip
    assert current["format"] == email["format"] and current["compression"]["quality"] == email["quality"]
    previewed = await page.request.get(email["content_url"])
    assert hashlib.sha256(data).digest() == hashlib.sha256(await previewed.body()).digest()

    # Moving the quality slider previews the custom settings in the compare view (original vs result).
    compare = editor.get_by_test_id("compare-view")
    quality = editor.get_by_test_id("custom-quality")
    await quality.focus()
    for _ in range(15):
        await page.keyboard.press("ArrowLeft")  # 85 → 70, each step superseding the one before
    await expect(compare).to_be_visible()
    live = editor.get_by_test_id("custom-preview")
    await expect(live).to_have_attribute("data-state", "done", timeout=PREVIEW_TIMEOUT_MS)
    after_picture = compare.get_by_test_id("compare-after-picture")
    await expect(after_picture).to_have_attribute("src", re.compile(r"/previews/[^/]+/content$"))
    await expect(compare.get_by_test_id("compare-pick-after")).to_have_value("preview")
    live_text = (await live.inner_text()).split("Result")[-1].strip()
    await editor.get_by_test_id("custom-compress-apply").click()
    await expect(editor.get_by_test_id("compress-result")).to_contain_text(
        live_text, timeout=PREVIEW_TIMEOUT_MS
    )
    current, data = await applied_bytes(page, image_id)
    kept = next(p for p in previews.values() if p["bytes"] == current["bytes"] and p["preset"] is None)
    assert (kept["settings"]["quality"], kept["width"], kept["format"]) == (
        70,
        current["width"],
        current["format"],
    )
    assert data == await (await page.request.get(kept["content_url"])).body()

    # After Apply the view compares the new version with the one before; pick the original instead.
    await expect(compare.get_by_test_id("compare-pick-after")).to_have_value("3")
    await compare.get_by_test_id("compare-pick-before").select_option("1")
    await expect(compare.get_by_test_id("compare-facts")).to_contain_text("Original")

    # The divider from the keyboard.
    handle = compare.get_by_test_id("compare-handle")
    await handle.focus()
    await page.keyboard.press("Home")
    await expect(handle).to_have_attribute("aria-valuenow", "0")
    await page.keyboard.press("End")
    await expect(handle).to_have_attribute("aria-valuenow", "100")
    await page.keyboard.press("ArrowLeft")
    await expect(handle).to_have_attribute("aria-valuenow", "98")

    # Side by side: wheel, drag, keys and 1:1 on either side move both.
    await compare.get_by_test_id("compare-mode-side").click()
    sides = compare.get_by_test_id("zoom-viewport")
    await expect(sides).to_have_count(2)
    before_box = await sides.first.bounding_box()
    assert before_box
    x, y = before_box["x"] + before_box["width"] / 2, before_box["y"] + before_box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.wheel(0, -500)
    # The wheel reaches the page at its next frame, not when the call returns.
    await expect(sides.first).not_to_have_attribute("data-zoom", "1.000")
    zoom = await sides.first.get_attribute("data-zoom")
    assert zoom and float(zoom) > 1.5
    await expect(sides.last).to_have_attribute("data-zoom", zoom)
    await page.mouse.down()
    await page.mouse.move(x - 60, y - 40, steps=4)
    await page.mouse.up()
    moved = await layers(compare)
    assert moved[0] == moved[1] and "translate(0px, 0px)" not in moved[0]
    await sides.last.focus()
    await page.keyboard.press("ArrowRight")
    keyed = await layers(compare)
    assert keyed[0] == keyed[1] != moved[0]
    await page.keyboard.press("1")
    await expect(sides.first.get_by_test_id("zoom-actual")).to_have_attribute("aria-pressed", "true")
    await expect(sides.last.get_by_test_id("zoom-actual")).to_have_attribute("aria-pressed", "true")
    await page.keyboard.press("Escape")
    await expect(compare).to_be_hidden()
    await expect(editor).to_be_visible()
    await context.close()
