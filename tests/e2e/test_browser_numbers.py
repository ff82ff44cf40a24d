"""Honest numbers in headless Chromium: a growth in amber with ▲ +, a tight target's warning, a HEIC label."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from imagetools_common.stack import Stack
from imagetools_common.testing import media

pytestmark = pytest.mark.e2e

CSRF = {"X-Requested-With": "ImageTools"}


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    import pillow_heif

    pillow_heif.register_heif_opener()
    folder = tmp_path_factory.mktemp("numbers")
    heic = folder / "IMG_0002.HEIC"
    heic.write_bytes(media.encoded(media.photo(400, 300, seed=2), "HEIF", quality=80))
    jpeg = folder / "grows.jpg"
    jpeg.write_bytes(media.jpeg(media.photo(800, 600, seed=3), quality=80))
    return [heic, jpeg]


async def test_growth_tight_target_and_heic_label(stack: Stack, browser: Browser, photos: list[Path]) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(stack.gateway_url)
    await page.get_by_test_id("file-input").set_input_files([str(p) for p in photos])
    cards = page.get_by_test_id("image-card")
    await expect(cards).to_have_count(2, timeout=30_000)
    heic_card = cards.filter(has_text="IMG_0002")
    await expect(heic_card.get_by_test_id("image-origin")).to_have_text("HEIC original · editing as JPEG")

    listed = await (await page.request.get(f"{stack.gateway_url}/api/v1/images")).json()
    grows = next(i["id"] for i in listed["images"] if i["filename"] == "grows.jpg")
    operations = f"{stack.gateway_url}/api/v1/images/{grows}/operations"
    # A photo as a PNG is several times its JPEG: the card must show that as a growth, never a saving.
    converted = await page.request.post(operations, data={"type": "convert", "format": "png"}, headers=CSRF)
    assert converted.ok, await converted.text()
    await page.reload()
    change = cards.filter(has_text="grows.jpg").get_by_test_id("image-savings")
    await expect(change).to_have_attribute("data-direction", "larger")
    await expect(change).to_contain_text("▲ +")
    colour = await change.evaluate("e => getComputedStyle(e).color")
    success = await change.evaluate(
        "e => getComputedStyle(document.documentElement).getPropertyValue('--success').trim()"
    )
    assert colour != success

    # 3 KB from an 800x600 photo in a 1280 px box: met only by shrinking far below the box.
    tight = {"max_width": 1280, "max_height": 1280, "quality": 85, "target_kb": 3, "format": "jpeg"}
    compressed = await page.request.post(
        operations, data={"type": "compress", "settings": tight}, headers=CSRF
    )
    assert compressed.ok, await compressed.text()
    outcome = (await compressed.json())["current"]["compression"]
    await page.reload()
    await cards.filter(has_text="grows.jpg").locator("button.open").click()
    editor = page.get_by_test_id("editor")
    await expect(editor.get_by_test_id("compress-compromise").first).to_have_text(
        f"To reach 3 KB the photo was shrunk to {outcome['width']}×{outcome['height']}"
        " (the box allowed 800×600)."
    )
    await expect(editor.get_by_test_id("compress-result")).to_have_attribute("role", "status")
    await context.close()
