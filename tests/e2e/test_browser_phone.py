"""The phone editor, zoom and pan, focus and accessibility in real headless Chromium: a phone
(390×844, touch, 3 device pixels per CSS pixel) and a desktop window, against the whole stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from imagetools_common.embedded import find_project_file
from imagetools_common.stack import Stack
from imagetools_common.testing import media

pytestmark = pytest.mark.e2e

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 3,
}
# A removal on a small photo on a busy 2-core machine: generous, it only bounds a hang.
RUN_TIMEOUT_MS = 120_000

# Visible controls must be a fingertip (44 CSS px) on the phone layout. A checkbox or radio is
# hit through its label, a control stretched by its ::after through the area it covers; links
# inside a sentence are exempt (WCAG 2.5.8's inline exception).
TOO_SMALL = """
() => {
  const controls = document.querySelectorAll(
    'button, a[href], input, select, textarea, summary, [role=button], [role=tab], [role=slider]')
  const small = []
  for (const el of controls) {
    if (el.closest('[inert], [hidden]')) continue
    const style = getComputedStyle(el)
    if (style.visibility === 'hidden' || style.display === 'none') continue
    let box = el.getBoundingClientRect()
    if (box.width <= 1 || box.height <= 1) continue  // visually hidden (the file input)
    if ((el.type === 'checkbox' || el.type === 'radio') && el.closest('label')) {
      box = el.closest('label').getBoundingClientRect()
    }
    // A control stretched by an absolutely placed ::after (the card's name opens the whole card).
    const after = getComputedStyle(el, '::after')
    if (after.content !== 'none' && after.position === 'absolute' && el.offsetParent) {
      box = el.offsetParent.getBoundingClientRect()
    }
    const sentence = el.closest('p, li')
    if (el.tagName === 'A' && sentence && sentence.textContent.trim() !== el.textContent.trim()) continue
    if (box.width < 44 - 0.5 || box.height < 44 - 0.5) {
      const name = el.dataset.testid || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 20)
      small.push(`${el.tagName.toLowerCase()}[${name}] ${Math.round(box.width)}×${Math.round(box.height)}`)
    }
  }
  return small
}
"""

SETTLED = """
() => Promise.all(document.getAnimations()
  .filter((a) => Number.isFinite(a.effect?.getComputedTiming().endTime))
  .map((a) => a.finished.catch(() => null)))
"""

AXE_RUN = """
async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] })
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')}`)
}
"""


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small photo (quick to cut out) and a 12 MP-class one (for the 1:1 view)."""
    folder = tmp_path_factory.mktemp("phone-photos")
    files = {
        "small.jpg": media.jpeg(media.photo(600, 400, seed=3)),
        "large.jpg": media.jpeg(media.photo(3000, 2000, seed=4)),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files}


async def axe_problems(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(find_project_file("web/node_modules/axe-core/axe.min.js")))
    # Colours are judged as they settle: a dialog fading in would read as low contrast. (Spinners
    # run for ever; an animation replaced meanwhile rejects: neither is waited for.)
    await page.evaluate(SETTLED)
    problems: list[str] = await page.evaluate(AXE_RUN)
    return problems


async def check_state(page: Page, name: str, *, phone: bool, seen: dict[str, list[str]]) -> None:
    """Collects this state's axe problems (and, on a phone, its too-small controls) under ``name``."""
    found = await axe_problems(page)
    if phone:
        found += [f"too small: {c}" for c in await page.evaluate(TOO_SMALL)]
    if found:
        seen[name] = found


async def home(browser: Browser, stack: Stack, **options: Any) -> tuple[BrowserContext, Page]:
    # The app's CSP (script-src 'self') would refuse the injected axe script; nothing else changes.
    context = await browser.new_context(bypass_csp=True, **options)
    page = await context.new_page()
    await page.goto(stack.gateway_url)
    await expect(page.get_by_test_id("image-counter")).to_have_text("0 / 5")
    return context, page


