"""image-service: images, versions and pixel operations (subjects ``image.v1.*``).

Image bytes travel as frames (see ``imagetools_common.rpc.frames``): a JSON header model
followed by the raw bytes, so a 20 MB photo is never base64-encoded.

Errors it may return: ``not_found``, ``quota_exceeded``, ``validation_error`` (a bad operation
parameter, naming the field), ``unsupported_media_type`` (not an accepted image type),
``payload_too_large`` (too many pixels), ``conflict`` (nothing to undo or redo).

The operation parameters (``contracts.operations``) and presets (``contracts.presets``) live in
modules of their own and are re-exported here, so callers name all of it ``contract.X``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from imagetools_common import __version__
from imagetools_common.contracts.base import (
    MAX_VERSION,
    Delivery,
    Empty,
    Endpoint,
    Event,
    Keyed,
    ServiceSpec,
    WireModel,
)
from imagetools_common.contracts.operations import (
    HEX_COLOUR,
    MAX_BACKGROUND_SECONDS,
    MAX_DIMENSION,
    MODEL_ID,
    Background,
    BlurBackground,
    BrushOp,
    BrushStroke,
    ColourBackground,
    CompressFormat,
    CompressionSettings,
    CompressOp,
    ConvertOp,
    CropOp,
    FlipOp,
    ImageBackground,
    Operation,
    OutputFormat,
    RemoveBackgroundOp,
    ResizeOp,
    RotateOp,
    StripMetadataOp,
    TransparentBackground,
)
from imagetools_common.contracts.presets import (
    MAX_PROFILE_ID,
    Preset,
    PresetList,
    ProfileBody,
    ProfileCreate,
    ProfileRef,
    ProfileUpdate,
)
from imagetools_common.contracts.session import SessionRef
from imagetools_common.contracts.share_links import (
    MAX_SHARE_HOURS,
    MIN_SHARE_HOURS,
    SharedFile,
    SharedRequest,
    ShareLinkCreate,
    ShareLinkCreated,
    ShareLinkInfo,
    ShareLinkList,
    ShareLinkRef,
)

# Re-exported: the service's vocabulary from its concept modules.
__all__ = [
    "HEX_COLOUR",
    "MAX_BACKGROUND_SECONDS",
    "MAX_DIMENSION",
    "MAX_PROFILE_ID",
    "MAX_SHARE_HOURS",
    "MAX_VERSION",
    "MIN_SHARE_HOURS",
    "MODEL_ID",
    "Background",
    "BlurBackground",
    "BrushOp",
    "BrushStroke",
    "ColourBackground",
    "CompressFormat",
    "CompressOp",
    "CompressionSettings",
    "ConvertOp",
    "CropOp",
    "FlipOp",
    "ImageBackground",
    "Operation",
    "OutputFormat",
    "Preset",
    "PresetList",
    "ProfileBody",
    "ProfileCreate",
    "ProfileRef",
    "ProfileUpdate",
    "RemoveBackgroundOp",
    "ResizeOp",
    "RotateOp",
    "ShareLinkCreate",
    "ShareLinkCreated",
    "ShareLinkInfo",
    "ShareLinkList",
    "ShareLinkRef",
    "SharedFile",
    "SharedRequest",
    "StripMetadataOp",
    "TransparentBackground",
]

SERVICE = ServiceSpec(
    name="image-service",
    version=__version__,
    subject_prefix="image.v1",
    description="Uploads, versions with undo and redo, and every pixel operation",
)


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


# Images and versions ---------------------------------------------------------------------------


class CompressionCompromises(WireModel):
    """What meeting a size target cost, so the result can say so instead of just "target met".

    Defaults describe versions made before these were recorded: nothing is claimed for them.
    """

    fitted_width: int | None = Field(
        None, description="Width the settings' box allowed, before any shrinking to reach the target"
    )
    fitted_height: int | None = Field(None, description="Height the settings' box allowed (see fitted_width)")
    jpeg_quality: int | None = Field(
        None, description="The quality on the JPEG scale (AVIF's mapped back); None for lossless output"
    )
    shrunk_for_target: bool = Field(
        False, description="The target needed shrinking below half of fitted_width x fitted_height"
    )
    low_quality_for_target: bool = Field(
        False, description="The target needed a JPEG-scale quality below 60 (and below the one asked for)"
    )


class CompressionOutcome(CompressionCompromises):
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
    original_format: ImageFormat = Field(
        description="Format of the upload as received (HEIF/HEIC is edited as a JPEG or PNG working copy)"
    )
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
        None, description="Names a cancellable operation so the CANCEL event can call it off"
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
    """Published as ``IMAGES_DELETED`` after a delete, so other services drop what refers to those images."""

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


# Background removal ----------------------------------------------------------------------------


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
    """Published as ``CANCEL`` when the caller of a cancellable operation gave up (the browser went away)."""

    operation_id: UUID


COUNT = Endpoint(SERVICE, "count", SessionRef, ImageCount, read_only=True)
LIST = Endpoint(SERVICE, "list", SessionRef, ImageList, read_only=True)
GET = Endpoint(SERVICE, "get", ImageRef, ImageInfo, read_only=True)
DELETE = Endpoint(SERVICE, "delete", ImageIds, Deleted)
CLEAR = Endpoint(SERVICE, "clear", SessionRef, Deleted)
METADATA = Endpoint(SERVICE, "metadata", ImageRef, ImageMetadata, read_only=True)
# Changes that may take long (pixel work, or a wait for the image's lock) beat while they work.
# Which operation type goes to which apply endpoint is decided in ``contracts.registry``.
APPLY = Endpoint(SERVICE, "apply", ApplyRequest, ImageInfo, timeout=60.0, heartbeat=True)
# Queued on one model run per replica; the service answers within BG_TIMEOUT_SECONDS, its caller
# waits a little longer than the longest that may be.
REMOVE_BACKGROUND = Endpoint(
    SERVICE,
    "remove_background",
    ApplyRequest,
    ImageInfo,
    timeout=MAX_BACKGROUND_SECONDS + 15.0,
    heartbeat=True,
)
# The erase/restore brush: a re-composition from the stored mask and the pixels it was cut from.
BRUSH = Endpoint(SERVICE, "brush", ApplyRequest, ImageInfo, timeout=60.0, heartbeat=True)
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
# Share links (contracts.share_links): made, listed and revoked by their session; resolved by anyone
# holding a token, without a session.
SHARE_CREATE = Endpoint(SERVICE, "share_create", ShareLinkCreate, ShareLinkCreated)
SHARE_LIST = Endpoint(SERVICE, "share_list", ImageRef, ShareLinkList, read_only=True)
SHARE_REVOKE = Endpoint(SERVICE, "share_revoke", ShareLinkRef, Empty)
SHARED = Endpoint(SERVICE, "shared", SharedRequest, SharedFile, read_only=True)
SHARED_CONTENT = Endpoint(
    SERVICE, "shared_content", SharedRequest, SharedFile, timeout=30.0, reply_body=True, read_only=True
)

# Events (fire and forget). Every replica hears a cancel: only the one running the operation acts.
CANCEL = Event(SERVICE, "cancel", CancelOperation, Delivery.BROADCAST)
IMAGES_DELETED = Event(SERVICE, "deleted", ImagesDeleted, Delivery.QUEUE)
