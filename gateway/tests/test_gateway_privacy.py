"""The privacy setting over HTTP: off by default, CSRF-protected, and applied to later versions."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from PIL import Image

from imagetools_common.testing import media

CSRF = {"X-Requested-With": "ImageTools"}
Client = TestClient[Any, Any]


def located(data: bytes) -> bool:
    return media.GPS_IFD in Image.open(io.BytesIO(data)).getexif()


async def test_keep_location_is_off_by_default_and_follows_the_session(client: Client) -> None:
    """Copies drop the location unless the session keeps it; the original keeps it, and says so."""
    assert await (await client.get("/api/v1/privacy")).json() == {"keep_location": False}
    refused = await client.put("/api/v1/privacy", json={"keep_location": True})
    assert refused.status == 403  # an unsafe request without the CSRF header changes nothing
    invalid = await client.put("/api/v1/privacy", json={"keep_location": "yes please"}, headers=CSRF)
    assert invalid.status == 422

    photo = media.jpeg(media.photo(320, 240), exif=media.camera_exif())
    form = aiohttp.FormData()
    form.add_field("file", photo, filename="IMG_0001.JPG", content_type="image/jpeg")
    image = (await (await client.post("/api/v1/images", data=form, headers=CSRF)).json())["images"][0]
    assert image["original_has_location"] and not image["current"]["has_location"]
    assert not located(await (await client.get(image["content_url"])).read())
    assert await (await client.get(image["original_url"])).read() == photo

    kept = await client.put("/api/v1/privacy", json={"keep_location": True}, headers=CSRF)
    assert await kept.json() == {"keep_location": True}
    assert await (await client.get("/api/v1/privacy")).json() == {"keep_location": True}
    form = aiohttp.FormData()
    form.add_field("file", photo, filename="IMG_0002.JPG", content_type="image/jpeg")
    second = (await (await client.post("/api/v1/images", data=form, headers=CSRF)).json())["images"][0]
    assert second["current"]["has_location"]
    assert located(await (await client.get(second["content_url"])).read())
