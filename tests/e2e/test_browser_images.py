"""The images experience in real headless Chromium against the whole stack."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from imagetools_common.stack import Stack
from imagetools_common.testing import media

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three phone-like photos on disk, one with GPS and one stored sideways."""
    folder = tmp_path_factory.mktemp("photos")
    files = {
        "IMG_0001.jpg": media.jpeg(media.photo(3000, 2000, seed=1), exif=media.camera_exif()),
        "IMG_0002.jpg": media.jpeg(
            media.photo(1600, 1200, seed=2), exif=media.camera_exif(orientation=6, gps=False)
        ),
        "notes.txt": b"not an image",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in files]


async def fresh_page(browser: Browser, stack: Stack) -> Page:
    context = await browser.new_context(accept_downloads=True)
    page = await context.new_page()
    await page.goto(stack.gateway_url)
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    return page


async def test_upload_edit_undo_and_download(stack: Stack, browser: Browser, photos: list[Path]) -> None:
    """Picked files upload with a row each (bad ones say why); edits and undo work; downloads are renamed."""
    page = await fresh_page(browser, stack)
    await page.get_by_test_id("file-input").set_input_files([str(p) for p in photos])
    await expect(page.get_by_test_id("image-card")).to_have_count(2, timeout=30_000)
    await expect(page.get_by_test_id("upload-error")).to_contain_text("JPEG")
    await expect(page.get_by_test_id("image-counter")).to_have_text("2 / 5")

    await page.get_by_test_id("image-card").filter(has_text="IMG_0001").click()
    editor = page.get_by_test_id("editor")
    await expect(editor).to_be_visible()
    await expect(editor.get_by_test_id("image-dimensions")).to_have_text("3000 × 2000")
    # The crop bar belongs to cropping: until Crop is pressed the editor shows the tools instead.
    await expect(editor.get_by_test_id("crop-start")).to_be_visible()
    await expect(editor.get_by_test_id("crop-apply")).to_be_hidden()
    await editor.get_by_test_id("preset-email").click()
    await expect(editor.get_by_test_id("compress-result")).to_contain_text("target met", timeout=30_000)
    await expect(editor.get_by_test_id("image-dimensions")).to_have_text("800 × 533")
    await editor.get_by_test_id("rotate-right").click()
    await expect(editor.get_by_test_id("image-dimensions")).to_have_text("533 × 800")
    await editor.get_by_test_id("undo").click()
    await expect(editor.get_by_test_id("image-dimensions")).to_have_text("800 × 533")
    await editor.get_by_test_id("redo").click()
    await expect(editor.get_by_test_id("image-dimensions")).to_have_text("533 × 800")

    await editor.get_by_test_id("convert-format").select_option("webp")
    await editor.get_by_test_id("convert-apply").click()
    await expect(editor.get_by_test_id("history-item")).to_have_count(4)  # upload, compress, rotate, convert
    async with page.expect_download() as download_info:
        await editor.get_by_test_id("download-current").click()
    download = await download_info.value
    assert download.suggested_filename == "IMG_0001.webp"


async def test_location_is_private_by_default_and_kept_on_request(
    stack: Stack, browser: Browser, photos: list[Path]
) -> None:
    """A photo's location stays in the original only (and the editor says so); keeping it puts it
    into copies made afterwards, where it can be removed alone."""
    page = await fresh_page(browser, stack)
    await page.get_by_test_id("file-input").set_input_files(str(photos[0]))
    await page.get_by_test_id("image-card").click()
    editor = page.get_by_test_id("editor")
    gps = editor.get_by_test_id("metadata-gps")
    await expect(gps).to_have_attribute("data-has-gps", "false", timeout=20_000)
    await expect(editor.get_by_test_id("original-location")).to_be_visible()

    keep = editor.get_by_test_id("keep-location")
    await expect(keep).to_be_enabled()
    stored = page.expect_response(lambda r: r.url.endswith("/api/v1/privacy") and r.request.method == "PUT")
    async with stored:
        await keep.check()
    await editor.get_by_test_id("rotate-right").click()
    await expect(gps).to_contain_text("48.8", timeout=20_000)
    await expect(gps).to_have_attribute("data-has-gps", "true")

    await editor.get_by_test_id("strip-gps").click()
    await expect(gps).to_have_attribute("data-has-gps", "false")
    await expect(gps).not_to_contain_text("48.8")


async def test_zip_and_clear_all(stack: Stack, browser: Browser, photos: list[Path]) -> None:
    """Selecting all downloads a ZIP; clearing all (after confirming) empties the session."""
    page = await fresh_page(browser, stack)
    await page.get_by_test_id("file-input").set_input_files([str(p) for p in photos[:2]])
    await expect(page.get_by_test_id("image-card")).to_have_count(2, timeout=30_000)
    await page.get_by_test_id("select-all").click()
    async with page.expect_download() as download_info:
        await page.get_by_test_id("download-selected").click()
    assert (await download_info.value).suggested_filename.endswith(".zip")
    await page.get_by_test_id("clear-all").click()
    await page.get_by_test_id("confirm-ok").click()
    await expect(page.get_by_test_id("image-card")).to_have_count(0)
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
