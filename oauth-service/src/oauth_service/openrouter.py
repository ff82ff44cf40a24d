"""The HTTP calls made to OpenRouter with a key (or to get one). Only this module speaks HTTP out.

Base URLs come from configuration only, never from a request; every call has a timeout and a
size cap on what it reads back.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from pydantic import BaseModel

from imagetools_common.errors import (
    BadGateway,
    DomainError,
    PaymentRequired,
    RateLimited,
    UpstreamRefused,
    UpstreamTimeout,
)
from imagetools_common.logs import get_logger
from oauth_service.sse import EventTooLarge, SseParser

log = get_logger("oauth_service.openrouter")
MAX_JSON = 1024 * 1024
# The model list is a few hundred entries of a few KiB each.
MAX_MODELS_JSON = 16 * 1024 * 1024


class InvalidKey(Exception):
    """OpenRouter answered 401: the key was revoked or never existed."""


class ExchangeRefused(Exception):
    """OpenRouter did not turn the code into a key (expired, already used, wrong verifier)."""


class KeyInfo(BaseModel):
    label: str | None = None
    limit: float | None = None
    limit_remaining: float | None = None
    usage: float | None = None


class OpenRouter:
    def __init__(
        self, http: aiohttp.ClientSession, api_base: str, *, app_url: str = "", app_name: str = ""
    ) -> None:
        self._http = http
        self._base = api_base.rstrip("/")
        # OpenRouter's app attribution; localhost apps need the title as well as the referer.
        self._attribution = {"HTTP-Referer": app_url, "X-Title": app_name} if app_url else {}

    async def _json(self, method: str, path: str, *, limit: int = MAX_JSON, **kwargs: Any) -> tuple[int, Any]:
        try:
            async with self._http.request(method, f"{self._base}{path}", **kwargs) as response:
                raw = await response.content.read(limit + 1)
                if len(raw) > limit:
                    raise BadGateway("OpenRouter sent an oversized answer")
                try:
                    return response.status, json.loads(raw) if raw else None
                except ValueError:
                    return response.status, None
        except TimeoutError:
            raise UpstreamTimeout("OpenRouter did not answer in time") from None
        except aiohttp.ClientError as error:
            log.warning("openrouter unreachable", error=str(error))
            raise BadGateway("OpenRouter could not be reached") from None

    async def exchange(self, code: str, verifier: str) -> str:
        """Turn an authorization code into a key (PKCE S256)."""
        body = {"code": code, "code_verifier": verifier, "code_challenge_method": "S256"}
        status, data = await self._json("POST", "/auth/keys", json=body)
        key = data.get("key") if status == 200 and isinstance(data, dict) else None
        if not isinstance(key, str) or not key:
            message = _error_message(data) or f"HTTP {status}"
            raise ExchangeRefused(message)
        return key

    async def key_info(self, key: str) -> KeyInfo:
        """Label, limit and usage of a key; InvalidKey when OpenRouter no longer accepts it."""
        status, data = await self._json("GET", "/key", headers={"Authorization": f"Bearer {key}"})
        if status == 401:
            raise InvalidKey()
        if status != 200 or not isinstance(data, dict) or not isinstance(data.get("data"), dict):
            raise BadGateway(f"OpenRouter could not describe the key ({_error_message(data) or status})")
        return KeyInfo.model_validate(data["data"], strict=False)

    async def models(self, **filters: str) -> list[dict[str, Any]]:
        """``GET /models`` with modality filters (public: no key is sent)."""
        status, data = await self._json("GET", "/models", limit=MAX_MODELS_JSON, params=filters)
        if status != 200 or not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise BadGateway(f"OpenRouter could not list its models ({_error_message(data) or status})")
        return [m for m in data["data"] if isinstance(m, dict)]

    async def stream(
        self, key: str, body: dict[str, Any], *, max_event: int, timeout: aiohttp.ClientTimeout
    ) -> AsyncIterator[dict[str, Any]]:
        """``POST /chat/completions`` streamed: each chunk as a dict, until ``[DONE]``.

        Errors before the stream are raised from the status and body; an ``error`` inside the
        stream (a 200 that failed midway) is raised as BadGateway. Closing the iterator early
        closes the connection, which is how OpenRouter is told to stop.
        """
        headers = {"Authorization": f"Bearer {key}", **self._attribution}
        url = f"{self._base}/chat/completions"
        try:
            async with self._http.post(
                url, json={**body, "stream": True}, headers=headers, timeout=timeout
            ) as response:
                if response.status != 200:
                    raw = await response.content.read(MAX_JSON)
                    try:
                        data = json.loads(raw) if raw else None
                    except ValueError:
                        data = None
                    raise upstream_error(response.status, data, response.headers.get("Retry-After"))
                parser = SseParser(max_event)
                async for piece in response.content.iter_any():
                    for event in parser.feed(piece):
                        if event.strip() == "[DONE]":
                            return
                        try:
                            chunk = json.loads(event)
                        except ValueError:
                            raise BadGateway("OpenRouter sent a malformed stream event") from None
                        if isinstance(chunk, dict):
                            if isinstance(chunk.get("error"), dict):
                                message = _error_message(chunk) or "the provider failed"
                                raise BadGateway(f"The model stopped with an error: {message}")
                            yield chunk
        except EventTooLarge as error:
            raise BadGateway(f"OpenRouter's answer was refused: {error}") from None
        except TimeoutError:
            raise UpstreamTimeout("OpenRouter did not answer in time") from None
        except aiohttp.ClientError as error:
            log.warning("openrouter stream failed", error=str(error))
            raise BadGateway("The connection to OpenRouter broke off") from None


def upstream_error(status: int, data: Any, retry_after: str | None) -> DomainError | InvalidKey:
    """What an HTTP error from OpenRouter means for the user (never retried blindly)."""
    message = _error_message(data) or f"HTTP {status}"
    if status == 401:
        return InvalidKey()
    if status == 402:
        return PaymentRequired(f"OpenRouter: {message}")
    if status == 429:
        seconds = retry_after.strip() if retry_after else ""
        details = {"retry_after": int(seconds)} if seconds.isdigit() else {}
        return RateLimited(f"OpenRouter is rate limiting requests: {message}", details=details)
    if status in (408, 504, 524):
        return UpstreamTimeout(f"OpenRouter timed out: {message}")
    if 400 <= status < 500:
        return UpstreamRefused(f"OpenRouter refused the request: {message}")
    return BadGateway(f"OpenRouter or its provider failed ({status}): {message}")


def _error_message(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        message = data["error"].get("message")
        return str(message)[:200] if message else None
    return None
