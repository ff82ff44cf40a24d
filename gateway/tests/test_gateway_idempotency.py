"""Idempotency-Key over HTTP: a client retrying with the same key gets the first result, once."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from imagetools_common.testing import media

CSRF = {"X-Requested-With": "ImageTools"}
Client = TestClient[Any, Any]


@pytest.fixture(scope="module")
def photo() -> bytes:
    return media.jpeg(media.photo(400, 300))


def form(*files: bytes) -> aiohttp.FormData:
    data = aiohttp.FormData()
    for i, body in enumerate(files):
        data.add_field("file", body, filename=f"p{i}.jpg", content_type="image/jpeg")
    return data


async def test_a_retried_upload_with_the_same_key_stores_each_file_once(client: Client, photo: bytes) -> None:
    """Two files sent twice under one key: two images, and the retry answers with the same ones."""
    headers = {**CSRF, "Idempotency-Key": "3f0c7a52-upload"}
    first = await client.post("/api/v1/images", data=form(photo, photo), headers=headers)
    again = await client.post("/api/v1/images", data=form(photo, photo), headers=headers)
    assert first.status == again.status == 201
    assert (await again.json())["images"] == (await first.json())["images"]
    listing = await (await client.get("/api/v1/images")).json()
    assert len(listing["images"]) == 2


async def test_a_retried_operation_and_undo_apply_once(client: Client, photo: bytes) -> None:
    image = (await (await client.post("/api/v1/images", data=form(photo), headers=CSRF)).json())["images"][0]
    base = f"/api/v1/images/{image['id']}"
    rotate = {**CSRF, "Idempotency-Key": "rotate-0001"}
    replies = [await client.post(f"{base}/operations", json={"type": "rotate", "degrees": 90}, headers=rotate)
               for _ in range(2)]  # fmt: skip
    bodies = [await r.json() for r in replies]
    assert [r.status for r in replies] == [200, 200] and bodies[0] == bodies[1]
    assert [v["number"] for v in bodies[1]["versions"]] == [1, 2]
    undo = {**CSRF, "Idempotency-Key": "undo-000001"}
    for _ in range(2):
        response = await client.post(f"{base}/undo", headers=undo)
        assert response.status == 200 and (await response.json())["current"]["number"] == 1
    # Without a key each request is its own: a second redo finds nothing to redo.
    assert (await client.post(f"{base}/redo", headers=CSRF)).status == 200
    assert (await client.post(f"{base}/redo", headers=CSRF)).status == 409


async def test_a_key_reused_for_another_request_or_malformed_is_a_422(client: Client, photo: bytes) -> None:
    image = (await (await client.post("/api/v1/images", data=form(photo), headers=CSRF)).json())["images"][0]
    base = f"/api/v1/images/{image['id']}"
    key = {**CSRF, "Idempotency-Key": "same-key-01"}
    assert (
        await client.post(f"{base}/operations", json={"type": "rotate", "degrees": 90}, headers=key)
    ).status == 200
    reused = await client.post(f"{base}/operations", json={"type": "rotate", "degrees": 180}, headers=key)
    assert reused.status == 422
    assert (await reused.json())["error"]["code"] == "validation_error"
    for bad in ("short", "x" * 101, "spaces are not allowed", "ünïcode-key"):
        response = await client.post(f"{base}/undo", headers={**CSRF, "Idempotency-Key": bad})
        assert response.status == 422, bad
        assert "Idempotency-Key" in (await response.json())["error"]["message"]
    info = await (await client.get(base)).json()
    assert [v["number"] for v in info["versions"]] == [1, 2] and info["current"]["number"] == 2


async def test_the_api_docs_name_the_header_where_it_works(client: Client) -> None:
    """OpenAPI lists the optional Idempotency-Key on exactly the requests that honour it."""
    spec = await (await client.get("/api/v1/openapi.json")).json()
    keyed = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if any(p["name"] == "Idempotency-Key" and not p["required"] for p in op.get("parameters", []))
    }
    assert keyed == {
        ("POST", "/api/v1/images"),
        ("POST", "/api/v1/images/{image_id}/operations"),
        ("POST", "/api/v1/images/{image_id}/undo"),
        ("POST", "/api/v1/images/{image_id}/redo"),
        ("POST", "/api/v1/images/{image_id}/revert"),
        ("POST", "/api/v1/images/{image_id}/previews/{preview_id}/apply"),
    }
