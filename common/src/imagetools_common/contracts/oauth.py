"""oauth-service: the only holder of OpenRouter credentials (subjects ``oauth.v1.*``).

The key itself never crosses the bus: requests carry session ids, replies carry only what the
browser may see (state, label, limits, the key's SHA-256 for OpenRouter's revoke link).

Errors it may return: ``bad_gateway`` (OpenRouter failed), ``timeout``.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from imagetools_common import __version__
from imagetools_common.contracts.base import Endpoint, ServiceSpec, WireModel
from imagetools_common.contracts.session import SessionRef

SERVICE = ServiceSpec(
    name="oauth-service",
    version=__version__,
    subject_prefix="oauth.v1",
    description="OpenRouter OAuth PKCE, encrypted keys and every call made with a key",
)


class StartReply(WireModel):
    authorize_url: str = Field(description="Where to send the browser: OpenRouter's approval page")


class CallbackRequest(WireModel):
    session_id: UUID
    code: str | None = Field(None, max_length=1024, description="The authorization code, when approved")
    error: str | None = Field(None, max_length=200, description="OpenRouter's error, e.g. access_denied")
    state: str | None = Field(None, max_length=256, description="Echo of the state sent to OpenRouter")


class CallbackReply(WireModel):
    connected: bool
    reason: str | None = Field(None, description="Why not, in words for the user")


class Status(WireModel):
    state: Literal["disconnected", "connected", "invalid"]
    source: Literal["user", "server"] | None = Field(description="Whose key AI calls use")
    label: str | None = None
    limit: float | None = Field(None, description="Spending limit in USD; null for none")
    limit_remaining: float | None = None
    usage: float | None = Field(None, description="USD spent with this key")
    key_hash: str | None = Field(None, description="SHA-256 of the key: OpenRouter's id for it")
    revoke_url: str | None = Field(None, description="Where the user can revoke the key at OpenRouter")
    callback_url: str = Field(description="The OAuth callback this server uses")
    callback_ok: bool = Field(description="Whether OpenRouter accepts that callback (https or localhost)")
    callback_problem: str | None = None
    server_key_available: bool = Field(description="A server-wide fallback key is configured")


START = Endpoint(SERVICE, "start", SessionRef, StartReply)
CALLBACK = Endpoint(SERVICE, "callback", CallbackRequest, CallbackReply, timeout=30.0)
STATUS = Endpoint(SERVICE, "status", SessionRef, Status, timeout=30.0)
DISCONNECT = Endpoint(SERVICE, "disconnect", SessionRef, Status)
