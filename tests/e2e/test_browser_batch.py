"""A batch in real headless Chromium against the whole stack: progress, a failure in the middle, ZIP, undo."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest
from playwright.async_api import Browser, expect

from imagetools_common.stack import Stack
from imagetools_common.testing import media
from imagetools_common.testing.locks import change_waiting, image_row_locked
from imagetools_common.testing.waits import eventually

pytestmark = pytest.mark.e2e

CSRF = {"X-Requested-With": "ImageTools"}


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("batch-photos")
    paths = []
    for n in range(3):
        path = folder / f"batch_{n}.jpg"
        path.write_bytes(media.jpeg(media.photo(800, 600, seed=n)))
        paths.append(path)
    return paths


async def test_a_batch_with_a_photo_deleted_in_the_middle(
    stack: Stack, browser: Browser, photos: list[Path], db_pool: asyncpg.Pool
) -> None:
    """Per-photo progress, the deleted photo's reason in the summary, a ZIP of the changes, undo per photo."""
    context = await browser.new_context(accept_downloads=True)
    page = await context.new_page()
    await page.goto(stack.gateway_url)
    await page.get_by_test_id("file-input").set_input_files([str(p) for p in photos])
    cards = page.get_by_test_id("image-card")
    await expect(cards).to_have_count(3, timeout=30_000)

    await expect(page.get_by_test_id("batch-bar")).to_have_count(0)  # nothing selected yet
    await page.get_by_test_id("select-all").click()
    bar = page.get_by_test_id("batch-bar")
    await expect(bar).to_contain_text("Apply to 3 selected images")
    await bar.get_by_role("button", name="Resize…").click()
    dialog = page.get_by_test_id("batch-dialog")
    await expect(dialog.get_by_role("heading")).to_have_text("Resize: 3 images")
    await dialog.get_by_label("Fit within width (px)").fill("200")
    await dialog.get_by_label("and height (px)").fill("200")

    listed = await (await page.request.get(f"{stack.gateway_url}/api/v1/images")).json()
    ids = {image["filename"]: image["id"] for image in listed["images"]}
    order = [name for name in await cards.all_inner_texts()]
    names = [next(n for n in ids if n in text) for text in order]  # the batch runs in the grid's order
    first, middle, last = names

    rows = dialog.get_by_test_id("batch-row")
    # The first photo is held at its store while the middle one is deleted from elsewhere.
    async with image_row_locked(db_pool, UUID(ids[first])):
        await dialog.get_by_test_id("batch-run").click()
        await expect(rows.nth(0)).to_have_attribute("data-state", "running")
        await expect(rows.nth(1)).to_have_attribute("data-state", "waiting")
        await expect(dialog.get_by_test_id("batch-status")).to_contain_text(
            f"0 of 3 finished · working on {first}"
        )
        await expect(dialog.get_by_test_id("batch-cancel")).to_be_visible()
        await eventually(lambda: change_waiting(db_pool), bool, timeout=20)
        deleted = await page.request.post(
            f"{stack.gateway_url}/api/v1/images/delete", data={"ids": [ids[middle]]}, headers=CSRF
        )
        assert deleted.ok

    status = dialog.get_by_test_id("batch-status")
    await expect(status).to_have_text("Finished: 2 changed, 1 failed.", timeout=30_000)
    await expect(rows.nth(1)).to_have_attribute("data-state", "failed")
    await expect(rows.nth(1)).to_contain_text(f"{middle}Deleted while the batch ran")
    for done in (rows.nth(0), rows.nth(2)):
        await expect(done).to_have_attribute("data-state", "done")
        await expect(done).to_contain_text("Done: version 2, JPEG · 200 × 150")

    zip_button = dialog.get_by_test_id("batch-zip")
    await expect(zip_button).to_have_text("Download ZIP of 2 changed images")
    async with page.expect_download() as download_info:
        await zip_button.click()
    saved = await (await download_info.value).path()
    archive = zipfile.ZipFile(io.BytesIO(await asyncio.to_thread(Path(saved).read_bytes)))
    assert sorted(archive.namelist()) == sorted([first, last])

    await dialog.get_by_test_id("batch-done").click()
    await expect(dialog).to_be_hidden()
    # Undo works per photo: the first goes back, the last keeps the batch's version.
    await cards.filter(has_text=first).click()
    editor = page.get_by_test_id("editor")
    await expect(editor.get_by_test_id("image-dimensions")).to_have_text("200 × 150")
    await editor.get_by_test_id("undo").click()
    await expect(editor.get_by_test_id("image-dimensions")).to_have_text("800 × 600")
    last_image = await (await page.request.get(f"{stack.gateway_url}/api/v1/images/{ids[last]}")).json()
    assert last_image["current"]["width"] == 200
    await context.close()
