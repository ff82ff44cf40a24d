"""The images API over HTTP: multipart uploads, bytes with the right headers, ZIP, bad input."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from imagetools_common.testing import media

CSRF = {"X-Requested-With": "ImageTools"}
Client = TestClient[Any, Any]


def form(*files: tuple[str, bytes], field: str = "file") -> aiohttp.FormData:
    data = aiohttp.FormData(quote_fields=False)  # browsers send names as they are
    for name, body in files:
        data.add_field(field, body, filename=name, content_type="application/octet-stream")
    return data


async def upload(client: Client, *files: tuple[str, bytes]) -> Any:
    response = await client.post("/api/v1/images", data=form(*files), headers=CSRF)
    assert response.status == 201, await response.text()
    return await response.json()


async def error_code(response: Any, status: int) -> tuple[str, str]:
    assert response.status == status, await response.text()
    body = await response.json()
    return body["error"]["code"], body["error"]["message"]


@pytest.fixture(scope="module")
def photo() -> bytes:
    return media.jpeg(media.photo(1200, 900), exif=media.camera_exif())


async def test_upload_list_and_fetch(client: Client, photo: bytes) -> None:
    """An uploaded photo is listed, counted, and served with its type, ETag and long-lived caching."""
    body = await upload(client, ("holiday.jpg", photo))
    image = body["images"][0]
    assert body["errors"] == [] and image["current"]["width"] == 1200
    listed = await (await client.get("/api/v1/images")).json()
    assert [i["id"] for i in listed["images"]] == [image["id"]] and listed["max_images"] == 5
    assert (await (await client.get("/api/v1/session")).json())["image_count"] == 1
    response = await client.get(image["content_url"])
    assert response.status == 200 and response.headers["Content-Type"] == "image/jpeg"
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["Content-Disposition"].startswith("inline;")
    etag = response.headers["ETag"]
    again = await client.get(image["content_url"], headers={"If-None-Match": etag})
    assert again.status == 304
    original = await client.get(image["original_download_url"])
    assert await original.read() == photo
    assert original.headers["Content-Disposition"].startswith('attachment; filename="holiday.jpg"')
    thumb = await client.get(image["thumbnail_url"])
    assert thumb.headers["Content-Type"] == "image/webp"


async def test_operation_then_download_has_the_new_type_and_name(client: Client, photo: bytes) -> None:
    """Converting to WebP changes the download's Content-Type and extension; undo brings JPEG back."""
    image = (await upload(client, ("IMG 1.jpg", photo)))["images"][0]
    url = f"/api/v1/images/{image['id']}"
    converted = await client.post(
        f"{url}/operations", json={"type": "convert", "format": "webp"}, headers=CSRF
    )
    assert converted.status == 200, await converted.text()
    view = await converted.json()
    assert view["download_name"] == "IMG 1.webp" and view["current"]["format"] == "webp"
    download = await client.get(view["download_url"])
    assert download.headers["Content-Type"] == "image/webp"
    assert "filename*=UTF-8''IMG%201.webp" in download.headers["Content-Disposition"]
    undone = await (await client.post(f"{url}/undo", headers=CSRF)).json()
    assert undone["current"]["format"] == "jpeg" and undone["can_redo"]


async def test_several_files_in_one_request(client: Client, photo: bytes) -> None:
    """Good files are stored and bad ones listed with their reason; all bad is the first refusal."""
    body = await upload(client, ("a.jpg", photo), ("notes.txt", b"just text"), ("b.jpg", photo))
    assert len(body["images"]) == 2
    assert body["errors"] == [{"filename": "notes.txt", "code": "unsupported_media_type",
                               "message": body["errors"][0]["message"]}]  # fmt: skip
    assert "JPEG" in body["errors"][0]["message"]
    response = await client.post("/api/v1/images", data=form(("x.txt", b"nope")), headers=CSRF)
    assert (await error_code(response, 415))[0] == "unsupported_media_type"


async def test_oversized_uploads_are_refused_while_streaming(make_client: Any, backend: Any) -> None:
    """A file past MAX_UPLOAD_SIZE_MB is a 413 naming the limit, and nothing is stored."""
    client = await make_client(max_upload_size_mb=1)
    big = media.encoded(Image.effect_noise((900, 900), 80).convert("RGB"), "PNG")
    assert len(big) > 1024 * 1024
    code, message = await error_code(
        await client.post("/api/v1/images", data=form(("big.png", big)), headers=CSRF), 413
    )
    assert code == "payload_too_large" and "1 MiB" in message
    assert (await (await client.get("/api/v1/images")).json())["images"] == []


async def test_upload_bad_input(client: Client, photo: bytes) -> None:
    """Wrong content type, no file part, a missing CSRF header, a truncated file: each a precise 4xx."""
    response = await client.post("/api/v1/images", data=photo, headers={**CSRF, "Content-Type": "image/jpeg"})
    assert (await error_code(response, 415))[0] == "unsupported_media_type"
    response = await client.post("/api/v1/images", data=form(("a.jpg", photo), field="other"), headers=CSRF)
    assert (await error_code(response, 422))[0] == "validation_error"
    response = await client.post("/api/v1/images", data=form(("a.jpg", photo)))
    assert (await error_code(response, 403))[0] == "csrf_failed"
    response = await client.post("/api/v1/images", data=form(("cut.jpg", photo[:5000])), headers=CSRF)
    assert "truncated or corrupt" in (await error_code(response, 422))[1]


