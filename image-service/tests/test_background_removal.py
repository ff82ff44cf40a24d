"""Background removal in image-service with the real model on real photos, over real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import pytest
from nats.aio.client import Client as NATS
from PIL import Image
from skimage import data as skdata

from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from image_service.settings import ImageSettings
from imagetools_common.contracts import image as contract
from imagetools_common.contracts import registry, session
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import (
    Conflict,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    ValidationFailed,
)
from imagetools_common.rpc import RpcClient, ping_all
from imagetools_common.testing import media
from imagetools_common.testing.services import running, settings_for
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings

REPO = Path(__file__).resolve().parents[2]
MODEL_FILE = "isnet-medium.onnx"

# Regions (x0, y0, x1, y1) of scikit-image's photos that are certainly subject or background.
ASTRONAUT_FACE = (195, 60, 250, 130)
ASTRONAUT_SUIT = (60, 300, 200, 420)
ASTRONAUT_WALL = (330, 10, 380, 100)  # the grey studio wall between her hair and the shuttle model
CAT_MUZZLE = (180, 120, 300, 200)
CAT_BACKDROP = (420, 100, 450, 200)  # the out-of-focus room at the right edge


def installed_models() -> Path:
    """MODELS_DIR (or var/models) with the model `make models` installs; a clear failure without it."""
    models = Path(os.environ.get("MODELS_DIR") or REPO / "var" / "models")
    if not models.is_absolute():
        models = REPO / models
    assert (models / MODEL_FILE).is_file(), f"{models / MODEL_FILE} is missing: run `make models` first"
    return models


def png(array: np.ndarray[Any, Any] | Image.Image) -> bytes:
    image = array if isinstance(array, Image.Image) else Image.fromarray(array)
    return media.encoded(image, "PNG")


def alpha(image: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray[Any, Any]:
    """The alpha (0..1) over ``box`` (x0, y0, x1, y1)."""
    return np.asarray(image.getchannel("A").crop(box), dtype=np.float64) / 255


def start(base_env: dict[str, str], **overrides: Any) -> Any:
    settings = settings_for(ImageSettings, base_env, **{"models_dir": installed_models(), **overrides})
    return running(contract.SERVICE, settings, register_images, storage=IMAGE_STORAGE)


@pytest.fixture
async def sessions(base_env: dict[str, str]) -> AsyncIterator[None]:
    async with running(
        session.SERVICE, settings_for(SessionSettings, base_env), register_sessions, storage=SESSION_STORAGE
    ):
        yield


@pytest.fixture
async def rpc(sessions: None, base_env: dict[str, str], nc: NATS) -> AsyncIterator[RpcClient]:
    async with start(base_env):
        yield RpcClient(nc)


async def new_session(rpc: RpcClient) -> UUID:
    return (await rpc.call(session.CREATE, Empty())).session.id


async def upload(
    rpc: RpcClient, session_id: UUID, data: bytes, name: str = "photo.png"
) -> contract.ImageInfo:
    return await rpc.send(contract.UPLOAD, contract.UploadHeader(session_id=session_id, filename=name), data)


async def remove(
    rpc: RpcClient, session_id: UUID, image_id: UUID, operation_id: UUID | None = None, **op: Any
) -> contract.ImageInfo:
    request = contract.ApplyRequest(
        session_id=session_id,
        image_id=image_id,
        operation=contract.RemoveBackgroundOp(**op),
        operation_id=operation_id,
    )
    return await rpc.call(registry.route(request.operation).endpoint, request)


def opened(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


async def current(rpc: RpcClient, session_id: UUID, image_id: UUID) -> Image.Image:
    _, body = await rpc.fetch(
        contract.CONTENT, contract.ContentRequest(session_id=session_id, image_id=image_id)
    )
    return await asyncio.to_thread(opened, body)  # 12 MP takes a while to decode: not on the loop


async def mask(rpc: RpcClient, session_id: UUID, image_id: UUID, version: int | None = None) -> Image.Image:
    _, body = await rpc.fetch(
        contract.MASK, contract.MaskRequest(session_id=session_id, image_id=image_id, version=version)
    )
    return await asyncio.to_thread(opened, body)


async def test_a_portrait_and_a_cat_keep_their_subject_and_lose_their_background(rpc: RpcClient) -> None:
    """On real photos the subject stays opaque (alpha ≥ 0.9) and known background goes clear (≤ 0.1)."""
    session_id = await new_session(rpc)
    astronaut = await upload(rpc, session_id, png(skdata.astronaut()))
    cat = await upload(rpc, session_id, png(skdata.chelsea()))

    portrait = await remove(rpc, session_id, astronaut.id)
    assert portrait.current.operation == "remove_background"
    # Transparent by default is lossy WebP with lossless alpha (docs/PERFORMANCE.md, "Output encoding").
    assert portrait.current.format == "webp" and portrait.current.params["model"] == "isnet-medium"
    assert portrait.current.params["format"] == "webp"
    cut = await current(rpc, session_id, astronaut.id)
    assert cut.mode == "RGBA" and cut.size == (512, 512)
    assert alpha(cut, ASTRONAUT_FACE).min() >= 0.9
    assert alpha(cut, ASTRONAUT_SUIT).min() >= 0.9
    assert alpha(cut, ASTRONAUT_WALL).max() <= 0.1

    await remove(rpc, session_id, cat.id, format="png")
    cut = await current(rpc, session_id, cat.id)
    assert cut.format == "PNG" and cut.size == (451, 300)
    assert alpha(cut, CAT_MUZZLE).min() >= 0.9
    assert alpha(cut, CAT_BACKDROP).max() <= 0.1


async def test_twelve_megapixels_stay_twelve_megapixels_and_the_mask_follows_the_history(
    rpc: RpcClient,
) -> None:
    """A 12 MP photo comes back at 12 MP with a full-size mask; undo moves through it like any step."""
    session_id = await new_session(rpc)

    def twelve_megapixels() -> bytes:
        big = Image.fromarray(skdata.chelsea()).resize((4242, 2828), Image.Resampling.LANCZOS)
        return media.jpeg(big, quality=92)

    image = await upload(rpc, session_id, await asyncio.to_thread(twelve_megapixels), "cat.jpg")

    done = await remove(rpc, session_id, image.id)
    assert (done.current.width, done.current.height) == (4242, 2828)
    cut = await current(rpc, session_id, image.id)
    assert cut.size == (4242, 2828)
    scaled = tuple(round(v * 4242 / 451) for v in CAT_MUZZLE)
    assert alpha(cut, scaled).min() >= 0.9  # type: ignore[arg-type]

    full = await mask(rpc, session_id, image.id)
    assert full.mode == "L" and full.size == (4242, 2828)
    same = await asyncio.to_thread(lambda: np.array_equal(np.asarray(full), np.asarray(cut.getchannel("A"))))
    assert same

    with pytest.raises(NotFound, match="not made by background removal"):
        await mask(rpc, session_id, image.id, version=1)
    undone = await rpc.call(contract.UNDO, contract.HistoryStep(session_id=session_id, image_id=image.id))
    assert undone.current.number == 1
    with pytest.raises(NotFound):
        await mask(rpc, session_id, image.id)  # the current version is the upload again
    assert (await mask(rpc, session_id, image.id, version=2)).size == (4242, 2828)


async def test_each_background_kind(rpc: RpcClient) -> None:
    """A colour, a blurred copy of the photo, or another image of the session replaces the background."""
    session_id = await new_session(rpc)
    cat = await upload(rpc, session_id, png(skdata.chelsea()))
    backdrop = await upload(rpc, session_id, png(Image.new("RGB", (64, 32), (20, 40, 200))), "blue.png")
    x0, y0, x1, y1 = CAT_BACKDROP

    # No format asked: a filled background has no alpha to keep, so it is a JPEG.
    filled = await remove(rpc, session_id, cat.id, background={"kind": "colour", "colour": "#00ff00"})
    assert filled.current.format == "jpeg"
    green_cut = await current(rpc, session_id, cat.id)
    assert green_cut.format == "JPEG"
    green = np.asarray(green_cut.convert("RGB"), dtype=int)
    assert np.abs(green[y0:y1, x0:x1] - [0, 255, 0]).max() <= 12  # JPEG at quality 90

    await remove(
        rpc, session_id, cat.id, background={"kind": "image", "image_id": str(backdrop.id)}, format="png"
    )
    # The operation ran on the current version (the green one), so the green became blue.
    blue = await current(rpc, session_id, cat.id)
    assert blue.mode == "RGB" and blue.size == (451, 300)
    assert np.abs(np.asarray(blue, dtype=int)[y0:y1, x0:x1] - [20, 40, 200]).max() <= 2

    await rpc.call(contract.REVERT, contract.RevertRequest(session_id=session_id, image_id=cat.id, version=1))
    await remove(rpc, session_id, cat.id, background={"kind": "blur", "radius": 30})
    blurred = np.asarray((await current(rpc, session_id, cat.id)).convert("RGB"), dtype=float)
    original = np.asarray(skdata.chelsea(), dtype=float)
    # Blurred, so smoother than the photo there, yet still its colours (not a flat fill).
    assert blurred[y0:y1, x0:x1].std(axis=(0, 1)).sum() < original[y0:y1, x0:x1].std(axis=(0, 1)).sum()
    assert (
        np.abs(blurred[y0:y1, x0:x1].mean(axis=(0, 1)) - original[y0:y1, x0:x1].mean(axis=(0, 1))).max() < 40
    )


async def test_a_cut_out_carries_the_originals_location_once_the_session_keeps_it(rpc: RpcClient) -> None:
    """Keeping switched on after the upload: the cut-out gets the original's GPS, which version 1 lost."""
    session_id = await new_session(rpc)
    photo = media.jpeg(Image.fromarray(skdata.chelsea()), exif=media.camera_exif())
    cat = await upload(rpc, session_id, photo, "cat.jpg")
    assert cat.original_has_location and not cat.current.has_location
    await rpc.call(contract.PRIVACY_SET, contract.PrivacyUpdate(session_id=session_id, keep_location=True))
    cut = await remove(rpc, session_id, cat.id)
    assert cut.current.operation == "remove_background" and cut.current.has_location
    kept = (await current(rpc, session_id, cat.id)).getexif().get_ifd(media.GPS_IFD)
    assert dict(kept) == dict(opened(photo).getexif().get_ifd(media.GPS_IFD))


