"""Keyed mutations (pure): the fingerprint that binds a key to one request, and replayed replies.

A request with an ``idempotency_key`` is applied at most once per session and key; a repeat gets
the first reply (stored by ``idempotency_repo`` in the same transaction as the change itself).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from image_service.records import ImageRecord
from image_service.wire import to_info
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.base import Keyed


@dataclass(frozen=True)
class Once:
    """A keyed mutation: applied at most once per session and key; a repeat gets the first reply."""

    key: str
    # The endpoint and a hash of the request without its key (see keyed_once).
    fingerprint: str
    # The reply to remember, made from the image as the change left it (inside its transaction).
    render: Callable[[ImageRecord], dict[str, Any]]


@dataclass(frozen=True)
class Replay:
    """The stored reply of a keyed mutation that was already applied."""

    reply: dict[str, Any]


def keyed_once(subject: str, request: Keyed, body: bytes = b"") -> Once | None:
    """The idempotency record of a keyed request (None without a key).

    The fingerprint covers the endpoint, the request without its key and any body, so reusing a
    key for a different request is refused instead of answered with an unrelated reply.
    """
    if request.idempotency_key is None:
        return None
    digest = hashlib.sha256(subject.encode())
    digest.update(request.model_dump_json(exclude={"idempotency_key"}).encode())
    digest.update(hashlib.sha256(body).digest())
    return Once(
        key=request.idempotency_key,
        fingerprint=digest.hexdigest(),
        render=lambda record: to_info(record).model_dump(mode="json"),
    )


def replayed(replay: Replay) -> contract.ImageInfo:
    return contract.ImageInfo.model_validate(replay.reply)


def info_or_replay(result: ImageRecord | Replay) -> contract.ImageInfo:
    """The reply of a keyed change: the first one's when it was a repeat."""
    return replayed(result) if isinstance(result, Replay) else to_info(result)
