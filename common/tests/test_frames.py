"""Binary frames: a typed header and raw bytes in one payload."""

from __future__ import annotations

import pytest

from imagetools_common.contracts.base import WireModel
from imagetools_common.errors import BadRequest
from imagetools_common.rpc import frames


class Header(WireModel):
    name: str


def test_round_trip_keeps_bytes_exact() -> None:
    """Any bytes, including empty and binary-looking ones, come back unchanged with the header."""
    for body in (b"", b"\x00\xff" * 1000, bytes(range(256))):
        header, out = frames.unpack(frames.pack(Header(name="é.jpg"), body), Header)
        assert header == Header(name="é.jpg") and out == body


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x00\x00",
        b"\x00\x00\x00\x10{}",
        b"\x00\x01\x00\x00{}",
        b"\x00\x00\x00\x02{}body",
        b"\x00\x00\x00\x03abc",
    ],
    ids=["empty", "short", "length-past-end", "huge-header", "invalid-model", "not-json"],
)
def test_malformed_frames_are_bad_requests(payload: bytes) -> None:
    """Truncated frames, absurd header lengths and invalid headers are refused, never trusted."""
    with pytest.raises(BadRequest):
        frames.unpack(payload, Header)
