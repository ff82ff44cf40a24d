"""How each kind of version is made from bytes: the format decisions, pure and CPU-bound.

Everything here runs in the use cases' worker pool (see ``Images.cpu``), never on the event loop,
and sees only bytes, contract models and records: no repo, no NATS.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from image_service.imaging import budget, compress, encode, metadata, operations, thumbnail
from image_service.imaging.decode import Decoded, decode, open_image
from image_service.records import ImageRecord, NewVersion, VersionRow
from imagetools_common.contracts import image as contract
from imagetools_common.errors import ValidationFailed

# Formats every browser shows: an upload in one of these with upright pixels is its own working copy.
_BROWSER_FORMATS = {contract.ImageFormat.JPEG, contract.ImageFormat.PNG, contract.ImageFormat.WEBP,
                    contract.ImageFormat.GIF, contract.ImageFormat.AVIF}  # fmt: skip


def private(data: bytes, fmt: str, keep_location: bool) -> tuple[bytes, bool]:
    """The bytes without their location unless the session keeps it, and whether one is left.

    The location goes losslessly (the container is edited, pixels untouched), on every path:
    EXIF GPS directories and XMP GPS properties alike.
    """
    located = metadata.has_location(data)
    if located and not keep_location:
        return metadata.strip(data, contract.ImageFormat(fmt), "gps"), False
    return data, located


def working_copy(data: bytes, keep_location: bool, max_pixels: int) -> tuple[NewVersion, Decoded]:
    """Version 1: the upload (less its location) when a browser can show it, else an upright re-encode.

    The upload itself is kept apart, byte for byte, as the original.
    """
    decoded = decode(data, max_pixels=max_pixels)
    as_is = decoded.format in _BROWSER_FORMATS and not decoded.animated and not decoded.reoriented
    body, located = data, False
    if as_is:
        try:
            body, located = private(data, decoded.format.value, keep_location)
        except ValidationFailed:  # a container the lossless strip cannot edit: re-encode instead
            as_is = False
    if as_is:
        version_format = decoded.format.value
    else:
        lossless = decoded.has_alpha or decoded.format == "png"
        # A strip wider than JPEG allows (a TIFF panorama) is kept losslessly instead.
        target: contract.OutputFormat = (
            "png" if lossless or not budget.fits("jpeg", decoded.width, decoded.height) else "jpeg"
        )
        body = encode.encode(
            decoded.image, target, quality=None if decoded.format == contract.ImageFormat.JPEG else 92,
            exif=decoded.exif, icc_profile=decoded.icc_profile, like=decoded,
        )  # fmt: skip
        version_format = target
        body, located = private(body, version_format, keep_location)
    version = NewVersion(
        operation="upload",
        params={"format": decoded.format.value},
        format=version_format,
        width=decoded.width,
        height=decoded.height,
        data=body,
        thumbnail=thumbnail.thumbnail(decoded.image),
        has_location=located,
    )
    return version, decoded


def compression_source(record: ImageRecord) -> VersionRow:
    """Never compound loss: compress from the newest version not itself made by compression."""
    return next(
        (
            v
            for v in reversed(record.versions)
            if v.number <= record.current_version and v.operation != "compress"
        ),
        record.versions[0],
    )


def operated(
    op: contract.Operation,
    data: bytes,
    source: VersionRow,
    settings: contract.CompressionSettings | None,
    current_thumbnail: bytes | None,
    gps: metadata.Location | None,
    max_pixels: int,
) -> NewVersion:
    """One operation on one version's bytes; ``gps`` goes into its EXIF."""
    params = op.model_dump(exclude={"type"}, exclude_none=True)
    if isinstance(op, contract.StripMetadataOp):
        stripped = metadata.strip(data, contract.ImageFormat(source.format), op.what)
        assert current_thumbnail is not None
        return NewVersion(
            op.type, params, source.format, source.width, source.height, stripped, current_thumbnail
        )
    fmt: contract.OutputFormat
    if isinstance(op, contract.CompressOp):
        assert settings is not None
        params["settings"] = settings.model_dump()
        # Decoded straight to the settings' box: a 12 MP photo is never expanded in full.
        body, outcome = compress.compress_data(data, settings, max_pixels=max_pixels, gps=gps)
        fmt, compression = outcome.format, outcome.model_dump()
        # The thumbnail shows the compressed result itself (small by now), artefacts and all.
        return NewVersion(
            operation=op.type, params=params, format=fmt, width=outcome.width, height=outcome.height,
            data=body, thumbnail=thumbnail.of_encoded(body), compression=compression,
        )  # fmt: skip
    decoded = decode(data, max_pixels=max_pixels)
    exif = metadata.with_location(decoded.exif, gps)
    if isinstance(op, contract.ConvertOp):
        fmt, shown = op.format, decoded.image
        body = encode.encode(
            shown, fmt, quality=op.quality, exif=exif, icc_profile=decoded.icc_profile,
            like=decoded if fmt == decoded.format.value else None, background=op.background,
        )  # fmt: skip
    else:
        fmt, shown = budget.editable_format(source.format), _transform(decoded.image, op)
        if isinstance(op, contract.ResizeOp) and op.format:
            fmt = op.format  # brought back to the original's format (an AI edit that came back as PNG)
        # Geometry keeps the source's own quality (its JPEG tables), not an arbitrary one.
        like = decoded if fmt == decoded.format.value else None
        body = encode.encode(shown, fmt, exif=exif, icc_profile=decoded.icc_profile, like=like)
    return NewVersion(
        operation=op.type,
        params=params,
        format=fmt,
        width=shown.width,
        height=shown.height,
        data=body,
        thumbnail=thumbnail.thumbnail(shown),
    )


def made_elsewhere(
    header: contract.AddVersionHeader, data: bytes, gps: metadata.Location | None, max_pixels: int
) -> NewVersion:
    """A version made elsewhere (an AI edit): decoded and re-encoded, never stored as sent."""
    header_only = open_image(data, max_pixels=max_pixels)
    # Re-encoding drops whatever else the bytes carried (metadata, trailing data, polyglots);
    # the only metadata written is the original's location, when the session keeps it.
    fmt: contract.OutputFormat = "png"
    if header_only.format in ("JPEG", "MPO", "WEBP"):
        fmt = "webp" if header_only.format == "WEBP" else "jpeg"
    # The budget on the header's size (a model may upscale), before any pixel is decoded.
    budget.check(budget.Output(*header_only.size, fmt), max_pixels)
    decoded = decode(data, max_pixels=max_pixels)
    exif = metadata.with_location(None, gps)
    body = encode.encode(decoded.image, fmt, quality=92 if fmt != "png" else None, exif=exif)
    return NewVersion(
        operation=header.operation, params=dict(header.params), format=fmt, width=decoded.width,
        height=decoded.height, data=body, thumbnail=thumbnail.thumbnail(decoded.image),
    )  # fmt: skip


def _transform(image: Image.Image, op: Any) -> Image.Image:
    if isinstance(op, contract.ResizeOp):
        return operations.resize(image, op)
    if isinstance(op, contract.RotateOp):
        return operations.rotate(image, op)
    if isinstance(op, contract.FlipOp):
        return operations.flip(image, op)
    if isinstance(op, contract.CropOp):
        return operations.crop(image, op)
    raise ValidationFailed(f"type: unknown operation {op.type!r}", details={"field": "type"})
