"""The fake OpenRouter, a real server on loopback: PKCE, keys, models, chat (streamed or not), failures."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image, ImageChops, ImageStat
from yarl import URL

from imagetools_common.testing.media import photo
from oauth_service.fake_openrouter import CODE_TTL, FakeState, Mode, create_fake, s256

Client = TestClient[Any, Any]
CALLBACK = "http://localhost:8081/oauth/callback"
VERIFIER = "x" * 10 + "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
KEY = re.compile(r"sk-or-v1-[0-9a-f]{64}")
CHAT = "/api/v1/chat/completions"
VISION = "openai/gpt-4o-mini"
EDITOR = "google/gemini-2.5-flash-image"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that would reach beyond this machine."""
    connect = socket.socket.connect
    getaddrinfo = socket.getaddrinfo

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            raise AssertionError(f"network access to {address}")
        connect(sock, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK:
            raise AssertionError(f"DNS lookup of {host}")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> FakeState:
    return FakeState(clock=clock, stream_delay=0)


@pytest.fixture
async def fake(state: FakeState) -> AsyncIterator[Client]:
    """The fake on 127.0.0.1 and a free port, with a client for it."""
    client: Client = TestClient(TestServer(create_fake(state), host="127.0.0.1", port=0))
    await client.start_server()
    yield client
    await client.close()


def challenge_for(verifier: str) -> str:
    """S256 written out again here, so the fake's own helper is not what checks the fake."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize_query(verifier: str = VERIFIER, **overrides: str) -> dict[str, str]:
    query = {
        "callback_url": CALLBACK,
        "code_challenge": challenge_for(verifier),
        "code_challenge_method": "S256",
        "state": "st-123",
    }
    return {k: v for k, v in {**query, **overrides}.items() if v}


async def approved_code(fake: Client, verifier: str = VERIFIER) -> str:
    response = await fake.get("/auth/approve", params=authorize_query(verifier), allow_redirects=False)
    assert response.status == 302
    return URL(response.headers["Location"]).query["code"]


async def exchange(fake: Client, code: str, verifier: str = VERIFIER, method: str = "S256") -> Any:
    body = {"code": code, "code_verifier": verifier, "code_challenge_method": method}
    return await fake.post("/api/v1/auth/keys", json=body)


async def connected_key(fake: Client) -> str:
    response = await exchange(fake, await approved_code(fake))
    assert response.status == 200
    return str((await response.json())["key"])


def png_data_url(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def decode_data_url(url: str) -> Image.Image:
    header, _, data = url.partition(",")
    assert header == "data:image/png;base64"
    return Image.open(io.BytesIO(base64.b64decode(data)))


RED = Image.new("RGB", (64, 48), (200, 30, 40))


def chat_body(image: Image.Image = RED, model: str = VISION, **extra: Any) -> dict[str, Any]:
    content = [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": png_data_url(image), "detail": "auto"}},
    ]
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


async def chat(fake: Client, key: str, body: dict[str, Any]) -> Any:
    return await fake.post(CHAT, json=body, headers={"Authorization": f"Bearer {key}"})


@dataclass
class Sse:
    """A stream as read off the wire: JSON events, comment lines, and whether [DONE] ended it."""

    events: list[dict[str, Any]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    data_lines: list[bytes] = field(default_factory=list)
    done: bool = False

    @property
    def content(self) -> str:
        return "".join(e["choices"][0]["delta"].get("content") or "" for e in self.events if e.get("choices"))


async def read_sse(response: Any) -> Sse:
    """Parse SSE by hand, by blank-line-separated blocks, without aiohttp's line length limit."""
    raw = b""
    async for chunk in response.content.iter_chunked(1 << 16):
        raw += chunk
    assert raw.endswith(b"\n\n")
    sse = Sse()
    for block in raw[:-2].split(b"\n\n"):
        assert b"\n" not in block, "every event is a single line"
        assert not sse.done, "nothing follows [DONE]"
        if block.startswith(b":"):
            sse.comments.append(block.decode())
        elif block == b"data: [DONE]":
            sse.done = True
        else:
            assert block.startswith(b"data: ")
            sse.data_lines.append(block)
            sse.events.append(json.loads(block[6:]))
    return sse


def test_s256_matches_the_rfc_7636_example() -> None:
    """The fake's S256 turns RFC 7636 Appendix B's verifier into its published challenge."""
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256(verifier) == challenge_for(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


async def test_auth_shows_a_self_contained_approve_page(fake: Client) -> None:
    """GET /auth shows plain HTML with Approve and Deny links carrying the same parameters."""
    response = await fake.get("/auth", params=authorize_query())
    html = await response.text()
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "<script" not in html and "src=" not in html and "<link" not in html
    links = dict(re.findall(r'<a href="([^"]+)">(\w+)</a>', html))
    assert {text: URL(href.replace("&amp;", "&")).path for href, text in links.items()} == {
        "Approve": "/auth/approve",
        "Deny": "/auth/deny",
    }
    for href in links:
        assert URL(href.replace("&amp;", "&")).query == authorize_query()


async def test_approve_redirects_to_the_callback_with_code_and_state(fake: Client, state: FakeState) -> None:
    """Approving issues a code bound to the challenge and 302s to callback_url?code=…&state=…."""
    response = await fake.get("/auth/approve", params=authorize_query(), allow_redirects=False)
    location = URL(response.headers["Location"])
    assert response.status == 302
    assert str(location.with_query(None)) == CALLBACK
    assert location.query["state"] == "st-123"
    issued = state.codes[location.query["code"]]
    assert (issued.challenge, issued.callback_url) == (challenge_for(VERIFIER), CALLBACK)


async def test_callback_query_parameters_are_kept(fake: Client) -> None:
    """A callback_url that has its own query keeps it, with code and state appended."""
    params = authorize_query(callback_url=f"{CALLBACK}?flow=7")
    response = await fake.get("/auth/approve", params=params, allow_redirects=False)
    assert set(URL(response.headers["Location"]).query) == {"flow", "code", "state"}


async def test_deny_redirects_with_access_denied_and_no_state(fake: Client, state: FakeState) -> None:
    """Denying sends the browser back with error=access_denied only, as OpenRouter drops state."""
    response = await fake.get("/auth/deny", params=authorize_query(), allow_redirects=False)
    assert response.status == 302
    assert URL(response.headers["Location"]).query == {"error": "access_denied"}
    assert state.codes == {}


async def test_auto_approve_redirects_straight_from_auth(fake: Client, state: FakeState) -> None:
    """With auto_approve, /auth itself redirects with a code, as if the user had clicked Approve."""
    state.auto_approve = True
    response = await fake.get("/auth", params=authorize_query(), allow_redirects=False)
    assert response.status == 302
    assert set(URL(response.headers["Location"]).query) == {"code", "state"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge_method": "plain"},
        {"code_challenge_method": ""},
        {"code_challenge": ""},
        {"callback_url": ""},
        {"callback_url": "http://192.168.1.5/oauth/callback"},
        {"callback_url": "ftp://localhost/oauth/callback"},
    ],
)
async def test_authorize_refuses_bad_requests(
    fake: Client, state: FakeState, overrides: dict[str, str]
) -> None:
    """A non-S256 method, no challenge, no callback or a non-https non-local callback get a 400 page."""
    for path in ("/auth", "/auth/approve"):
        response = await fake.get(path, params=authorize_query(**overrides), allow_redirects=False)
        assert response.status == 400
        assert "Authorization failed" in await response.text()
    assert state.codes == {}


async def test_pkce_round_trip_gives_a_key_exactly_once(fake: Client) -> None:
    """The code and its verifier buy one key; the same code a second time is a 403."""
    code = await approved_code(fake)
    first = await exchange(fake, code)
    body = await first.json()
    assert first.status == 200
    assert KEY.fullmatch(body["key"]) and body["user_id"].startswith("user_")
    second = await exchange(fake, code)
    assert second.status == 403
    assert await second.json() == {"error": {"code": 403, "message": "Invalid code or code_verifier"}}


async def test_wrong_verifier_is_403_and_burns_the_code(fake: Client) -> None:
    """A verifier that does not hash to the challenge is refused, and the code is gone afterwards."""
    code = await approved_code(fake)
    wrong = await exchange(fake, code, verifier="y" * 43)
    assert wrong.status == 403
    assert (await wrong.json())["error"]["message"] == "Invalid code or code_verifier"
    assert (await exchange(fake, code)).status == 403


async def test_code_expires_after_ten_minutes(fake: Client, clock: Clock) -> None:
    """A code still works just under ten minutes after issue and is 403 "expired" just after."""
    fresh = await approved_code(fake)
    clock.now += CODE_TTL - 1
    assert (await exchange(fake, fresh)).status == 200
    stale = await approved_code(fake)
    clock.now += CODE_TTL + 1
    response = await exchange(fake, stale)
    assert response.status == 403
    assert await response.json() == {"error": {"code": 403, "message": "Authorization code expired"}}


async def test_exchange_with_another_method_is_400(fake: Client) -> None:
    """Claiming `plain` at the exchange after S256 at /auth is 400 Invalid code_challenge_method."""
    response = await exchange(
        fake, await approved_code(fake), verifier=challenge_for(VERIFIER), method="plain"
    )
    assert response.status == 400
    assert await response.json() == {"error": {"code": 400, "message": "Invalid code_challenge_method"}}


async def test_exchange_refuses_malformed_requests(fake: Client) -> None:
    """GET is 405 and a body without a code is 400, both in OpenRouter's error shape."""
    get = await fake.get("/api/v1/auth/keys")
    assert get.status == 405
    assert await get.json() == {"error": {"code": 405, "message": "Method Not Allowed"}}
    for data in (b"not json", b"{}", b'{"code": 7}'):
        response = await fake.post(
            "/api/v1/auth/keys", data=data, headers={"Content-Type": "application/json"}
        )
        assert response.status == 400
        assert (await response.json())["error"]["code"] == 400


async def test_exchanges_are_recorded(fake: Client, state: FakeState) -> None:
    """Every exchange call is recorded with its body, so tests can count calls to /auth/keys."""
    code = await approved_code(fake)
    await exchange(fake, code)
    (call,) = state.calls("/api/v1/auth/keys")
    assert call.method == "POST"
    assert call.body == {"code": code, "code_verifier": VERIFIER, "code_challenge_method": "S256"}


async def test_key_info_describes_a_valid_key(fake: Client) -> None:
    """GET /key with a good key gives its masked label, limit, remaining credit and usage."""
    key = await connected_key(fake)
    response = await fake.get("/api/v1/key", headers={"Authorization": f"Bearer {key}"})
    text = await response.text()
    data = json.loads(text)["data"]
    assert response.status == 200
    assert key not in text
    assert data["label"] == f"{key[:12]}...{key[-3:]}"
    assert (data["limit"], data["limit_remaining"], data["usage"]) == (10.0, 10.0, 0.0)
    assert data["is_free_tier"] is False and data["is_management_key"] is False
    assert {"limit_reset", "usage_daily", "byok_usage", "expires_at", "creator_user_id"} <= set(data)


@pytest.mark.parametrize(
    ("authorization", "message"),
    [(None, "No auth credentials found"), ("Bearer sk-or-v1-" + "0" * 64, "User not found.")],
)
async def test_key_info_refuses_a_missing_or_unknown_key(
    fake: Client, authorization: str | None, message: str
) -> None:
    """GET /key without a key, or with one the fake never issued, is 401 in OpenRouter's shape."""
    headers = {"Authorization": authorization} if authorization else {}
    response = await fake.get("/api/v1/key", headers=headers)
    assert response.status == 401
    assert await response.json() == {"error": {"code": 401, "message": message}}


async def test_key_info_is_401_once_the_key_is_revoked(fake: Client, state: FakeState) -> None:
    """In mode 401 even an issued key is refused by GET /key, as a revoked key would be."""
    key = await connected_key(fake)
    state.set_mode(Mode.UNAUTHORIZED)
    response = await fake.get("/api/v1/key", headers={"Authorization": f"Bearer {key}"})
    assert response.status == 401


async def model_ids(fake: Client, **query: str) -> list[str]:
    response = await fake.get("/api/v1/models", params=query)
    assert response.status == 200
    return [model["id"] for model in (await response.json())["data"]]


async def test_models_default_to_text_output(fake: Client) -> None:
    """Without filters only models that output text are listed, so an image-only model is left out."""
    ids = await model_ids(fake)
    assert VISION in ids and EDITOR in ids
    assert "black-forest-labs/flux.2-pro" not in ids


async def test_models_filter_by_modality(fake: Client) -> None:
    """output_modalities=image lists image makers, input_modalities=image vision models, all everything."""
    assert await model_ids(fake, output_modalities="image") == [EDITOR, "black-forest-labs/flux.2-pro"]
    vision = await model_ids(fake, input_modalities="text,image")
    assert VISION in vision and "meta-llama/llama-3.3-70b-instruct" not in vision
    assert len(await model_ids(fake, output_modalities="all")) == 5


async def test_models_carry_pricing_and_architecture(fake: Client) -> None:
    """Each model has string prices per token and its input and output modalities."""
    response = await fake.get("/api/v1/models", params={"output_modalities": "all"})
    for model in (await response.json())["data"]:
        assert all(isinstance(price, str) for price in model["pricing"].values())
        assert float(model["pricing"]["completion"]) > 0
        assert model["architecture"]["input_modalities"] and model["architecture"]["output_modalities"]
        assert {"context_length", "top_provider", "supported_parameters"} <= set(model)


async def test_chat_describes_the_image_it_received(fake: Client, state: FakeState) -> None:
    """A vision model's answer names the decoded image's size and colour, and usage carries cost."""
    key = await connected_key(fake)
    response = await chat(fake, key, chat_body(max_completion_tokens=512))
    body = await response.json()
    assert response.status == 200
    assert response.headers["X-Generation-Id"] == body["id"]
    message = body["choices"][0]["message"]
    assert "64 × 48 PNG image, average colour #c81e28" in message["content"]
    assert "What is in this image?" in message["content"]
    assert body["choices"][0]["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["cost"] > 0 and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    (call,) = state.calls(CHAT)
    assert call.key == key and call.body["max_completion_tokens"] == 512
    assert call.body["messages"][0]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    info = await (await fake.get("/api/v1/key", headers={"Authorization": f"Bearer {key}"})).json()
    assert info["data"]["usage"] == pytest.approx(usage["cost"])


async def test_chat_needs_a_valid_key(fake: Client) -> None:
    """A chat completion without a key, or with an unknown one, is 401 before anything else."""
    assert (await fake.post(CHAT, json=chat_body())).status == 401
    assert (await chat(fake, "sk-or-v1-" + "1" * 64, chat_body())).status == 401


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"model": "nobody/nothing", "messages": [{"role": "user", "content": "hi"}]}, "invalid_request"),
        ({"model": VISION, "messages": []}, "invalid_request"),
        ({"model": VISION, "messages": [{"role": "user", "content": 7}]}, "invalid_prompt"),
        ({"model": VISION, "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}, "invalid_image"),
        ({"model": VISION, "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,bm90IGFuIGltYWdl"}}]}]},
         "invalid_image"),
        ({"model": VISION, "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/svg+xml;base64,PHN2Zy8+"}}]}]},
         "unsupported_image_format"),
    ],
)  # fmt: skip
async def test_chat_refuses_bad_requests(fake: Client, body: dict[str, Any], error_type: str) -> None:
    """Unknown models, no messages, bad content and images that are not data: images are 400s."""
    response = await chat(fake, await connected_key(fake), body)
    error = (await response.json())["error"]
    assert response.status == 400
    assert error["code"] == 400 and error["metadata"]["error_type"] == error_type