async def focused_testid(page: Page) -> str | None:
    testid: str | None = await page.evaluate("document.activeElement?.dataset?.testid ?? null")
    return testid


async def box(page: Page, testid: str) -> dict[str, float]:
    found = await page.get_by_test_id(testid).bounding_box()
    assert found is not None, testid
    return dict(found)


async def next_frames(page: Page, count: int = 2) -> None:
    """Lets ``count`` animation frames pass. Chromium hands touch moves to the page at the next
    frame, not when the input call returns, so a box read straight after one may predate it."""
    for _ in range(count):
        await page.evaluate("new Promise(done => requestAnimationFrame(() => done(null)))")


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


async def test_phone_editor(stack: Stack, browser: Browser, photos: dict[str, Path]) -> None:
    """On a phone every control is at least 44 px and axe finds nothing serious in any main state;
    the tools are a bottom sheet the preview makes room for; a pinch zooms both sides of the
    compare view together; toasts keep clear of the control used; focus comes back after an operation."""
    context, page = await home(browser, stack, **PHONE)
    problems: dict[str, list[str]] = {}
    await check_state(page, "empty home", phone=True, seen=problems)

    await page.get_by_test_id("file-input").set_input_files(str(photos["small.jpg"]))
    card = page.get_by_test_id("image-card")
    await expect(card).to_have_count(1, timeout=30_000)
    await check_state(page, "grid", phone=True, seen=problems)

    # The card's Remove BG: its toast stays off the button, and focus comes back to the button.
    remove = card.get_by_test_id("card-remove-background")
    await expect(remove).to_have_accessible_name("Remove BG: small.jpg")
    used = await box(page, "card-remove-background")
    await remove.focus()
    await page.keyboard.press("Enter")
    toast = page.get_by_test_id("toast").filter(has_text="small.jpg")
    await expect(toast).to_be_visible(timeout=RUN_TIMEOUT_MS)
    toast_box = await toast.bounding_box()
    assert toast_box is not None
    assert not overlaps(dict(toast_box), used)
    await expect(remove).to_be_focused()

    await card.locator("button.open").click()
    editor = page.get_by_test_id("editor")
    await expect(editor.get_by_test_id("compare-handle")).to_be_visible()
    await check_state(page, "editor, sheet closed", phone=True, seen=problems)

    # Tabs: each opens the sheet over the same preview, which shrinks to make room.
    viewport = editor.get_by_test_id("zoom-viewport")
    closed = await viewport.bounding_box()
    for tab in ("compress", "edit", "background", "info", "ai", "export"):
        await editor.get_by_test_id(f"editor-tab-{tab}").click()
        await expect(editor.get_by_test_id(f"editor-tab-{tab}")).to_have_attribute("aria-selected", "true")
        await check_state(page, f"editor, {tab} tab", phone=True, seen=problems)
    opened = await viewport.bounding_box()
    assert closed and opened and opened["height"] < closed["height"] - 100

    # A tool low in the sheet (Copy, in Export): its toast goes to the other edge.
    copy = editor.get_by_test_id("copy-clipboard")
    copy_box = await box(page, "copy-clipboard")
    await copy.click()
    toast = page.get_by_test_id("toast").filter(has_text="op")  # "Copied…" or "Couldn't copy…"
    await expect(toast.last).to_be_visible()
    toast_box = await toast.last.bounding_box()
    assert toast_box is not None
    assert not overlaps(dict(toast_box), copy_box)
    await editor.get_by_test_id("editor-tab-export").click()  # the open tab closes the sheet
    await expect(editor.get_by_test_id("editor-tab-export")).to_have_attribute("aria-selected", "false")

    # Pinch with two fingers (touch events, as a phone sends them): both sides zoom as one.
    cdp = await context.new_cdp_session(page)
    frame = await viewport.bounding_box()
    assert frame is not None
    cx, cy = frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2

    async def touch(kind: str, *points: tuple[float, float]) -> None:
        await cdp.send(
            "Input.dispatchTouchEvent",
            {"type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]},
        )

    await touch("touchStart", (cx - 30, cy), (cx + 30, cy))
    for step in range(1, 6):
        await touch("touchMove", (cx - 30 - 18 * step, cy), (cx + 30 + 18 * step, cy))
    await next_frames(page)
    zoom = float(await viewport.get_attribute("data-zoom") or 0)
    assert zoom > 2.5
    # Two fingers moving together pan.
    before_pan = await box(page, "editor-preview")
    for step in range(1, 4):
        await touch(
            "touchMove", (cx - 120 + 15 * step, cy + 10 * step), (cx + 120 + 15 * step, cy + 10 * step)
        )
    await touch("touchEnd")
    await next_frames(page)
    panned = await box(page, "editor-preview")
    assert panned["x"] > before_pan["x"] + 20 and panned["y"] > before_pan["y"] + 10
    after = await box(page, "compare-before")
    assert all(abs(after[k] - panned[k]) < 1 for k in ("x", "y", "width", "height"))
    assert panned["width"] > 2.5 * frame["width"] * 0.9

    # Focus returns to the control that ran an operation (disabled while it ran).
    await editor.get_by_test_id("zoom-fit").click()
    await expect(viewport).to_have_attribute("data-zoom", "1.000")
    rotate = editor.get_by_test_id("rotate-right")
    await rotate.focus()
    await page.keyboard.press("Enter")
    await expect(editor.get_by_test_id("editor-preview")).to_have_attribute(
        "data-version", "3", timeout=30_000
    )
    await expect(rotate).to_be_enabled()
    await expect(rotate).to_be_focused()

    # Crop mode: its bar and the handles on the picture are fingertip-sized too.
    await editor.get_by_test_id("crop-start").click()
    await expect(editor.get_by_test_id("crop-box")).to_be_focused()
    handles = await editor.locator(".crop-overlay .handle").evaluate_all(
        "els => els.map((el) => el.getBoundingClientRect()).map((r) => Math.min(r.width, r.height))"
    )
    assert len(handles) == 8 and min(handles) >= 44
    await check_state(page, "crop mode", phone=True, seen=problems)
    await editor.get_by_test_id("crop-cancel").click()

    # Dialogs: the delete confirmation over the editor, then About and AI over the gallery.
    await editor.get_by_test_id("editor-tab-export").click()
    await editor.get_by_test_id("delete-image").click()
    await expect(page.get_by_test_id("confirm-ok")).to_be_visible()
    await check_state(page, "delete confirmation", phone=True, seen=problems)
    await page.keyboard.press("Escape")
    await editor.get_by_test_id("editor-close").click()
    await expect(editor).to_have_count(0)
    await page.get_by_test_id("about-button").click()
    await expect(page.get_by_test_id("about-dialog")).to_be_visible()
    await check_state(page, "About", phone=True, seen=problems)
    await page.get_by_test_id("about-close").click()
    await page.get_by_test_id("ai-button").click()
    await expect(page.get_by_test_id("ai-dialog")).to_be_visible()
    await check_state(page, "AI settings", phone=True, seen=problems)
    await page.keyboard.press("Escape")
    await page.get_by_test_id("devices-button").click()
    await expect(page.get_by_test_id("devices-dialog")).to_be_visible()
    await check_state(page, "Devices", phone=True, seen=problems)

    assert not problems, "\n".join(f"{state}: {found}" for state, found in problems.items())
    await context.close()


async def test_desktop_keyboard_zoom_and_accessibility(
    stack: Stack, browser: Browser, photos: dict[str, Path]
) -> None:
    """On a desktop the preview zooms from the keyboard (with a visible focus ring) and the mouse
    wheel about the cursor, 1 shows actual pixels; axe finds nothing serious; focus returns."""
    context, page = await home(browser, stack, viewport={"width": 1280, "height": 800})
    problems: dict[str, list[str]] = {}
    await check_state(page, "empty home", phone=False, seen=problems)
    await page.get_by_test_id("file-input").set_input_files(str(photos["large.jpg"]))
    await expect(page.get_by_test_id("image-card")).to_have_count(1, timeout=30_000)
    await check_state(page, "grid", phone=False, seen=problems)

    await page.get_by_test_id("image-card").locator("button.open").click()
    editor = page.get_by_test_id("editor")
    await expect(editor.get_by_test_id("editor-tabs")).to_have_count(0)  # the desktop keeps its side panel
    preview = editor.get_by_test_id("editor-preview")
    await expect(preview).to_have_attribute("data-version", "1")
    await check_state(page, "editor", phone=False, seen=problems)

    viewport = editor.get_by_test_id("zoom-viewport")
    await expect(viewport).to_have_accessible_name("Preview of large.jpg")
    # Reached with Tab from the header's last button: a keyboard focus, with its ring.
    await editor.get_by_test_id("delete-image").focus()
    await page.keyboard.press("Tab")
    await expect(viewport).to_be_focused()
    ring = "el => el.matches(':focus-visible') && getComputedStyle(el).outlineStyle"
    assert await viewport.evaluate(ring) == "solid"
    fitted = await box(page, "editor-preview")
    await page.keyboard.press("1")
    await expect(editor.get_by_test_id("zoom-actual")).to_have_attribute("aria-pressed", "true")
    await expect(editor.get_by_test_id("zoom-level")).to_contain_text("100 %")
    actual = await box(page, "editor-preview")
    assert abs(actual["width"] - 3000) < 2 and abs(actual["height"] - 2000) < 2
    await page.keyboard.press("ArrowRight")
    moved = await box(page, "editor-preview")
    assert moved["x"] < actual["x"] - 10
    await page.keyboard.press("0")
    await expect(editor.get_by_test_id("zoom-fit")).to_have_attribute("aria-pressed", "true")
    await page.keyboard.press("+")
    assert float(await viewport.get_attribute("data-zoom") or 0) > 1.1

    # Wheel about the cursor: the picture point under it stays under it.
    await page.keyboard.press("0")
    x, y = fitted["x"] + fitted["width"] * 0.25, fitted["y"] + fitted["height"] * 0.25
    await page.mouse.move(x, y)
    await page.mouse.wheel(0, -400)
    await expect(viewport).not_to_have_attribute("data-zoom", "1.000")
    zoomed = await box(page, "editor-preview")
    assert abs((x - zoomed["x"]) / zoomed["width"] - 0.25) < 0.01
    assert abs((y - zoomed["y"]) / zoomed["height"] - 0.25) < 0.01

    # Focus comes back to the control after the operation it ran.
    await editor.get_by_test_id("zoom-fit").click()
    flip = editor.get_by_test_id("flip-horizontal")
    await flip.focus()
    await page.keyboard.press("Enter")
    await expect(preview).to_have_attribute("data-version", "2", timeout=30_000)
    await expect(flip).to_be_focused()

    # The compare view (issue 14's, on the same viewer): split, then side by side.
    await editor.get_by_test_id("compare-open").click()
    await expect(editor.get_by_test_id("compare-view")).to_be_visible()
    await check_state(page, "compare, split", phone=False, seen=problems)
    await editor.get_by_test_id("compare-mode-side").click()
    await expect(editor.get_by_test_id("compare-view")).to_have_attribute("data-mode", "side")
    await check_state(page, "compare, side by side", phone=False, seen=problems)
    await editor.get_by_test_id("compare-close").click()

    await editor.get_by_test_id("delete-image").click()
    await expect(page.get_by_test_id("confirm-ok")).to_be_visible()
    await check_state(page, "delete confirmation", phone=False, seen=problems)
    await page.keyboard.press("Escape")
    await editor.get_by_test_id("editor-close").click()
    await page.get_by_test_id("about-button").click()
    await expect(page.get_by_test_id("about-dialog")).to_be_visible()
    await check_state(page, "About", phone=False, seen=problems)

    assert not problems, "\n".join(f"{state}: {found}" for state, found in problems.items())
    await context.close()
