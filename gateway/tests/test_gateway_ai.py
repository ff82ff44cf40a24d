"""AI models, chat and edits end to end: gateway, all three services and the fake OpenRouter, all real."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from nats.aio.client import Client as NATS
from PIL import Image, ImageChops, ImageOps
from yarl import URL

from gateway.access_log import AccessLogger
from gateway.app import create_app
from gateway.cookies import COOKIE_NAME
from gateway.settings import GatewaySettings
from image_service.__main__ import STORAGE as IMAGE_STORAGE
from image_service.handlers import register as register_images
from image_service.settings import ImageSettings
from imagetools_common.contracts import image, oauth, session
from imagetools_common.embedded import free_port
from imagetools_common.testing import media
from imagetools_common.testing.logs import CapturedLogs
from imagetools_common.testing.services import running, settings_for
from oauth_service.__main__ import STORAGE as OAUTH_STORAGE
from oauth_service.fake_openrouter import FakeState, Mode, create_fake
from oauth_service.handlers import register as register_oauth
from oauth_service.settings import OAuthSettings
from session_service.__main__ import STORAGE as SESSION_STORAGE
from session_service.handlers import register as register_sessions
from session_service.settings import SessionSettings

CSRF = {"X-Requested-With": "ImageTools"}
# Bound on waiting for what another service or the fake OpenRouter does in its own time.
WAIT = 30.0
CHAT = "/api/v1/chat/completions"


class World:
    """The fake OpenRouter, the services and a gateway on its own loopback URL, with a browser-like client."""

    def __init__(
        self, fake: FakeState, base: str, http: aiohttp.ClientSession, stack: AsyncExitStack
    ) -> None:
        self.fake = fake
        self.base = base
        self.http = http
        self.bodies: list[bytes] = []  # every response body the "browser" received
        self._stack = stack
        self.oauth_stack: AsyncExitStack | None = None

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
        headers = {**CSRF, **kwargs.pop("headers", {})}
        async with self.http.request(method, f"{self.base}{path}", headers=headers, **kwargs) as response:
            body = await response.read()
            self.bodies.append(body)
            return response.status, dict(response.headers), body

    async def json(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        got, _, body = await self.request(method, path, **kwargs)
        assert got == status, body.decode()
        return json.loads(body)

    async def connect(self) -> None:
        authorize = (await self.json("POST", "/api/v1/openrouter/connect"))["authorize_url"]
        async with self.http.get(
            authorize.replace("/auth?", "/auth/approve?"), allow_redirects=False
        ) as approved:
            callback = approved.headers["Location"]
        async with self.http.get(callback, allow_redirects=False) as response:
            assert response.headers["Location"] == "/?openrouter=connected"

    async def upload(self, data: bytes, name: str = "photo.png") -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("file", data, filename=name, content_type="application/octet-stream")
        return dict((await self.json("POST", "/api/v1/images", 201, data=form))["images"][0])

    async def content(self, image_id: str) -> Image.Image:
        status, _, body = await self.request("GET", f"/api/v1/images/{image_id}/content")
        assert status == 200
        return Image.open(io.BytesIO(body))

    async def chat(self, image_id: str, message: str, **extra: Any) -> tuple[int, dict[str, str], Any]:
        """POST a question; the SSE events as (name, data) pairs, or the JSON error."""
        status, headers, body = await self.request(
            "POST", f"/api/v1/images/{image_id}/chat", json={"message": message, **extra}
        )
        if headers.get("Content-Type", "").startswith("text/event-stream"):
            return status, headers, parse_sse(body)
        return status, headers, json.loads(body)

    def cookie(self) -> str:
        return str(self.http.cookie_jar.filter_cookies(URL(self.base))[COOKIE_NAME].value)

    async def restart_oauth(self, base_env: dict[str, str], **overrides: Any) -> None:
        if self.oauth_stack is not None:
            await self.oauth_stack.aclose()
        self.oauth_stack = AsyncExitStack()
        settings = settings_for(
            OAuthSettings,
            base_env,
            openrouter_app_url=self.base,
            openrouter_api_base=self.fake_api,
            openrouter_auth_url=self.fake_auth,
            **overrides,
        )
        await self.oauth_stack.enter_async_context(
            running(oauth.SERVICE, settings, register_oauth, storage=OAUTH_STORAGE)
        )

    fake_api = ""
    fake_auth = ""


def parse_sse(body: bytes) -> list[tuple[str, Any]]:
    events = []
    for block in body.decode().split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        name = next(line[7:] for line in lines if line.startswith("event: "))
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        events.append((name, json.loads(data)))
    return events


WorldFactory = Callable[..., Awaitable[World]]


@pytest.fixture
async def make_world(base_env: dict[str, str]) -> AsyncIterator[WorldFactory]:
    async with AsyncExitStack() as stack:

        async def make(**oauth_overrides: Any) -> World:
            fake = FakeState(stream_delay=0)
            fake_server = TestServer(create_fake(fake), host="127.0.0.1", port=0)
            await fake_server.start_server()
            stack.push_async_callback(fake_server.close)
            port = free_port()
            app_url = f"http://127.0.0.1:{port}"
            await stack.enter_async_context(
                running(session.SERVICE, settings_for(SessionSettings, base_env), register_sessions,
                        storage=SESSION_STORAGE)
            )  # fmt: skip
            await stack.enter_async_context(
                running(image.SERVICE, settings_for(ImageSettings, base_env), register_images,
                        storage=IMAGE_STORAGE)
            )  # fmt: skip
            http = await stack.enter_async_context(
                aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            )
            world = World(fake, app_url, http, stack)
            world.fake_api = str(fake_server.make_url("/api/v1"))
            world.fake_auth = str(fake_server.make_url("/auth"))
            await world.restart_oauth(base_env, **oauth_overrides)

            async def stop_oauth() -> None:
                if world.oauth_stack is not None:
                    await world.oauth_stack.aclose()

            stack.push_async_callback(stop_oauth)
            # As `python -m gateway` runs it: without handler cancellation, so the relay itself must
            # notice a browser that goes away.
            gateway = web.AppRunner(
                create_app(settings_for(GatewaySettings, base_env, openrouter_app_url=app_url)),
                access_log_class=AccessLogger,
                handler_cancellation=False,
            )
            await gateway.setup()
            stack.push_async_callback(gateway.cleanup)
            await web.TCPSite(gateway, "127.0.0.1", port).start()
            return world

        yield make


@pytest.fixture
async def world(make_world: WorldFactory) -> World:
    return await make_world()


@pytest.fixture(scope="module")
def picture() -> bytes:
    """A 3000 × 2000 photo: larger than what is sent to models, so the downscale shows."""
    return media.jpeg(media.photo(3000, 2000))


def sent_images(fake: FakeState) -> list[Image.Image]:
    """The images the fake received in its latest chat request."""
    body = fake.calls(CHAT)[-1].body
    urls = [p["image_url"]["url"] for m in body["messages"] if isinstance(m["content"], list)
            for p in m["content"] if p["type"] == "image_url"]  # fmt: skip
    return [Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1]))) for u in urls]


async def no_messages(world: World, image_id: str) -> bool:
    conversation = await world.json("GET", f"/api/v1/images/{image_id}/chat")
    return conversation == {"messages": [], "total_cost": None}


# Models -----------------------------------------------------------------------------------------


async def test_models_are_split_cached_and_the_choice_persists(world: World) -> None:
    """Vision models for chat, image-output models for edits; listed once per TTL; choices kept."""
    assert (await world.json("GET", "/api/v1/ai/models", 409))["error"]["code"] == "openrouter_not_connected"
    await world.connect()
    models = await world.json("GET", "/api/v1/ai/models")
    chat = [m["id"] for m in models["chat"]]
    edit = [m["id"] for m in models["edit"]]
    assert "openai/gpt-4o-mini" in chat and "google/gemini-2.5-flash" in chat
    assert "meta-llama/llama-3.3-70b-instruct" not in chat + edit  # text only: it cannot see the image
    assert set(edit) == {"google/gemini-2.5-flash-image", "black-forest-labs/flux.2-pro"}
    assert models["selected"] == {"chat": "google/gemini-2.5-flash", "edit": "google/gemini-2.5-flash-image"}
    mini = next(m for m in models["chat"] if m["id"] == "openai/gpt-4o-mini")
    assert mini["pricing"]["prompt"] == "0.00000015" and mini["context_length"] == 131072
    listed = len(world.fake.calls("/api/v1/models"))
    chosen = await world.json("PUT", "/api/v1/ai/models", json={"chat": "openai/gpt-4o-mini"})
    assert chosen["selected"]["chat"] == "openai/gpt-4o-mini"
    assert (await world.json("GET", "/api/v1/ai/models"))["selected"] == {
        "chat": "openai/gpt-4o-mini", "edit": "google/gemini-2.5-flash-image",
    }  # fmt: skip
    assert len(world.fake.calls("/api/v1/models")) == listed  # cached
    wrong = await world.json("PUT", "/api/v1/ai/models", 422, json={"edit": "openai/gpt-4o-mini"})
    assert wrong["error"]["code"] == "validation_error" and wrong["error"]["message"].startswith("edit:")
    await world.json("PUT", "/api/v1/ai/models", 422, json={"chat": "no such/model"})


# Chat -------------------------------------------------------------------------------------------


async def test_chat_streams_the_answer_and_saves_both_turns_with_cost(world: World, picture: bytes) -> None:
    """Tokens arrive as deltas in order; done carries both saved messages and the real cost."""
    await world.connect()
    image_id = (await world.upload(picture, "photo.jpg"))["id"]
    status, headers, events = await world.chat(image_id, "What is in this photo?")
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"delta"} and len(names) > 3
    done = events[-1][1]
    answer = "".join(data["text"] for name, data in events if name == "delta")
    assert done["assistant_message"]["content"] == answer
    assert "1536 × 1024 JPEG image" in answer  # the fake saw the downscaled picture itself
    assert done["user_message"]["content"] == "What is in this photo?"
    assert done["cost"] > 0 and done["total_cost"] == done["cost"]
    assert done["assistant_message"]["model"] == "google/gemini-2.5-flash"
    [sent] = sent_images(world.fake)
    assert max(sent.size) == 1536 and sent.format == "JPEG"
    assert world.fake.calls(CHAT)[-1].body["max_completion_tokens"] == 1024
    # The second turn carries the first as history, and the costs add up.
    _, _, events = await world.chat(image_id, "And the colours?", model="openai/gpt-4o-mini")
    second = events[-1][1]
    roles = [m["role"] for m in world.fake.calls(CHAT)[-1].body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    conversation = await world.json("GET", f"/api/v1/images/{image_id}/chat")
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant", "user", "assistant"]
    assert conversation["total_cost"] == pytest.approx(done["cost"] + second["cost"])
    assert second["total_cost"] == pytest.approx(conversation["total_cost"])
    assert await world.json("DELETE", f"/api/v1/images/{image_id}/chat") == {
        "messages": [],
        "total_cost": None,
    }
    assert await no_messages(world, image_id)


async def test_transparent_images_are_sent_as_png(world: World) -> None:
    """An image with transparency keeps it on the way to the model (PNG, not JPEG)."""
    await world.connect()
    rgba = Image.new("RGBA", (300, 200), (10, 200, 30, 128))
    image_id = (await world.upload(media.encoded(rgba, "PNG")))["id"]
    status, _, events = await world.chat(image_id, "Describe it")
    assert status == 200 and events[-1][0] == "done"
    [sent] = sent_images(world.fake)
    assert sent.format == "PNG" and sent.size == (300, 200)


async def test_stopping_mid_stream_cancels_the_model_and_saves_nothing(world: World) -> None:
    """When the browser goes away mid-answer, the OpenRouter request is aborted and nothing is saved."""
    await world.connect()
    image_id = (await world.upload(media.jpeg(media.photo(400, 300))))["id"]
    world.fake.stream_delay = 0.2
    question = " ".join(["word"] * 600)  # the fake echoes it: a long answer, many chunks
    async with world.http.post(
        f"{world.base}/api/v1/images/{image_id}/chat", json={"message": question}, headers=CSRF
    ) as response:
        assert response.status == 200
        assert (await response.content.readuntil(b"\n\n")).startswith(b"event: delta")
        response.close()  # the user pressed stop
    async with asyncio.timeout(WAIT):
        while not world.fake.calls(CHAT)[-1].aborted:  # noqa: ASYNC110 - the fake records, it does not signal
            await asyncio.sleep(0.05)
    world.fake.stream_delay = 0
    assert await no_messages(world, image_id)


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        (Mode.PAYMENT_REQUIRED, 402, "payment_required"),
        (Mode.RATE_LIMITED, 429, "rate_limited"),
        (Mode.UPSTREAM, 502, "bad_gateway"),
    ],
)
async def test_errors_before_the_answer_are_json_and_save_nothing(
    world: World, mode: Mode, status: int, code: str
) -> None:
    """402, 429 (with Retry-After passed on, and one call only) and 5xx come back as clear JSON errors."""
    await world.connect()
    image_id = (await world.upload(media.jpeg(media.photo(200, 150))))["id"]
    calls = len(world.fake.calls(CHAT))
    world.fake.set_mode(mode)
    got, headers, body = await world.chat(image_id, "Hello?")
    world.fake.set_mode(Mode.OK)
    assert got == status and body["error"]["code"] == code and body["error"]["message"]
    if mode is Mode.RATE_LIMITED:
        assert headers["Retry-After"] == "2"
    if mode is Mode.PAYMENT_REQUIRED:
        assert "credits" in body["error"]["message"]
    assert len(world.fake.calls(CHAT)) == calls + 1  # never retried blindly
    assert await no_messages(world, image_id)


async def test_an_error_mid_stream_is_an_error_event_and_saves_nothing(world: World) -> None:
    """Some tokens, then the provider fails: the stream ends with an error event; nothing is kept."""
    await world.connect()
    image_id = (await world.upload(media.jpeg(media.photo(200, 150))))["id"]
    world.fake.set_mode(Mode.MIDSTREAM, times=1)
    status, _, events = await world.chat(image_id, "Tell me a long story about this picture please")
    assert status == 200 and events[0][0] == "delta"
    name, data = events[-1]
    assert name == "error" and data["error"]["code"] == "bad_gateway"
    assert "Provider disconnected" in data["error"]["message"]
    assert await no_messages(world, image_id)


async def test_a_silent_model_times_out_clearly(make_world: WorldFactory) -> None:
    """A model that never answers is a 504 after OPENROUTER_TIMEOUT_SECONDS, and nothing is saved."""
    world = await make_world(openrouter_timeout_seconds=1)
    await world.connect()
    image_id = (await world.upload(media.jpeg(media.photo(200, 150))))["id"]
    world.fake.set_mode(Mode.SLOW, times=1)
    status, _, body = await world.chat(image_id, "Anyone there?")
    assert status == 504 and body["error"]["code"] == "timeout"
    assert await no_messages(world, image_id)


async def test_the_server_wide_key_is_used_without_a_connection(
    make_world: WorldFactory, picture: bytes
) -> None:
    """OPENROUTER_API_KEY serves sessions that connected no account of their own."""
    fake_key = FakeState().add_key()  # a key string the fake of this world must learn
    world = await make_world(openrouter_api_key=fake_key.key)
    world.fake.keys[fake_key.key] = fake_key
    models = await world.json("GET", "/api/v1/ai/models")
    assert models["chat"]
    image_id = (await world.upload(picture, "photo.jpg"))["id"]
    status, _, events = await world.chat(image_id, "What is it?")
    assert status == 200 and events[-1][0] == "done"
    assert world.fake.calls(CHAT)[-1].key == fake_key.key


async def test_a_rejected_server_key_is_an_administrators_problem(make_world: WorldFactory) -> None:
    """OpenRouter rejecting the server-wide key is a 502 naming the administrator, not "reconnect"."""
    fake_key = FakeState().add_key()
    world = await make_world(openrouter_api_key=fake_key.key)
    world.fake.keys[fake_key.key] = fake_key
    image_id = (await world.upload(media.jpeg(media.photo(200, 150))))["id"]
    world.fake.set_mode(Mode.UNAUTHORIZED, times=1)
    status, _, body = await world.chat(image_id, "Hello?")
    assert status == 502 and "administrator" in body["error"]["message"]
    status, _, events = await world.chat(image_id, "Hello again?")  # nothing was marked invalid
    assert status == 200 and events[-1][0] == "done"


async def test_another_sessions_image_is_not_found(make_world: WorldFactory, picture: bytes) -> None:
    """Chat, its history and AI edits of an image another session owns are all 404, even with a key."""
    fake_key = FakeState().add_key()
    world = await make_world(openrouter_api_key=fake_key.key)  # every session has a key
    world.fake.keys[fake_key.key] = fake_key
    image_id = (await world.upload(picture, "photo.jpg"))["id"]
    async with aiohttp.ClientSession() as stranger:
        for method, path, body in (
            ("GET", "chat", None), ("DELETE", "chat", None), ("POST", "chat", {"message": "hi"}),
            ("POST", "ai-edit", {"instruction": "invert"}),
        ):  # fmt: skip
            url = f"{world.base}/api/v1/images/{image_id}/{path}"
            async with stranger.request(method, url, json=body, headers=CSRF) as response:
                assert response.status == 404, await response.text()
                assert (await response.json())["error"]["code"] == "not_found"
    assert world.fake.calls(CHAT) == []


async def test_bad_chat_requests_are_precise_errors(world: World) -> None:
    """Empty or oversized messages, a malformed id and an unknown model get named 4xx errors."""
    await world.connect()
    image_id = (await world.upload(media.jpeg(media.photo(200, 150))))["id"]
    for body in ({"message": ""}, {"message": "x" * 4001}, {"message": "hi", "model": "nope/nope"}, {}):
        got, _, raw = await world.request("POST", f"/api/v1/images/{image_id}/chat", json=body)
        assert got == 422 and json.loads(raw)["error"]["code"] == "validation_error", raw
    got, _, _ = await world.request("POST", "/api/v1/images/not-a-uuid/chat", json={"message": "hi"})
    assert got == 404
    got, _, _ = await world.request("POST", f"/api/v1/images/{image_id}/chat", data="message=hi")
    assert got == 415


async def test_deleting_the_image_deletes_its_conversation(world: World, db_pool: asyncpg.Pool) -> None:
    """image-service announces the deletion and oauth-service drops the conversation."""
    await world.connect()
    image_id = (await world.upload(media.jpeg(media.photo(200, 150))))["id"]
    await world.chat(image_id, "Remember this")
    count = "SELECT count(*) FROM oauth.chat_messages WHERE image_id = $1::uuid"
    assert await db_pool.fetchval(count, image_id) == 2
    assert (await world.request("DELETE", f"/api/v1/images/{image_id}"))[0] == 204
    async with asyncio.timeout(WAIT):
        while await db_pool.fetchval(count, image_id):  # noqa: ASYNC110 - the event is handled in another service
            await asyncio.sleep(0.05)


async def test_a_missed_deletion_is_caught_when_the_conversation_is_next_read(
    world: World, db_pool: asyncpg.Pool
) -> None:
    """If the deletion event never arrived, reading the conversation finds the image gone and drops it."""
    await world.connect()
    image_id = (await world.upload(media.jpeg(media.photo(200, 150))))["id"]
    await world.chat(image_id, "Remember this")
    await db_pool.execute("DELETE FROM images.images WHERE id = $1::uuid", image_id)  # no event sent
    assert (await world.request("GET", f"/api/v1/images/{image_id}/chat"))[0] == 404
    assert (
        await db_pool.fetchval("SELECT count(*) FROM oauth.chat_messages WHERE image_id = $1::uuid", image_id)
        == 0
    )


async def test_ending_the_session_deletes_its_conversations(world: World, db_pool: asyncpg.Pool) -> None:
    """Conversations belong to the session and go with it."""
    await world.connect()
    image_id = (await world.upload(media.jpeg(media.photo(200, 150))))["id"]
    await world.chat(image_id, "Remember this")
    assert (await world.request("DELETE", "/api/v1/session"))[0] == 204
    assert (
        await db_pool.fetchval("SELECT count(*) FROM oauth.chat_messages WHERE image_id = $1::uuid", image_id)
        == 0
    )


async def test_a_revoked_key_asks_to_reconnect(world: World) -> None:
    """A 401 from OpenRouter during chat is a 409 asking to reconnect, and the status says invalid."""
    await world.connect()
    image_id = (await world.upload(media.jpeg(media.photo(200, 150))))["id"]
    world.fake.set_mode(Mode.UNAUTHORIZED, times=1)
    status, _, body = await world.chat(image_id, "Hello?")
    assert status == 409 and body["error"]["code"] == "openrouter_not_connected"
    assert "Reconnect" in body["error"]["message"]
    assert (await world.json("GET", "/api/v1/openrouter/status"))["state"] == "invalid"
    assert await no_messages(world, image_id)


# Edit -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def noisy_png() -> tuple[Image.Image, bytes]:
    """Noisy and transparent: sent losslessly as PNG, and the edited answer is one event of several MB.

    Made outside the async tests, so the encoding does not count as blocking their event loop.
    """
    original = media.photo(1400, 1000, grain=0.25).convert("RGBA")
    return original, media.encoded(original, "PNG")


async def test_ai_edit_is_an_undoable_version_with_the_models_image(
    world: World, noisy_png: tuple[Image.Image, bytes]
) -> None:
    """The model's (inverted) image becomes a new, undoable version; its multi-MB stream event parses."""
    await world.connect()
    original, png = noisy_png
    uploaded = await world.upload(png)
    image_id = uploaded["id"]
    edited = await world.json(
        "POST", f"/api/v1/images/{image_id}/ai-edit", json={"instruction": "invert the colours"}
    )
    current = edited["image"]["current"]
    assert current["operation"] == "ai_edit"
    assert current["params"] == {
        "model": "google/gemini-2.5-flash-image",
        "instruction": "invert the colours",
    }
    assert edited["text"].startswith("I inverted the colours") and edited["cost"] > 0
    assert edited["image"]["can_undo"]
    event_body = world.fake.calls(CHAT)[-1].body
    assert event_body["modalities"] == ["image", "text"]
    status, _, stored = await world.request("GET", f"/api/v1/images/{image_id}/content")
    assert status == 200 and len(stored) * 4 / 3 > 3 * 1024 * 1024  # the answer was several MB of base64
    shown = Image.open(io.BytesIO(stored)).convert("RGBA")
    expected = ImageOps.invert(original.convert("RGB"))
    assert ImageChops.difference(shown.convert("RGB"), expected).getbbox() is None
    undone = await world.json("POST", f"/api/v1/images/{image_id}/undo")
    assert undone["current"]["number"] == uploaded["current"]["number"]
    back = (await world.content(image_id)).convert("RGBA")
    assert ImageChops.difference(back, original).getbbox() is None
    redone = await world.json("POST", f"/api/v1/images/{image_id}/redo")
    assert redone["current"]["operation"] == "ai_edit"