async def test_chat_streams_sse_like_openrouter(fake: Client) -> None:
    """stream: true gives keep-alive comments, content deltas, a usage chunk with cost, then [DONE]."""
    key = await connected_key(fake)
    whole = await (await chat(fake, key, chat_body())).json()
    response = await chat(fake, key, chat_body(stream=True))
    assert response.status == 200
    assert response.content_type == "text/event-stream"
    sse = await read_sse(response)
    assert ": OPENROUTER PROCESSING" in sse.comments
    assert sse.done
    assert sse.content == whole["choices"][0]["message"]["content"]
    assert len([e for e in sse.events if e["choices"][0]["delta"].get("content")]) > 1
    assert all(e["object"] == "chat.completion.chunk" and e["id"] == sse.events[0]["id"] for e in sse.events)
    *_, finish, last = sse.events
    assert finish["choices"][0]["finish_reason"] == "stop" and "usage" not in finish
    assert last["usage"]["cost"] == whole["usage"]["cost"] > 0


async def test_image_model_returns_a_visibly_changed_image(fake: Client) -> None:
    """With modalities image+text, the image model returns a data: PNG that clearly differs from the input."""
    source = photo(160, 120)
    response = await chat(
        fake, await connected_key(fake), chat_body(source, EDITOR, modalities=["image", "text"])
    )
    message = (await response.json())["choices"][0]["message"]
    (image,) = message["images"]
    assert image["type"] == "image_url"
    edited = decode_data_url(image["image_url"]["url"]).convert("RGB")
    assert edited.size == source.size
    difference = ImageStat.Stat(ImageChops.difference(source, edited)).mean
    assert min(difference) > 40, difference
    assert message["content"]


