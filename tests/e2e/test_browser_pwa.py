"""The installable app in real headless Chromium against the whole stack: manifest and
installability, the service worker's offline shell and update flow, photos shared into the app
(the share sheet's multipart POST) and out of it, and the plain-http case.

One stack for the module (uploads capped at 1 MiB, so a small file can be too large) serving a
copy of the built app, which the update test changes. Installability is asked of a persistent
profile: an incognito one always answers "in-incognito".
"""

from __future__ import annotations

import base64
import re
import shutil
import socket
import struct
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import aiohttp
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from imagetools_common.stack import Stack
from imagetools_common.testing import media

pytestmark = pytest.mark.e2e

CSRF = {"X-Requested-With": "ImageTools"}
# Builds the form a phone's share sheet submits (a top-level multipart POST to the manifest's
# share_target.action) with the given files in its "photos" field, and submits it.
SHARE_SHEET = """(files) => {
  const form = Object.assign(document.createElement('form'),
    { method: 'post', action: '/share-target', enctype: 'multipart/form-data' })
  const input = Object.assign(document.createElement('input'),
    { type: 'file', name: 'photos', multiple: true })
  const transfer = new DataTransfer()
  for (const { name, type, data } of files) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0))
    transfer.items.add(new File([bytes], name, { type }))
  }
  input.files = transfer.files
  form.append(input)
  document.body.append(form)
  form.submit()
}"""
# Resolves once a service worker controls the page (evaluate, not wait_for_function: the app's CSP
# forbids the eval that polling a string would need).
UNDER_CONTROL = """() => navigator.serviceWorker.controller !== null || new Promise((resolve) =>
  navigator.serviceWorker.addEventListener('controllerchange', () => resolve(true), { once: true }))"""


@pytest.fixture(scope="module")
async def stack(make_stack: Any, web_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Stack:
    """The whole topology serving its own copy of the built app, uploads capped at 1 MiB."""
    dist = tmp_path_factory.mktemp("pwa") / "dist"
    shutil.copytree(web_dist, dist)
    return await make_stack("pwa", WEB_DIST_DIR=str(dist), MAX_UPLOAD_SIZE_MB="1")


@pytest.fixture(scope="module")
async def installed(stack: Stack, persistent_context: BrowserContext) -> Page:
    """A page of the app in a persistent Chromium profile, once its service worker controls it."""
    page = persistent_context.pages[0] if persistent_context.pages else await persistent_context.new_page()
    await page.goto(stack.gateway_url)
    assert await page.evaluate(UNDER_CONTROL)
    return page


def photo(name: str, seed: int = 1) -> dict[str, str]:
    data = media.jpeg(media.photo(64, 48, seed=seed))
    return {"name": name, "type": "image/jpeg", "data": base64.b64encode(data).decode()}


def raw(name: str, data: bytes, content_type: str) -> dict[str, str]:
    return {"name": name, "type": content_type, "data": base64.b64encode(data).decode()}


async def share(page: Page, files: list[dict[str, str]]) -> None:
    """Shares ``files`` into the app as the share sheet does, and waits for the app to take them in."""
    async with page.expect_navigation():
        await page.evaluate(SHARE_SHEET, files)
    await expect(page).not_to_have_url(re.compile("share="))


async def end_session(page: Page) -> None:
    response = await page.request.delete(
        at(page, "/api/v1/session"), headers={**CSRF, "Origin": at(page, "/").rstrip("/")}
    )
    assert response.status == 204


def at(page: Page, path: str) -> str:
    """``path`` on the page's origin (a persistent context has no base URL for its requests)."""
    return urljoin(page.url, path)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_the_app_is_installable(installed: Page) -> None:
    """The manifest names the app, its icons (maskable too, served as PNGs of their size) and share
    target, and Chromium finds nothing that stops installing it."""
    page = installed
    cdp = await page.context.new_cdp_session(page)
    assert (await cdp.send("Page.getInstallabilityErrors"))["installabilityErrors"] == []
    response = await page.request.get(at(page, "/manifest.webmanifest"))
    assert response.headers["content-type"] == "application/manifest+json"
    manifest: dict[str, Any] = await response.json()
    assert manifest["name"] == "ImageTools" and manifest["short_name"] == "ImageTools"
    assert (manifest["display"], manifest["start_url"], manifest["scope"], manifest["id"]) == (
        "standalone",
        "/",
        "/",
        "/",
    )
    assert manifest["theme_color"] and manifest["background_color"]
    purposes = set()
    for icon in manifest["icons"]:
        served = await page.request.get(at(page, icon["src"]))
        assert served.headers["content-type"] == "image/png"
        width, height = png_size(await served.body())
        assert f"{width}x{height}" == icon["sizes"]
        purposes.add((icon["purpose"], icon["sizes"]))
    assert {
        ("any", "192x192"),
        ("any", "512x512"),
        ("maskable", "192x192"),
        ("maskable", "512x512"),
    } <= purposes
    target = manifest["share_target"]
    assert (target["action"], target["method"], target["enctype"]) == (
        "/share-target",
        "POST",
        "multipart/form-data",
    )
    assert target["params"]["files"][0]["accept"] == ["image/*", ".heic", ".heif", ".avif"]
    worker = await page.request.get(at(page, "/sw.js"))
    assert worker.headers["cache-control"] == "no-cache"


async def test_the_shell_opens_offline_and_says_so_while_the_api_is_never_cached(installed: Page) -> None:
    """Offline, a reload still shows the app (from the worker's cache) with the offline banner, and
    API calls fail rather than being answered from any cache."""
    page = installed
    await page.context.set_offline(True)
    try:
        await page.reload()
        await expect(page.get_by_test_id("offline-banner")).to_contain_text(
            "Can't reach the ImageTools server"
        )
        await expect(page.get_by_role("heading", name="Couldn't reach ImageTools")).to_be_visible()
        for path in ("/api/v1/session", "/health"):
            outcome = await page.evaluate(
                "(path) => fetch(path).then(() => 'answered', () => 'failed')", path
            )
            assert outcome == "failed", path
    finally:
        await page.context.set_offline(False)
    cached = await page.evaluate(
        """async () => {
          const urls = []
          for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(request.url)
          }
          return urls
        }"""
    )
    assert any(url.endswith("/index.html") for url in cached)
    assert not [url for url in cached if "/api/" in url or "/health" in url or "/oauth/" in url]
    await page.reload()
    await expect(page.get_by_test_id("offline-banner")).to_have_count(0)


async def test_a_new_version_is_offered_and_reload_takes_it(installed: Page, stack: Stack) -> None:
    """When sw.js changes on the server, the app offers the new version; Reload activates it and reloads."""
    page = installed
    worker = Path(stack.env["WEB_DIST_DIR"]) / "sw.js"
    worker.write_text(worker.read_text() + "\n// the next release\n")
    await page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    banner = page.get_by_test_id("update-banner")
    await expect(banner).to_contain_text("A new version of ImageTools is ready")
    async with page.expect_navigation():
        await banner.get_by_test_id("update-reload").click()
    assert await page.evaluate(UNDER_CONTROL)
    await expect(banner).to_have_count(0)
    assert await page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.waiting === null)")


