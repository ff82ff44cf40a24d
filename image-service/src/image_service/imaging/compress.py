"""Compress an image to a size target: the highest quality that fits, then smaller dimensions.

The algorithm, for one output format:

1. **Fit the box first.** The image is shrunk (never enlarged) to fit ``max_width`` x
   ``max_height``. With ``keep_aspect`` false and both sides given it is stretched to exactly
   that box instead (each side capped at the source's, as the values are maxima). From bytes
   (``compress_data``, what the service uses) a JPEG is decoded straight to the box
   (``_shrink``: libvips, DCT scaling down to twice the box, one Lanczos pass), so a 12 MP
   photo is never expanded in full. Everything after this works on the small image.
2. **No target:** one encode at ``settings.quality``.
3. **Lossy with a target** (JPEG, WebP, AVIF): the highest quality that fits, found first on a
   sample (``_predict``: full-width strips, 1/8 of the rows, with the target scaled by the
   pixel share; a sample encode costs 1/8 of a full one and its bytes predict the full file's
   within a step or two; its first round is the top quality and ten below it, later rounds a
   guess and the step above it, side by side), then at full size starting from that prediction:
   the predicted quality and the one above it are encoded side by side on the two cores (when
   the prediction is right, those two encodes are the whole search), with a third beside them
   when the sample could not rule out a neighbour (WebP's sample strays by a few per cent:
   ``_SAMPLE_SPREAD``). Otherwise the search goes on with a
   safeguarded secant method on log(size) over quality (file size grows roughly exponentially
   with quality): the next quality is extrapolated from the encode nearest the target, with the
   slope measured from the two nearest (the format's typical slope before there are two),
   aiming 1 % under the target and kept inside the bracket (never below the floor
   ``FLOOR_QUALITY``, or the requested quality if lower). After three interpolations inside the
   bracket it bisects. It stops when the highest fitting quality and the lowest failing one are
   one step apart (or the requested quality fits), and the result is always an encode that was
   measured to fit. The mean number of full-size encodes per preset is in ``make bench``.
4. **When even the floor misses**, the dimensions shrink and step 3 runs again. The factor is
   estimated from the floor's size (bytes grow about linearly with pixel count, so
   ``sqrt(target / size)``, with a 5 % margin), clamped to [0.5, 0.85] per round, for at most
   ``MAX_SHRINK_ROUNDS`` rounds and never below ``MIN_SIDE`` px on the long side. Each round
   resamples from the box-fitted image, so blur does not compound.
5. **PNG:** lossless (optimised) first. Over the target, palette quantisation with 256, 128,
   64 then 32 colours — median cut on a small copy for the palette of opaque images (fast and
   far better than octree), fast octree for images with alpha (the only Pillow quantiser that
   keeps it) — then step 4's dimension rounds, trying the colour ladder at each size.
6. **Honesty:** when nothing fits, the smallest file produced is returned and the outcome says
   ``target_met=False``.

``format="auto"`` runs the above for JPEG (PNG when the image has real transparency), WebP and
AVIF side by side, at the same visual quality: WebP takes the JPEG number as is (libwebp's scale was built to
track libjpeg's, and measured PSNR agrees within ~1 dB above q50) while AVIF's is mapped with
``encode.avif_quality_for`` (JPEG 85 → AVIF 58, floor 30 → 25). Without a target the smallest
file wins. With a target, among the candidates that met it, those with the most pixels and the
best visual quality (within ``AUTO_QUALITY_SLACK`` JPEG-scale points of the best) are kept and
the smallest of them wins: a much smaller file is not worth a visibly worse picture. If none
met it, the smallest file wins. With a target, each lossy format's sample search runs first, and
only the formats whose forecast (quality, bytes) could still win by that rule are searched at
full size (``_contenders``; a forecast within 15 % of the smallest counts as a tie): on 12 MP
photos at 1920 px and 500 KB, AVIF fits at the top quality and JPEG and WebP are never encoded
at full size.

Why a floor of 30: below it libjpeg's blocking and WebP/AVIF smearing become obvious at 100 %
zoom on photos, while shrinking a side by 15 % is barely noticed in an email or on a web page.

Why one module of over 350 lines: it is one algorithm, the one described above (about 60 of its
lines), and every step works on the same ``_Attempt`` records through the same encoder threads;
the quality search, the shrink rounds and the PNG ladder only make sense read together, and the
parts that stand alone already live apart (``_shrink``, ``budget``, ``encode``, ``modes``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from PIL import Image

from imagetools_common.contracts.image import CompressionOutcome, CompressionSettings, OutputFormat

from . import metadata, modes
from .budget import compressed_size, fits
from .decode import decode
from .encode import avif_quality_for, encode
from .operations import scale_to

FLOOR_QUALITY = 30
MIN_SIDE = 64
# Below this JPEG-scale quality artefacts show at normal viewing size, so a target that needed it
# is reported (``low_quality_for_target``); so is shrinking below half the box-fitted size.
LOW_QUALITY = 60
MAX_SHRINK_ROUNDS = 12
_SHRINK_BOUNDS = (0.5, 0.85)
_SHRINK_MARGIN = 0.95
PNG_COLOURS = (256, 128, 64, 32)
# The palette of an opaque image comes from a copy this size: median cut costs ~2 s at 3 MP
# and 0.2 s here, for 0.6 dB less PSNR.
_PALETTE_SAMPLE = 400
AUTO_QUALITY_SLACK = 5
# "auto" searches at full size only the formats whose sample forecast can still win: a format
# forecast more than this much larger than the smallest one at about the same quality is
# dropped (a forecast is within ~5 % of the full file on photos).
_AUTO_SIZE_MARGIN = 0.15
# How fast log(file size) grows per quality step near the top of the range, measured on
# photos; used for the first step down, before two encodes give the real slope.
_TYPICAL_SLOPE: dict[str, float] = {"jpeg": 0.06, "webp": 0.08, "avif": 0.04}
# Interpolation steps inside the bracket before falling back to bisection.
_MAX_INTERPOLATIONS = 3
# The quality search first runs on a sample: full-width strips _SAMPLE_STRIP px high (a multiple
# of JPEG's 16 px MCU and WebP's macroblock, so each strip codes much as it does in place),
# together 1/_SAMPLE_SHARE of the rows. Its bytes, scaled by the pixel ratio, predict the full
# encode's within a quality step or two on photos, so the full-size search starts at the answer.
_SAMPLE_STRIP = 32
_SAMPLE_SHARE = 8
# How much larger a sample codes than its share of the full file: JPEG's strips code as they do
# in place (0.99-1.01 at web size), WebP's cost ~2 % more (0.99-1.06, mean 1.023, on 20 encodes
# at web_hq size, q77-81); the sample's target is raised to match, so the full search's first
# pair of encodes holds the answer more often.
_SAMPLE_BIAS: dict[str, float] = {"jpeg": 1.0, "webp": 1.02, "avif": 1.0}
# How far a sample's bytes may stray from that: a neighbouring quality whose sample lands this
# close to the target may be the answer at full size as well, so the full-size search encodes it
# in the same round (``_first_round``). WebP's ratio above runs 0.99-1.06 around the 1.02 its
# bias assumes, so about -3 % to +4 %; AVIF's, unmeasured, is taken as WebP's. JPEG's sample holds
# the answer within its pair (2.0 full-size encodes per photo in the bench): a third would be waste.
_SAMPLE_SPREAD: dict[str, float] = {"jpeg": 0.0, "webp": 0.04, "avif": 0.04}
# The sample search's first round: the top quality and this many steps below it, side by side,
# so that the secant has a measured slope near where binding targets land from the start.
_SAMPLE_SECOND_PROBE = 10
# Below this many pixels a full encode is cheap enough that predicting it saves nothing.
_SAMPLE_MIN_PIXELS = 1_000_000
# Baseline JPEG: progressive saves ~3 % (about half a quality step at a binding target, +0.001
# SSIM) for 2.5 times the encode time, which is most of a search's cost at 1920 px.
PROGRESSIVE = False
T = TypeVar("T")
# Candidate encodes run two at a time (Pillow releases the GIL inside libjpeg and libwebp).
_ENCODERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="encode")


def _go_on() -> None:
    """The default ``check``: nobody calls the work off."""


SYSTEM_PRESETS: dict[str, tuple[str, CompressionSettings]] = {
    "email": (
        "Email",
        CompressionSettings(max_width=800, max_height=800, quality=85, target_kb=500, format="jpeg"),
    ),
    "web": (
        "Web",
        CompressionSettings(max_width=1920, max_height=1920, quality=90, target_kb=500, format="jpeg"),
    ),
    "web_hq": (
        "Web HQ",
        CompressionSettings(max_width=2560, max_height=2560, quality=95, target_kb=1000, format="webp"),
    ),
}


@dataclass(frozen=True, slots=True)
class _Forecast:
    """What a format's sample search predicts for the full-size image."""

    quality: int  # the quality to start the full-size search at
    size: int  # the bytes the full file would have at it
    fits: bool  # whether the sample met its share of the target at all (else: smaller dimensions)
    # Whether the sample cannot tell ``quality`` from its neighbour: the one below (``quality``
    # itself only just fitted) or the one above (it only just missed).
    close_below: bool = False
    close_above: bool = False


