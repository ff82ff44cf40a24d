"""POST /api/v1/batches: refused bodies and ids as JSON, progress as SSE, a closed stream cancels."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
from aiohttp.test_utils import TestClient

from imagetools_common.testing import media
from imagetools_common.testing.locks import change_waiting, image_row_locked
from imagetools_common.testing.waits import eventually

CSRF = {"X-Requested-With": "ImageTools"}
Client = TestClient[Any, Any]
RESIZE = {"type": "resize", "width": 100}


async def upload(client: Client, count: int) -> list[str]:
    ids = []
    for n in range(count):
        data = aiohttp.FormData()
        data.add_field("file", media.jpeg(media.photo(240, 180, seed=n)), filename=f"p{n}.jpg")
        response = await client.post("/api/v1/images", data=data, headers=CSRF)
        assert response.status == 201, await response.text()
        ids.append((await response.json())["images"][0]["id"])
    return ids


def body(ids: list[str], operation: dict[str, Any] = RESIZE) -> dict[str, Any]:
    return {"batch_id": str(uuid.uuid4()), "image_ids": ids, "operation": operation}


async def events(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, Any]]:
    """The SSE events of a response as they arrive (keep-alive comments skipped)."""
    name = ""
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            yield name, json.loads(line[6:])


async def current_version(client: Client, image_id: str) -> int:
    number: int = (await (await client.get(f"/api/v1/images/{image_id}")).json())["current"]["number"]
    return number


async def test_bad_batches_are_precise_json_errors_and_change_nothing(
    client: Client, make_client: Any
) -> None:
    a, b = await upload(client, 2)
    (foreign,) = await upload(await make_client(), 1)  # another browser, another session
    refused = [
        (body([a, foreign]), 404, "not_found", foreign),
        (body([a, str(uuid.uuid4()), b]), 404, "not_found", "no such image"),
        (body([a, b, a]), 422, "validation_error", f"repeated: {a}"),
        (body([]), 422, "validation_error", "image_ids"),
        (body([a], {"type": "rotate", "degrees": 90}), 422, "validation_error", "'rotate'"),
        (body([a], {"type": "resize", "width": 0}), 422, "validation_error", "width"),
        (body([a], {"type": "compress", "preset": "nope"}), 422, "validation_error", "nope"),
    ]
    for sent, status, code, says in refused:
        response = await client.post("/api/v1/batches", json=sent, headers=CSRF)
        assert response.status == status, (sent, await response.text())
        error = (await response.json())["error"]
        assert error["code"] == code and says in error["message"], error
    assert [await current_version(client, i) for i in (a, b)] == [1, 1]


async def test_progress_streams_per_photo_then_the_summary(client: Client) -> None:
    a, b = await upload(client, 2)
    sent = body([a, b], {"type": "convert", "format": "webp"})
    response = await client.post("/api/v1/batches", json=sent, headers=CSRF)
    assert response.status == 200 and response.headers["Content-Type"] == "text/event-stream"
    received = [event async for event in events(response)]
    steps = [(data["image_id"], data["state"]) for name, data in received if name == "progress"]
    assert steps == [(a, "started"), (a, "done"), (b, "started"), (b, "done")]
    done = [data for name, data in received if name == "progress" and data["state"] == "done"]
    assert all(d["image"]["current"]["format"] == "webp" and d["image"]["content_url"] for d in done)
    assert received[-1] == ("done", {"batch_id": sent["batch_id"], "done": [a, b], "failed": []})
    # The same batch again replays: no third version.
    again = await client.post("/api/v1/batches", json=sent, headers=CSRF)
    assert [e async for e in events(again)][-1] == received[-1]
    assert [await current_version(client, i) for i in (a, b)] == [2, 2]


async def test_closing_the_stream_cancels_the_batch_and_leaves_nothing_of_the_photo_in_flight(
    client: Client, db_pool: asyncpg.Pool
) -> None:
    a, b, c = await upload(client, 3)
    async with image_row_locked(db_pool, uuid.UUID(b)):
        response = await client.post("/api/v1/batches", json=body([a, b, c]), headers=CSRF)
        async for _name, data in events(response):
            if (data["image_id"], data["state"]) == (b, "started"):
                break
        await eventually(lambda: change_waiting(db_pool), bool, timeout=20)  # b is being stored
        response.close()  # the browser closed the tab
        await eventually(lambda: change_waiting(db_pool), lambda waiting: not waiting, timeout=20)
    assert [await current_version(client, i) for i in (a, b, c)] == [2, 1, 1]
