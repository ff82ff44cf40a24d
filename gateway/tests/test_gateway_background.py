"""Background removal through the HTTP API, against real services and the real model."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image
from skimage import data as skdata

from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from image_service.settings import ImageSettings
from imagetools_common.contracts import image, oauth, session
from imagetools_common.testing import media
from imagetools_common.testing.services import running, settings_for
from oauth_service.__main__ import STORAGE as OAUTH_STORAGE
from oauth_service.handlers import register as register_oauth
from oauth_service.settings import OAuthSettings
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings

CSRF = {"X-Requested-With": "ImageTools"}
Client = TestClient[Any, Any]
REPO = Path(__file__).resolve().parents[2]
MODEL_FILE = "isnet-medium.onnx"
Backend = Callable[..., Any]


def installed_models() -> Path:
    """MODELS_DIR (or var/models) with the model `make models` installs; a clear failure without it."""
    models = Path(os.environ.get("MODELS_DIR") or REPO / "var" / "models")
    if not models.is_absolute():
        models = REPO / models
    assert (models / MODEL_FILE).is_file(), f"{models / MODEL_FILE} is missing: run `make models` first"
    return models


@pytest.fixture
def backend_with(base_env: dict[str, str]) -> Backend:
    """Start session-, image- (with settings overrides) and oauth-service in this loop."""

    @asynccontextmanager
    async def start(**image_overrides: Any) -> AsyncIterator[None]:
        image_settings = settings_for(
            ImageSettings, base_env, **{"models_dir": installed_models(), **image_overrides}
        )
        async with AsyncExitStack() as stack:
            for spec, settings, register, storage in (
                (
                    session.SERVICE,
                    settings_for(SessionSettings, base_env),
                    register_sessions,
                    SESSION_STORAGE,
                ),
                (image.SERVICE, image_settings, register_images, IMAGE_STORAGE),
                (oauth.SERVICE, settings_for(OAuthSettings, base_env), register_oauth, OAUTH_STORAGE),
            ):
                await stack.enter_async_context(running(spec, settings, register, storage=storage))
            yield

    return start


async def upload(client: Client, body: bytes, name: str = "cat.png") -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("file", body, filename=name, content_type="application/octet-stream")
    response = await client.post("/api/v1/images", data=form, headers=CSRF)
    assert response.status == 201, await response.text()
    return (await response.json())["images"][0]


def cat_png() -> bytes:
    return media.encoded(Image.fromarray(skdata.chelsea()), "PNG")


def remove(client: Client, image_id: str, **op: Any) -> Awaitable[aiohttp.ClientResponse]:
    return client.post(
        f"/api/v1/images/{image_id}/operations", json={"type": "remove_background", **op}, headers=CSRF
    )


async def error(response: aiohttp.ClientResponse, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    return (await response.json())["error"]


async def test_remove_background_models_mask_and_health(
    backend_with: Backend, make_client: Callable[..., Awaitable[Client]]
) -> None:
    """The model list, a removal over a colour, its mask at full size, and the model on /health."""
    async with backend_with():
        client = await make_client()
        listed = await (await client.get("/api/v1/background/models")).json()
        assert listed["default"] == "isnet-medium"
        assert listed["models"] == [{"id": "isnet-medium", "label": "ISNet (imgly, medium)", "default": True}]
        assert listed["timing"]["base_seconds"] > 0 and listed["timing"]["per_megapixel_seconds"] > 0

        cat = await upload(client, cat_png())
        response = await remove(
            client, cat["id"], background={"kind": "colour", "colour": "#ffffff"}, format="jpeg"
        )
        assert response.status == 200, await response.text()
        done = await response.json()
        assert done["current"]["operation"] == "remove_background" and done["current"]["format"] == "jpeg"
        assert done["can_undo"] and done["content_url"].endswith("version=2")

        mask = await client.get(f"/api/v1/images/{cat['id']}/mask")
        assert mask.status == 200 and mask.headers["Content-Type"] == "image/png"
        picture = Image.open(io.BytesIO(await mask.read()))
        assert picture.mode == "L" and picture.size == (451, 300)
        not_a_removal = await client.get(f"/api/v1/images/{cat['id']}/mask?version=1")
        assert (await error(not_a_removal, 404))["code"] == "not_found"
        bad_version = await client.get(f"/api/v1/images/{cat['id']}/mask?version=two")
        assert (await error(bad_version, 422))["code"] == "validation_error"
        stranger = await make_client()  # another browser: no session, so no such image
        assert (await error(await stranger.get(f"/api/v1/images/{cat['id']}/mask"), 404))[
            "code"
        ] == "not_found"

        health = await (await client.get("/health")).json()
        assert health["status"] == "healthy"
        assert health["services"]["image-service"]["model"] == "isnet-medium"
        # On this CPU kind: OpenVINO (bf16 only where the CPU has it); onnxruntime is the fallback.
        assert health["services"]["image-service"]["engine"] in {"openvino/f32", "openvino/bf16"}


@pytest.mark.parametrize(
    ("op", "field"),
    [
        ({"model": "u2net"}, "model"),  # a known name, but not installed here
        ({"model": "../../etc/passwd"}, "remove_background.model"),
        ({"background": {"kind": "colour", "colour": "red"}}, "remove_background.background.colour.colour"),
        ({"alpha_matting": True, "foreground_threshold": 300}, "remove_background.foreground_threshold"),
        ({"alpha_matting": True, "background_threshold": -1}, "remove_background.background_threshold"),
        ({"erode_size": 65}, "remove_background.erode_size"),
        ({"format": "jpeg"}, "remove_background: format"),  # JPEG cannot be transparent
        ({"background": {"kind": "blur", "radius": 0}}, "remove_background.background.blur.radius"),
    ],
)
async def test_bad_fields_are_named(
    backend_with: Backend, make_client: Callable[..., Awaitable[Client]], op: dict[str, Any], field: str
) -> None:
    """A bad option is a 422 naming it, and no version is made."""
    async with backend_with():
        client = await make_client()
        cat = await upload(client, cat_png())
        body = await error(await remove(client, cat["id"], **op), 422)
        assert body["code"] == "validation_error" and body["message"].startswith(f"{field}:"), body
        info = await (await client.get(f"/api/v1/images/{cat['id']}")).json()
        assert len(info["versions"]) == 1


async def test_another_sessions_image_is_not_a_background(
    backend_with: Backend, make_client: Callable[..., Awaitable[Client]]
) -> None:
    """Naming someone else's image as the background is a 404, like any image of another session."""
    async with backend_with():
        mine, theirs = await make_client(), await make_client()
        cat = await upload(mine, cat_png())
        foreign = await upload(theirs, cat_png())
        response = await remove(mine, cat["id"], background={"kind": "image", "image_id": foreign["id"]})
        assert "background.image_id" in (await error(response, 404))["message"]


