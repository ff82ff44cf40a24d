"""image-service against hostile or oversized requests over real NATS and PostgreSQL: the pixel budget."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest
from nats.aio.client import Client as NATS
from PIL import Image, PngImagePlugin

from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from image_service.imaging.decode import decode
from image_service.settings import ImageSettings
from imagetools_common.contracts import image as contract
from imagetools_common.contracts import session
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import DomainError, PayloadTooLarge, ValidationFailed
from imagetools_common.rpc import RpcClient
from imagetools_common.testing import media
from imagetools_common.testing.hostile import HostileFile, hostile_images
from imagetools_common.testing.services import running, settings_for
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings

MAX_MEGAPIXELS = 50


@pytest.fixture
async def rpc(base_env: dict[str, str], nc: NATS, tmp_path: Path) -> AsyncIterator[RpcClient]:
    # No background models: these tests need none, and loading them costs half a minute a start.
    images = settings_for(
        ImageSettings, base_env, max_image_megapixels=MAX_MEGAPIXELS, models_dir=tmp_path / "no-models"
    )
    async with (
        running(session.SERVICE, settings_for(SessionSettings, base_env), register_sessions,
                storage=SESSION_STORAGE),
        running(contract.SERVICE, images, register_images, storage=IMAGE_STORAGE),
    ):  # fmt: skip
        yield RpcClient(nc)


@pytest.fixture
async def session_id(rpc: RpcClient) -> UUID:
    return (await rpc.call(session.CREATE, Empty())).session.id


async def upload(
    rpc: RpcClient, session_id: UUID, data: bytes, name: str = "photo.jpg"
) -> contract.ImageInfo:
    return await rpc.send(contract.UPLOAD, contract.UploadHeader(session_id=session_id, filename=name), data)


async def apply(rpc: RpcClient, session_id: UUID, image_id: UUID, op: object) -> contract.ImageInfo:
    return await rpc.call(
        contract.APPLY, contract.ApplyRequest(session_id=session_id, image_id=image_id, operation=op)
    )


async def get(rpc: RpcClient, session_id: UUID, image_id: UUID) -> contract.ImageInfo:
    return await rpc.call(contract.GET, contract.ImageRef(session_id=session_id, image_id=image_id))


async def current_bytes(rpc: RpcClient, session_id: UUID, image_id: UUID, **kw: object) -> bytes:
    request = contract.ContentRequest(session_id=session_id, image_id=image_id, **kw)
    _, data = await rpc.fetch(contract.CONTENT, request)
    return data


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def declared_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height (its data is one short row)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 4))
        + chunk(b"IEND", b"")
    )


# The pixel budget ------------------------------------------------------------------------------


async def test_an_upscale_past_the_budget_is_refused_and_the_image_still_works(
    rpc: RpcClient, session_id: UUID
) -> None:
    """100x80 to 20000x20000 is a 413 naming the limit, stores nothing, and later edits still work."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(100, 80)))
    stretch = contract.ResizeOp(width=20000, height=20000, keep_aspect=False, allow_upscale=True)
    with pytest.raises(PayloadTooLarge, match=r"20000x20000 px .*limit is 50 megapixels"):
        await apply(rpc, session_id, info.id, stretch)
    assert [v.number for v in (await get(rpc, session_id, info.id)).versions] == [1]
    rotated = await apply(rpc, session_id, info.id, contract.RotateOp(degrees=90))
    compressed = await apply(rpc, session_id, info.id, contract.CompressOp(preset="web"))
    assert (rotated.current.width, rotated.current.height) == (80, 100)
    assert opened(await current_bytes(rpc, session_id, info.id)).size == (
        compressed.current.width,
        compressed.current.height,
    )


async def test_percent_1000_of_a_big_image_is_refused(rpc: RpcClient, session_id: UUID) -> None:
    """Ten times a 3000x2000 photo (600 MP) is refused; ten times 200x150 (3 MP) is made."""
    big = await upload(rpc, session_id, media.jpeg(media.photo(3000, 2000)))
    tenfold = contract.ResizeOp(percent=1000, allow_upscale=True)
    with pytest.raises(PayloadTooLarge, match="30000x20000"):
        await apply(rpc, session_id, big.id, tenfold)
    assert len((await get(rpc, session_id, big.id)).versions) == 1
    small = await upload(rpc, session_id, media.jpeg(media.photo(200, 150)))
    grown = await apply(rpc, session_id, small.id, tenfold)
    assert (
        opened(await current_bytes(rpc, session_id, small.id)).size
        == (2000, 1500)
        == (
            grown.current.width,
            grown.current.height,
        )
    )


