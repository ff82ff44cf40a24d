"""Pure parts of the AI features: SSE parsing, images to and from models, model split, chunks, errors."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from imagetools_common.errors import (
    BadGateway,
    PaymentRequired,
    RateLimited,
    UpstreamRefused,
    UpstreamTimeout,
)
from imagetools_common.testing.media import encoded, photo
from oauth_service import picture
from oauth_service.assistant import Reply, read_chunk
from oauth_service.catalogue import choose, split
from oauth_service.fake_openrouter import MODELS
from oauth_service.openrouter import InvalidKey, upstream_error
from oauth_service.sse import EventTooLarge, SseParser

MB = 1024 * 1024


def test_sse_events_split_across_chunks_and_comments_skipped() -> None:
    """Events are whole however the bytes arrive; keep-alive comments and other fields are ignored."""
    stream = (
        b': OPENROUTER PROCESSING\n\ndata: {"a": 1}\r\n\r\nevent: x\ndata: one\ndata: two\n\ndata: [DONE]\n\n'
    )
    parser = SseParser(MB)
    events = [event for i in range(len(stream)) for event in parser.feed(stream[i : i + 1])]
    assert events == ['{"a": 1}', "one\ntwo", "[DONE]"]


def test_a_multi_megabyte_event_parses_and_a_larger_one_is_refused() -> None:
    """A 3 MB one-line event (a base64 image) parses; one over the cap is refused before it ends."""
    line = b"data: " + b"A" * (3 * MB) + b"\n\n"
    parser = SseParser(4 * MB)
    got = [e for start in range(0, len(line), 65536) for e in parser.feed(line[start : start + 65536])]
    assert len(got) == 1 and len(got[0]) == 3 * MB
    small = SseParser(MB)
    small.feed(line[: MB // 2])
    with pytest.raises(EventTooLarge):
        small.feed(line[MB // 2 : MB + 100])  # the event's end is still megabytes away


def test_images_for_models_are_downscaled_and_keep_transparency() -> None:
    """Photos go as JPEG of at most 1536 px; transparent images as PNG; small ones keep their size."""
    big = picture.for_model(encoded(photo(4000, 1000), "JPEG"))
    assert big.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(big.split(",", 1)[1]))) as sent:
        assert sent.size == (1536, 384)
    clear = picture.for_model(encoded(Image.new("RGBA", (100, 80), (1, 2, 3, 0)), "PNG"))
    assert clear.startswith("data:image/png;base64,")


def _url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def test_model_images_are_accepted_only_as_decodable_data_urls() -> None:
    """PNG/JPEG/WebP data: URLs that decode as declared pass; links, other types, lies and bulk do not."""
    png = encoded(Image.new("RGB", (40, 30), "red"), "PNG")
    assert picture.from_model(_url("image/png", png), MB) == png
    refused = {
        "https://cdn.example/x.png": "link",
        "file:///etc/passwd": "link",
        _url("image/svg+xml", b"<svg/>"): "only PNG",
        _url("image/jpeg", png): "does not decode",
        "data:image/png;base64,@@@": "not valid base64",
        _url("image/png", png + b"\0" * (2 * MB)): "larger than",
    }
    for url, reason in refused.items():
        with pytest.raises(BadGateway, match=reason):
            picture.from_model(url, MB)


def test_models_split_by_what_they_see_and_make() -> None:
    """Chat needs image in and text out; edit needs image in and image out; text-only models are neither."""
    catalogue = split(list(MODELS), [])
    assert "openai/gpt-4o-mini" in catalogue.chat and "openai/gpt-4o-mini" not in catalogue.edit
    assert set(catalogue.edit) == {"google/gemini-2.5-flash-image", "black-forest-labs/flux.2-pro"}
    assert "meta-llama/llama-3.3-70b-instruct" not in {*catalogue.chat, *catalogue.edit}
    assert choose(catalogue.chat, "gone/model", "openai/gpt-4o-mini") == "openai/gpt-4o-mini"
    assert choose(catalogue.chat, None, "gone/too") == next(iter(catalogue.chat))
    assert choose({}, "x") is None


def test_stream_chunks_fold_into_text_images_and_cost() -> None:
    """Deltas add up; the usage chunk (repeating the finish) gives the cost; an error finish raises."""
    reply = Reply()
    assert read_chunk({"choices": [{"delta": {"content": "Hel"}, "finish_reason": None}]}, reply) == "Hel"
    read_chunk({"choices": [{"delta": {"content": "lo", "images": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}}]}, reply)  # fmt: skip
    finish = {"choices": [{"delta": {"content": ""}, "finish_reason": "stop"}]}
    read_chunk(finish, reply)
    read_chunk({**finish, "usage": {"cost": 0.0012}}, reply)
    assert "".join(reply.text) == "Hello" and reply.images == ["data:image/png;base64,AA=="]
    assert reply.finished and reply.cost == 0.0012
    with pytest.raises(BadGateway):
        read_chunk({"choices": [{"delta": {"content": ""}, "finish_reason": "error"}]}, Reply())


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (402, None, PaymentRequired),
        (429, "7", RateLimited),
        (400, None, UpstreamRefused),
        (403, None, UpstreamRefused),
        (408, None, UpstreamTimeout),
        (502, None, BadGateway),
        (503, None, BadGateway),
    ],
)
def test_openrouter_errors_map_to_what_the_user_can_do(
    status: int, retry_after: str | None, expected: type
) -> None:
    """Each upstream status becomes the error the API documents, with OpenRouter's message."""
    body = {"error": {"code": status, "message": "Because reasons"}}
    error = upstream_error(status, body, retry_after)
    assert isinstance(error, expected) and "Because reasons" in str(error)
    if retry_after:
        assert error.details == {"retry_after": 7}
    assert isinstance(upstream_error(401, body, None), InvalidKey)
    assert upstream_error(429, body, "Wed, 21 Oct 2015 07:28:00 GMT").details == {}
