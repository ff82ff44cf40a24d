"""Take the README's screenshots (docs/screenshot*.png) from a throwaway stack.

Run from the repository root after building the web app, and commit the PNGs it writes:
    make screenshots
It starts the whole app with its own embedded PostgreSQL and NATS in a temporary directory, so
nothing of yours is touched, and drives the Chromium the browser tests use. Tests never write
into docs/: only this script does.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import tempfile
from pathlib import Path

from PIL import Image
from playwright.async_api import Browser, async_playwright, expect
from skimage import data

from imagetools_common.embedded import free_port
from imagetools_common.stack import Stack
from imagetools_common.testing import media

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


async def desktop(browser: Browser, url: str) -> None:
    """The page on a fresh session, as a desktop browser shows it."""
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto(url)
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    await page.screenshot(path=str(DOCS / "screenshot.png"))
    await page.close()


async def phone(browser: Browser, url: str, photo: Path) -> None:
    """The editor on a 390×844 phone with the Compress tab of its tool sheet open."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    await page.goto(url)
    await page.get_by_test_id("file-input").set_input_files(str(photo))
    await page.get_by_test_id("image-card").locator("button.open").click()
    editor = page.get_by_test_id("editor")
    await expect(editor.get_by_test_id("editor-preview")).to_be_visible(timeout=30_000)
    await editor.get_by_test_id("editor-tab-compress").click()
    await expect(editor.get_by_test_id("preset-email")).to_be_visible()
    save_quantized(await page.screenshot(), "screenshot-phone.png")
    await context.close()


def save_quantized(png: bytes, name: str) -> None:
    """A palette keeps the file small: the screenshots are flat UI around one photo."""
    with Image.open(io.BytesIO(png)) as picture:
        picture.quantize(256, method=Image.Quantize.MEDIANCUT).save(DOCS / name, optimize=True)


async def compare(browser: Browser, url: str, photo: Path) -> None:
    """The editor on a desktop: every preset's result before applying, and the custom settings'
    live preview against the original in the compare view."""
    page = await browser.new_page(viewport={"width": 1280, "height": 860})
    await page.goto(url)
    await page.get_by_test_id("file-input").set_input_files(str(photo))
    await page.get_by_test_id("image-card").locator("button.open").click()
    editor = page.get_by_test_id("editor")
    for preset in ("email", "web", "web_hq"):
        estimate = editor.get_by_test_id(f"preset-estimate-{preset}")
        await expect(estimate).to_have_attribute("data-state", "done", timeout=120_000)
    await editor.get_by_test_id("custom-quality").focus()
    for _ in range(25):
        await page.keyboard.press("ArrowLeft")
    await expect(editor.get_by_test_id("compare-view")).to_be_visible()
    live = editor.get_by_test_id("custom-preview")
    await expect(live).to_have_attribute("data-state", "done", timeout=120_000)
    save_quantized(await page.screenshot(), "screenshot-compare.png")
    await page.close()


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="imagetools-screenshots-") as tmp:
        root = Path(tmp)
        photo = root / "chelsea.jpg"
        photo.write_bytes(media.jpeg(Image.fromarray(data.chelsea()).resize((1353, 900)), quality=90))
        stack = Stack(
            var_dir=root / "var",
            log_dir=root / "logs",
            env={"SERVER_PORT": str(free_port()), "WEB_DIST_DIR": str(ROOT / "web" / "dist")},
        )
        await stack.start()
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
                )
                await desktop(browser, stack.gateway_url)
                await phone(browser, stack.gateway_url, photo)
                await compare(browser, stack.gateway_url, photo)
                await browser.close()
        finally:
            await stack.stop()


if __name__ == "__main__":
    asyncio.run(main())
