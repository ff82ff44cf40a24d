"""The erase/restore brush in real headless Chromium against the whole stack, with the real model."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.async_api import Browser, Locator, Page, expect
from skimage import data

from imagetools_common.stack import Stack
from imagetools_common.testing import media

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_MS = 180_000  # a model run on a busy 2-core machine: it only bounds a hang
SIZE = 512
# A stroke across her face, as fractions of the picture: (0.38, 0.2) to (0.48, 0.2).
STROKE_Y, STROKE_X0, STROKE_X1 = 0.2, 0.38, 0.48
RADIUS = round(SIZE * 0.02)  # the brush's default size: 2 % of the longer side
CSRF = {"X-Requested-With": "ImageTools"}  # what the app sends with every unsafe request


@pytest.fixture(scope="module")
def portrait(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("brush") / "astronaut.jpg"
    path.write_bytes(media.jpeg(Image.fromarray(data.astronaut()), quality=92))
    return path


async def open_editor(browser: Browser, stack: Stack, photo: Path) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(stack.gateway_url)
    await page.get_by_test_id("file-input").set_input_files(str(photo))
    await expect(page.get_by_test_id("image-card")).to_have_count(1, timeout=30_000)
    await page.get_by_test_id("image-card").locator("button.open").click()
    await expect(page.get_by_test_id("editor")).to_be_visible()
    return page


_ALPHA_AT = (
    "([c, x, y]) => c.getContext('2d')"
    ".getImageData(Math.floor(x * c.width), Math.floor(y * c.height), 1, 1).data[3]"
)


async def shown_alpha(canvas: Locator, x: float, y: float) -> int:
    """The preview's alpha at (x, y), fractions of the picture (the canvas draws no background of its own)."""
    return int(await canvas.page.evaluate(_ALPHA_AT, [await canvas.element_handle(), x, y]))


async def wait_for_alpha(canvas: Locator, x: float, y: float, low: int, high: int) -> None:
    """Wait until the preview's alpha at (x, y) is within low..high (it is drawn on the next frame)."""
    await canvas.page.wait_for_function(
        f"([c, x, y]) => {{ const a = ({_ALPHA_AT})([c, x, y]); return a >= {low} && a <= {high} }}",
        arg=[await canvas.element_handle(), x, y],
    )


async def version_alpha(page: Page, url: str) -> np.ndarray[Any, Any]:
    response = await page.request.get(url)
    assert response.ok
    return np.asarray(Image.open(io.BytesIO(await response.body())).getchannel("A"), dtype=int)


def capsule(radius: float) -> np.ndarray[Any, Any]:
    """The pixels within ``radius`` of the stroke's segment (True: inside)."""
    ys, xs = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    x0, x1, y = STROKE_X0 * SIZE, STROKE_X1 * SIZE, STROKE_Y * SIZE
    dx = np.clip(xs, x0, x1) - xs
    return dx**2 + (ys - y) ** 2 <= radius**2


async def test_the_brush_paints_a_live_preview_saves_a_version_and_undoes(
    stack: Stack, browser: Browser, portrait: Path
) -> None:
    """On a cut-out a stroke erases in the preview, undoes and redoes there, and Save makes a version
    transparent where painted and unchanged elsewhere; undo takes it back. Elsewhere it says why not."""
    page = await open_editor(browser, stack, portrait)
    editor = page.get_by_test_id("editor")

    await editor.get_by_test_id("brush-start").click()
    await expect(editor.get_by_test_id("brush-unavailable")).to_contain_text("remove the background first")
    await expect(editor.get_by_test_id("brush-canvas")).to_have_count(0)

    panel = editor.get_by_test_id("background-panel")
    await panel.get_by_test_id("background-kind-transparent").click()
    await panel.get_by_test_id("background-apply").click()
    preview = editor.get_by_test_id("editor-preview")
    await expect(preview).to_have_attribute("data-version", "2", timeout=RUN_TIMEOUT_MS)
    image_id = await editor.get_attribute("data-image-id")
    # By number: the preview's src follows its data-version once the new picture is decoded.
    content = f"{stack.gateway_url}/api/v1/images/{image_id}/content?version="
    before = await version_alpha(page, content + "2")
    assert before[capsule(RADIUS)].min() >= 200  # her face is subject

    await editor.get_by_test_id("brush-start").click()
    canvas = editor.get_by_test_id("brush-canvas")
    await expect(canvas).to_have_attribute("data-ready", "true")
    assert await shown_alpha(canvas, 0.43, STROKE_Y) >= 200
    box = await canvas.bounding_box()
    assert box is not None
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    await page.mouse.move(*at(STROKE_X0, STROKE_Y))
    await page.mouse.down()
    await page.mouse.move(*at(STROKE_X1, STROKE_Y), steps=8)
    await page.mouse.up()
    await expect(canvas).to_have_attribute("data-strokes", "1")
    await wait_for_alpha(canvas, 0.43, STROKE_Y, 0, 0)
    assert await shown_alpha(canvas, 0.5, 0.5) >= 200  # her suit, not painted

    # Strokes undo and redo in the browser before anything is saved.
    await editor.get_by_test_id("brush-undo").click()
    await expect(canvas).to_have_attribute("data-strokes", "0")
    await wait_for_alpha(canvas, 0.43, STROKE_Y, 201, 255)
    await editor.get_by_test_id("brush-redo").click()
    await wait_for_alpha(canvas, 0.43, STROKE_Y, 0, 0)

    await editor.get_by_test_id("brush-save").click()
    await expect(preview).to_have_attribute("data-version", "3", timeout=30_000)
    await expect(canvas).to_have_count(0)
    after = await version_alpha(page, content + "3")
    assert after[capsule(RADIUS - 1.5)].max() == 0
    outside = ~capsule(RADIUS + 1.5)
    assert np.array_equal(after[outside], before[outside])

    await editor.get_by_test_id("undo").click()
    await expect(preview).to_have_attribute("data-version", "2")

    # Through the API: bad strokes are a 422 naming the field, a stale version a 409, another
    # session's image a 404; none of them makes a version.
    url = f"{stack.gateway_url}/api/v1/images/{image_id}/operations"

    def body(version: int, points: list[list[float]], strokes: int = 1) -> dict[str, Any]:
        return {
            "type": "brush",
            "version": version,
            "strokes": [{"mode": "erase", "radius": 0.02, "points": points}] * strokes,
        }

    for bad, field in (
        (body(2, [[1.5, 0.5]]), "brush.strokes.0.points.0.0"),
        (body(2, [[0.5, 0.5]], 101), "brush.strokes"),
    ):
        response = await page.request.post(url, data=bad, headers=CSRF)
        assert response.status == 422, await response.text()
        error = (await response.json())["error"]
        assert error["code"] == "validation_error" and error["message"].startswith(field), error
    stale = await page.request.post(url, data=body(3, [[0.5, 0.5]]), headers=CSRF)
    assert stale.status == 409 and "version 2 is current" in (await stale.json())["error"]["message"]
    stranger = await (await browser.new_context()).new_page()
    await stranger.goto(stack.gateway_url)
    await expect(stranger.get_by_test_id("image-counter")).to_have_text("0 / 5")  # its own session
    assert (await stranger.request.post(url, data=body(2, [[0.5, 0.5]]), headers=CSRF)).status == 404
    versions = (await (await page.request.get(f"{stack.gateway_url}/api/v1/images/{image_id}")).json())[
        "versions"
    ]
    assert [v["number"] for v in versions] == [1, 2, 3]
