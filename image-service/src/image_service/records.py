"""What the image tables hold, as the use cases and the repos pass it around (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class NewVersion:
    """A version about to be stored: its bytes, thumbnail and what made it."""

    operation: str
    params: dict[str, Any]
    format: str
    width: int
    height: int
    data: bytes
    thumbnail: bytes
    compression: dict[str, Any] | None = None
    mask: bytes | None = None
    """Background removal: the mask (greyscale PNG) stored beside the version, in the same transaction."""
    mask_source: int | None = None
    """With a mask: the version whose pixels it cut out (what the brush re-composes from)."""
    has_location: bool = False
    """The bytes hold a location (set from the bytes themselves, see versions.private)."""

    def cut_from(self, number: int) -> NewVersion:
        """This cut-out recording the version its pixels came from (in its params and beside its mask)."""
        return replace(self, params=self.params | {"source_version": number}, mask_source=number)


@dataclass(frozen=True)
class VersionRow:
    number: int
    operation: str
    params: dict[str, Any]
    format: str
    width: int
    height: int
    bytes: int
    compression: dict[str, Any] | None
    created_at: datetime
    has_location: bool


@dataclass(frozen=True)
class ImageRecord:
    id: UUID
    filename: str
    created_at: datetime
    original_format: str
    original_bytes: int
    first_frame_only: bool
    current_version: int
    versions: list[VersionRow]
    original_has_location: bool

    @property
    def current(self) -> VersionRow:
        return next(v for v in self.versions if v.number == self.current_version)


@dataclass(frozen=True)
class StoredBytes:
    """One stored file of an image (a version's data or thumbnail, or the original) and its name."""

    filename: str
    """The image's sanitised upload name."""
    format: str
    number: int | None
    """The version the bytes belong to; None for the original."""
    data: bytes
