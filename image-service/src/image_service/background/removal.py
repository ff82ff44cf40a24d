"""Background removal on decoded pixels: the model's mask, refined, scaled back, composed, encoded.

Pure functions on Pillow images (no I/O, no event loop); the service runs them in its worker
pool. The model only ever sees its own input size (1024² for ISNet): the photo is reduced once,
and the mask is scaled back to the photo's full resolution, so 12 MP in is 12 MP out.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageColor, ImageFilter, ImageOps

from image_service.background.models import LoadedModel
from image_service.imaging import encode, modes
from image_service.imaging.decode import decode, open_image
from imagetools_common.contracts import image as contract

# Alpha matting solves a sparse system over every pixel: ~1 MP takes seconds, 12 MP would need
# gigabytes. It runs on a copy of at most this many pixels and its alpha is scaled back up.
MATTING_MAX_PIXELS = 1_000_000
# Measured on a 12 MP RGBA photo (docs/PERFORMANCE.md): zlib level 1 costs 1.7 CPU-s for a file
# ~1 % larger than level 3 (2.6 s) and smaller than level 6 (6.4 s).
PNG_LEVEL = 1
# Lossy WebP keeps alpha lossless and is ~9× smaller than PNG for photos; above 2 MP the fastest
# method (0) keeps a 12 MP encode near 1 s; below it method 2 is ~20 % smaller than 0, within 2 % of
# method 4 at a third of its CPU (1 MP cut-out: 0.13 against 0.36 CPU-s, docs/PERFORMANCE.md).
WEBP_QUALITY = 90
WEBP_FAST_ABOVE_PIXELS = 2_000_000
JPEG_QUALITY = 90

Check = Callable[[], None]


@dataclass(frozen=True)
class Cutout:
    """A composed result, the mask that made it (L, full size), and where the time went."""

    image: Image.Image
    mask: Image.Image
    model_seconds: float


def model_input(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The image at the model's input size, RGB, transparent parts over white."""
    # Reduce first (a box pass, then Lanczos): flattening or converting 12 MP would cost more.
    small = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return modes.flatten(small).convert("RGB")


def jpeg_model_input(data: bytes, size: tuple[int, int], max_pixels: int) -> Image.Image | None:
    """A JPEG at least twice the model's input on each side, decoded straight at that size; None
    for anything else (decoded once, in full, by the caller).

    DCT scaling plus one Lanczos pass (imaging/_shrink.py) skips most of the decode a 12 MP photo
    needs, and the 12 MP resize ``model_input`` would do; the service runs the full-size decode
    beside it and the inference, on the other core.
    """
    header = open_image(data, max_pixels=max_pixels)
    if header.format != "JPEG" or min(header.size) < 2 * max(size):
        return None
    return model_input(decode(data, max_pixels=max_pixels, shrink_to=lambda _w, _h: size).image, size)


def predict_mask(model: LoadedModel, image: Image.Image, post_process: bool) -> tuple[Image.Image, float]:
    """The model's mask at its own resolution, and the seconds inference took."""
    started = time.perf_counter()
    mask = model.predict(model_input(image, model.input_size))
    seconds = time.perf_counter() - started
    if post_process:
        mask = smooth_mask(mask)
    return mask, seconds


def smooth_mask(mask: Image.Image) -> Image.Image:
    """rembg's mask post-processing at the model's size: an opening by a 3×3 cross, a Gaussian blur
    (sigma 2), a threshold at 127."""
    # scipy (~3 s to import) only when someone asks for this or for matting, never at start-up.
    from scipy.ndimage import gaussian_filter, grey_opening

    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
    opened = grey_opening(np.asarray(mask), footprint=cross)
    blurred = gaussian_filter(opened.astype(np.float64), sigma=2)
    return Image.fromarray(np.where(blurred < 127, 0, 255).astype(np.uint8))


