"""Uploads: multipart ``file`` parts streamed one at a time, each stored or reported."""

from __future__ import annotations

import unicodedata

from aiohttp import BodyPartReader, MultipartReader, hdrs, web
from aiohttp.helpers import parse_mimetype
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, Field

from gateway import keys
from gateway.cookies import session_for_write
from gateway.http import json_model
from gateway.idempotency import idempotency_key
from gateway.views.common import ImageView, rpc, view
from imagetools_common.contracts import image as contract
from imagetools_common.errors import (
    BadRequest,
    DomainError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

CHUNK = 256 * 1024
MAX_BOUNDARY = 70  # RFC 2046
# What aiohttp's multipart reader raises for broken framing: a missing or wrong boundary, a body
# cut short, part headers it cannot parse.
FRAMING_ERRORS = (ValueError, HttpProcessingError)
REST_OF_BODY = "(the rest of the upload)"
EXTRA_PARTS = 20


class UploadError(BaseModel):
    filename: str
    code: str
    message: str


class UploadForm(BaseModel):
    """The upload's multipart form, for the API document (the parts are streamed, never parsed by this)."""

    file: list[bytes] = Field(min_length=1, description="One part per image, any file name")


class UploadResult(BaseModel):
    images: list[ImageView] = Field(description="The images stored")
    errors: list[UploadError] = Field(description="Files refused (only when some others were stored)")


async def _multipart(request: web.Request) -> MultipartReader:
    """The body's parts; 400 unless the Content-Type names a boundary RFC 2046 allows."""
    boundary = parse_mimetype(request.headers[hdrs.CONTENT_TYPE]).parameters.get("boundary", "")
    if not 1 <= len(boundary) <= MAX_BOUNDARY:
        raise BadRequest(f"multipart/form-data needs a boundary of 1 to {MAX_BOUNDARY} characters")
    return await request.multipart()


class _FileParts:
    """The body's ``file`` parts one at a time (others are read past); 400 for broken framing.

    Parts are counted: a body of thousands of tiny parts would keep the event loop parsing.
    """

    def __init__(self, reader: MultipartReader, max_parts: int) -> None:
        self._reader, self._max_parts, self._seen = reader, max_parts, 0

    async def next(self) -> BodyPartReader | None:
        try:
            while (part := await self._reader.next()) is not None:
                self._seen += 1
                if self._seen > self._max_parts:
                    raise BadRequest(f"an upload has at most {self._max_parts} parts")
                if isinstance(part, BodyPartReader) and part.name == "file":
                    return part
            return None
        except FRAMING_ERRORS as error:
            raise _malformed(error) from None


def _malformed(error: Exception) -> BadRequest:
    if isinstance(error, HttpProcessingError):
        return BadRequest("a part's headers are malformed or too long")
    return BadRequest(
        "the multipart body is malformed or cut short: every part must start with the boundary the "
        "Content-Type names, and the body must end with the closing boundary"
    )


async def _read_capped(part: BodyPartReader, limit: int, filename: str) -> bytes:
    """The part's bytes, refusing (413) as soon as they pass ``limit``: a huge file is never buffered."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await _read_chunk(part):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"{filename} is larger than the {limit // (1024 * 1024)} MiB upload limit",
                details={"max_upload_mb": limit // (1024 * 1024)},
            )
        chunks.append(chunk)
    if not part.at_eof():  # the body ended before this part's boundary: a cut file is not stored
        raise _malformed(EOFError())
    return b"".join(chunks)


def _filename_problem(filename: str) -> str | None:
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in filename):
        return "filename: control characters and undecodable bytes are not allowed"
    return None


async def _read_chunk(part: BodyPartReader) -> bytes:
    try:
        return await part.read_chunk(CHUNK)
    except FRAMING_ERRORS as error:
        raise _malformed(error) from None


async def upload_images(request: web.Request) -> web.Response:
    """Upload one or more images as multipart ``file`` parts (type decided from content).

    All or report: files stored before a refused one (too large, not an image, or a body whose
    framing breaks after them) stay stored and are listed beside the ``errors``; nothing stored
    means the first refusal is the answer.
    """
    if request.content_type != "multipart/form-data":
        raise UnsupportedMediaType("upload images as multipart/form-data with one or more 'file' parts")
    settings = request.app[keys.SETTINGS]
    key = idempotency_key(request)
    stored: list[ImageView] = []
    refused: list[tuple[str, DomainError]] = []
    # Room for other form fields beside the files a session may hold.
    files = _FileParts(await _multipart(request), settings.max_images_per_session + EXTRA_PARTS)
    while True:
        try:
            part = await files.next()
        except BadRequest as error:
            refused.append((REST_OF_BODY, error))
            break
        if part is None:
            break
        filename = (part.filename or "image")[:1024]
        if len(stored) + len(refused) >= settings.max_images_per_session:
            continue  # reading the next part reads past this one
        if problem := _filename_problem(filename):
            refused.append((filename.encode("utf-8", "replace").decode(), ValidationFailed(problem)))
            continue
        try:
            data = await _read_capped(part, settings.max_upload_bytes, filename)
        except (PayloadTooLarge, BadRequest) as error:
            # The rest of the body is never read (it may be huge or broken); files before stay stored.
            refused.append((filename, error))
            break
        # The first file stored starts the session (a body without one creates nothing).
        session = await session_for_write(request)
        # One key per file: the same request sent again stores each file at most once.
        header = contract.UploadHeader(
            session_id=session.id, filename=filename, idempotency_key=f"{key}:{len(stored) + len(refused)}"
        )
        try:
            info = await rpc(request).send(contract.UPLOAD, header, data)
        except DomainError as error:
            if error.status >= 500:
                raise
            refused.append((filename, error))
        else:
            stored.append(view(info))
    if not stored:
        if refused:
            raise refused[0][1]
        raise ValidationFailed("file: send at least one part named 'file'", details={"field": "file"})
    errors = [UploadError(filename=name, code=e.code, message=e.message) for name, e in refused]
    return json_model(UploadResult(images=stored, errors=errors), status=201)
