"""What a fake OpenRouter remembers: authorization codes, API keys, requests and its failure mode.

Tests hold a ``FakeState``, hand it to ``create_fake`` and then read ``requests`` or set ``mode``
directly; the clock is injectable so code expiry is tested without sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiohttp import web

# OpenRouter: "Codes are single-use and expire 10 minutes after issue".
CODE_TTL = 600.0
# A connected key's spending cap in USD, so `limit_remaining` has something to show in demos.
DEFAULT_KEY_LIMIT = 10.0
# Long enough to outlast any sensible client timeout; released at once when the server stops.
DEFAULT_SLOW_SECONDS = 60.0
# `.invalid` never resolves (RFC 6761), so a client that fetches this URL fails without the network.
DEFAULT_URL_IMAGE = "https://images.fake-openrouter.invalid/edited.png"

Clock = Callable[[], float]


class Mode(StrEnum):
    """How the fake answers chat completions (and, for ``401``, key checks)."""

    OK = "ok"
    UNAUTHORIZED = "401"  # the key was revoked or disabled
    PAYMENT_REQUIRED = "402"  # out of credits
    RATE_LIMITED = "429"  # with Retry-After
    UPSTREAM = "502"  # the provider failed before the first token
    MIDSTREAM = "midstream"  # HTTP 200, some content, then an error chunk
    SLOW = "slow"  # no answer for `slow_seconds`
    URL_IMAGE = "url_image"  # the image model answers with an https URL instead of data:


class OpenRouterError(Exception):
    """An error OpenRouter reports as ``{"error": {"code", "message", "metadata"?}}`` with that status."""

    def __init__(
        self,
        status: int,
        message: str,
        metadata: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.metadata = metadata
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.metadata is not None:
            error["metadata"] = self.metadata
        return {"error": error}


def mask(key: str) -> str:
    """A key as OpenRouter labels it: ``sk-or-v1-b7e...2b2``."""
    return f"{key[:12]}...{key[-3:]}"


def s256(verifier: str) -> str:
    """RFC 7636 S256: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class IssuedCode:
    challenge: str
    callback_url: str
    issued_at: float


@dataclass
class ApiKey:
    key: str
    user_id: str
    limit: float | None
    usage: float = 0.0

    @property
    def label(self) -> str:
        return mask(self.key)

    @property
    def limit_remaining(self) -> float | None:
        return None if self.limit is None else max(self.limit - self.usage, 0.0)


@dataclass
class RecordedRequest:
    """One call to ``/api/v1/…`` as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # without Authorization; `key` says which key was used
    key: str | None
    body: Any  # the parsed JSON body, or None
    aborted: bool = False  # the client went away before the stream ended


@dataclass
class FakeState:
    clock: Clock = time.time
    mode: Mode = Mode.OK
    # How many more requests `mode` affects before it reverts to ok; None = until changed.
    mode_times: int | None = None
    # /auth redirects at once, as if the user approved, instead of showing the approve page.
    auto_approve: bool = False
    slow_seconds: float = DEFAULT_SLOW_SECONDS
    stream_delay: float = 0.02  # between SSE chunks, so streaming is visible in a browser
    url_image: str = DEFAULT_URL_IMAGE
    user_id: str = "user_fake0penrouter"
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)

    def set_mode(self, mode: Mode, times: int | None = None) -> None:
        """Fail (or stall) the next ``times`` affected requests, or all of them when ``times`` is None."""
        self.mode = mode
        self.mode_times = times

    def take_mode(self, applies: frozenset[Mode]) -> Mode:
        """The mode this request gets; a limited mode counts down and then reverts to ok."""
        if self.mode not in applies:
            return Mode.OK
        mode = self.mode
        if self.mode_times is not None:
            self.mode_times -= 1
            if self.mode_times <= 0:
                self.set_mode(Mode.OK)
        return mode

    def issue_code(self, challenge: str, callback_url: str) -> str:
        code = secrets.token_urlsafe(24)
        self.codes[code] = IssuedCode(challenge, callback_url, self.clock())
        return code

    def exchange(self, code: str, verifier: str | None, method: str | None) -> ApiKey:
        """Trade a code for a new key, or raise the error OpenRouter documents for the failure."""
        # Whether a failed exchange burns the code is undocumented; burning it on every attempt
        # is the strictest reading, so a client that retries an exchange fails here first.
        issued = self.codes.pop(code, None)
        if issued is None:
            raise OpenRouterError(403, "Invalid code or code_verifier")
        if self.clock() - issued.issued_at >= CODE_TTL:
            raise OpenRouterError(403, "Authorization code expired")
        if method != "S256":
            raise OpenRouterError(400, "Invalid code_challenge_method")
        if verifier is None or not hmac.compare_digest(s256(verifier).encode(), issued.challenge.encode()):
            raise OpenRouterError(403, "Invalid code or code_verifier")
        return self.add_key()

    def add_key(self, limit: float | None = DEFAULT_KEY_LIMIT, usage: float = 0.0) -> ApiKey:
        """A valid key without the OAuth dance, e.g. a server-wide OPENROUTER_API_KEY."""
        api_key = ApiKey(f"sk-or-v1-{secrets.token_hex(32)}", self.user_id, limit, usage)
        self.keys[api_key.key] = api_key
        return api_key

    def key_for(self, authorization: str | None) -> ApiKey:
        """The key a request's Authorization header names, or OpenRouter's 401 for it."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise OpenRouterError(401, "No auth credentials found")
        api_key = self.keys.get(token.strip())
        if api_key is None:
            raise OpenRouterError(401, "User not found.")
        return api_key

    def calls(self, path: str) -> list[RecordedRequest]:
        """The recorded requests to one path, e.g. ``/api/v1/auth/keys``."""
        return [r for r in self.requests if r.path == path]


STATE = web.AppKey("fake_openrouter_state", FakeState)
RECORD = web.RequestKey("fake_openrouter_record", RecordedRequest)
# Set when the server stops, so a stalled (`slow`) request lets shutdown finish at once.
RELEASE = web.AppKey("fake_openrouter_release", asyncio.Event)