@dataclass(frozen=True, slots=True)
class _Attempt:
    data: bytes
    format: OutputFormat
    quality: int | None  # the encoder's own scale; None for PNG
    equivalent: int  # the same on the JPEG scale, to compare formats (PNG: 100 lossless, floor palette)
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.data)


def compress_data(
    data: bytes,
    settings: CompressionSettings,
    *,
    max_pixels: int,
    gps: metadata.Location | None = None,
    check: Callable[[], None] = _go_on,
) -> tuple[bytes, CompressionOutcome]:
    """Decode an encoded image straight to the settings' box (see ``_shrink``), then compress it.

    ``gps`` becomes the result's location (the session keeps locations; see ``Images``). ``check``
    runs before every encode and may raise to stop the work (a superseded preview).
    """
    decoded = decode(data, max_pixels=max_pixels, shrink_to=lambda w, h: compressed_size(w, h, settings))
    exif = metadata.with_location(decoded.exif, gps)
    return compress(decoded.image, settings, exif=exif, icc_profile=decoded.icc_profile, check=check)


def compress(
    image: Image.Image,
    settings: CompressionSettings,
    *,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    check: Callable[[], None] = _go_on,
) -> tuple[bytes, CompressionOutcome]:
    """Encode to fit the settings' box and size target at the best quality possible; see the module doc."""
    image, icc_profile = modes.normalise(image, icc_profile)  # a no-op for decode()'s output
    width, height = compressed_size(*image.size, settings)
    sized = image if (width, height) == image.size else scale_to(image, width, height)
    target = settings.target_kb * 1024 if settings.target_kb else None
    if settings.format == "auto":
        attempt = _auto(sized, settings.quality, target, exif, icc_profile, check)
    else:
        quality = settings.quality
        attempt = _one_format(
            sized, settings.format, quality, min(FLOOR_QUALITY, quality), target, exif, icc_profile, check
        )
    # PNG's "equivalent" only ranks palettes against lossy formats: it is no quality to report.
    jpeg_quality = attempt.equivalent if attempt.quality is not None else None
    outcome = CompressionOutcome(
        target_met=target is None or attempt.size <= target,
        quality=attempt.quality,
        width=attempt.width,
        height=attempt.height,
        bytes=attempt.size,
        format=attempt.format,
        fitted_width=width,
        fitted_height=height,
        jpeg_quality=jpeg_quality,
        shrunk_for_target=max(attempt.width, attempt.height) * 2 < max(width, height),
        low_quality_for_target=(
            target is not None
            and jpeg_quality is not None
            and jpeg_quality < min(LOW_QUALITY, settings.quality)
        ),
    )
    return attempt.data, outcome


