"""image-service: images, versions and pixel operations (subjects ``image.v1.*``).

Image bytes travel as frames (see ``imagetools_common.rpc.frames``): a JSON header model
followed by the raw bytes, so a 20 MB photo is never base64-encoded.

Errors it may return: ``not_found``, ``quota_exceeded``, ``validation_error`` (a bad operation
parameter, naming the field), ``unsupported_media_type`` (not an accepted image type),
``payload_too_large`` (too many pixels), ``conflict`` (nothing to undo or redo).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, model_validator

from imagetools_common import __version__
from imagetools_common.contracts.base import NO_NUL, Empty, Endpoint, Keyed, ServiceSpec, WireModel
from imagetools_common.contracts.session import SessionRef

SERVICE = ServiceSpec(
    name="image-service",
    version=__version__,
    subject_prefix="image.v1",
    description="Uploads, versions with undo and redo, and every pixel operation",
)

MAX_DIMENSION = 20_000
# Version numbers are PostgreSQL integers: anything larger is refused as invalid, not sent to the database.
MAX_VERSION = 2**31 - 1
HEX_COLOUR = r"^#[0-9a-fA-F]{6}$"


class ImageFormat(StrEnum):
    """Formats an upload may be in; decided from content, never from the name."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    GIF = "gif"
    BMP = "bmp"
    TIFF = "tiff"
    HEIF = "heif"
    AVIF = "avif"


OutputFormat = Literal["jpeg", "png", "webp", "avif"]
CompressFormat = Literal["jpeg", "png", "webp", "avif", "auto"]


# Operations ------------------------------------------------------------------------------------


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
    format: Literal["png", "webp", "jpeg"] = Field(
        "png", description="png or webp keep transparency; jpeg only over a colour, blur or image"
    )

    @model_validator(mode="after")
    def _consistent(self) -> RemoveBackgroundOp:
        if self.alpha_matting and self.background_threshold >= self.foreground_threshold:
            raise ValueError("background_threshold must be below foreground_threshold")
        if self.format == "jpeg" and self.background.kind == "transparent":
            raise ValueError("format: jpeg has no transparency; choose png or webp, or another background")
        return self


Operation = Annotated[
    CompressOp | ResizeOp | RotateOp | FlipOp | CropOp | ConvertOp | StripMetadataOp | RemoveBackgroundOp,
    Field(discriminator="type"),
]


# Images and versions ---------------------------------------------------------------------------


class CompressionOutcome(WireModel):
    target_met: bool = Field(description="Whether the file fits target_kb (true when there was none)")
    quality: int | None = Field(description="Final quality (None for lossless output)")
    width: int
    height: int
    bytes: int
    format: OutputFormat


class VersionInfo(WireModel):
    number: int = Field(description="1 is the original upload")
    operation: str = Field(description="upload, compress, resize, rotate, …")
    params: dict[str, Any] = Field(description="The operation's parameters as applied")
    format: ImageFormat
    width: int
    height: int
    bytes: int
    created_at: datetime
    compression: CompressionOutcome | None = None
    has_location: bool = Field(
        False, description="The file holds a location (GPS): made while keep_location was on, or read from it"
    )


class ImageInfo(WireModel):
    id: UUID
    filename: str = Field(description="Sanitised original name")
    download_name: str = Field(description="Name for the current version, with its extension")
    created_at: datetime
    current: VersionInfo = Field(description="The version shown and downloaded")
    versions: list[VersionInfo] = Field(description="History, oldest first; the original is always kept")
    can_undo: bool
    can_redo: bool
    first_frame_only: bool = Field(description="The upload was animated; only its first frame is kept")
    original_bytes: int = Field(description="Size of the upload as received")
    original_has_location: bool = Field(
        False, description="The upload (served byte for byte as the original) holds a location"
    )


class ImageList(WireModel):
    images: list[ImageInfo]
    max_images: int


class ImageRef(WireModel):
    session_id: UUID
    image_id: UUID


