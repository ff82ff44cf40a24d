"""The HTTP calls made to OpenRouter with a key (or to get one). Only this module speaks HTTP out.

Base URLs come from configuration only, never from a request; every call has a timeout and a
size cap on what it reads back.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from pydantic import BaseModel

from imagetools_common.errors import BadGateway, UpstreamTimeout
from imagetools_common.logs import get_logger

log = get_logger("oauth_service.openrouter")
MAX_JSON = 1024 * 1024


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
    def __init__(self, http: aiohttp.ClientSession, api_base: str) -> None:
        self._http = http
        self._base = api_base.rstrip("/")

    async def _json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        try:
            async with self._http.request(method, f"{self._base}{path}", **kwargs) as response:
                raw = await response.content.read(MAX_JSON + 1)
                if len(raw) > MAX_JSON:
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


def _error_message(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        message = data["error"].get("message")
        return str(message)[:200] if message else None
    return None