def _auto(
    image: Image.Image,
    quality: int,
    target: int | None,
    exif: bytes | None,
    icc_profile: bytes | None,
    check: Callable[[], None],
) -> _Attempt:
    floor = min(FLOOR_QUALITY, quality)
    lossless = modes.has_transparency(image) or not fits("jpeg", *image.size)
    first: OutputFormat = "png" if lossless else "jpeg"
    searches: list[tuple[OutputFormat, int, int]] = [(first, quality, floor)]
    # Only the formats that can hold the picture compete (WebP stops at 16383 px a side).
    if fits("webp", *image.size):
        searches.append(("webp", quality, floor))
    if fits("avif", *image.size):
        searches.append(("avif", avif_quality_for(quality), avif_quality_for(floor)))
    forecasts: dict[OutputFormat, _Forecast] = {}
    if target is not None:
        # Each format's sample first (1/8 of the rows): the full-size searches then run only
        # for the formats that can still win, each starting at its forecast quality.
        lossy = [(fmt, top, low) for fmt, top, low in searches if fmt != "png"]
        found = _in_parallel(
            image,
            [
                functools.partial(
                    _forecast,
                    fmt=fmt,
                    top=top,
                    floor=low,
                    target=target,
                    exif=exif,
                    icc_profile=icc_profile,
                    check=check,
                )
                for fmt, top, low in lossy
            ],
        )
        forecasts = {fmt: forecast for (fmt, _, _), forecast in zip(lossy, found, strict=True)}
        contenders = _contenders(forecasts, quality)
        searches = [search for search in searches if search[0] == "png" or search[0] in contenders]
    # The searches are independent: run side by side, "auto" costs about its slowest format.
    candidates = _in_parallel(
        image,
        [
            functools.partial(
                _one_format,
                fmt=fmt,
                top=top,
                floor=low,
                target=target,
                exif=exif,
                icc_profile=icc_profile,
                check=check,
                forecast=forecasts.get(fmt),
            )
            for fmt, top, low in searches
        ],
    )
    fitting = [c for c in candidates if target is None or c.size <= target]
    if not fitting:
        return min(candidates, key=lambda c: c.size)
    most_pixels = max(c.width * c.height for c in fitting)
    fitting = [c for c in fitting if c.width * c.height == most_pixels]

    def visual(candidate: _Attempt) -> int:
        # Lossless is worth no more than the quality that was asked for.
        return min(candidate.equivalent, quality)

    best_quality = max(visual(c) for c in fitting)
    return min((c for c in fitting if visual(c) >= best_quality - AUTO_QUALITY_SLACK), key=lambda c: c.size)