class HistoryStep(ImageRef, Keyed):
    """Undo or redo one step of an image's history."""


class ImageIds(WireModel):
    session_id: UUID
    image_ids: list[UUID] = Field(min_length=1, max_length=1000)


class Deleted(WireModel):
    deleted: int


class UploadHeader(Keyed):
    """Sent in the frame before the uploaded bytes."""

    session_id: UUID
    filename: str = Field(max_length=1024)


class ApplyRequest(Keyed):
    session_id: UUID
    image_id: UUID
    operation: Operation
    operation_id: UUID | None = Field(
        None, description="Names a long operation so CANCEL_SUBJECT can call it off (background removal)"
    )


class RevertRequest(Keyed):
    session_id: UUID
    image_id: UUID
    version: int = Field(ge=1, le=MAX_VERSION)


class ContentRequest(WireModel):
    session_id: UUID
    image_id: UUID
    version: int | None = Field(None, ge=1, le=MAX_VERSION, description="Default: the current version")
    kind: Literal["image", "original", "thumbnail"] = "image"


class ContentHeader(WireModel):
    """Sent in the reply frame before the bytes."""

    content_type: str
    filename: str
    etag: str
    bytes: int


class AddVersionHeader(WireModel):
    """Sent before the bytes of a version made elsewhere (an AI edit); image-service re-encodes them."""

    session_id: UUID
    image_id: UUID
    based_on: int = Field(
        ge=1, le=MAX_VERSION, description="The version it was made from; 409 if the image moved on meanwhile"
    )
    operation: Literal["ai_edit"]
    params: dict[str, str] = Field(
        description="What made it (e.g. model and instruction), shown in the history"
    )


class ImagesDeleted(WireModel):
    """Published on ``DELETED_EVENT`` after a delete, so other services drop what refers to those images."""

    session_id: UUID
    image_ids: list[UUID] | None = Field(description="The ids asked for; null: every image of the session")


class ImageCount(WireModel):
    count: int = Field(ge=0, description="Images the session holds now")


# Metadata --------------------------------------------------------------------------------------


class GpsPosition(WireModel):
    latitude: float
    longitude: float
    altitude_m: float | None = None
    map_url: str


class ImageMetadata(WireModel):
    camera: str | None = None
    lens: str | None = None
    exposure: str | None = Field(None, description="e.g. 1/120 s")
    aperture: str | None = Field(None, description="e.g. f/1.8")
    iso: int | None = None
    focal_length: str | None = Field(None, description="e.g. 26 mm")
    taken_at: str | None = Field(None, description="As recorded by the camera")
    orientation: int | None = None
    software: str | None = None
    gps: GpsPosition | None = None
    has_exif: bool = False


# Privacy ---------------------------------------------------------------------------------------


class PrivacySettings(WireModel):
    """What a session chose about metadata in the versions it makes (image-service applies it)."""

    keep_location: bool = Field(
        description="Keep the GPS location in edited copies made from now on (off: every copy drops it)"
    )


class PrivacyUpdate(PrivacySettings):
    session_id: UUID


# Presets and profiles --------------------------------------------------------------------------


class Preset(WireModel):
    id: str = Field(description="email, web, web_hq, or a profile id")
    name: str
    settings: CompressionSettings
    system: bool = Field(description="A built-in preset (possibly overridden by this session)")
    overridden: bool = False


class PresetList(WireModel):
    presets: list[Preset]


MAX_PROFILE_ID = 64


class ProfileBody(WireModel):
    name: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    settings: CompressionSettings


class ProfileCreate(WireModel):
    session_id: UUID
    profile: ProfileBody


class ProfileUpdate(WireModel):
    session_id: UUID
    profile_id: str = Field(max_length=MAX_PROFILE_ID)
    profile: ProfileBody


class ProfileRef(WireModel):
    session_id: UUID
    profile_id: str = Field(max_length=MAX_PROFILE_ID)