async def test_a_full_queue_is_a_429_with_retry_after(
    backend_with: Backend, make_client: Callable[..., Awaitable[Client]]
) -> None:
    """Beyond the running removal and BG_QUEUE_SIZE waiting ones, the API answers 429 with Retry-After."""
    async with backend_with(bg_queue_size=0):
        client = await make_client()
        cats = [await upload(client, cat_png()) for _ in range(3)]
        responses = await asyncio.gather(*(remove(client, c["id"]) for c in cats))
        statuses = sorted(r.status for r in responses)
        assert statuses[0] == 200 and statuses[-1] == 429, statuses
        for response in responses:
            if response.status == 429:
                assert (await response.json())["error"]["code"] == "rate_limited"
                assert int(response.headers["Retry-After"]) >= 1


async def test_an_aborted_request_creates_no_version(
    backend_with: Backend, make_client: Callable[..., Awaitable[Client]]
) -> None:
    """When the browser aborts (the UI's cancel), image-service is told and stores nothing."""
    async with backend_with():
        client = await make_client()
        cat = await upload(client, cat_png())
        with pytest.raises(TimeoutError):
            # Inference alone takes longer than this on any CPU: the browser leaves mid-removal.
            await asyncio.wait_for(remove(client, cat["id"]), timeout=0.3)
        # One removal at a time per replica: when this one is stored, the aborted one has ended.
        after = await remove(client, cat["id"], format="webp")
        assert after.status == 200, await after.text()
        versions = (await after.json())["versions"]
        assert [(v["number"], v["format"]) for v in versions] == [(1, "png"), (2, "webp")]


async def test_a_corrupt_model_is_unhealthy_and_removal_is_503(
    backend_with: Backend, make_client: Callable[..., Awaitable[Client]], tmp_path: Path
) -> None:
    """A corrupt model file: /health says why, the model list and the operation answer 503 with it."""
    (tmp_path / MODEL_FILE).write_bytes(b"\x08\x07" * 4096)
    async with backend_with(models_dir=tmp_path):
        client = await make_client()
        health = await client.get("/health")
        assert health.status == 503
        report = await health.json()
        assert any("isnet-medium" in p and "corrupt" in p for p in report["problems"]), report
        assert report["missing"] == []
        models = await error(await client.get("/api/v1/background/models"), 503)
        assert models["code"] == "service_unavailable" and "corrupt" in models["message"]
        cat = await upload(client, cat_png())
        refused = await error(await remove(client, cat["id"]), 503)
        assert "corrupt" in refused["message"]