async def test_greyscale_cmyk_sixteen_bit_and_transparent_inputs(rpc: RpcClient) -> None:
    """Any decodable input works; what was already transparent stays transparent."""
    session_id = await new_session(rpc)
    photo = Image.fromarray(skdata.astronaut())
    grey16 = Image.fromarray((np.asarray(photo.convert("L"), dtype=np.uint16) * 257).astype(np.uint16))
    assert grey16.mode.startswith("I;16")
    cmyk = media.encoded(photo.convert("CMYK"), "JPEG", quality=92)
    holed = photo.convert("RGBA")
    holed.paste((0, 0, 0, 0), (200, 400, 260, 460))  # a hole punched through her suit
    uploads = {
        "grey16": await upload(rpc, session_id, png(grey16)),
        "cmyk": await upload(rpc, session_id, cmyk, "cmyk.jpg"),
        "holed": await upload(rpc, session_id, png(holed)),
    }
    results = {}
    for name, info in uploads.items():
        await remove(rpc, session_id, info.id, format="png")  # PNG: the only format that keeps LA
        results[name] = await current(rpc, session_id, info.id)
    assert results["grey16"].mode == "LA"  # greyscale stays greyscale
    assert results["cmyk"].mode == "RGBA"
    for result in results.values():
        assert result.size == (512, 512)
        assert alpha(result.convert("RGBA"), ASTRONAUT_FACE).min() >= 0.9
    hole = alpha(results["holed"], (200, 400, 260, 460))
    assert hole.max() == 0.0 and alpha(results["holed"], ASTRONAUT_SUIT).max() >= 0.9