class BackgroundModel(WireModel):
    id: str = Field(description="What RemoveBackgroundOp.model takes")
    label: str
    default: bool = Field(description="Used when the operation names no model (BG_MODEL)")


class BackgroundTiming(WireModel):
    """Measured on this replica: expected seconds = base + per_megapixel × megapixels."""

    base_seconds: float
    per_megapixel_seconds: float


class BackgroundModels(WireModel):
    models: list[BackgroundModel] = Field(description="Only models whose file is installed and loaded")
    default: str
    timing: BackgroundTiming | None = None


class MaskRequest(WireModel):
    session_id: UUID
    image_id: UUID
    version: int | None = Field(None, ge=1, le=MAX_VERSION, description="Default: the current version")


class CancelOperation(WireModel):
    """Published on CANCEL_SUBJECT when the caller gave up (the browser went away)."""

    operation_id: UUID


COUNT = Endpoint(SERVICE, "count", SessionRef, ImageCount, read_only=True)
LIST = Endpoint(SERVICE, "list", SessionRef, ImageList, read_only=True)
GET = Endpoint(SERVICE, "get", ImageRef, ImageInfo, read_only=True)
DELETE = Endpoint(SERVICE, "delete", ImageIds, Deleted)
CLEAR = Endpoint(SERVICE, "clear", SessionRef, Deleted)
METADATA = Endpoint(SERVICE, "metadata", ImageRef, ImageMetadata, read_only=True)
# Changes that may take long (pixel work, or a wait for the image's lock) beat while they work.
APPLY = Endpoint(SERVICE, "apply", ApplyRequest, ImageInfo, timeout=60.0, heartbeat=True)
UNDO = Endpoint(SERVICE, "undo", HistoryStep, ImageInfo, heartbeat=True)
REDO = Endpoint(SERVICE, "redo", HistoryStep, ImageInfo, heartbeat=True)
REVERT = Endpoint(SERVICE, "revert", RevertRequest, ImageInfo, heartbeat=True)
PRESETS = Endpoint(SERVICE, "presets", SessionRef, PresetList, read_only=True)
PROFILE_CREATE = Endpoint(SERVICE, "profile_create", ProfileCreate, Preset)
PROFILE_UPDATE = Endpoint(SERVICE, "profile_update", ProfileUpdate, Preset)
PROFILE_DELETE = Endpoint(SERVICE, "profile_delete", ProfileRef, PresetList)
# Binary endpoints: frames of (header model, bytes).
UPLOAD = Endpoint(SERVICE, "upload", UploadHeader, ImageInfo, timeout=60.0, request_body=True, heartbeat=True)
CONTENT = Endpoint(
    SERVICE, "content", ContentRequest, ContentHeader, timeout=30.0, reply_body=True, read_only=True
)
ADD_VERSION = Endpoint(
    SERVICE, "add_version", AddVersionHeader, ImageInfo, timeout=60.0, request_body=True, heartbeat=True
)
PRIVACY = Endpoint(SERVICE, "privacy", SessionRef, PrivacySettings, read_only=True)
PRIVACY_SET = Endpoint(SERVICE, "privacy_set", PrivacyUpdate, PrivacySettings)
BACKGROUND_MODELS = Endpoint(SERVICE, "background_models", Empty, BackgroundModels, read_only=True)
MASK = Endpoint(SERVICE, "mask", MaskRequest, ContentHeader, timeout=30.0, reply_body=True, read_only=True)
# How long a caller waits for a remove_background APPLY: the service answers within its own timeout.
BACKGROUND_APPLY_TIMEOUT = MAX_BACKGROUND_SECONDS + 15.0
# Broadcast (every replica hears it, unlike an endpoint's queue group): stop an operation by id.
CANCEL_SUBJECT = "image.v1.events.cancel"
# An event, not an endpoint: published (fire and forget) after images are deleted.
DELETED_EVENT = "image.v1.events.deleted"