async def test_a_link_instead_of_an_image_is_refused_and_nothing_changes(
    world: World, db_pool: asyncpg.Pool
) -> None:
    """A model answering with an https URL is refused, the URL is never fetched, the image is unchanged."""
    await world.connect()
    uploaded = await world.upload(media.jpeg(media.photo(300, 200)))
    world.fake.set_mode(Mode.URL_IMAGE, times=1)
    status, _, body = await world.request(
        "POST", f"/api/v1/images/{uploaded['id']}/ai-edit", json={"instruction": "make it blue"}
    )
    error = json.loads(body)["error"]
    assert status == 502 and "link" in error["message"] and "never fetched" in error["message"]
    after = await world.json("GET", f"/api/v1/images/{uploaded['id']}")
    assert after["versions"] == uploaded["versions"]


async def test_a_link_to_a_local_server_is_never_fetched(world: World) -> None:
    """SSRF guard: a model pointing at a loopback "canary" server gets a refusal and the canary no visit."""
    hits: list[str] = []

    async def canary(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=media.encoded(Image.new("RGB", (8, 8)), "PNG"), content_type="image/png")

    app = web.Application()
    app.router.add_get("/{tail:.*}", canary)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        await world.connect()
        uploaded = await world.upload(media.jpeg(media.photo(300, 200)))
        world.fake.url_image = str(server.make_url("/secret.png"))
        world.fake.set_mode(Mode.URL_IMAGE, times=1)
        status, _, body = await world.request(
            "POST", f"/api/v1/images/{uploaded['id']}/ai-edit", json={"instruction": "make it blue"}
        )
    finally:
        await server.close()
    assert status == 502 and "never fetched" in json.loads(body)["error"]["message"]
    assert hits == []