async def test_models_are_listed_with_timing_measured_here(rpc: RpcClient) -> None:
    """Only installed models are offered, with the default and a timing estimate from this machine."""
    listed = await rpc.call(contract.BACKGROUND_MODELS, Empty())
    assert [m.id for m in listed.models] == ["isnet-medium"] and listed.models[0].default
    assert listed.default == "isnet-medium"
    assert listed.timing is not None and listed.timing.base_seconds > 0
    assert listed.timing.per_megapixel_seconds > 0


async def test_bad_requests_change_nothing(rpc: RpcClient) -> None:
    """An unknown model is a named 422; another session's backdrop is a 404; nothing is stored."""
    session_id = await new_session(rpc)
    other = await new_session(rpc)
    image = await upload(rpc, session_id, png(skdata.chelsea()))
    foreign = await upload(rpc, other, png(skdata.astronaut()))
    with pytest.raises(ValidationFailed, match="model") as error:
        await remove(rpc, session_id, image.id, model="u2net")
    assert error.value.details == {"field": "model"}
    with pytest.raises(NotFound, match=r"background\.image_id"):
        await remove(rpc, session_id, image.id, background={"kind": "image", "image_id": str(foreign.id)})
    with pytest.raises(NotFound):
        await remove(rpc, other, image.id)  # someone else's image
    info = await rpc.call(contract.GET, contract.ImageRef(session_id=session_id, image_id=image.id))
    assert [v.number for v in info.versions] == [1]