def _contenders(forecasts: dict[OutputFormat, _Forecast], quality: int) -> set[OutputFormat]:
    """The formats whose forecast can still win by ``_auto``'s rule; the others are not searched."""
    # A format that must shrink loses to any that fits at full size (the most pixels win).
    fitting = {fmt: forecast for fmt, forecast in forecasts.items() if forecast.fits} or forecasts
    visual = {
        fmt: min(_jpeg_equivalent(forecast.quality) if fmt == "avif" else forecast.quality, quality)
        for fmt, forecast in fitting.items()
    }
    near = {fmt: fitting[fmt] for fmt in fitting if visual[fmt] >= max(visual.values()) - AUTO_QUALITY_SLACK}
    smallest = min(forecast.size for forecast in near.values())
    return {fmt for fmt, forecast in near.items() if forecast.size <= smallest * (1 + _AUTO_SIZE_MARGIN)}


def _one_format(
    image: Image.Image,
    fmt: OutputFormat,
    top: int,
    floor: int,
    target: int | None,
    exif: bytes | None,
    icc_profile: bytes | None,
    check: Callable[[], None],
    forecast: _Forecast | None = None,
) -> _Attempt:
    """One format's search; a ``forecast`` (of ``image`` itself, by ``_forecast``) spares its sample."""
    if fmt == "png":
        return _png(image, target, exif, icc_profile, check)
    image, attempt = _encoder(image, fmt, exif, icc_profile, check)
    if target is None:
        return attempt(image, top)
    slope = _TYPICAL_SLOPE[fmt]
    overhead = len(exif or b"") + len(icc_profile or b"")

    def search(sized: Image.Image) -> tuple[_Attempt | None, _Attempt]:
        known = forecast if sized is image else None
        predicted = known or _predict(sized, fmt, top, floor, target, overhead, attempt)
        fitting, _, smallest = _search_quality(
            sized, top, floor, target, attempt, slope, _first_round(predicted, top, floor)
        )
        return fitting, smallest

    return _shrinking(image, target, search)


