"""Images: upload, list, operations, history, content, ZIP, presets and profiles."""

from __future__ import annotations

import time
import unicodedata
import zipfile
from urllib.parse import quote
from uuid import UUID

from aiohttp import BodyPartReader, MultipartReader, hdrs, web
from aiohttp.helpers import parse_mimetype
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, Field, RootModel

from gateway import keys
from gateway.cookies import current_session, session_for_write, session_id
from gateway.http import json_model, query_int, read_json
from gateway.idempotency import idempotency_key
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.session import SessionInfo, SessionRef
from imagetools_common.errors import (
    BadRequest,
    DomainError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from imagetools_common.rpc import RpcClient

CHUNK = 256 * 1024
MAX_BOUNDARY = 70  # RFC 2046
# What aiohttp's multipart reader raises for broken framing: a missing or wrong boundary, a body
# cut short, part headers it cannot parse.
FRAMING_ERRORS = (ValueError, HttpProcessingError)
REST_OF_BODY = "(the rest of the upload)"
EXTRA_PARTS = 20


class ImageView(contract.ImageInfo):
    """An image as the API shows it: its history plus the URLs of its bytes."""

    content_url: str = Field(description="The current version (version-addressed, cacheable forever)")
    thumbnail_url: str = Field(description="WebP thumbnail of the current version")
    download_url: str = Field(description="The current version as an attachment")
    original_url: str = Field(description="The upload exactly as received")
    original_download_url: str


class ImageListView(BaseModel):
    images: list[ImageView]
    max_images: int


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


class OperationBody(RootModel[contract.Operation]):
    """One of the operations, chosen by its ``type``."""


class IdsBody(BaseModel):
    ids: list[UUID] = Field(min_length=1, max_length=1000)


class RevertBody(BaseModel):
    version: int = Field(ge=1, le=contract.MAX_VERSION)


def view(info: contract.ImageInfo) -> ImageView:
    base = f"/api/v1/images/{info.id}"
    number = info.current.number
    return ImageView(
        **info.model_dump(),
        content_url=f"{base}/content?version={number}",
        thumbnail_url=f"{base}/thumbnail?version={number}",
        download_url=f"{base}/content?version={number}&download=1",
        original_url=f"{base}/content?original=true",
        original_download_url=f"{base}/content?original=true&download=1",
    )


async def _existing_session(request: web.Request) -> SessionInfo:
    """For reads of existing images: without a session there is nothing to find."""
    info = await current_session(request)
    if info is None:
        raise NotFound("no such image in this session")
    return info


def _image_id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["image_id"])
    except ValueError:
        raise NotFound("no such image in this session") from None


def _rpc(request: web.Request) -> RpcClient:
    return request.app[keys.RPC]


async def _ref(request: web.Request) -> contract.ImageRef:
    """The image the URL names; without a session it is one nobody owns (404 from the service)."""
    return contract.ImageRef(session_id=await session_id(request), image_id=_image_id(request))


# Upload and listing ---------------------------------------------------------------------------


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
            info = await _rpc(request).send(contract.UPLOAD, header, data)
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


async def list_images(request: web.Request) -> web.Response:
    """The session's images, newest first."""
    found = await _rpc(request).call(contract.LIST, SessionRef(session_id=await session_id(request)))
    return json_model(ImageListView(images=[view(i) for i in found.images], max_images=found.max_images))


async def get_image(request: web.Request) -> web.Response:
    """One image with its history."""
    return json_model(view(await _rpc(request).call(contract.GET, await _ref(request))))


async def delete_image(request: web.Request) -> web.Response:
    """Delete an image and all its versions."""
    ref = await _ref(request)
    deleted = await _rpc(request).call(
        contract.DELETE, contract.ImageIds(session_id=ref.session_id, image_ids=[ref.image_id])
    )
    if not deleted.deleted:
        raise NotFound("no such image in this session")
    return web.Response(status=204)


async def delete_selected(request: web.Request) -> web.Response:
    """Delete the selected images (those that belong to this session)."""
    body = await read_json(request, IdsBody)
    deleted = await _rpc(request).call(
        contract.DELETE, contract.ImageIds(session_id=await session_id(request), image_ids=body.ids)
    )
    return json_model(deleted)


async def clear_images(request: web.Request) -> web.Response:
    """Delete every image of the session."""
    return json_model(
        await _rpc(request).call(contract.CLEAR, SessionRef(session_id=await session_id(request)))
    )


# Operations and history -----------------------------------------------------------------------


async def apply_operation(request: web.Request) -> web.Response:
    """Apply an operation; the result becomes a new current version."""
    body = await read_json(request, OperationBody)
    ref = await _ref(request)
    request_model = contract.ApplyRequest(
        session_id=ref.session_id,
        image_id=ref.image_id,
        operation=body.root,
        idempotency_key=idempotency_key(request),
    )
    if isinstance(body.root, contract.RemoveBackgroundOp):
        from gateway.views import background  # it builds on this module's helpers

        return await background.remove_background(request, request_model)
    return json_model(view(await _rpc(request).call(contract.APPLY, request_model)))


async def _step(request: web.Request) -> contract.HistoryStep:
    ref = await _ref(request)
    return contract.HistoryStep(**ref.model_dump(), idempotency_key=idempotency_key(request))


async def undo(request: web.Request) -> web.Response:
    """Step back one version (409 when at the original)."""
    return json_model(view(await _rpc(request).call(contract.UNDO, await _step(request))))


