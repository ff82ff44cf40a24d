"""session-service: anonymous browser sessions, their devices and settings (subjects ``session.v1.*``).

Errors it may return: ``not_found`` (unknown, ended or expired session, device or join offer),
``gone`` (a join offer expired, used or killed by wrong codes), ``conflict`` (joining the session
the device is already in), ``validation_error`` (a bad setting key, an oversized value, a
malformed join token or code), ``bad_request``.
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
DEVICE_NAME_MAX_LENGTH = 64


class SessionInfo(WireModel):
    id: UUID = Field(description="Stable id that other services key their rows on")
    created_at: datetime = Field(description="When the session began")
    expires_at: datetime = Field(description="When the session and everything it owns is deleted")
    last_seen_at: datetime = Field(description="Last time the browser used the session (minute precision)")
    device_id: UUID = Field(description="The device (browser) whose token this is")


class CreateReply(WireModel):
    token: str = Field(description="The opaque cookie value; the service keeps only its hash")
    session: SessionInfo = Field(description="The new session")


class ResolveRequest(WireModel):
    token: str = Field(max_length=TOKEN_MAX_LENGTH, description="Cookie value sent by the browser")
    device_name: str = Field(
        "", max_length=DEVICE_NAME_MAX_LENGTH, description="What the browser is, e.g. Chrome on Android"
    )


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


class DeviceRef(WireModel):
    session_id: UUID = Field(description="The session the device belongs to")
    device_id: UUID = Field(description="The device")


class Device(WireModel):
    id: UUID = Field(description="The device's id")
    name: str = Field(description="What the browser is, e.g. Chrome on Android; empty when unknown")
    created_at: datetime = Field(description="When the device joined (or started) the session")
    last_seen_at: datetime = Field(description="Last time it used the session (minute precision)")


class DeviceList(WireModel):
    devices: list[Device] = Field(description="The session's devices, oldest first")


class JoinOffer(WireModel):
    token: str = Field(description="Single-use token for the QR link; the service keeps only its hash")
    code: str = Field(description="The same offer as a short code to type, e.g. K7M2Q-9XHT4")
    expires_at: datetime = Field(description="When both stop working")


class JoinRequest(WireModel):
    """Redeem a join offer by its token or its code (exactly one)."""

    token: str | None = Field(None, max_length=TOKEN_MAX_LENGTH, description="The QR link's token")
    code: str | None = Field(None, max_length=32, description="The short code as typed")
    device_name: str = Field("", max_length=DEVICE_NAME_MAX_LENGTH, description="What the joining browser is")
    leaving: DeviceRef | None = Field(
        None, description="The joining browser's device in another session, left"
    )


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
ROTATE = Endpoint(SERVICE, "rotate", DeviceRef, CreateReply)
DEVICES = Endpoint(SERVICE, "devices", SessionRef, DeviceList, read_only=True)
# A device leaves, or is removed by another; the session ends with its last device.
REMOVE_DEVICE = Endpoint(SERVICE, "device_remove", DeviceRef, Empty)
# A new join offer from this device (replacing its previous one).
OFFER = Endpoint(SERVICE, "join_offer", DeviceRef, JoinOffer)
# The joining browser becomes a new device of the offer's session: its token and the session.
JOIN = Endpoint(SERVICE, "join", JoinRequest, CreateReply)
# Every gateway replica drops what it caches for the session (resolved tokens, image lists).
# Published by whatever ends a session, rotates or removes one of its tokens, or changes its
# image list (docs/ARCHITECTURE.md, "Gateway caches").
SESSION_CHANGED = Event(SERVICE, "changed", SessionChanged, Delivery.BROADCAST)
