"""Stored records as the contracts show them (pure): image info, version info, content headers."""

from __future__ import annotations

from image_service.imaging import formats
from image_service.records import ImageRecord, StoredBytes, VersionRow
from imagetools_common.contracts import image as contract


def to_info(record: ImageRecord) -> contract.ImageInfo:
    """The wire view of an image and its history."""
    versions = [_version_info(v) for v in record.versions]
    current = next(v for v in versions if v.number == record.current_version)
    return contract.ImageInfo(
        id=record.id,
        filename=record.filename,
        download_name=formats.download_name(record.filename, current.format),
        created_at=record.created_at,
        current=current,
        versions=versions,
        can_undo=any(v.number < record.current_version for v in versions),
        can_redo=any(v.number > record.current_version for v in versions),
        first_frame_only=record.first_frame_only,
        original_bytes=record.original_bytes,
        original_format=contract.ImageFormat(record.original_format),
        original_has_location=record.original_has_location,
    )


def _version_info(v: VersionRow) -> contract.VersionInfo:
    return contract.VersionInfo(
        number=v.number,
        operation=v.operation,
        params=v.params,
        format=contract.ImageFormat(v.format),
        width=v.width,
        height=v.height,
        bytes=v.bytes,
        created_at=v.created_at,
        compression=contract.CompressionOutcome(**v.compression) if v.compression else None,
        has_location=v.has_location,
    )


def content_header(request: contract.ContentRequest, stored: StoredBytes) -> contract.ContentHeader:
    """How the bytes are served: type, download name and an ETag naming exactly these bytes.

    The original keeps its upload name; a version, or its thumbnail (always WebP), is named for
    the format of the bytes served.
    """
    image_id = request.image_id
    fmt = contract.ImageFormat(stored.format)
    if request.kind == "original":
        name, etag = stored.filename, f'"{image_id}-original"'
    else:
        if request.kind == "thumbnail":
            fmt, etag = contract.ImageFormat.WEBP, f'"{image_id}-t{stored.number}"'
        else:
            etag = f'"{image_id}-v{stored.number}"'
        name = formats.download_name(stored.filename, fmt)
    return contract.ContentHeader(
        content_type=formats.mime_type(fmt), filename=name, etag=etag, bytes=len(stored.data)
    )