async def test_an_oversized_model_image_is_refused(make_world: WorldFactory) -> None:
    """An image larger than OPENROUTER_MAX_IMAGE_MB is refused and changes nothing."""
    world = await make_world(openrouter_max_image_mb=0.05)
    await world.connect()
    uploaded = await world.upload(media.encoded(media.photo(400, 300, grain=0.25).convert("RGBA"), "PNG"))
    status, _, body = await world.request(
        "POST", f"/api/v1/images/{uploaded['id']}/ai-edit", json={"instruction": "invert"}
    )
    assert status == 502 and "larger than" in json.loads(body)["error"]["message"]
    assert (await world.json("GET", f"/api/v1/images/{uploaded['id']}"))["versions"] == uploaded["versions"]


async def test_an_oversized_stream_event_is_refused_before_it_ends(
    make_world: WorldFactory, noisy_png: tuple[Image.Image, bytes]
) -> None:
    """A streamed event far beyond the cap (a 5 MB image against a 1 MiB limit) is cut off and refused."""
    world = await make_world(openrouter_max_image_mb=0.05)
    await world.connect()
    uploaded = await world.upload(noisy_png[1])
    status, _, body = await world.request(
        "POST", f"/api/v1/images/{uploaded['id']}/ai-edit", json={"instruction": "invert"}
    )
    error = json.loads(body)["error"]
    assert status == 502 and "exceeded" in error["message"], error
    assert (await world.json("GET", f"/api/v1/images/{uploaded['id']}"))["versions"] == uploaded["versions"]