def _encoder(
    image: Image.Image,
    fmt: OutputFormat,
    exif: bytes | None,
    icc_profile: bytes | None,
    check: Callable[[], None],
) -> tuple[Image.Image, Callable[[Image.Image, int], _Attempt]]:
    """The image in a mode ``fmt`` takes (converted once, not at every encode), and its encode."""
    if fmt == "jpeg":
        image = modes.flatten(image)
    elif image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if modes.has_alpha(image) else "RGB")

    def attempt(candidate: Image.Image, quality: int) -> _Attempt:
        check()
        data = encode(
            candidate, fmt, quality=quality, exif=exif, icc_profile=icc_profile, progressive=PROGRESSIVE
        )
        equivalent = _jpeg_equivalent(quality) if fmt == "avif" else quality
        return _Attempt(data, fmt, quality, equivalent, candidate.width, candidate.height)

    return image, attempt


def _forecast(
    image: Image.Image,
    fmt: OutputFormat,
    top: int,
    floor: int,
    target: int,
    exif: bytes | None,
    icc_profile: bytes | None,
    check: Callable[[], None],
) -> _Forecast:
    """``_predict`` for one of ``auto``'s formats, before any full-size encode."""
    image, attempt = _encoder(image, fmt, exif, icc_profile, check)
    overhead = len(exif or b"") + len(icc_profile or b"")
    return _predict(image, fmt, top, floor, target, overhead, attempt)


def _predict(
    image: Image.Image,
    fmt: OutputFormat,
    top: int,
    floor: int,
    target: int,
    overhead: int,
    attempt: Callable[[Image.Image, int], _Attempt],
) -> _Forecast:
    """What the full image will most likely fit at, found by searching on a sample of it.

    Without a sample (a small image) the forecast is the top quality at the target's size, so
    ``auto`` keeps every format: a full encode is as cheap as a sample then.
    """
    sample = _sample(image)
    if sample is None:
        return _Forecast(top, target, True)
    share = sample.width * sample.height / (image.width * image.height)
    # Metadata is in every file whatever its pixels; only the rest scales with the sample.
    scale = share * _SAMPLE_BIAS[fmt]
    sample_target = overhead + (target - overhead) * scale
    slope = _TYPICAL_SLOPE[fmt]
    first = sorted({top, max(floor, top - _SAMPLE_SECOND_PROBE)})
    fitting, missing, smallest = _search_quality(
        sample, top, floor, round(sample_target), attempt, slope, first, paired=True
    )
    found = fitting or smallest
    spread = _SAMPLE_SPREAD[fmt]
    return _Forecast(
        _quality(found),
        overhead + round((found.size - overhead) / scale),
        fitting is not None,
        close_below=fitting is not None and fitting.size > sample_target * (1 - spread),
        close_above=missing is not None and missing.size < sample_target * (1 + spread),
    )


def _first_round(forecast: _Forecast, top: int, floor: int) -> list[int]:
    """The qualities the full-size search encodes side by side first: the forecast and the step
    above it (when the forecast is right, the whole search), with the neighbour the sample could
    not rule out (then three encodes share the two cores: 1.5 encodes' time instead of 2)."""
    guess = forecast.quality
    qualities = [guess, guess + 1]
    if forecast.close_above:
        qualities.append(guess + 2)
    elif forecast.close_below:
        qualities.insert(0, guess - 1)
    return sorted({max(floor, min(top, quality)) for quality in qualities})