async def test_image_model_without_image_modality_answers_in_text(fake: Client) -> None:
    """Without `modalities`, an image model answers in text only, as OpenRouter's docs warn."""
    response = await chat(fake, await connected_key(fake), chat_body(model=EDITOR))
    message = (await response.json())["choices"][0]["message"]
    assert "images" not in message and "64 × 48" in message["content"]


async def test_streamed_image_arrives_in_one_long_data_line(fake: Client) -> None:
    """A streamed edit delivers the image in delta.images as a single SSE line of several MB."""
    noise = Image.merge("RGB", [Image.effect_noise((1000, 1000), 100).convert("L") for _ in range(3)])
    body = await asyncio.to_thread(chat_body, noise, EDITOR, modalities=["image", "text"], stream=True)
    sse = await read_sse(await chat(fake, await connected_key(fake), body))
    (line,) = [line for line in sse.data_lines if b'"images"' in line]
    assert len(line) > 2 * 1024 * 1024  # more than aiohttp's default line limit of 512 KiB
    (delta,) = [e["choices"][0]["delta"] for e in sse.events if "images" in e["choices"][0]["delta"]]
    assert delta["images"][0]["index"] == 0
    assert decode_data_url(delta["images"][0]["image_url"]["url"]).size == (1000, 1000)
    assert sse.done and sse.events[-1]["usage"]["completion_tokens_details"]["image_tokens"] > 0