async def test_an_edit_the_browser_abandons_is_cancelled_and_changes_nothing(world: World) -> None:
    """Closing the request while the model works (nothing is being written) stops the model; no version."""
    await world.connect()
    uploaded = await world.upload(media.jpeg(media.photo(300, 200)))
    world.fake.stream_delay = 0.2
    calls = len(world.fake.calls(CHAT))
    instruction = ("word " * 399).strip()  # the fake echoes it slowly before sending the image
    request = asyncio.ensure_future(
        world.http.post(
            f"{world.base}/api/v1/images/{uploaded['id']}/ai-edit",
            json={"instruction": instruction},
            headers=CSRF,
        )
    )
    async with asyncio.timeout(WAIT):
        while len(world.fake.calls(CHAT)) == calls:  # noqa: ASYNC110 - the fake records, it does not signal
            await asyncio.sleep(0.05)
    request.cancel()  # the browser gives up: the connection closes
    async with asyncio.timeout(WAIT):
        while not world.fake.calls(CHAT)[-1].aborted:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    world.fake.stream_delay = 0
    assert (await world.json("GET", f"/api/v1/images/{uploaded['id']}"))["versions"] == uploaded["versions"]


async def test_edit_errors_are_json_and_change_nothing(world: World) -> None:
    """A 402 during an edit is a clear JSON error and the image keeps its history."""
    await world.connect()
    uploaded = await world.upload(media.jpeg(media.photo(300, 200)))
    world.fake.set_mode(Mode.PAYMENT_REQUIRED, times=1)
    status, _, body = await world.request(
        "POST", f"/api/v1/images/{uploaded['id']}/ai-edit", json={"instruction": "invert"}
    )
    assert status == 402 and json.loads(body)["error"]["code"] == "payment_required"
    assert (await world.json("GET", f"/api/v1/images/{uploaded['id']}"))["versions"] == uploaded["versions"]


