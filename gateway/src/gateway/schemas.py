"""Bodies of the public HTTP API (the wire contracts between services live in common)."""

from __future__ import annotations

from datetime import datetime

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