async def test_operations_validate_their_fields(client: Client, photo: bytes) -> None:
    """Unknown operations and bad parameters are 422s naming the field; nothing changes."""
    image = (await upload(client, ("a.jpg", photo)))["images"][0]
    url = f"/api/v1/images/{image['id']}/operations"
    for body, field in (
        ({"type": "explode"}, "type"),
        ({"type": "rotate", "degrees": 45}, "rotate.degrees"),
        ({"type": "resize"}, "resize"),
        ({"type": "compress", "settings": {"quality": 0}}, "compress.settings.quality"),
        ({"type": "convert", "format": "png", "background": "red"}, "convert.background"),
    ):
        response = await client.post(url, json=body, headers=CSRF)
        _, message = await error_code(response, 422)
        assert message.startswith(field), (body, message)
    view = await (await client.get(f"/api/v1/images/{image['id']}")).json()
    assert len(view["versions"]) == 1


async def test_unknown_and_foreign_images_are_404(client: Client, make_client: Any, photo: bytes) -> None:
    """Malformed ids, unknown ids and another browser's images all answer 404."""
    image = (await upload(client, ("a.jpg", photo)))["images"][0]
    assert (await error_code(await client.get("/api/v1/images/not-a-uuid"), 404))[0] == "not_found"
    stranger = await make_client()
    for path in (f"/api/v1/images/{image['id']}", image["content_url"], image["thumbnail_url"]):
        assert (await error_code(await stranger.get(path), 404))[0] == "not_found"
    response = await stranger.delete(f"/api/v1/images/{image['id']}", headers=CSRF)
    await error_code(response, 404)
    for bad in ("abc", "0", str(2**40)):
        response = await client.get(image["content_url"].replace("version=1", f"version={bad}"))
        assert (await error_code(response, 422))[1].startswith("version")
    response = await client.post(
        f"/api/v1/images/{image['id']}/revert", json={"version": 2**40}, headers=CSRF
    )
    assert (await error_code(response, 422))[1].startswith("version")
    response = await client.post(f"/api/v1/images/{image['id']}/revert", json={"version": 99}, headers=CSRF)
    assert (await error_code(response, 404))[0] == "not_found"


async def test_zip_of_the_selection_has_unique_names(client: Client, photo: bytes) -> None:
    """Two images with the same name land in the ZIP as name.jpg and name (2).jpg, byte-exact."""
    images = (await upload(client, ("same.jpg", photo), ("same.jpg", photo)))["images"]
    response = await client.post("/api/v1/archive", json={"ids": [i["id"] for i in images]}, headers=CSRF)
    assert response.status == 200 and response.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    assert sorted(archive.namelist()) == ["same (2).jpg", "same.jpg"]
    current = await (await client.get(images[0]["content_url"])).read()
    assert archive.read("same.jpg") in (current, await (await client.get(images[1]["content_url"])).read())
    response = await client.post("/api/v1/archive", json={"ids": []}, headers=CSRF)
    await error_code(response, 422)


async def test_delete_one_selected_and_all(client: Client, photo: bytes) -> None:
    """Deleting one, a selection, or everything removes exactly those images."""
    ids = [i["id"] for i in (await upload(client, *[(f"{n}.jpg", photo) for n in range(4)]))["images"]]
    assert (await client.delete(f"/api/v1/images/{ids[0]}", headers=CSRF)).status == 204
    selected = await client.post("/api/v1/images/delete", json={"ids": ids[1:3]}, headers=CSRF)
    assert (await selected.json())["deleted"] == 2
    cleared = await client.delete("/api/v1/images", headers=CSRF)
    assert (await cleared.json())["deleted"] == 1
    assert (await (await client.get("/api/v1/session")).json())["image_count"] == 0


async def test_presets_and_profiles_over_http(client: Client) -> None:
    """The three system presets are listed; a profile is created, edited and deleted."""
    presets = (await (await client.get("/api/v1/presets")).json())["presets"]
    assert [p["id"] for p in presets] == ["email", "web", "web_hq"]
    settings = {"max_width": 1200, "max_height": 1200, "quality": 80, "target_kb": 200, "format": "webp"}
    body = {"name": "Blog", "settings": {**settings, "keep_aspect": True}}
    created = await client.post("/api/v1/profiles", json=body, headers=CSRF)
    assert created.status == 201
    profile = await created.json()
    edited = await client.put(
        f"/api/v1/profiles/{profile['id']}", json={**body, "name": "Blog 2"}, headers=CSRF
    )
    assert (await edited.json())["name"] == "Blog 2"
    remaining = await (await client.delete(f"/api/v1/profiles/{profile['id']}", headers=CSRF)).json()
    assert [p["id"] for p in remaining["presets"]] == ["email", "web", "web_hq"]
    bad = await client.post("/api/v1/profiles", json={"name": "", "settings": {}}, headers=CSRF)
    await error_code(bad, 422)
