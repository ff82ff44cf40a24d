"""Background removal in real headless Chromium against the whole stack, with the real model."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import pytest
from PIL import Image, ImageStat
from playwright.async_api import Browser, Page, Route, expect
from skimage import data

from imagetools_common.stack import Stack
from imagetools_common.testing import media
from imagetools_common.testing.logfiles import LogTail

pytestmark = pytest.mark.e2e

# A model run on a 12 MP photo on a busy 2-core machine: generous, it only bounds a hang.
RUN_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def portrait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scikit-image's astronaut portrait (512×512) as a JPEG: a subject in front of a studio backdrop."""
    path = tmp_path_factory.mktemp("portrait") / "astronaut.jpg"
    path.write_bytes(media.jpeg(Image.fromarray(data.astronaut()), quality=92))
    return path


@pytest.fixture(scope="module")
def large_portrait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same portrait at 12 MP, so that a removal runs for a while on the server."""
    path = tmp_path_factory.mktemp("large") / "astronaut-12mp.jpg"
    big = Image.fromarray(data.astronaut()).resize((4000, 3000), Image.Resampling.BICUBIC)
    path.write_bytes(media.jpeg(big, quality=85))
    return path


async def open_editor(browser: Browser, stack: Stack, photo: Path) -> Page:
    context = await browser.new_context(accept_downloads=True)
    page = await context.new_page()
    await page.goto(stack.gateway_url)
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    await page.get_by_test_id("file-input").set_input_files(str(photo))
    await expect(page.get_by_test_id("image-card")).to_have_count(1, timeout=30_000)
    await page.get_by_test_id("image-card").locator("button.open").click()
    await expect(page.get_by_test_id("editor")).to_be_visible()
    return page


def alpha_mean(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    """Mean alpha (0..255) over a region."""
    return float(ImageStat.Stat(image.getchannel("A").crop(box)).mean[0])


async def test_remove_background_compare_and_undo(stack: Stack, browser: Browser, portrait: Path) -> None:
    """The editor removes the backdrop: progress first, then a transparent WebP on the checkerboard with a
    before/after slider; the mask downloads; undo brings the original back."""
    page = await open_editor(browser, stack, portrait)
    editor = page.get_by_test_id("editor")
    panel = editor.get_by_test_id("background-panel")

    # Hold the request in the browser until the progress has been seen, so a fast server can't skip it.
    seen = asyncio.Event()

    async def hold_removal(route: Route) -> None:
        if '"remove_background"' in (route.request.post_data or ""):
            await seen.wait()
        await route.continue_()

    await page.route("**/api/v1/images/*/operations", hold_removal)
    await panel.get_by_test_id("background-kind-transparent").click()
    # A cut-out defaults to WebP; a fill to JPEG (its default follows the background).
    await expect(panel.get_by_test_id("background-format-webp")).to_have_attribute("aria-pressed", "true")
    await panel.get_by_test_id("background-kind-colour").click()
    await expect(panel.get_by_test_id("background-format-jpeg")).to_have_attribute("aria-pressed", "true")
    await panel.get_by_test_id("background-kind-transparent").click()
    await expect(panel.get_by_test_id("background-format-webp")).to_have_attribute("aria-pressed", "true")
    await expect(panel.get_by_test_id("background-output-size")).to_contain_text("512 × 512")
    await panel.get_by_test_id("background-apply").click()
    progress = editor.get_by_test_id("background-progress")
    await expect(progress).to_be_visible()
    await expect(progress.get_by_role("progressbar")).to_be_visible()
    await expect(editor.get_by_test_id("background-elapsed")).to_contain_text(" s")
    await expect(editor.get_by_test_id("background-cancel")).to_be_focused()
    await expect(panel.get_by_test_id("background-apply")).to_be_disabled()
    seen.set()

    preview = editor.get_by_test_id("editor-preview")
    await expect(preview).to_have_attribute("data-version", "2", timeout=RUN_TIMEOUT_MS)
    await expect(progress).to_have_count(0)
    await expect(editor.get_by_test_id("history-item").first).to_contain_text("Background removed")
    await expect(editor.get_by_test_id("image-dimensions")).to_have_text("512 × 512")
    await expect(panel.get_by_test_id("background-result-size")).to_contain_text("WebP, 512 × 512 px,")

    # Shown on the checkerboard, with the slider over it comparing against version 1.
    frame_background = await editor.get_by_test_id("editor-preview").evaluate(
        "img => getComputedStyle(img.parentElement).backgroundImage"
    )
    assert "conic-gradient" in frame_background
    handle = editor.get_by_test_id("compare-handle")
    await expect(handle).to_be_visible()
    before_src = await editor.get_by_test_id("compare-before").get_attribute("src")
    assert before_src is not None and before_src.endswith("content?version=1")
    await expect(handle).to_have_attribute("aria-valuenow", "50")
    await handle.focus()
    await page.keyboard.press("ArrowLeft")
    await expect(handle).to_have_attribute("aria-valuenow", "48")
    await page.keyboard.press("End")
    await expect(handle).to_have_attribute("aria-valuenow", "100")
    # Dragging anywhere on the picture moves the divider to the pointer.
    box = await editor.get_by_test_id("compare-slider").bounding_box()
    assert box is not None
    middle_y = box["y"] + box["height"] / 2
    await page.mouse.move(box["x"] + box["width"] * 0.6, middle_y)
    await page.mouse.down()
    await page.mouse.move(box["x"] + box["width"] * 0.25, middle_y, steps=5)
    await page.mouse.up()
    await expect(handle).to_have_attribute("aria-valuenow", re.compile(r"^2[4-6]$"))

    # The new version itself: transparent where the backdrop was, opaque on the subject.
    src = await editor.get_by_test_id("editor-preview").get_attribute("src")
    assert src is not None
    response = await page.request.get(f"{stack.gateway_url}{src}")
    assert response.ok and response.headers["content-type"] == "image/webp"
    cut = Image.open(io.BytesIO(await response.body()))
    assert cut.mode == "RGBA" and cut.size == (512, 512)
    assert alpha_mean(cut, (0, 0, 24, 24)) <= 25  # top-left: backdrop
    assert alpha_mean(cut, (488, 0, 512, 24)) <= 25  # top-right: backdrop
    assert alpha_mean(cut, (236, 236, 276, 276)) >= 230  # the centre: her suit
    assert alpha_mean(cut, (205, 110, 245, 150)) >= 230  # her face

    # The mask of this version, full size and greyscale.
    async with page.expect_download() as download_info:
        await panel.get_by_test_id("background-download-mask").click()
    download = await download_info.value
    assert download.suggested_filename.endswith(".png")
    mask = Image.open(await download.path())
    assert mask.mode == "L" and mask.size == (512, 512)

    await editor.get_by_test_id("undo").click()
    await expect(editor.get_by_test_id("editor-preview")).to_have_attribute("data-version", "1")
    await expect(editor.get_by_test_id("compare-slider")).to_have_count(0)
    await expect(panel.get_by_test_id("background-download-mask")).to_have_count(0)
    await expect(editor.get_by_test_id("history-item").filter(has_text="Original")).to_have_attribute(
        "aria-current", "step"
    )
    await page.context.close()


async def test_cancel_creates_no_version(stack: Stack, browser: Browser, large_portrait: Path) -> None:
    """Cancel during a run leaves the image as it was, on the server too: a later removal from the card
    is the image's only new version."""
    assert stack.log_dir is not None
    image_service_log = LogTail(stack.log_dir / "image-service.log")
    page = await open_editor(browser, stack, large_portrait)
    editor = page.get_by_test_id("editor")
    await editor.get_by_test_id("background-apply").click()
    await expect(editor.get_by_test_id("background-progress")).to_be_visible()
    await editor.get_by_test_id("background-cancel").click()
    await expect(page.get_by_test_id("toast").filter(has_text="Cancelled")).to_be_visible()
    # The run really was on the server, and the server was told to drop it.
    await image_service_log.wait_for("background removal cancelled", timeout=60)
    await expect(editor.get_by_test_id("background-progress")).to_have_count(0)
    await expect(editor.get_by_test_id("editor-preview")).to_have_attribute("data-version", "1")
    await expect(editor.get_by_test_id("history-item")).to_have_count(1)
    await expect(editor.get_by_test_id("background-apply")).to_be_enabled()

    # Another removal, from the card, queues behind whatever the server still had of the first.
    await editor.get_by_test_id("editor-close").click()
    card = page.get_by_test_id("image-card")
    await card.get_by_test_id("card-remove-background").click()
    await expect(card.get_by_test_id("card-background-progress")).to_be_visible()
    await expect(card.get_by_test_id("card-background-progress")).to_have_count(0, timeout=RUN_TIMEOUT_MS)
    await expect(card).to_contain_text("WebP")
    await expect(page.get_by_test_id("toast").filter(has_text="Background removed")).to_be_visible()

    await card.locator("button.open").click()
    versions = editor.get_by_test_id("history-item")
    await expect(versions).to_have_count(2)
    await expect(versions.first).to_contain_text("Background removed")
    await expect(editor.get_by_test_id("image-dimensions")).to_have_text("4000 × 3000")
    await page.context.close()
