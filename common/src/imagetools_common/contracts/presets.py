"""Compression presets (built in, possibly overridden per session) and a session's own profiles."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from imagetools_common.contracts.base import NO_NUL, WireModel
from imagetools_common.contracts.operations import CompressionSettings


class Preset(WireModel):
    id: str = Field(description="email, web, web_hq, or a profile id")
    name: str
    settings: CompressionSettings
    system: bool = Field(description="A built-in preset (possibly overridden by this session)")
    overridden: bool = False


class PresetList(WireModel):
    presets: list[Preset]


MAX_PROFILE_ID = 64


class ProfileBody(WireModel):
    name: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    settings: CompressionSettings


class ProfileCreate(WireModel):
    session_id: UUID
    profile: ProfileBody


class ProfileUpdate(WireModel):
    session_id: UUID
    profile_id: str = Field(max_length=MAX_PROFILE_ID)
    profile: ProfileBody


class ProfileRef(WireModel):
    session_id: UUID
    profile_id: str = Field(max_length=MAX_PROFILE_ID)