async def test_converting_a_tall_image_to_webp_names_webps_limit(rpc: RpcClient, session_id: UUID) -> None:
    """A 20000x200 PNG cannot become a WebP (422 on format, naming 16383 px); as JPEG it can."""
    strip = media.encoded(Image.linear_gradient("L").resize((20000, 200)), "PNG")
    info = await upload(rpc, session_id, strip, "strip.png")
    with pytest.raises(ValidationFailed, match="WebP holds at most 16383 px"):
        await apply(rpc, session_id, info.id, contract.ConvertOp(format="webp"))
    assert len((await get(rpc, session_id, info.id)).versions) == 1
    converted = await apply(rpc, session_id, info.id, contract.ConvertOp(format="jpeg"))
    assert opened(await current_bytes(rpc, session_id, info.id)).size == (20000, 200)
    assert converted.current.format == "jpeg"


async def test_an_ai_edit_over_the_budget_is_refused(rpc: RpcClient, session_id: UUID) -> None:
    """A model's result declaring 8000x8000 (64 MP) is refused before decoding; nothing is stored."""
    info = await upload(rpc, session_id, media.jpeg(media.photo(320, 240)))
    header = contract.AddVersionHeader(
        session_id=session_id, image_id=info.id, based_on=1, operation="ai_edit", params={"model": "m"}
    )
    with pytest.raises(PayloadTooLarge, match="50 megapixels"):
        await rpc.send(contract.ADD_VERSION, header, declared_png(8000, 8000))
    assert len((await get(rpc, session_id, info.id)).versions) == 1
    made = await rpc.send(contract.ADD_VERSION, header, media.encoded(media.photo(640, 480), "PNG"))
    assert (made.current.width, made.current.height, made.current.format) == (640, 480, "png")


# Privacy by default ----------------------------------------------------------------------------

XMP_GPS = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/"'
    b' exif:GPSLatitude="48,51.492N" exif:GPSLongitude="2,17.67E"/></rdf:RDF></x:xmpmeta>'
)


def location_in(data: bytes) -> bool:
    image = Image.open(io.BytesIO(data))
    return media.GPS_IFD in image.getexif() or b"GPSLatitude" in data


def png_with_location() -> bytes:
    """A PNG carrying the location twice: an eXIf chunk with a GPS directory and XMP GPS properties."""
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP_GPS.decode())
    image = media.photo(300, 200)
    return media.encoded(image, "PNG", pnginfo=info, exif=media.camera_exif().tobytes())


async def test_no_version_holds_the_location_unless_the_session_keeps_it(
    rpc: RpcClient, session_id: UUID
) -> None:
    """Every output drops the GPS (lossless paths too) and keeps the camera; the original keeps it all."""
    photo = media.jpeg(media.photo(400, 300), exif=media.camera_exif())
    for data, name in ((photo, "a.jpg"), (png_with_location(), "b.png")):
        info = await upload(rpc, session_id, data, name)
        assert info.original_has_location and not info.current.has_location
        assert await current_bytes(rpc, session_id, info.id, kind="original") == data
        first = await current_bytes(rpc, session_id, info.id)
        assert not location_in(first) and opened(first).tobytes() == opened(data).tobytes()
        operations: list[object] = [
            contract.RotateOp(degrees=90), contract.FlipOp(direction="horizontal"),
            contract.CropOp(x=0, y=0, width=100, height=100), contract.ResizeOp(width=50),
            contract.ConvertOp(format="webp"), contract.ConvertOp(format="png"),
            contract.CompressOp(preset="web"), contract.StripMetadataOp(what="gps"),
        ]  # fmt: skip
        for op in operations:
            made = await apply(rpc, session_id, info.id, op)
            body = await current_bytes(rpc, session_id, info.id)
            assert not made.current.has_location and not location_in(body), op
        if name == "a.jpg":  # the camera the user did not ask to remove is still there
            assert Image.open(io.BytesIO(body)).getexif().get(0x010F) == "Apple"

    await rpc.call(contract.PRIVACY_SET, contract.PrivacyUpdate(session_id=session_id, keep_location=True))
    kept = await upload(rpc, session_id, photo)
    assert kept.current.has_location and location_in(await current_bytes(rpc, session_id, kept.id))
    rotated = await apply(rpc, session_id, kept.id, contract.RotateOp(degrees=180))
    assert rotated.current.has_location
    await rpc.call(contract.PRIVACY_SET, contract.PrivacyUpdate(session_id=session_id, keep_location=False))
    assert not (await rpc.call(contract.PRIVACY, session.SessionRef(session_id=session_id))).keep_location
    # Applies to versions made after the change; the earlier ones still say what they hold.
    flipped = await apply(rpc, session_id, kept.id, contract.FlipOp(direction="vertical"))
    assert not flipped.current.has_location and [v.has_location for v in flipped.versions] == [
        True,
        True,
        False,
    ]


async def set_keep(rpc: RpcClient, session_id: UUID, keep: bool) -> None:
    await rpc.call(contract.PRIVACY_SET, contract.PrivacyUpdate(session_id=session_id, keep_location=keep))


def gps_of(data: bytes) -> dict[int, object]:
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(media.GPS_IFD))


