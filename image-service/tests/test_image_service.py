"""image-service on its own over real NATS and PostgreSQL: uploads, versions, operations, presets."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from PIL import Image

from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from image_service.settings import ImageSettings
from imagetools_common.contracts import image as contract
from imagetools_common.contracts import session
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    QuotaExceeded,
    UnsupportedMediaType,
    ValidationFailed,
)
from imagetools_common.rpc import RpcClient
from imagetools_common.testing import media
from imagetools_common.testing.services import running, settings_for
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings

UNDO_LIMIT = 3


@pytest.fixture(scope="module")
def phone_photo() -> bytes:
    """A 4000×3000 JPEG with camera EXIF and a GPS position, like a phone's."""
    return media.jpeg(media.photo(4000, 3000), quality=92, exif=media.camera_exif())


@pytest.fixture
async def services(base_env: dict[str, str]) -> AsyncIterator[None]:
    images = settings_for(ImageSettings, base_env, undo_stack_limit=UNDO_LIMIT, max_image_megapixels=50)
    async with (
        running(
            session.SERVICE,
            settings_for(SessionSettings, base_env),
            register_sessions,
            storage=SESSION_STORAGE,
        ),
        running(contract.SERVICE, images, register_images, storage=IMAGE_STORAGE),
    ):
        yield


@pytest.fixture
async def rpc(services: None, nc: NATS) -> RpcClient:
    return RpcClient(nc)


@pytest.fixture
async def session_id(rpc: RpcClient) -> UUID:
    return (await rpc.call(session.CREATE, Empty())).session.id


async def upload(
    rpc: RpcClient, session_id: UUID, data: bytes, name: str = "IMG_0001.JPG"
) -> contract.ImageInfo:
    return await rpc.send(contract.UPLOAD, contract.UploadHeader(session_id=session_id, filename=name), data)


async def content(
    rpc: RpcClient, session_id: UUID, image_id: UUID, **kw: object
) -> tuple[contract.ContentHeader, bytes]:
    return await rpc.fetch(
        contract.CONTENT, contract.ContentRequest(session_id=session_id, image_id=image_id, **kw)
    )


async def apply(rpc: RpcClient, session_id: UUID, image_id: UUID, op: object) -> contract.ImageInfo:
    return await rpc.call(
        contract.APPLY, contract.ApplyRequest(session_id=session_id, image_id=image_id, operation=op)
    )