async def test_shared_photos_land_as_uploads_with_the_session_caps(installed: Page) -> None:
    """Photos shared to the app upload like picked ones: a share of 50 keeps as many as fit and
    says so, an oversized file and a non-image are refused with the upload's own words, a share
    into a session with room for 2 keeps the first 2, and an empty share says nothing arrived."""
    page = installed
    cards, errors, toasts = (page.get_by_test_id(t) for t in ("image-card", "upload-error", "toast"))

    await share(page, [photo(f"IMG_{n:03}.jpg", seed=n) for n in range(50)])
    await expect(toasts.last).to_contain_text("You shared 50 photos, but this session has room for 5 more")
    await expect(cards).to_have_count(5, timeout=30_000)
    await expect(errors).to_have_count(45)
    await expect(errors.first).to_contain_text("This session already holds 5 images")

    await end_session(page)
    await page.reload()
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    too_big = raw("huge.jpg", b"\xff\xd8" + bytes(1024 * 1024 + 10), "image/jpeg")
    notes = raw("notes.txt", b"not an image", "text/plain")
    await share(page, [photo("IMG_1.jpg", 1), too_big, notes, photo("IMG_2.jpg", 2), photo("IMG_3.jpg", 3)])
    await expect(cards).to_have_count(3, timeout=30_000)
    await expect(errors.filter(has_text="huge.jpg is larger than the 1 MiB limit")).to_have_count(1)
    await expect(
        page.get_by_test_id("upload-row").filter(has_text="notes.txt").get_by_test_id("upload-error")
    ).to_be_visible()
    await expect(page.get_by_test_id("image-counter")).to_have_text("3 / 5")

    await page.get_by_test_id("upload-dismiss-all").click()
    await share(page, [photo(f"SHARED_{n}.jpg", seed=10 + n) for n in range(7)])
    await expect(toasts.last).to_contain_text(
        "You shared 7 photos, but this session has room for 2 more: the first 2 are being added"
    )
    await expect(cards).to_have_count(5, timeout=30_000)
    await expect(cards.filter(has_text="SHARED_0")).to_have_count(1)
    await expect(cards.filter(has_text="SHARED_1")).to_have_count(1)
    await expect(errors).to_have_count(5)

    await share(page, [])
    await expect(toasts.last).to_contain_text("Nothing arrived with that share")
    await expect(cards).to_have_count(5)
    await end_session(page)