async def test_an_operation_sent_to_another_operations_endpoint_is_refused(rpc: RpcClient) -> None:
    """Each apply endpoint runs only the operations the registry sends it: a stray one is a 422."""
    session_id = await new_session(rpc)
    image = await upload(rpc, session_id, png(skdata.chelsea()))
    strays = [
        (contract.APPLY, contract.RemoveBackgroundOp()),
        (contract.REMOVE_BACKGROUND, contract.RotateOp(degrees=90)),
    ]
    for endpoint, op in strays:
        request = contract.ApplyRequest(session_id=session_id, image_id=image.id, operation=op)
        with pytest.raises(ValidationFailed, match=f"{op.type} does not run on {endpoint.subject}"):
            await rpc.call(endpoint, request)
    info = await rpc.call(contract.GET, contract.ImageRef(session_id=session_id, image_id=image.id))
    assert [v.number for v in info.versions] == [1]


async def test_a_full_queue_answers_rate_limited_with_a_retry_after(
    sessions: None, base_env: dict[str, str], nc: NATS
) -> None:
    """With no room to queue, removals beyond the running one are refused at once with a wait time."""
    async with start(base_env, bg_queue_size=0):
        rpc = RpcClient(nc)
        session_id = await new_session(rpc)
        images = [await upload(rpc, session_id, png(skdata.chelsea())) for _ in range(3)]
        outcomes = await asyncio.gather(
            *(remove(rpc, session_id, i.id) for i in images), return_exceptions=True
        )
    refused = [o for o in outcomes if isinstance(o, RateLimited)]
    done = [o for o in outcomes if isinstance(o, contract.ImageInfo)]
    assert len(done) >= 1 and len(refused) >= 1 and len(done) + len(refused) == 3
    assert all(isinstance(r.details["retry_after"], int) and r.details["retry_after"] >= 1 for r in refused)


async def test_a_cancelled_removal_stores_nothing(rpc: RpcClient) -> None:
    """A cancel for the operation id (the browser went away) means no new version, whenever it arrives."""
    session_id = await new_session(rpc)
    image = await upload(rpc, session_id, png(skdata.chelsea()))
    operation_id = uuid.uuid4()
    running_removal = asyncio.create_task(remove(rpc, session_id, image.id, operation_id=operation_id))
    await rpc.publish(contract.CANCEL, contract.CancelOperation(operation_id=operation_id))
    with pytest.raises(Conflict, match="cancelled"):
        await running_removal
    # The replica runs one removal at a time: when this one is stored, the cancelled one has ended.
    after = await remove(rpc, session_id, image.id)
    assert [v.number for v in after.versions] == [1, 2]


