"""What a user can ask an image to become: every operation's parameters, chosen by ``type``.

The parameters only; where each operation type runs is decided once in ``contracts.registry``.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, model_validator

from imagetools_common.contracts.base import WireModel

MAX_DIMENSION = 20_000
HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"


OutputFormat = Literal["jpeg", "png", "webp", "avif"]
CompressFormat = Literal["jpeg", "png", "webp", "avif", "auto"]


class CompressionSettings(WireModel):
    """What a preset or profile stands for; also the body of a custom compression."""

    max_width: int | None = Field(None, ge=1, le=MAX_DIMENSION, description="Longest allowed width, px")
    max_height: int | None = Field(None, ge=1, le=MAX_DIMENSION, description="Longest allowed height, px")
    quality: int = Field(
        85, ge=1, le=100, description="Starting (best) quality; the search goes down from here"
    )
    target_kb: int | None = Field(None, ge=1, le=102_400, description="Largest acceptable file, KiB")
    format: CompressFormat = Field("jpeg", description="Output format; auto picks the smallest")
    keep_aspect: bool = Field(True, description="Scale both sides together")


class CompressOp(WireModel):
    type: Literal["compress"] = "compress"
    preset: str | None = Field(
        None, max_length=64, description="email, web, web_hq, or a profile id; omit to send settings"
    )
    settings: CompressionSettings | None = Field(None, description="Custom settings instead of a preset")

    @model_validator(mode="after")
    def _one_source(self) -> CompressOp:
        if (self.preset is None) == (self.settings is None):
            raise ValueError("give exactly one of preset or settings")
        return self


class ResizeOp(WireModel):
    type: Literal["resize"] = "resize"
    width: int | None = Field(None, ge=1, le=MAX_DIMENSION, description="Target width, px")
    height: int | None = Field(None, ge=1, le=MAX_DIMENSION, description="Target height, px")
    percent: float | None = Field(None, gt=0, le=1000, description="Scale by this percentage instead")
    keep_aspect: bool = Field(True, description="With width and height: fit inside that box")
    allow_upscale: bool = Field(False, description="Allow making the image larger")
    format: OutputFormat | None = Field(
        None,
        description="Also re-encode as this format, in the same version (an AI edit back to the original)",
    )

    @model_validator(mode="after")
    def _one_mode(self) -> ResizeOp:
        if self.percent is not None and (self.width or self.height):
            raise ValueError("give either percent or width/height, not both")
        if self.percent is None and not (self.width or self.height):
            raise ValueError("give width, height or percent")
        return self


class RotateOp(WireModel):
    type: Literal["rotate"] = "rotate"
    degrees: Literal[90, 180, 270] = Field(description="Clockwise")


class FlipOp(WireModel):
    type: Literal["flip"] = "flip"
    direction: Literal["horizontal", "vertical"]


class CropOp(WireModel):
    type: Literal["crop"] = "crop"
    x: int = Field(ge=0, description="Left edge, px of the current version")
    y: int = Field(ge=0, description="Top edge, px")
    width: int = Field(ge=1, description="px")
    height: int = Field(ge=1, description="px")


class ConvertOp(WireModel):
    type: Literal["convert"] = "convert"
    format: OutputFormat
    quality: int | None = Field(None, ge=1, le=100, description="Lossy quality; default keeps the source's")
    background: str = Field(
        "#ffffff", pattern=HEX_COLOUR, description="Fills transparency when the format has none"
    )


class StripMetadataOp(WireModel):
    type: Literal["strip_metadata"] = "strip_metadata"
    what: Literal["all", "gps"] = Field("all", description="Everything, or only the location")


# Background removal ----------------------------------------------------------------------------

MODEL_ID = r"^[a-z0-9][a-z0-9._-]{0,63}$"
# The longest BG_TIMEOUT_SECONDS may be; callers wait a little longer than that for the answer.
MAX_BACKGROUND_SECONDS = 600


class TransparentBackground(WireModel):
    kind: Literal["transparent"] = "transparent"


class ColourBackground(WireModel):
    kind: Literal["colour"] = "colour"
    colour: str = Field(pattern=HEX_COLOUR, description="#rrggbb")


class BlurBackground(WireModel):
    kind: Literal["blur"] = "blur"
    radius: int = Field(ge=1, le=100, description="Gaussian blur radius of the original, in its pixels")


class ImageBackground(WireModel):
    kind: Literal["image"] = "image"
    image_id: UUID = Field(description="Another image of this session (current version), scaled to cover")


Background = Annotated[
    TransparentBackground | ColourBackground | BlurBackground | ImageBackground, Field(discriminator="kind")
]


BackgroundFormat = Literal["png", "webp", "jpeg"]


class RemoveBackgroundOp(WireModel):
    type: Literal["remove_background"] = "remove_background"
    model: str | None = Field(
        None, pattern=MODEL_ID, description="A model id from GET /api/v1/background/models; null: the default"
    )
    alpha_matting: bool = Field(False, description="Refine soft edges (hair, fur) with closed-form matting")
    foreground_threshold: int = Field(240, ge=0, le=255, description="Matting: mask values above are subject")
    background_threshold: int = Field(10, ge=0, le=255, description="Matting: mask values below are backdrop")
    erode_size: int = Field(10, ge=0, le=64, description="Matting: how far the sure regions are shrunk, px")
    post_process_mask: bool = Field(False, description="Smooth the mask and make it hard-edged")
    background: Background = Field(
        default_factory=TransparentBackground, description="What shows where the background was"
    )
    format: BackgroundFormat | None = Field(
        None,
        description="png or webp keep transparency; jpeg only over a colour, blur or image; "
        "null: jpeg over a fill, webp when transparent (docs/PERFORMANCE.md)",
    )
    max_edge: int | None = Field(
        None,
        ge=64,
        le=MAX_DIMENSION,
        description="Longest side of the result, px (never enlarged); null: the source's size",
    )

    @model_validator(mode="after")
    def _consistent(self) -> RemoveBackgroundOp:
        if self.alpha_matting and self.background_threshold >= self.foreground_threshold:
            raise ValueError("background_threshold must be below foreground_threshold")
        if self.format == "jpeg" and self.background.kind == "transparent":
            raise ValueError("format: jpeg has no transparency; choose png or webp, or another background")
        return self

    @property
    def output_format(self) -> BackgroundFormat:
        """The format asked for, or the default: a filled background has no alpha to keep, so JPEG;
        a transparent one lossy WebP with lossless alpha (smaller and faster than PNG, measured)."""
        if self.format is not None:
            return self.format
        return "webp" if self.background.kind == "transparent" else "jpeg"


# The erase/restore brush ---------------------------------------------------------------------

# One save holds at most this much painting: a person's touch-up, not a drawing program's file
# (the client asks to save before more); 10 000 points stay far inside the 256 KiB JSON limit.
BRUSH_MAX_STROKES = 100
BRUSH_MAX_POINTS_PER_STROKE = 1000
BRUSH_MAX_POINTS = 10_000

Fraction = Annotated[float, Field(ge=0, le=1)]


class BrushStroke(WireModel):
    """One stroke, resolution-independent: the same path paints any size of the picture alike."""

    mode: Literal["erase", "restore"] = Field(description="erase: make transparent; restore: bring back")
    radius: float = Field(gt=0, le=0.5, description="Brush radius as a fraction of the picture's longer side")
    points: list[tuple[Fraction, Fraction]] = Field(
        min_length=1,
        max_length=BRUSH_MAX_POINTS_PER_STROKE,
        description="The path as [x, y] pairs, 0..1 of the width and height from the top left",
    )


class BrushOp(WireModel):
    type: Literal["brush"] = "brush"
    version: int = Field(
        ge=1,
        le=2**31 - 1,
        description="The version painted on: no longer current is 409, nothing changed",
    )
    strokes: list[BrushStroke] = Field(
        min_length=1, max_length=BRUSH_MAX_STROKES, description="Applied in order on that version's mask"
    )

    @model_validator(mode="after")
    def _bounded(self) -> BrushOp:
        total = sum(len(stroke.points) for stroke in self.strokes)
        if total > BRUSH_MAX_POINTS:
            raise ValueError(f"strokes: {total} points in all; at most {BRUSH_MAX_POINTS} per save")
        return self


Operation = Annotated[
    CompressOp
    | ResizeOp
    | RotateOp
    | FlipOp
    | CropOp
    | ConvertOp
    | StripMetadataOp
    | RemoveBackgroundOp
    | BrushOp,
    Field(discriminator="type"),
]
