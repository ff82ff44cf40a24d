"""Bodies of the public HTTP API (the wire contracts between services live in common)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field, JsonValue

# The browser may only touch its own UI preferences; other keys belong to the services.
UI_KEY_PATTERN = r"ui\.[a-z0-9_.\-]{1,60}"


class Limits(BaseModel):
    max_images: int = Field(description="Images a session may hold")
    max_upload_mb: int = Field(description="Largest upload, in MiB")
    expiry_days: int = Field(description="Days a session lives")


class SessionView(BaseModel):
    active: bool = Field(
        description="Whether a session exists: it starts when the visitor first stores something"
    )
    created_at: datetime | None = Field(description="When this browser session began (null before)")
    expires_at: datetime | None = Field(
        description="When it and all its images are deleted (null before it starts)"
    )
    image_count: int = Field(description="Images it holds now")
    limits: Limits
    version: str = Field(description="Server version")


class SettingBody(BaseModel):
    value: JsonValue = Field(description="Any JSON value up to 16 KiB")


class SettingView(BaseModel):
    key: str
    value: JsonValue = Field(description="null when unset")


class DeviceView(BaseModel):
    id: UUID = Field(description="The device's id")
    name: str = Field(description="What the browser is, e.g. Chrome on Android (empty when unknown)")
    created_at: datetime = Field(description="When it joined the session (or started it)")
    last_seen_at: datetime = Field(description="When it last used the session (minute precision)")
    current: bool = Field(description="Whether it is the browser asking")


class DeviceListView(BaseModel):
    devices: list[DeviceView] = Field(description="The session's devices, oldest first")


class JoinOfferView(BaseModel):
    url: str = Field(
        description="The link to open on the other device: the app's public URL and /join, "
        "with the single-use token in the fragment (so it never reaches a server log)"
    )
    qr_image: str = Field(description="A QR code of `url`, as an SVG data: URI")
    code: str = Field(description="The same offer as a short code to type instead, e.g. K7M2Q-9XHT4")
    expires_at: datetime = Field(description="When the link and the code stop working (at most 5 minutes)")
    expires_in: int = Field(description="Seconds until then, by the server's clock")


class JoinBody(BaseModel):
    token: str | None = Field(None, max_length=256, description="The token from the QR link's fragment")
    code: str | None = Field(
        None, max_length=32, description="The short code as typed (case, spaces and - ignored)"
    )
    leave_current: bool = Field(
        False,
        description="This browser is in another session and the user agreed to leave it (it ends if "
        "this was its last device); without it such a join is a 409",
    )