@pytest.mark.parametrize("broken", ["corrupt", "missing"])
async def test_a_broken_model_makes_the_replica_unhealthy_and_removal_unavailable(
    sessions: None, base_env: dict[str, str], nc: NATS, tmp_path: Path, broken: str
) -> None:
    """A corrupt or missing model file is announced with its reason and answered as 503, not a crash."""
    if broken == "corrupt":
        (tmp_path / MODEL_FILE).write_bytes((installed_models() / MODEL_FILE).read_bytes()[:1_000_000])
    settings = settings_for(ImageSettings, base_env, models_dir=tmp_path)
    async with running(contract.SERVICE, settings, register_images, storage=IMAGE_STORAGE):
        rpc = RpcClient(nc)
        [instance] = (await ping_all(nc, window=0.3))[contract.SERVICE.name]
        reason = "is corrupt" if broken == "corrupt" else "is not installed"
        assert reason in instance.metadata["problem"] and "model" not in instance.metadata
        with pytest.raises(ServiceUnavailable, match=reason):
            await rpc.call(contract.BACKGROUND_MODELS, Empty())
        session_id = await new_session(rpc)
        image = await upload(rpc, session_id, png(skdata.chelsea()))  # everything else still works
        with pytest.raises(ServiceUnavailable, match=reason):
            await remove(rpc, session_id, image.id)


async def test_alpha_matting_and_mask_post_processing(rpc: RpcClient) -> None:
    """Matting and post-processing keep the subject and drop the background; post-processing hardens edges."""
    session_id = await new_session(rpc)
    cat = await upload(rpc, session_id, png(skdata.chelsea()))
    plain = await remove(rpc, session_id, cat.id)
    soft = np.asarray((await current(rpc, session_id, cat.id)).getchannel("A"))
    revert = contract.RevertRequest(session_id=session_id, image_id=cat.id, version=1)
    await rpc.call(contract.REVERT, revert)  # each run from the photo, not from the last cut-out
    await remove(rpc, session_id, cat.id, post_process_mask=True)
    hard = np.asarray((await current(rpc, session_id, cat.id)).getchannel("A"))
    assert ((hard > 0) & (hard < 255)).sum() < ((soft > 0) & (soft < 255)).sum()

    await rpc.call(contract.REVERT, revert)
    matted = await remove(rpc, session_id, cat.id, alpha_matting=True, erode_size=5)
    assert matted.current.params["alpha_matting"] is True and matted.current.number > plain.current.number
    cut = await current(rpc, session_id, cat.id)
    assert alpha(cut, CAT_MUZZLE).min() >= 0.9
    assert alpha(cut, CAT_BACKDROP).max() <= 0.1


async def test_a_cut_out_too_wide_for_webp_is_refused_before_any_work(rpc: RpcClient) -> None:
    """The pixel budget runs before the queue: a 17000 px wide WebP cut-out is a 422 naming WebP's limit."""
    session_id = await new_session(rpc)
    strip = await upload(
        rpc, session_id, media.encoded(Image.linear_gradient("L").resize((17000, 300)), "PNG")
    )
    with pytest.raises(ValidationFailed, match="WebP holds at most 16383 px"):
        await remove(rpc, session_id, strip.id, format="webp")
    ref = contract.ImageRef(session_id=session_id, image_id=strip.id)
    assert len((await rpc.call(contract.GET, ref)).versions) == 1
    # With an output size (long edge) it fits, and the result and its mask come out at that size.
    small = await remove(rpc, session_id, strip.id, format="webp", max_edge=2048)
    assert (small.current.width, small.current.height, small.current.format) == (2048, 36, "webp")
    assert small.current.params["max_edge"] == 2048
    assert (await current(rpc, session_id, strip.id)).size == (2048, 36)
    assert (await mask(rpc, session_id, strip.id)).size == (2048, 36)
