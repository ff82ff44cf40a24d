"""Share links in real headless Chromium against the whole stack: made in the editor, opened by a
browser that has no session, revoked, expired, and gone with their image."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import asyncpg
import pytest
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, Response, expect

from imagetools_common.stack import Stack
from imagetools_common.testing import media
from imagetools_common.testing.logfiles import LogTail

pytestmark = pytest.mark.e2e

CSRF = {"X-Requested-With": "ImageTools"}


@pytest.fixture(scope="module")
def located_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A phone photo that records where it was taken."""
    path = tmp_path_factory.mktemp("photos") / "IMG_0042.jpg"
    path.write_bytes(media.jpeg(media.photo(1200, 900, seed=4), exif=media.camera_exif()))
    return path


async def owner_with_located_version(browser: Browser, stack: Stack, photo: Path) -> Page:
    """A session that keeps locations in its copies, so version 1 of the upload still holds one."""
    page = await (await browser.new_context()).new_page()
    await page.goto(stack.gateway_url)
    kept = await page.request.put(
        f"{stack.gateway_url}/api/v1/privacy", data={"keep_location": True}, headers=CSRF
    )
    assert kept.ok
    await page.get_by_test_id("file-input").set_input_files(str(photo))
    await page.get_by_test_id("image-card").click()
    await expect(page.get_by_test_id("editor")).to_be_visible()
    return page


async def make_link(owner: Page, expiry: str = "1 hour") -> str:
    """Open Share link, choose the expiry, make the link; its full address as shown (once)."""
    dialog = owner.get_by_test_id("share-link-dialog")
    if not await dialog.is_visible():
        await owner.get_by_test_id("editor").get_by_test_id("share-link-open").first.click()
    url = dialog.get_by_test_id("share-link-url")
    previous = await url.input_value() if await url.is_visible() else None
    await dialog.get_by_role("radio", name=expiry, exact=True).check()
    await dialog.get_by_test_id("share-link-create").click()
    await expect(url).to_be_visible()
    if previous is not None:  # the new address replaces the one made before
        await expect(url).not_to_have_value(previous)
    return await url.input_value()


def holds_location(data: bytes) -> bool:
    return media.GPS_IFD in Image.open(io.BytesIO(data)).getexif()


async def test_a_cookieless_browser_sees_and_downloads_the_shared_version(
    stack: Stack, browser: Browser, located_photo: Path, db_pool: asyncpg.Pool
) -> None:
    """The link's page shows the picture and nothing of the session, sets no cookie, downloads the
    file without its location; revoking, expiring or deleting the image makes it a plain 404."""
    assert stack.log_dir is not None
    gateway_log = LogTail(stack.log_dir / "gateway.log")
    owner = await owner_with_located_version(browser, stack, located_photo)
    await owner.get_by_test_id("editor").get_by_test_id("share-link-open").first.click()
    dialog = owner.get_by_test_id("share-link-dialog")
    await expect(dialog.get_by_test_id("share-link-location")).to_contain_text("without the location")
    await expect(dialog.get_by_test_id("share-link-session-note")).to_contain_text("die with this session")
    await expect(dialog.get_by_test_id("share-link-none")).to_be_visible()
    url = await make_link(owner)
    assert url.startswith(f"{stack.gateway_url}/s/")
    await expect(dialog.get_by_test_id("share-link-row")).to_have_count(1)
    await expect(dialog.get_by_test_id("share-link-row")).to_contain_text("Version 1 · 1 hour left")
    listed = await (await owner.request.get(f"{stack.gateway_url}/api/v1/images")).json()
    image_id, shared_version = listed["images"][0]["id"], listed["images"][0]["content_url"]
    assert holds_location(await (await owner.request.get(f"{stack.gateway_url}{shared_version}")).body())

    stranger: BrowserContext = await browser.new_context(accept_downloads=True)
    visitor = await stranger.new_page()
    responses: list[Response] = []
    visitor.on("response", lambda response: responses.append(response))
    await visitor.goto(url)
    picture = visitor.locator("img")
    await expect(picture).to_be_visible()
    assert await picture.evaluate("img => img.complete && img.naturalWidth") == 1200
    await expect(visitor.locator("h1")).to_have_text("IMG_0042.jpg")
    await expect(visitor.locator("main")).to_contain_text("1200 × 900 px")
    await expect(visitor.locator("main")).to_contain_text("This link works until")
    html = await visitor.content()
    assert "<script" not in html and image_id not in html and "/api/" not in html
    async with visitor.expect_download() as download_info:
        await visitor.get_by_role("link", name="Download").click()
    download = await download_info.value
    assert download.suggested_filename == "IMG_0042.jpg"
    downloaded = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert not holds_location(downloaded) and Image.open(io.BytesIO(downloaded)).size == (1200, 900)
    assert await stranger.cookies() == []
    headers = [await response.all_headers() for response in responses]
    assert len(headers) >= 2 and not any("set-cookie" in h for h in headers)  # the page and its picture

    await dialog.get_by_test_id("share-link-revoke").click()
    await expect(dialog.get_by_test_id("share-link-none")).to_be_visible()
    revoked = await visitor.goto(url)
    assert revoked is not None and revoked.status == 404
    await expect(visitor.locator("h1")).to_have_text("This link does not work")

    expired_url = await make_link(owner, "1 day")
    await db_pool.execute("UPDATE images.share_links SET expires_at = now() WHERE image_id = $1", image_id)
    expired = await visitor.goto(expired_url)
    assert expired is not None and expired.status == 404

    # Sessions live 7 days, so the longest choice is capped at the session's end.
    await expect(dialog.get_by_role("radio", name="7 days")).to_have_count(0)
    deleted_url = await make_link(owner, "Until the session ends")
    assert (await visitor.goto(deleted_url) or pytest.fail("no response")).status == 200
    gone = await owner.request.delete(f"{stack.gateway_url}/api/v1/images/{image_id}", headers=CSRF)
    assert gone.status == 204
    deleted = await visitor.goto(deleted_url)
    assert deleted is not None and deleted.status == 404
    assert await stranger.cookies() == []
    await stranger.close()
    # The tokens are credentials: the gateway's log has the visits, never a token.
    logged = await asyncio.to_thread(gateway_log.read)
    assert '"path": "/s/\\u2026/file"' in logged  # JSON lines: the ellipsis that replaced the token
    for shared in (url, expired_url, deleted_url):
        assert shared.rsplit("/", 1)[-1] not in logged
    await owner.context.close()