def pixels(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


# Upload ----------------------------------------------------------------------------------------


async def test_upload_keeps_the_original_byte_for_byte(
    rpc: RpcClient, session_id: UUID, phone_photo: bytes
) -> None:
    """An upload becomes version 1 with a thumbnail, and the original comes back exactly as sent."""
    info = await upload(rpc, session_id, phone_photo, "../../etc/IMG_0001.JPG")
    assert info.filename == "IMG_0001.JPG" and info.download_name == "IMG_0001.jpg"
    assert (info.current.number, info.current.format, info.current.width, info.current.height) == (
        1,
        "jpeg",
        4000,
        3000,
    )
    assert not info.can_undo and not info.can_redo and info.original_bytes == len(phone_photo)
    header, original = await content(rpc, session_id, info.id, kind="original")
    assert original == phone_photo and header.content_type == "image/jpeg"
    header, thumb = await content(rpc, session_id, info.id, kind="thumbnail")
    assert header.content_type == "image/webp" and max(pixels(thumb).size) <= 320


async def test_content_names_the_bytes_it_serves(rpc: RpcClient, session_id: UUID) -> None:
    """Each version, its thumbnail and the original come with their own type, download name and ETag."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(320, 240)), "Holiday.JPG")
    await apply(rpc, session_id, info.id, contract.ConvertOp(format="png"))
    served = {
        (kind, version): (await content(rpc, session_id, info.id, kind=kind, version=version))[0]
        for kind in ("image", "thumbnail", "original")
        for version in (None, 1)
    }
    seen = {
        key: (h.content_type, h.filename, h.etag.strip('"').removeprefix(f"{info.id}-"))
        for key, h in served.items()
    }
    assert seen == {
        ("image", None): ("image/png", "Holiday.png", "v2"),
        ("image", 1): ("image/jpeg", "Holiday.jpg", "v1"),
        ("thumbnail", None): ("image/webp", "Holiday.webp", "t2"),
        ("thumbnail", 1): ("image/webp", "Holiday.webp", "t1"),
        ("original", None): ("image/jpeg", "Holiday.JPG", "original"),
        ("original", 1): ("image/jpeg", "Holiday.JPG", "original"),
    }
    _, data = await content(rpc, session_id, info.id, version=1)
    assert served["image", 1].bytes == len(data) and pixels(data).format == "JPEG"
    with pytest.raises(NotFound, match="no such image or version"):
        await content(rpc, session_id, info.id, version=3)


async def test_exif_orientation_is_applied_to_the_working_copy(rpc: RpcClient, session_id: UUID) -> None:
    """A portrait photo stored sideways with Orientation=6 becomes an upright 3000×4000 working copy."""
    sideways = media.jpeg(media.photo(1200, 900), exif=media.camera_exif(orientation=6))
    info = await upload(rpc, session_id, sideways)
    assert (info.current.width, info.current.height) == (900, 1200)
    _, data = await content(rpc, session_id, info.id)
    assert pixels(data).size == (900, 1200)
    assert pixels(data).getexif().get(media.ORIENTATION, 1) == 1
    _, original = await content(rpc, session_id, info.id, kind="original")
    assert original == sideways


async def test_heic_is_kept_and_shown_as_jpeg(rpc: RpcClient, session_id: UUID) -> None:
    """An iPhone HEIC is kept as uploaded, and its working copy is a JPEG every browser can show."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    heic = media.encoded(media.photo(800, 600), "HEIF", quality=80)
    info = await upload(rpc, session_id, heic, "IMG_0002.HEIC")
    assert info.versions[0].params == {"format": "heif"} and info.current.format == "jpeg"
    assert info.original_format == "heif"  # the card and the history say "HEIC original · editing as JPEG"
    assert info.download_name == "IMG_0002.jpg"
    _, original = await content(rpc, session_id, info.id, kind="original")
    assert original == heic


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"<html><body>hello</body></html>", UnsupportedMediaType, "JPEG"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', UnsupportedMediaType, "AVIF"),
        (b"", ValidationFailed, "empty"),
    ],
    ids=["html", "svg", "empty"],
)
async def test_unsupported_files_are_refused_and_nothing_is_stored(
    rpc: RpcClient, session_id: UUID, data: bytes, error: type[Exception], words: str
) -> None:
    """Non-images are refused with the accepted types listed, and the session holds nothing."""
    with pytest.raises(error, match=words):
        await upload(rpc, session_id, data, "evil.jpg")
    assert (await rpc.call(contract.COUNT, session.SessionRef(session_id=session_id))).count == 0


