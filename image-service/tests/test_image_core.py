"""image-service's pure cores without a server: preset merging, keyed-request fingerprints, the
version a compression starts from and the headers content is served with."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from image_service.idempotency import keyed_once
from image_service.presets import merged, settings_of
from image_service.records import ImageRecord, StoredBytes, VersionRow
from image_service.versions import compression_source
from image_service.wire import content_header
from imagetools_common.contracts import image as contract
from imagetools_common.errors import ValidationFailed

SMALL = contract.CompressionSettings(max_width=100, max_height=100, quality=50, target_kb=20, format="webp")


def saved(preset_id: str, name: str) -> contract.Preset:
    return contract.Preset(id=preset_id, name=name, settings=SMALL, system=False)


def test_presets_list_the_system_ones_first_with_overrides_in_place_then_profiles() -> None:
    """An override takes its system preset's place (marked overridden); profiles follow in order."""
    presets = merged([saved("p1", "Mine"), saved("web", "My web"), saved("p2", "Also mine")]).presets
    assert [(p.id, p.name, p.system, p.overridden) for p in presets] == [
        ("email", "Email", True, False),
        ("web", "My web", True, True),
        ("web_hq", "Web HQ", True, False),
        ("p1", "Mine", False, False),
        ("p2", "Also mine", False, False),
    ]
    assert settings_of(contract.PresetList(presets=presets), "web") == SMALL


def test_an_unknown_preset_is_refused_naming_the_field() -> None:
    """Compressing with a preset nobody defined is a 422 on ``preset``."""
    with pytest.raises(ValidationFailed, match="no preset or profile called 'gone'") as refused:
        settings_of(merged([]), "gone")
    assert refused.value.details == {"field": "preset"}


def test_a_key_binds_to_its_endpoint_request_and_body() -> None:
    """The same request under another key fingerprints alike; another body or endpoint does not."""
    session_id, image_id = uuid.uuid4(), uuid.uuid4()

    def step(key: str | None) -> contract.HistoryStep:
        return contract.HistoryStep(session_id=session_id, image_id=image_id, idempotency_key=key)

    assert keyed_once(contract.UNDO.subject, step(None)) is None
    first = keyed_once(contract.UNDO.subject, step("key-aaaa"))
    again = keyed_once(contract.UNDO.subject, step("key-bbbb"))
    redo = keyed_once(contract.REDO.subject, step("key-aaaa"))
    assert first is not None and again is not None and redo is not None
    assert first.fingerprint == again.fingerprint != redo.fingerprint
    header = contract.UploadHeader(session_id=session_id, filename="a.jpg", idempotency_key="key-kkkk")
    one, other = (keyed_once(contract.UPLOAD.subject, header, body) for body in (b"1", b"2"))
    assert one is not None and other is not None and one.fingerprint != other.fingerprint


def version(number: int, operation: str) -> VersionRow:
    return VersionRow(number, operation, {}, "jpeg", 10, 10, 100, None, datetime.now(UTC), False)


def record(operations: list[str], current: int) -> ImageRecord:
    versions = [version(n, op) for n, op in enumerate(operations, start=1)]
    return ImageRecord(uuid.uuid4(), "a.jpg", datetime.now(UTC), "jpeg", 100, False, current, versions, False)


def test_compression_starts_from_the_newest_uncompressed_version_at_or_below_the_current() -> None:
    """Loss never compounds: compress after compress starts from the edit before them, not a redo."""
    assert compression_source(record(["upload", "rotate", "compress"], current=3)).number == 2
    assert compression_source(record(["upload", "compress", "compress", "rotate"], current=3)).number == 1
    assert compression_source(record(["upload", "rotate", "flip"], current=2)).number == 2


def test_content_headers_name_each_file_by_the_format_it_is_in() -> None:
    """A version is named for its format, a thumbnail as WebP, the original by its upload name."""
    image_id = uuid.uuid4()

    def header(kind: str, fmt: str, number: int | None) -> tuple[str, str, str, int]:
        request = contract.ContentRequest(session_id=uuid.uuid4(), image_id=image_id, kind=kind)
        made = content_header(request, StoredBytes("Holiday.HEIC", fmt, number, b"12345"))
        return made.content_type, made.filename, made.etag.removeprefix(f'"{image_id}-'), made.bytes

    assert header("image", "png", 3) == ("image/png", "Holiday.png", 'v3"', 5)
    assert header("thumbnail", "png", 3) == ("image/webp", "Holiday.webp", 't3"', 5)
    assert header("original", "heif", None) == ("image/heic", "Holiday.HEIC", 'original"', 5)
