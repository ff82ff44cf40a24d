"""Geometry operations: resize rules, lossless rotations and flips, crop bounds."""

from __future__ import annotations

import pytest
from PIL import Image

from image_service.imaging.operations import crop, fit_within, flip, resize, rotate
from imagetools_common.contracts.image import CropOp, FlipOp, ResizeOp, RotateOp
from imagetools_common.errors import ValidationFailed


def marked(width: int = 40, height: int = 20) -> Image.Image:
    """A white image with a red pixel at the top-left corner and a blue one at the top-right."""
    image = Image.new("RGB", (width, height), "white")
    image.putpixel((0, 0), (255, 0, 0))
    image.putpixel((width - 1, 0), (0, 0, 255))
    return image


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (ResizeOp(width=2000), (2000, 1500)),
        (ResizeOp(height=300), (400, 300)),
        (ResizeOp(width=1000, height=1000), (1000, 750)),
        (ResizeOp(width=1000, height=100), (133, 100)),
        (ResizeOp(width=500, height=500, keep_aspect=False), (500, 500)),
        (ResizeOp(percent=25), (1000, 750)),
        (ResizeOp(percent=33.3), (1332, 999)),
    ],
)
def test_resize_dimensions(op: ResizeOp, expected: tuple[int, int]) -> None:
    """One side keeps the aspect, both fit inside the box (or stretch), percent scales both."""
    assert resize(Image.new("RGB", (4000, 3000)), op).size == expected


@pytest.mark.parametrize(
    "op",
    [
        ResizeOp(width=8000),
        ResizeOp(height=6000),
        ResizeOp(percent=200),
        ResizeOp(width=9000, height=9000),
    ],
)
def test_resize_never_upscales_by_default(op: ResizeOp) -> None:
    """Asking for a bigger picture without allow_upscale keeps the source size."""
    assert resize(Image.new("RGB", (400, 300)), op).size == (400, 300)


def test_resize_exact_box_caps_only_the_enlarged_side() -> None:
    """An exact box that would enlarge one side keeps that side and still changes the other."""
    op = ResizeOp(width=800, height=100, keep_aspect=False)
    assert resize(Image.new("RGB", (400, 300)), op).size == (400, 100)


def test_resize_upscales_when_allowed() -> None:
    """allow_upscale lets a resize make the picture bigger."""
    assert resize(Image.new("RGB", (400, 300)), ResizeOp(percent=200, allow_upscale=True)).size == (800, 600)
    assert resize(Image.new("RGB", (400, 300)), ResizeOp(width=1000, allow_upscale=True)).size == (1000, 750)


def test_resize_keeps_alpha_and_resamples_palettes() -> None:
    """RGBA stays RGBA; a palette image is resampled in real colours rather than nearest-neighbour."""
    assert resize(Image.new("RGBA", (100, 100)), ResizeOp(percent=50)).mode == "RGBA"
    palette = Image.new("RGB", (100, 100), "red").convert("P")
    assert resize(palette, ResizeOp(percent=50)).mode == "RGB"


def test_fit_within_only_shrinks() -> None:
    """fit_within shrinks into the box keeping the aspect and returns small images untouched."""
    image = Image.new("RGB", (4000, 3000))
    assert fit_within(image, 800, 800).size == (800, 600)
    assert fit_within(image, None, 300).size == (400, 300)
    small = Image.new("RGB", (100, 50))
    assert fit_within(small, 800, 800) is small


@pytest.mark.parametrize(
    ("degrees", "size", "red_at"),
    [(90, (20, 40), (19, 0)), (180, (40, 20), (39, 19)), (270, (20, 40), (0, 39))],
)
def test_rotate_is_clockwise_and_lossless(
    degrees: int, size: tuple[int, int], red_at: tuple[int, int]
) -> None:
    """Rotations turn clockwise and move pixels exactly, without resampling."""
    source = marked()
    turned = rotate(source, RotateOp(degrees=degrees))
    assert turned.size == size
    assert turned.getpixel(red_at) == (255, 0, 0)
    assert sorted(turned.tobytes()) == sorted(source.tobytes())


def test_four_quarter_turns_are_the_identity() -> None:
    """Four 90° turns give back the same pixels, byte for byte."""
    source = marked()
    image = source
    for _ in range(4):
        image = rotate(image, RotateOp(degrees=90))
    assert image.tobytes() == source.tobytes()


def test_flip_mirrors() -> None:
    """Horizontal flips swap left and right; vertical flips swap top and bottom."""
    source = marked()
    horizontal = flip(source, FlipOp(direction="horizontal"))
    assert horizontal.getpixel((0, 0)) == (0, 0, 255)
    assert horizontal.getpixel((39, 0)) == (255, 0, 0)
    vertical = flip(source, FlipOp(direction="vertical"))
    assert vertical.getpixel((0, 19)) == (255, 0, 0)


def test_crop_takes_the_rectangle() -> None:
    """A crop inside the image returns exactly that rectangle."""
    result = crop(marked(), CropOp(x=0, y=0, width=10, height=5))
    assert result.size == (10, 5)
    assert result.getpixel((0, 0)) == (255, 0, 0)
    assert crop(marked(), CropOp(x=0, y=0, width=40, height=20)).size == (40, 20)


@pytest.mark.parametrize(
    ("op", "field"),
    [
        (CropOp(x=40, y=0, width=1, height=1), "x"),
        (CropOp(x=0, y=25, width=1, height=1), "y"),
        (CropOp(x=30, y=0, width=11, height=5), "width"),
        (CropOp(x=0, y=10, width=5, height=11), "height"),
    ],
)
def test_crop_outside_the_image_names_the_field(op: CropOp, field: str) -> None:
    """A rectangle that leaves the image is a 422 naming the offending field."""
    with pytest.raises(ValidationFailed) as caught:
        crop(marked(), op)
    assert caught.value.details == {"field": field}
    assert caught.value.status == 422
