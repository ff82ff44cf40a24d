"""Render the app's logo (public/favicon.svg's mark) into the PNG icons the web app manifest names.

Run from the repository root when the logo changes, and commit the PNGs it writes:
    .venv/bin/python web/scripts/make_icons.py
Chromium (the one the browser tests drive) does the rasterising, so nothing is installed for it.
"""

from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

from PIL import Image
from playwright.async_api import async_playwright

PUBLIC = Path(__file__).resolve().parent.parent / "public"
OUT = PUBLIC / "icons"
SVG_NS = "http://www.w3.org/2000/svg"
GRADIENT = (
    '<linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
    '<stop offset="0" stop-color="#6366f1"/><stop offset="1" stop-color="#7c3aed"/></linearGradient>'
)
MARK = (
    '<circle cx="21.5" cy="10.5" r="3" fill="#fde68a"/><path d="M5 25l7.5-9.5 5 6 3-3.5L27 25z" fill="#fff"/>'
)
# "any": the favicon's rounded tile. "maskable": the platform cuts its own shape out of a
# full-bleed tile and may keep only the central circle of 80 %, so the mark shrinks into it.
SVGS = {
    "any": f'<defs>{GRADIENT}</defs><rect width="32" height="32" rx="8" fill="url(#g)"/>{MARK}',
    "maskable": f'<defs>{GRADIENT}</defs><rect width="32" height="32" fill="url(#g)"/>'
    f'<g transform="translate(16 16.5) scale(0.68) translate(-16 -16.5)">{MARK}</g>',
}
# name → (kind, size): Android and desktop Chromium read the manifest; iOS reads apple-touch-icon.
ICONS = {
    "icon-192.png": ("any", 192),
    "icon-512.png": ("any", 512),
    "maskable-192.png": ("maskable", 192),
    "maskable-512.png": ("maskable", 512),
    "apple-touch-icon.png": ("maskable", 180),  # iOS rounds the corners itself
}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for name, (kind, size) in ICONS.items():
            page = await browser.new_page(viewport={"width": size, "height": size})
            svg = f'<svg xmlns="{SVG_NS}" viewBox="0 0 32 32" width="{size}" height="{size}">'
            await page.set_content(f'<body style="margin:0">{svg}{SVGS[kind]}</svg></body>')
            png = await page.screenshot(omit_background=True)
            # A palette of 256 colours is invisible on this gradient and makes the files ~4x smaller.
            with Image.open(io.BytesIO(png)) as picture:
                picture.quantize(256, method=Image.Quantize.FASTOCTREE).save(OUT / name, optimize=True)
            await page.close()
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
