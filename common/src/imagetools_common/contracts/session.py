"""session-service: anonymous browser sessions and their settings (subjects ``session.v1.*``).

Errors it may return: ``not_found`` (unknown, ended or expired session),
``validation_error`` (a bad setting key or an oversized value), ``bad_request``.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field, JsonValue

from imagetools_common import __version__
from imagetools_common.contracts.base import Delivery, Empty, Endpoint, Event, ServiceSpec, WireModel

SERVICE = ServiceSpec(
    name="session-service",
    version=__version__,
    subject_prefix="session.v1",
    description="Anonymous browser sessions: create, resolve, end, expire, settings",
)

SETTING_KEY_PATTERN = r"^[a-z][a-z0-9_.\-]{0,63}$"
TOKEN_MAX_LENGTH = 256


class SessionInfo(WireModel):
    id: UUID = Field(description="Stable id that other services key their rows on")
    created_at: datetime = Field(description="When the session began")
    expires_at: datetime = Field(description="When the session and everything it owns is deleted")
    last_seen_at: datetime = Field(description="Last time the browser used the session (minute precision)")


class CreateReply(WireModel):
    token: str = Field(description="The opaque cookie value; the service keeps only its hash")
    session: SessionInfo = Field(description="The new session")


class ResolveRequest(WireModel):
    token: str = Field(max_length=TOKEN_MAX_LENGTH, description="Cookie value sent by the browser")


class SessionRef(WireModel):
    session_id: UUID = Field(description="The session this request acts for")


class SettingRef(WireModel):
    session_id: UUID = Field(description="Owner of the setting")
    key: str = Field(pattern=SETTING_KEY_PATTERN, description="Setting name, e.g. ai.chat_model")


class Setting(WireModel):
    key: str = Field(pattern=SETTING_KEY_PATTERN, description="Setting name")
    value: JsonValue = Field(description="Any JSON value; null when the setting is unset")


class PutSetting(WireModel):
    session_id: UUID = Field(description="Owner of the setting")
    key: str = Field(pattern=SETTING_KEY_PATTERN, description="Setting name")
    value: JsonValue = Field(description="Any JSON value up to 16 KiB once encoded")


class SessionChanged(WireModel):
    """Published as ``SESSION_CHANGED``: whatever is cached about this session must be dropped."""

    session_id: UUID = Field(description="The session whose cached state is no longer true")


class SweepReply(WireModel):
    deleted: int = Field(description="How many expired sessions were deleted")


CREATE = Endpoint(SERVICE, "create", Empty, CreateReply)
RESOLVE = Endpoint(SERVICE, "resolve", ResolveRequest, SessionInfo, read_only=True)
END = Endpoint(SERVICE, "end", SessionRef, Empty)
GET_SETTING = Endpoint(SERVICE, "setting_get", SettingRef, Setting, read_only=True)
PUT_SETTING = Endpoint(SERVICE, "setting_put", PutSetting, Setting)
DELETE_SETTING = Endpoint(SERVICE, "setting_delete", SettingRef, Empty)
SWEEP = Endpoint(SERVICE, "sweep", Empty, SweepReply, timeout=30.0)
# A new token for the same session (after a privilege change such as connecting an account).
ROTATE = Endpoint(SERVICE, "rotate", SessionRef, CreateReply)
# Every gateway replica drops what it caches for the session (resolved tokens, image lists).
# Published by whatever ends a session, rotates or removes one of its tokens, or changes its
# image list (docs/ARCHITECTURE.md, "Gateway caches").
SESSION_CHANGED = Event(SERVICE, "changed", SessionChanged, Delivery.BROADCAST)