async def test_keeping_switched_on_after_the_upload_brings_the_originals_location_back(
    rpc: RpcClient, session_id: UUID
) -> None:
    """Keeping applies to versions made after it changes, though version 1 was stored without the location."""
    photo = media.jpeg(media.photo(400, 300), exif=media.camera_exif())
    info = await upload(rpc, session_id, photo)
    ref = contract.ImageRef(session_id=session_id, image_id=info.id)
    compressed = await apply(rpc, session_id, info.id, contract.CompressOp(preset="web"))
    assert not compressed.current.has_location
    assert not location_in(await current_bytes(rpc, session_id, info.id))

    await set_keep(rpc, session_id, True)
    shown = (await rpc.call(contract.METADATA, ref)).gps
    assert shown is None  # the current version, made while keeping was off, still holds none
    made: list[object] = [
        contract.RotateOp(degrees=90), contract.ConvertOp(format="png"), contract.ConvertOp(format="webp"),
        contract.CompressOp(preset="web"), contract.ResizeOp(width=200),
    ]  # fmt: skip
    for op in made:
        version = await apply(rpc, session_id, info.id, op)
        body = await current_bytes(rpc, session_id, info.id)
        assert version.current.has_location and gps_of(body) == gps_of(photo), op
        gps = (await rpc.call(contract.METADATA, ref)).gps
        assert gps is not None and (gps.latitude, gps.longitude) == (48.858233, 2.2945), op
        assert Image.open(io.BytesIO(body)).getexif().get(0x010F) == "Apple", op  # the camera is kept

    # An explicit strip wins while keeping is on.
    stripped = await apply(rpc, session_id, info.id, contract.StripMetadataOp(what="gps"))
    assert not stripped.current.has_location
    assert not location_in(await current_bytes(rpc, session_id, info.id))

    await set_keep(rpc, session_id, False)
    flipped = await apply(rpc, session_id, info.id, contract.FlipOp(direction="vertical"))
    assert not flipped.current.has_location
    assert not location_in(await current_bytes(rpc, session_id, info.id))
    assert [v.has_location for v in flipped.versions] == [False, False] + [True] * len(made) + [False, False]
    assert await current_bytes(rpc, session_id, info.id, kind="original") == photo


async def test_an_ai_edit_carries_the_location_only_while_the_session_keeps_it(
    rpc: RpcClient, session_id: UUID
) -> None:
    """A version made elsewhere holds no metadata of its own; keeping gives it the original's location."""
    photo = media.jpeg(media.photo(320, 240), exif=media.camera_exif())
    info = await upload(rpc, session_id, photo)
    edited = media.encoded(media.photo(320, 240), "PNG")
    header = contract.AddVersionHeader(
        session_id=session_id, image_id=info.id, based_on=1, operation="ai_edit", params={}
    )
    made = await rpc.send(contract.ADD_VERSION, header, edited)
    assert not made.current.has_location
    await set_keep(rpc, session_id, True)
    made = await rpc.send(contract.ADD_VERSION, header.model_copy(update={"based_on": 2}), edited)
    assert made.current.has_location
    assert gps_of(await current_bytes(rpc, session_id, info.id)) == gps_of(photo)


# The hostile corpus ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> list[HostileFile]:
    """Made before the test starts: building it is CPU work that must not run inside the event loop."""
    return hostile_images()


async def test_every_hostile_upload_is_refused_cleanly_or_stored_whole(
    rpc: RpcClient, session_id: UUID, corpus: list[HostileFile]
) -> None:
    """Each hostile file is a 4xx storing nothing, or an image that compresses, rotates and decodes."""
    outcomes: dict[str, str] = {}
    for item in corpus:
        refused: DomainError | None = None
        try:
            info = await upload(rpc, session_id, item.data, item.filename)
        except DomainError as error:
            refused = error
        if refused is not None:
            assert 400 <= refused.status < 500, f"{item.name}: {refused!r}"
            held = await rpc.call(contract.COUNT, session.SessionRef(session_id=session_id))
            assert held.count == 0, item.name
            outcomes[item.name] = refused.code
            continue
        for op in (contract.CompressOp(preset="web"), contract.RotateOp(degrees=90)):
            await apply(rpc, session_id, info.id, op)
        for version in (await get(rpc, session_id, info.id)).versions:
            body = await current_bytes(rpc, session_id, info.id, version=version.number)
            decoded = decode(body, max_pixels=MAX_MEGAPIXELS * 1_000_000)
            assert (decoded.width, decoded.height) == (version.width, version.height), item.name
        await rpc.call(contract.DELETE, contract.ImageIds(session_id=session_id, image_ids=[info.id]))
        outcomes[item.name] = "stored"
    # Files that are not images at all, or declare more pixels than allowed, never get in.
    for item in corpus:
        if item.category in ("empty", "disguised", "bomb", "truncated"):
            assert outcomes[item.name] != "stored", item.name
    assert {outcomes["jpeg_cmyk"], outcomes["exif_ifd_loop"], outcomes["gif_4000_frames"]} == {"stored"}
