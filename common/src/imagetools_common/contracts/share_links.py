"""Share links: public, read-only links to one version of one image (owned by image-service).

The endpoints are declared in ``contracts.image`` beside the service's others. A link's token is
shown once, when it is made; image-service keeps only its SHA-256. Resolving a token that is
unknown, revoked, expired, or whose image, version or session is gone is the same ``not_found``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from imagetools_common.contracts.base import MAX_VERSION, WireModel

MIN_SHARE_HOURS = 1
# A bound for validation only: a link never outlives its session (days), whatever is asked.
MAX_SHARE_HOURS = 24 * 366

# The answer to every token that serves nothing (unknown, revoked, expired, or its image, version or
# session gone): one message, so the answer is no oracle for what once existed.
GONE = "this link does not exist or no longer works"

ShareToken = Annotated[str, Field(min_length=1, max_length=128, description="The link's opaque token")]


class ShareLinkCreate(WireModel):
    """Make a link to a version of one of the session's images."""

    session_id: UUID
    image_id: UUID
    version: int | None = Field(None, ge=1, le=MAX_VERSION, description="Default: the current version")
    expires_in_hours: int = Field(
        ge=MIN_SHARE_HOURS, le=MAX_SHARE_HOURS, description="How long it lives (capped at the session's end)"
    )
    session_expires_at: datetime = Field(description="When the session ends: no link outlives it")


class ShareLinkInfo(WireModel):
    """A live link as its session sees it (never its token)."""

    id: UUID
    image_id: UUID
    version: int = Field(description="The version it serves")
    created_at: datetime
    expires_at: datetime
    served_without_location: bool = Field(
        description="The version holds a location: the link serves it with the location removed"
    )


class ShareLinkCreated(WireModel):
    link: ShareLinkInfo
    token: str = Field(description="The link's token: shown this once, only its hash is kept")


class ShareLinkList(WireModel):
    links: list[ShareLinkInfo] = Field(description="Live links of the image, newest first")


class ShareLinkRef(WireModel):
    session_id: UUID
    image_id: UUID
    link_id: UUID


class SharedRequest(WireModel):
    """A visitor without a session asking for what a token links to."""

    token: ShareToken


class SharedFile(WireModel):
    """What a token serves (sent before the bytes by ``SHARED_CONTENT``); nothing else of the session."""

    link_id: UUID
    filename: str = Field(description="The download name, with the served format's extension")
    content_type: str
    width: int
    height: int
    bytes: int = Field(description="Size of the bytes served (after any location was removed)")
    expires_at: datetime
    etag: str = Field(description="Names exactly these bytes: a link serves one version, forever")