# Security checklist -----------------------------------------------------------------------------


async def test_no_key_material_in_responses_logs_or_bus_messages(
    world: World, nc: NATS, logs: CapturedLogs
) -> None:
    """Connect, list models, chat, edit, disconnect: no `sk-or-` in any response, log line or NATS message."""
    seen: list[bytes] = []

    async def record(msg: Any) -> None:
        seen.append(msg.data + json.dumps(dict(msg.headers or {})).encode())

    sub = await nc.subscribe(">", cb=record)
    await world.connect()
    await world.json("GET", "/api/v1/ai/models")
    image_id = (await world.upload(media.jpeg(media.photo(300, 200))))["id"]
    _, _, events = await world.chat(image_id, "What is this?")
    assert events[-1][0] == "done"
    await world.json("POST", f"/api/v1/images/{image_id}/ai-edit", json={"instruction": "invert"})
    await world.json("GET", "/api/v1/openrouter/status")
    await world.json("DELETE", "/api/v1/openrouter")
    await nc.flush()
    await sub.unsubscribe()
    [key] = [k for k in world.fake.keys]
    assert len(seen) > 20 and world.fake.calls(CHAT)[-1].key == key
    for data in [*seen, *world.bodies]:
        assert b"sk-or-" not in data
    # The last request's access line is written after its response: wait for it before reading the log.
    await logs.wait_for(lambda e: e.get("logger") == "gateway.access" and e.get("method") == "DELETE")
    logged = logs.text()
    assert "sk-or-" not in logged and key not in logged