def matte(image: Image.Image, mask: Image.Image, op: contract.RemoveBackgroundOp) -> Image.Image:
    """A soft alpha from closed-form matting on a trimap made from the mask (both at full size in, out)."""
    # pymatting's numba kernels cost ~4 s to import: the first matting pays it, start-up does not.
    from pymatting import estimate_alpha_cf
    from scipy.ndimage import binary_erosion

    scale = min(1.0, math.sqrt(MATTING_MAX_PIXELS / (image.width * image.height)))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    rgb = modes.flatten(image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)).convert("RGB")
    values = np.asarray(mask.resize(size, Image.Resampling.BILINEAR))
    sure_fg = values > op.foreground_threshold
    sure_bg = values < op.background_threshold
    erode = round(op.erode_size * scale)
    if erode > 0:
        structure = np.ones((erode, erode), dtype=bool)
        sure_fg = binary_erosion(sure_fg, structure=structure)
        sure_bg = binary_erosion(sure_bg, structure=structure, border_value=1)
    if not sure_fg.any() or not sure_bg.any():
        return mask  # nothing certain on one side: matting has nothing to propagate from
    trimap = np.full(values.shape, 0.5)
    trimap[sure_fg] = 1.0
    trimap[sure_bg] = 0.0
    try:
        alpha = estimate_alpha_cf(np.asarray(rgb, dtype=np.float64) / 255.0, trimap)
    except ValueError:
        return mask  # the solver refused this trimap; the model's own mask is still a good answer
    matted = Image.fromarray(np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8))
    return matted.resize(image.size, Image.Resampling.BILINEAR)


def cut_out(
    model: LoadedModel,
    image: Image.Image,
    op: contract.RemoveBackgroundOp,
    backdrop: Image.Image | None,
    check: Check,
    predicted: tuple[Image.Image, float] | None = None,
) -> Cutout:
    """The whole removal on a decoded image; ``check`` raises between stages when the work is called off.

    ``predicted``: the model's mask and its seconds when the caller already ran it (``jpeg_model_input``).
    """
    small_mask, model_seconds = predicted or predict_mask(model, image, op.post_process_mask)
    check()
    mask = full_mask(image, small_mask, op, check)
    return Cutout(compose(image, mask, op.background, backdrop), mask, model_seconds)


def full_mask(
    image: Image.Image, small_mask: Image.Image, op: contract.RemoveBackgroundOp, check: Check
) -> Image.Image:
    """The alpha at the image's size from the model's mask: scaled up, matted if asked."""
    # Bilinear, not Lanczos: a mask must not ring (halos) and 12 MP of L is 3× faster this way.
    mask = small_mask.resize(image.size, Image.Resampling.BILINEAR)
    if op.alpha_matting:
        mask = matte(image, mask, op)
        check()
    if modes.has_alpha(image):
        # Already transparent: what was transparent stays so, whatever the model thought.
        mask = ImageChops.multiply(mask, image.getchannel(image.mode[-1]))
    return mask


def compose(
    image: Image.Image, mask: Image.Image, background: contract.Background, backdrop: Image.Image | None
) -> Image.Image:
    """The subject (``mask`` as its alpha) over the chosen background, at the image's size."""
    if isinstance(background, contract.TransparentBackground):
        grey = image.mode in ("L", "LA")
        subject = image.convert("LA" if grey else "RGBA")
        subject.putalpha(mask)
        return subject
    rgb = image.convert("RGB")
    if isinstance(background, contract.ColourBackground):
        base = Image.new("RGB", image.size, ImageColor.getrgb(background.colour)[:3])
    elif isinstance(background, contract.BlurBackground):
        base = rgb.filter(ImageFilter.GaussianBlur(background.radius))
    else:
        assert backdrop is not None
        base = cover(backdrop, image.size)
    if base.mode == "RGBA":
        subject = rgb.convert("RGBA")
        subject.putalpha(mask)
        return Image.alpha_composite(base, subject)
    base.paste(rgb, mask=mask)
    return base


def cover(backdrop: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``backdrop`` scaled to cover ``size`` and centre-cropped (RGB, or RGBA when it has alpha)."""
    mode = "RGBA" if modes.has_alpha(backdrop) else "RGB"
    return ImageOps.fit(backdrop.convert(mode), size, Image.Resampling.LANCZOS)


def encode_result(image: Image.Image, fmt: str, *, exif: bytes | None, icc_profile: bytes | None) -> bytes:
    """The result in ``fmt`` with the source's EXIF and colour profile (see the constants for why)."""
    if fmt == "jpeg":
        return encode.encode(image, "jpeg", quality=JPEG_QUALITY, exif=exif, icc_profile=icc_profile)
    buffer = io.BytesIO()
    extra: dict[str, object] = {"exif": exif or b""}
    if icc_profile:
        extra["icc_profile"] = icc_profile
    if fmt == "png":
        image.save(buffer, "PNG", compress_level=PNG_LEVEL, **extra)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if modes.has_alpha(image) else "RGB")
        method = 0 if image.width * image.height > WEBP_FAST_ABOVE_PIXELS else 2
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=method, **extra)
    return buffer.getvalue()


def encode_mask(mask: Image.Image) -> bytes:
    """The mask as a greyscale PNG (masks are mostly flat: small at any level, so use zlib's default)."""
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    return buffer.getvalue()