async def test_a_share_before_the_worker_runs_asks_to_share_again(browser: Browser, stack: Stack) -> None:
    """With no service worker yet, the share POST reaches the server: the app opens asking to share
    again (no error page, no CSRF refusal) and no session is started."""
    context = await browser.new_context(service_workers="block")
    page = await context.new_page()
    await page.goto(stack.gateway_url)
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    await share(page, [photo("IMG_1.jpg")])
    await expect(page.get_by_test_id("toast").last).to_contain_text(
        "Open ImageTools once more and share them again"
    )
    assert page.url == f"{stack.gateway_url}/"
    assert await context.cookies() == []
    session = await (await page.request.get(at(page, "/api/v1/session"))).json()
    assert session["active"] is False
    await context.close()


# Stands in for a browser that can share files (Chromium on Linux cannot): records what it is given.
SHARE_SHEET_STUB = """
window.shared = new Promise((resolve) => {
  Object.defineProperty(navigator, 'canShare', {
    value: ({ files }) => files.every((f) => f instanceof File),
  })
  Object.defineProperty(navigator, 'share', {
    value: async ({ files: [file] }) => resolve({ name: file.name, type: file.type, size: file.size }),
  })
})"""


async def open_uploaded_photo(context: BrowserContext, stack: Stack) -> Page:
    page = await context.new_page()
    await page.goto(stack.gateway_url)
    picked = {"name": "IMG_9.jpg", "mimeType": "image/jpeg", "buffer": media.jpeg(media.photo(640, 480))}
    await page.get_by_test_id("file-input").set_input_files(files=[picked])
    await page.get_by_test_id("image-card").click()
    await expect(page.get_by_test_id("download-current")).to_be_visible()
    return page


async def test_share_out_sends_the_current_version_where_the_browser_can(
    browser: Browser, stack: Stack
) -> None:
    """The editor's Share button is absent where files cannot be shared, and where they can it hands
    over the current version under its download name and type."""
    unable = await browser.new_context()
    page = await open_uploaded_photo(unable, stack)
    assert not await page.evaluate("typeof navigator.share === 'function'")
    await expect(page.get_by_test_id("share-current")).to_have_count(0)
    await unable.close()

    able = await browser.new_context()
    await able.add_init_script(SHARE_SHEET_STUB)
    page = await open_uploaded_photo(able, stack)
    editor = page.get_by_test_id("editor")
    await editor.get_by_test_id("convert-format").select_option("webp")
    await editor.get_by_test_id("convert-apply").click()
    await expect(editor.get_by_test_id("history-item")).to_have_count(2)
    await editor.get_by_test_id("share-current").click()
    shared = await page.evaluate("window.shared")
    assert (shared["name"], shared["type"]) == ("IMG_9.webp", "image/webp") and shared["size"] > 0
    await able.close()


def lan_address() -> str | None:
    """This machine's address on its network (not loopback), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address: str = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


async def test_plain_http_says_install_and_share_are_unavailable(browser: Browser, stack: Stack) -> None:
    """On a plain-http LAN address the app has no service worker, says in About why install and
    share are missing and where to read about https, and uploads still work."""
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to reach the gateway by")
    url = stack.gateway_url.replace("127.0.0.1", address)
    async with aiohttp.ClientSession() as http, http.get(f"{url}/health") as response:
        assert response.status == 200
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url)
    assert await page.evaluate("!window.isSecureContext && !('serviceWorker' in navigator)")
    await page.get_by_test_id("file-input").set_input_files(
        files=[{"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": media.jpeg(media.photo(64, 48))}]
    )
    await expect(page.get_by_test_id("image-card")).to_have_count(1)
    await page.get_by_test_id("about-button").click()
    note = page.get_by_test_id("about-insecure")
    await expect(note).to_contain_text("need a secure connection (https)")
    guide = note.get_by_role("link", name="“Behind a reverse proxy” in the deployment guide")
    href = await guide.get_attribute("href")
    assert href == "/docs/deployment.html#behind-a-reverse-proxy"
    await page.goto(f"{url}{href}")  # the guide the build rendered, served by this gateway
    await expect(page.locator("h2#behind-a-reverse-proxy")).to_have_text("Behind a reverse proxy")
    await context.close()