async def _session_id(pool: asyncpg.Pool, cookie: str) -> Any:
    return await pool.fetchval(
        "SELECT session_id FROM sessions.devices WHERE token_hash = $1",
        hashlib.sha256(cookie.encode()).digest(),
    )


async def test_an_expired_flow_exchanges_nothing(world: World, db_pool: asyncpg.Pool) -> None:
    """A callback more than ten minutes after the start fails clearly, with no call to /auth/keys."""
    authorize = (await world.json("POST", "/api/v1/openrouter/connect"))["authorize_url"]
    async with world.http.get(
        authorize.replace("/auth?", "/auth/approve?"), allow_redirects=False
    ) as approved:
        callback = approved.headers["Location"]
    session_id = await _session_id(db_pool, world.cookie())
    await db_pool.execute(
        "UPDATE oauth.flows SET created_at = now() - interval '601 seconds' WHERE session_id = $1", session_id
    )
    async with world.http.get(callback, allow_redirects=False) as response:
        assert response.status == 303 and "openrouter=failed" in response.headers["Location"]
        assert "expired" in response.headers["Location"]
    assert world.fake.calls("/api/v1/auth/keys") == []


async def test_a_ciphertext_copied_to_another_session_does_not_decrypt(
    world: World, db_pool: asyncpg.Pool
) -> None:
    """The stored key is bound to its session: copied onto another session's row it is unusable."""
    await world.connect()
    owner = await _session_id(db_pool, world.cookie())
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        await other.put(f"{world.base}/api/v1/settings/ui.x", json={"value": 1}, headers=CSRF)
        token = str(other.cookie_jar.filter_cookies(URL(world.base))[COOKIE_NAME].value)
        thief = await _session_id(db_pool, token)
        await db_pool.execute(
            "INSERT INTO oauth.credentials (session_id, ciphertext, key_hash) "
            "SELECT $2, ciphertext, key_hash FROM oauth.credentials WHERE session_id = $1",
            owner,
            thief,
        )
        async with other.get(f"{world.base}/api/v1/ai/models") as response:
            assert response.status == 409
            assert (await response.json())["error"]["code"] == "openrouter_not_connected"
        async with other.get(f"{world.base}/api/v1/openrouter/status") as response:
            assert (await response.json())["state"] == "invalid"
    assert (await world.json("GET", "/api/v1/openrouter/status"))["state"] == "connected"