async def test_bombs_and_truncated_files_are_refused(
    rpc: RpcClient, session_id: UUID, phone_photo: bytes
) -> None:
    """A decompression bomb is too large (naming the limit) and a truncated JPEG is corrupt."""
    with pytest.raises(PayloadTooLarge, match="50"):
        await upload(rpc, session_id, media.decompression_bomb())
    with pytest.raises(ValidationFailed, match="truncated or corrupt"):
        await upload(rpc, session_id, phone_photo[: len(phone_photo) // 2])
    assert (await rpc.call(contract.COUNT, session.SessionRef(session_id=session_id))).count == 0


async def test_the_quota_holds_under_concurrent_uploads(rpc: RpcClient, session_id: UUID) -> None:
    """With 4 free slots, 10 simultaneous uploads store exactly 4; the rest are told the session is full."""
    small = media.jpeg(media.photo(320, 240))
    await upload(rpc, session_id, small)
    results = await asyncio.gather(
        *(upload(rpc, session_id, small) for _ in range(10)), return_exceptions=True
    )
    assert sum(isinstance(r, contract.ImageInfo) for r in results) == 4
    refused = [r for r in results if not isinstance(r, contract.ImageInfo)]
    assert len(refused) == 6 and all(isinstance(r, QuotaExceeded) for r in refused)
    assert "5 of 5" in str(refused[0])
    assert (await rpc.call(contract.COUNT, session.SessionRef(session_id=session_id))).count == 5


async def test_images_are_private_to_their_session(rpc: RpcClient, session_id: UUID) -> None:
    """Another session cannot read, change or delete an image, even knowing its id."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(320, 240)))
    other = (await rpc.call(session.CREATE, Empty())).session.id
    for kind in ("image", "thumbnail", "original"):
        for version in (None, 1):
            with pytest.raises(NotFound):
                await content(rpc, other, info.id, kind=kind, version=version)
    with pytest.raises(NotFound):
        await rpc.call(contract.METADATA, contract.ImageRef(session_id=other, image_id=info.id))
    with pytest.raises(NotFound):
        await apply(rpc, other, info.id, contract.RotateOp(degrees=90))
    gone = await rpc.call(contract.DELETE, contract.ImageIds(session_id=other, image_ids=[info.id]))
    assert gone.deleted == 0


# Versions --------------------------------------------------------------------------------------


async def test_undo_redo_and_revert(rpc: RpcClient, session_id: UUID) -> None:
    """Each operation is a version; undo and redo move between them; revert jumps to any."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(640, 480)))
    ref = contract.ImageRef(session_id=session_id, image_id=info.id)
    rotated = await apply(rpc, session_id, info.id, contract.RotateOp(degrees=90))
    assert (rotated.current.width, rotated.current.height) == (480, 640) and rotated.can_undo
    flipped = await apply(rpc, session_id, info.id, contract.FlipOp(direction="horizontal"))
    assert [v.operation for v in flipped.versions] == ["upload", "rotate", "flip"]
    undone = await rpc.call(contract.UNDO, ref)
    assert undone.current.operation == "rotate" and undone.can_redo
    redone = await rpc.call(contract.REDO, ref)
    assert redone.current.operation == "flip" and not redone.can_redo
    with pytest.raises(Conflict, match="nothing to redo"):
        await rpc.call(contract.REDO, ref)
    back = await rpc.call(
        contract.REVERT, contract.RevertRequest(session_id=session_id, image_id=info.id, version=1)
    )
    assert back.current.number == 1 and not back.can_undo
    with pytest.raises(Conflict, match="nothing to undo"):
        await rpc.call(contract.UNDO, ref)


async def test_a_new_edit_drops_the_redo_branch_and_never_reuses_numbers(
    rpc: RpcClient, session_id: UUID
) -> None:
    """After undo, a new edit replaces the undone one under a fresh number (cached URLs stay true)."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(640, 480)))
    await apply(rpc, session_id, info.id, contract.RotateOp(degrees=90))
    await rpc.call(contract.UNDO, contract.ImageRef(session_id=session_id, image_id=info.id))
    flipped = await apply(rpc, session_id, info.id, contract.FlipOp(direction="vertical"))
    assert [(v.number, v.operation) for v in flipped.versions] == [(1, "upload"), (3, "flip")]


async def test_history_is_bounded_but_keeps_the_original(
    rpc: RpcClient, session_id: UUID, db_pool: asyncpg.Pool
) -> None:
    """Past UNDO_STACK_LIMIT edits the oldest edits go; the original upload always stays."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(320, 240)))
    for _ in range(UNDO_LIMIT + 3):
        latest = await apply(rpc, session_id, info.id, contract.RotateOp(degrees=90))
    # Six edits made versions 2..7; the newest three of them stay, with the original.
    assert [v.number for v in latest.versions] == [1, 5, 6, 7]
    stored = await db_pool.fetchval("SELECT count(*) FROM images.versions WHERE image_id = $1", info.id)
    assert stored == UNDO_LIMIT + 1


async def test_resize_brings_a_version_back_to_the_original_size_and_format(
    rpc: RpcClient, session_id: UUID
) -> None:
    """Back to the original's size and format in one version (an AI edit that came back small as PNG)."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(800, 600), quality=90))
    small = await apply(rpc, session_id, info.id, contract.ResizeOp(width=400, height=300))
    op = contract.ResizeOp(width=800, height=600, keep_aspect=False, allow_upscale=True, format="png")
    back = await apply(rpc, session_id, info.id, op)
    assert back.current.number == small.current.number + 1
    assert (back.current.width, back.current.height, back.current.format) == (800, 600, "png")
    _, data = await content(rpc, session_id, info.id)
    assert pixels(data).format == "PNG" and pixels(data).size == (800, 600)


async def test_geometry_keeps_jpeg_quality(rpc: RpcClient, session_id: UUID) -> None:
    """Rotating a q70 JPEG re-uses its quantisation: the file stays about as small, not inflated to q95."""
    source = media.jpeg(media.photo(1600, 1200), quality=70)
    info = await upload(rpc, session_id, source)
    rotated = await apply(rpc, session_id, info.id, contract.RotateOp(degrees=180))
    assert rotated.current.bytes < len(source) * 1.15
    _, data = await content(rpc, session_id, info.id)
    assert pixels(data).quantization == pixels(source).quantization


# Compression -----------------------------------------------------------------------------------


async def test_email_preset_meets_its_target(rpc: RpcClient, session_id: UUID, phone_photo: bytes) -> None:
    """The email preset makes a ≤800 px JPEG of at most 500 KB and says the target was met."""
    info = await upload(rpc, session_id, phone_photo)
    result = await apply(rpc, session_id, info.id, contract.CompressOp(preset="email"))
    outcome = result.current.compression
    assert outcome is not None and outcome.target_met and outcome.format == "jpeg"
    assert max(outcome.width, outcome.height) <= 800 and outcome.bytes <= 500 * 1024
    assert result.current.bytes == outcome.bytes and result.download_name == "IMG_0001.jpg"
    assert (outcome.fitted_width, outcome.fitted_height) == (800, 600) and not outcome.shrunk_for_target
    assert info.original_format == "jpeg"


async def test_a_tight_target_version_records_its_shrink(rpc: RpcClient, session_id: UUID) -> None:
    """3 KB in a 1280 px box: the version's outcome says it was shrunk below half of the box's 1280x960."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(1600, 1200), quality=90))
    settings = contract.CompressionSettings(max_width=1280, max_height=1280, target_kb=3, format="jpeg")
    result = await apply(rpc, session_id, info.id, contract.CompressOp(settings=settings))
    outcome = result.current.compression
    assert outcome is not None and outcome.target_met and outcome.bytes <= 3 * 1024
    assert (outcome.fitted_width, outcome.fitted_height) == (1280, 960)
    assert outcome.shrunk_for_target and outcome.width * 2 < 1280


async def test_recompressing_starts_from_the_uncompressed_version(rpc: RpcClient, session_id: UUID) -> None:
    """Compressing a compressed version starts again from the last uncompressed one: no compounded loss."""
    photo = media.jpeg(media.photo(1600, 1200))
    twice = await upload(rpc, session_id, photo)
    once = await upload(rpc, session_id, photo)
    await apply(rpc, session_id, twice.id, contract.CompressOp(preset="email"))
    second = await apply(rpc, session_id, twice.id, contract.CompressOp(preset="web"))
    direct = await apply(rpc, session_id, once.id, contract.CompressOp(preset="web"))
    assert second.current.bytes == direct.current.bytes
    assert (await content(rpc, session_id, twice.id))[1] == (await content(rpc, session_id, once.id))[1]


async def test_unknown_presets_and_bad_crops_name_the_field(rpc: RpcClient, session_id: UUID) -> None:
    """An unknown preset and a crop outside the image are 422s naming the field, and change nothing."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(640, 480)))
    with pytest.raises(ValidationFailed) as caught:
        await apply(rpc, session_id, info.id, contract.CompressOp(preset="tiny"))
    assert caught.value.details["field"] == "preset"
    with pytest.raises(ValidationFailed) as caught:
        await apply(rpc, session_id, info.id, contract.CropOp(x=600, y=0, width=100, height=100))
    assert caught.value.details["field"] in ("x", "width")
    unchanged = await rpc.call(contract.GET, contract.ImageRef(session_id=session_id, image_id=info.id))
    assert len(unchanged.versions) == 1


async def test_profiles_and_preset_overrides(rpc: RpcClient, session_id: UUID) -> None:
    """A session can save profiles, override a system preset, reset it, compress with a profile, and
    delete it: afterwards the session has neither profile nor override."""
    settings = contract.CompressionSettings(
        max_width=300, max_height=300, quality=80, target_kb=40, format="webp"
    )
    profile = await rpc.call(
        contract.PROFILE_CREATE,
        contract.ProfileCreate(
            session_id=session_id, profile=contract.ProfileBody(name="Tiny", settings=settings)
        ),
    )
    override = contract.ProfileBody(name="Email", settings=settings.model_copy(update={"format": "jpeg"}))
    await rpc.call(
        contract.PROFILE_UPDATE,
        contract.ProfileUpdate(session_id=session_id, profile_id="email", profile=override),
    )
    presets = {
        p.id: p for p in (await rpc.call(contract.PRESETS, session.SessionRef(session_id=session_id))).presets
    }
    assert presets["email"].overridden and presets["email"].settings.max_width == 300
    assert presets[profile.id].name == "Tiny" and not presets[profile.id].system
    info = await upload(rpc, session_id, media.jpeg(media.photo(1600, 1200)))
    result = await apply(rpc, session_id, info.id, contract.CompressOp(preset=profile.id))
    assert result.current.format == "webp" and max(result.current.width, result.current.height) <= 300
    reset = await rpc.call(
        contract.PROFILE_DELETE, contract.ProfileRef(session_id=session_id, profile_id="email")
    )
    email = next(p for p in reset.presets if p.id == "email")
    assert not email.overridden and email.settings.max_width == 800
    await rpc.call(contract.PROFILE_DELETE, contract.ProfileRef(session_id=session_id, profile_id=profile.id))
    stored = await rpc.call(contract.PRESETS, session.SessionRef(session_id=session_id))
    assert [p.id for p in stored.presets if not p.system or p.overridden] == []
    with pytest.raises(NotFound):
        await rpc.call(contract.PROFILE_DELETE, contract.ProfileRef(session_id=session_id, profile_id="nope"))


# Metadata --------------------------------------------------------------------------------------


async def test_gps_is_shown_and_can_be_stripped_alone(rpc: RpcClient, session_id: UUID) -> None:
    """The location reads back with a map link; stripping GPS keeps the camera and the pixels."""
    # Copies drop the location unless the session keeps it (test_image_safety covers the default).
    keep = contract.PrivacyUpdate(session_id=session_id, keep_location=True)
    await rpc.call(contract.PRIVACY_SET, keep)
    info = await upload(rpc, session_id, media.jpeg(media.photo(640, 480), exif=media.camera_exif()))
    ref = contract.ImageRef(session_id=session_id, image_id=info.id)
    meta = await rpc.call(contract.METADATA, ref)
    assert meta.gps is not None and meta.gps.latitude == pytest.approx(48.8582, abs=1e-3)
    assert "openstreetmap.org" in meta.gps.map_url and meta.camera and "iPhone" in meta.camera
    stripped = await apply(rpc, session_id, info.id, contract.StripMetadataOp(what="gps"))
    assert stripped.current.operation == "strip_metadata"
    after = await rpc.call(contract.METADATA, ref)
    assert after.gps is None and after.camera == meta.camera
    await apply(rpc, session_id, info.id, contract.StripMetadataOp(what="all"))
    assert not (await rpc.call(contract.METADATA, ref)).has_exif


async def test_session_expiry_removes_every_image_and_version(
    rpc: RpcClient, session_id: UUID, db_pool: asyncpg.Pool
) -> None:
    """When a session expires, the sweep deletes its images, versions and profiles in one go."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(320, 240)))
    await apply(rpc, session_id, info.id, contract.RotateOp(degrees=90))
    body = contract.ProfileBody(name="Mine", settings=contract.CompressionSettings())
    await rpc.call(contract.PROFILE_CREATE, contract.ProfileCreate(session_id=session_id, profile=body))
    profiles = "SELECT count(*) FROM images.profiles WHERE session_id = $1"
    assert await db_pool.fetchval(profiles, session_id) == 1
    await db_pool.execute(
        "UPDATE sessions.sessions SET created_at = now() - interval '8 days', "
        "expires_at = now() - interval '1 second' WHERE id = $1",
        session_id,
    )
    await rpc.call(session.SWEEP, Empty())
    for table in ("images", "versions"):
        column = "id" if table == "images" else "image_id"
        assert (
            await db_pool.fetchval(f"SELECT count(*) FROM images.{table} WHERE {column} = $1", info.id) == 0
        )
    assert await db_pool.fetchval(profiles, session_id) == 0