async def redo(request: web.Request) -> web.Response:
    """Step forward one version (409 when at the newest)."""
    return json_model(view(await _rpc(request).call(contract.REDO, await _step(request))))


async def revert(request: web.Request) -> web.Response:
    """Make any kept version the current one."""
    body = await read_json(request, RevertBody)
    ref = await _ref(request)
    revert_to = contract.RevertRequest(
        session_id=ref.session_id,
        image_id=ref.image_id,
        version=body.version,
        idempotency_key=idempotency_key(request),
    )
    return json_model(view(await _rpc(request).call(contract.REVERT, revert_to)))


async def image_metadata(request: web.Request) -> web.Response:
    """Camera, exposure and location of the current version."""
    return json_model(await _rpc(request).call(contract.METADATA, await _ref(request)))


# Bytes ----------------------------------------------------------------------------------------


def _version_param(request: web.Request) -> int | None:
    return query_int(request, "version", 1, contract.MAX_VERSION)


def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _send_bytes(request: web.Request, kind: str) -> web.StreamResponse:
    session = await _existing_session(request)
    original = request.query.get("original") in ("true", "1")
    version = _version_param(request)
    wanted = contract.ContentRequest(
        session_id=session.id,
        image_id=_image_id(request),
        version=version,
        kind="original" if original else kind,
    )
    header, data = await _rpc(request).fetch(contract.CONTENT, wanted)
    # A version number (or the original) always names the same bytes: cache it for good.
    pinned = version is not None or original
    headers = {
        "ETag": header.etag,
        "Cache-Control": "private, max-age=31536000, immutable" if pinned else "private, no-cache",
        "Content-Disposition": content_disposition(
            "attachment" if request.query.get("download") in ("1", "true") else "inline", header.filename
        ),
    }
    if header.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=data, content_type=header.content_type, headers=headers)


async def image_content(request: web.Request) -> web.StreamResponse:
    """The current version's bytes (?version=N for another, ?original=true for the upload)."""
    return await _send_bytes(request, "image")


async def image_thumbnail(request: web.Request) -> web.StreamResponse:
    """A WebP thumbnail (about 320 px) of the current version or ?version=N."""
    return await _send_bytes(request, "thumbnail")


class _Sink:
    """A write-only file for zipfile whose bytes are handed to the response as they come."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``stem (2).ext`` and so on when an earlier entry already has it."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}"
    taken.add(candidate.lower())
    return candidate


async def archive(request: web.Request) -> web.StreamResponse:
    """A ZIP of the selected images' current versions, streamed one image at a time."""
    body = await read_json(request, IdsBody)
    owner = await session_id(request)
    rpc = _rpc(request)
    owned = {i.id for i in (await rpc.call(contract.LIST, SessionRef(session_id=owner))).images}
    missing = [str(i) for i in body.ids if i not in owned]
    if missing:
        raise NotFound(f"no such image in this session: {', '.join(missing)}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": content_disposition("attachment", f"imagetools-{stamp}.zip"),
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    sink, taken = _Sink(), set[str]()
    # Images are already compressed: storing them is as small as deflating and much faster.
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as zf:  # type: ignore[call-overload]
        for image_id in dict.fromkeys(body.ids):
            header, data = await rpc.fetch(
                contract.CONTENT, contract.ContentRequest(session_id=owner, image_id=image_id)
            )
            entry = zipfile.ZipInfo(unique_name(header.filename, taken), date_time=time.localtime()[:6])
            zf.writestr(entry, data)
            await response.write(sink.take())
    await response.write(sink.take())
    await response.write_eof()
    return response


# Presets and profiles -------------------------------------------------------------------------


async def presets(request: web.Request) -> web.Response:
    """System presets (with this session's overrides) and the session's own profiles."""
    return json_model(
        await _rpc(request).call(contract.PRESETS, SessionRef(session_id=await session_id(request)))
    )


def _profile_id(request: web.Request) -> str:
    """The profile the URL names; one no profile can have (over 64 characters, or holding NUL, which
    PostgreSQL text cannot store) is a 404 here rather than a database error."""
    profile_id = request.match_info["profile_id"]
    if len(profile_id) > contract.MAX_PROFILE_ID or "\x00" in profile_id:
        raise NotFound("no such profile")
    return profile_id


async def create_profile(request: web.Request) -> web.Response:
    """Save a custom compression profile."""
    body = await read_json(request, contract.ProfileBody)
    session = await session_for_write(request)
    created = await _rpc(request).call(
        contract.PROFILE_CREATE, contract.ProfileCreate(session_id=session.id, profile=body)
    )
    return json_model(created, status=201)


async def update_profile(request: web.Request) -> web.Response:
    """Edit a profile, or override a system preset (email, web, web_hq) for this session."""
    body = await read_json(request, contract.ProfileBody)
    session = await session_for_write(request)
    update = contract.ProfileUpdate(session_id=session.id, profile_id=_profile_id(request), profile=body)
    return json_model(await _rpc(request).call(contract.PROFILE_UPDATE, update))


async def delete_profile(request: web.Request) -> web.Response:
    """Delete a profile, or reset an overridden system preset."""
    ref = contract.ProfileRef(session_id=await session_id(request), profile_id=_profile_id(request))
    return json_model(await _rpc(request).call(contract.PROFILE_DELETE, ref))