async def test_rotating_the_secret_reencrypts_stored_keys(
    world: World, base_env: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    """With a new secret first, start-up re-encrypts stored keys; then the old secret can go."""
    old, new = "o" * 48, "n" * 48
    await world.restart_oauth(base_env, credential_keys=old)
    await world.connect()
    session_id = await _session_id(db_pool, world.cookie())
    before = bytes(
        await db_pool.fetchval("SELECT ciphertext FROM oauth.credentials WHERE session_id = $1", session_id)
    )
    await world.restart_oauth(base_env, credential_keys=f"{new},{old}")
    after = bytes(
        await db_pool.fetchval("SELECT ciphertext FROM oauth.credentials WHERE session_id = $1", session_id)
    )
    assert after[1:5] != before[1:5]  # sealed under another key id
    await world.restart_oauth(base_env, credential_keys=new)
    assert (await world.json("GET", "/api/v1/openrouter/status"))["state"] == "connected"
    assert (await world.json("GET", "/api/v1/ai/models"))["chat"]


# Limits -----------------------------------------------------------------------------------------


async def test_a_seventh_edit_within_a_minute_is_refused_before_the_model(world: World) -> None:
    """Six AI edits a minute per session; the seventh is a 429 with Retry-After that costs nothing."""
    await world.connect()
    uploaded = await world.upload(media.jpeg(media.photo(64, 48)))
    path = f"/api/v1/images/{uploaded['id']}/ai-edit"
    for _ in range(6):
        await world.json("POST", path, json={"instruction": "invert"})
    calls = len(world.fake.calls(CHAT))
    status, headers, body = await world.request("POST", path, json={"instruction": "invert"})
    assert status == 429 and json.loads(body)["error"]["code"] == "rate_limited"
    assert 0 < int(headers["Retry-After"]) <= 60
    assert len(world.fake.calls(CHAT)) == calls


async def test_one_edit_at_a_time_per_session(world: World) -> None:
    """While an edit runs, a second one from the same session is refused at once, not queued."""
    await world.connect()
    uploaded = await world.upload(media.jpeg(media.photo(300, 200)))
    path = f"{world.base}/api/v1/images/{uploaded['id']}/ai-edit"
    world.fake.stream_delay = 0.2
    calls = len(world.fake.calls(CHAT))
    slow = asyncio.ensure_future(
        world.http.post(path, json={"instruction": ("word " * 100).strip()}, headers=CSRF)
    )
    async with asyncio.timeout(WAIT):
        while len(world.fake.calls(CHAT)) == calls:  # noqa: ASYNC110 - the fake records, it does not signal
            await asyncio.sleep(0.05)
    status, headers, body = await world.request(
        "POST", f"/api/v1/images/{uploaded['id']}/ai-edit", json={"instruction": "invert"}
    )
    assert status == 429 and "at a time" in json.loads(body)["error"]["message"]
    assert "Retry-After" in headers
    world.fake.stream_delay = 0
    async with await slow as finished:
        assert finished.status == 200