def _sample(image: Image.Image) -> Image.Image | None:
    """Full-width strips from top to bottom, 1/_SAMPLE_SHARE of the rows; None for a small image."""
    width, height = image.size
    strips = height // (_SAMPLE_STRIP * _SAMPLE_SHARE)
    if width * height < _SAMPLE_MIN_PIXELS or strips < 2 or image.mode == "P":
        return None
    sample = Image.new(image.mode, (width, strips * _SAMPLE_STRIP))
    step = height / strips
    for index in range(strips):
        top = int((index + 0.5) * step) // 16 * 16  # each strip starts on a block boundary
        top = min(top, height - _SAMPLE_STRIP)
        sample.paste(image.crop((0, top, width, top + _SAMPLE_STRIP)), (0, index * _SAMPLE_STRIP))
    return sample


def _search_quality(
    image: Image.Image,
    top: int,
    floor: int,
    target: int,
    attempt: Callable[[Image.Image, int], _Attempt],
    slope: float,
    first: list[int],
    *,
    paired: bool = False,
) -> tuple[_Attempt | None, _Attempt | None, _Attempt]:
    """(the highest-quality encode that fits or None, the lowest-quality one that missed or None,
    the smallest encode made).

    Starts with the ``first`` qualities encoded side by side, then narrows the bracket as the
    module doc says, one quality a round, or (``paired``, for samples, whose encodes are cheap)
    that quality and the one above it side by side, which concludes more rounds.
    """
    probes = _encode_all(image, attempt, first)
    interpolations = 0
    while True:
        fitting = [p for p in probes if p.size <= target]
        misses = [p for p in probes if p.size > target]
        low = max(fitting, key=_quality, default=None)
        high = min(misses, key=_quality, default=None)
        smallest = min(probes, key=lambda p: p.size)
        ceiling = _quality(high) - 1 if high is not None else top  # highest quality not yet ruled out
        if low is not None and _quality(low) >= ceiling:
            return low, high, low
        if low is None and high is not None and _quality(high) <= floor:
            return None, high, smallest
        lowest = _quality(low) + 1 if low is not None else floor
        if low is not None and high is not None and interpolations >= _MAX_INTERPOLATIONS:
            quality = (_quality(low) + _quality(high)) // 2  # the model keeps missing: bisect
        else:
            quality = _secant(_nearest(probes, target), target, slope)
        interpolations += low is not None and high is not None
        quality = max(lowest, min(ceiling, quality))
        probes += _encode_all(
            image, attempt, [quality, quality + 1] if paired and quality < ceiling else [quality]
        )


def _encode_all(
    image: Image.Image, attempt: Callable[[Image.Image, int], _Attempt], qualities: list[int]
) -> list[_Attempt]:
    """Encodes at these qualities, side by side."""
    return _in_parallel(image, [functools.partial(_flipped, attempt, quality) for quality in qualities])


def _flipped(attempt: Callable[[Image.Image, int], _Attempt], quality: int, image: Image.Image) -> _Attempt:
    return attempt(image, quality)


def _in_parallel(image: Image.Image, calls: list[Callable[[Image.Image], T]]) -> list[T]:
    """Each call on the image, the first here and the others on the encoder threads."""
    # Each thread works on its own copy: Image.save keeps the encoder options on the image object.
    queued = [_ENCODERS.submit(lambda call: call(image.copy()), call) for call in calls[1:]]
    done = [calls[0](image)]
    for call, future in zip(calls[1:], queued, strict=True):
        # Work still queued (every encoder thread busy, e.g. inside "auto") runs here instead of
        # waiting behind work that may itself be waiting: nothing ever waits on a queued task.
        done.append(call(image) if future.cancel() else future.result())
    return done


def _nearest(probes: list[_Attempt], target: int) -> list[_Attempt]:
    """The (at most) two encodes nearest the target in log(size), for the secant."""
    by_distance = sorted(probes, key=lambda p: abs(math.log(p.size / target)))
    return by_distance[1::-1]  # the nearest last: the secant extrapolates from it


def _quality(attempt: _Attempt) -> int:
    assert attempt.quality is not None
    return attempt.quality