@pytest.mark.parametrize(
    ("mode", "status"), [(Mode.UNAUTHORIZED, 401), (Mode.PAYMENT_REQUIRED, 402), (Mode.RATE_LIMITED, 429),
                         (Mode.UPSTREAM, 502)],
)  # fmt: skip
@pytest.mark.parametrize("stream", [False, True])
async def test_failure_modes_answer_in_openrouter_error_shape(
    fake: Client, state: FakeState, mode: Mode, status: int, stream: bool
) -> None:
    """Each failure mode is a JSON error with its status, streamed or not; 429 carries Retry-After."""
    key = await connected_key(fake)
    state.set_mode(mode)
    response = await chat(fake, key, chat_body(stream=stream))
    body = await response.json()
    assert response.status == status
    assert set(body) == {"error"} and body["error"]["code"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert (response.headers.get("Retry-After") == "2") is (mode is Mode.RATE_LIMITED)


async def test_mode_can_fail_only_the_next_requests(fake: Client, state: FakeState) -> None:
    """A mode set for one request reverts to ok afterwards, so a retry succeeds."""
    key = await connected_key(fake)
    state.set_mode(Mode.RATE_LIMITED, times=1)
    assert (await chat(fake, key, chat_body())).status == 429
    assert (await chat(fake, key, chat_body())).status == 200
    assert state.mode is Mode.OK


async def test_midstream_error_follows_some_content(fake: Client, state: FakeState) -> None:
    """In midstream mode the stream starts with content, then an error chunk, then ends without [DONE]."""
    key = await connected_key(fake)
    state.set_mode(Mode.MIDSTREAM)
    response = await chat(fake, key, chat_body(stream=True))
    sse = await read_sse(response)
    assert response.status == 200
    *content, failure = sse.events
    assert content and all(e["choices"][0]["delta"]["content"] for e in content)
    assert failure["error"]["code"] == "server_error" and failure["error"]["message"]
    assert failure["choices"][0]["finish_reason"] == "error"
    assert not sse.done and not any("usage" in e for e in sse.events)


async def test_midstream_without_streaming_is_an_error_in_a_200_body(fake: Client, state: FakeState) -> None:
    """A non-streamed request in midstream mode gets HTTP 200 whose body carries `error`, not content."""
    key = await connected_key(fake)
    state.set_mode(Mode.MIDSTREAM)
    response = await chat(fake, key, chat_body())
    body = await response.json()
    assert response.status == 200
    assert body["error"]["message"] and body["choices"][0]["finish_reason"] == "error"
    assert "usage" not in body


async def test_slow_mode_outlasts_a_client_timeout(fake: Client, state: FakeState) -> None:
    """In slow mode nothing comes back before a client's timeout fires."""
    key = await connected_key(fake)
    state.set_mode(Mode.SLOW)
    with pytest.raises(asyncio.TimeoutError):
        await fake.post(CHAT, json=chat_body(), headers={"Authorization": f"Bearer {key}"},
                        timeout=aiohttp.ClientTimeout(total=0.5))  # fmt: skip


async def test_url_image_mode_answers_with_an_https_url(fake: Client, state: FakeState) -> None:
    """In url_image mode the image model returns an https URL instead of a data: URL."""
    key = await connected_key(fake)
    state.set_mode(Mode.URL_IMAGE)
    response = await chat(fake, key, chat_body(model=EDITOR, modalities=["image", "text"]))
    (image,) = (await response.json())["choices"][0]["message"]["images"]
    assert image["image_url"]["url"] == state.url_image
    assert image["image_url"]["url"].startswith("https://")


async def test_exhausted_key_limit_is_402(fake: Client, state: FakeState) -> None:
    """A key that has spent its limit gets 402 with limit_source openrouter_key_limit."""
    key = state.add_key(limit=0.01, usage=0.01).key
    response = await chat(fake, key, chat_body())
    assert response.status == 402
    assert (await response.json())["error"]["metadata"]["limit_source"] == "openrouter_key_limit"


async def test_client_that_stops_reading_is_recorded_as_aborted(fake: Client, state: FakeState) -> None:
    """Closing a stream early (a stop button) shows up as `aborted` on the recorded request."""
    key = await connected_key(fake)
    state.stream_delay = 0.05
    body = chat_body(stream=True)
    body["messages"][0]["content"][0]["text"] = "describe " * 200
    response = await chat(fake, key, body)
    await response.content.readany()
    response.close()
    async with asyncio.timeout(30):
        while not state.calls(CHAT)[-1].aborted:  # noqa: ASYNC110 - the fake records, it does not signal
            await asyncio.sleep(0.05)


async def test_admin_endpoint_sets_the_mode(fake: Client, state: FakeState) -> None:
    """POST /_fake/mode switches the mode (optionally for a number of requests) and refuses unknown ones."""
    response = await fake.post("/_fake/mode", json={"mode": 429, "times": 2})
    assert await response.json() == {"mode": "429", "times": 2}
    assert (state.mode, state.mode_times) == (Mode.RATE_LIMITED, 2)
    assert (await fake.post("/_fake/mode", json={"mode": "teapot"})).status == 400
    assert state.mode is Mode.RATE_LIMITED


async def test_recorded_requests_endpoint_masks_keys_and_shortens_images(fake: Client) -> None:
    """GET /_fake/requests lists API calls without full keys or whole base64 images."""
    key = await connected_key(fake)
    await chat(fake, key, chat_body(photo(300, 200)))
    text = await (await fake.get("/_fake/requests")).text()
    recorded = json.loads(text)["requests"]
    assert [r["path"] for r in recorded] == ["/api/v1/auth/keys", CHAT]
    assert key not in text and recorded[1]["key"] == f"{key[:12]}...{key[-3:]}"
    assert "authorization" not in {h.lower() for h in recorded[1]["headers"]}
    assert len(text) < 5000


def test_the_network_guard_refuses_other_hosts() -> None:
    """The guard every test here runs under stops connections and lookups beyond loopback."""
    with socket.socket() as sock, pytest.raises(AssertionError, match="network access"):
        sock.connect(("192.0.2.1", 443))
    with pytest.raises(AssertionError, match="DNS lookup"):
        socket.getaddrinfo("openrouter.ai", 443)