def _secant(points: list[_Attempt], target: int, slope: float) -> int:
    """The quality where log(size) reaches the target, extrapolated from the last encode given.

    The slope comes from the two encodes when there are two, else the format's typical one;
    aiming 1 % under the target and rounding down makes a first guess that fits likely.
    """
    latest = points[-1]
    if len(points) == 2 and points[0].size != latest.size and _quality(points[0]) != _quality(latest):
        measured = math.log(points[0].size / latest.size) / (_quality(points[0]) - _quality(latest))
        if measured > 0:
            slope = measured
    return _quality(latest) + math.floor(math.log(target * 0.99 / latest.size) / slope)


def _shrinking(
    image: Image.Image,
    target: int,
    search: Callable[[Image.Image], tuple[_Attempt | None, _Attempt]],
) -> _Attempt:
    """Run ``search`` at the full size, then at smaller sizes until something fits or we give up."""
    candidate = image
    smallest: _Attempt | None = None
    for _ in range(MAX_SHRINK_ROUNDS + 1):
        fitting, smallest_here = search(candidate)
        if fitting is not None:
            return fitting
        if smallest is None or smallest_here.size < smallest.size:
            smallest = smallest_here
        size = _smaller_size(candidate.size, smallest_here.size, target)
        if size is None:
            break
        candidate = scale_to(image, *size)
    assert smallest is not None
    return smallest


def _smaller_size(size: tuple[int, int], produced: int, target: int) -> tuple[int, int] | None:
    width, height = size
    long_side = max(width, height)
    if long_side <= MIN_SIDE:
        return None
    low, high = _SHRINK_BOUNDS
    factor = min(high, max(low, math.sqrt(target / produced) * _SHRINK_MARGIN))
    factor = max(factor, MIN_SIDE / long_side)  # the last round lands on MIN_SIDE exactly
    return max(1, round(width * factor)), max(1, round(height * factor))


def _jpeg_equivalent(avif_quality: int) -> int:
    return next((q for q in range(1, 101) if avif_quality_for(q) >= avif_quality), 100)


# PNG ---------------------------------------------------------------------------------------------


def _png(
    image: Image.Image,
    target: int | None,
    exif: bytes | None,
    icc_profile: bytes | None,
    check: Callable[[], None],
) -> _Attempt:
    def attempt(candidate: Image.Image, equivalent: int) -> _Attempt:
        check()
        data = encode(candidate, "png", exif=exif, icc_profile=icc_profile)
        return _Attempt(data, "png", None, equivalent, candidate.width, candidate.height)

    lossless = attempt(image, 100)
    if target is None or lossless.size <= target:
        return lossless
    # Opaque pixels in an alpha image are cheaper and better quantised without the channel.
    transparent = modes.has_transparency(image)

    def colours(candidate: Image.Image) -> tuple[_Attempt | None, _Attempt]:
        smallest: _Attempt | None = None
        last_count = 0
        for count in PNG_COLOURS:
            if smallest is not None and count != PNG_COLOURS[-1]:
                # Palette PNGs shrink about with the bits per pixel; skip counts that cannot fit.
                predicted = smallest.size * math.log2(count) / math.log2(last_count)
                if predicted > target * 1.25:
                    continue
            produced = attempt(_quantize(candidate, count, transparent), FLOOR_QUALITY)
            if produced.size <= target:
                return produced, produced
            if smallest is None or produced.size < smallest.size:
                smallest, last_count = produced, count
        assert smallest is not None
        return None, smallest

    return _shrinking(image, target, colours)


def _quantize(image: Image.Image, colours: int, transparent: bool) -> Image.Image:
    """The image reduced to a palette of at most ``colours`` entries, alpha kept when it is used."""
    if transparent:
        return image.convert("RGBA").quantize(colours, method=Image.Quantize.FASTOCTREE)
    rgb = modes.flatten(image).convert("RGB")
    sample = rgb.copy()
    sample.thumbnail((_PALETTE_SAMPLE, _PALETTE_SAMPLE), Image.Resampling.BILINEAR)
    palette = sample.quantize(colours, method=Image.Quantize.MEDIANCUT)
    # No dithering: its noise is what PNG's deflate compresses worst, and size is the point here.
    return rgb.quantize(colours, palette=palette, dither=Image.Dither.NONE)
