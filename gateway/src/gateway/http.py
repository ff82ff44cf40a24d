"""HTTP helpers shared by the views: the JSON error body, validated JSON bodies and query integers."""

from __future__ import annotations

import re
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from imagetools_common.errors import (
    BadRequest,
    DomainError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

M = TypeVar("M", bound=BaseModel)
MAX_JSON_BYTES = 256 * 1024
# Far deeper than any body the API takes, far shallower than what makes a recursive parser fail
# (the standard library's raises RecursionError, the services' stops at 200 levels).
MAX_JSON_DEPTH = 32
_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str | None = None


class ErrorBody(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorDetail


def error_response(
    status: int, code: str, message: str, request_id: str | None, headers: dict[str, str] | None = None
) -> web.Response:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, request_id=request_id))
    return web.json_response(body.model_dump(), status=status, headers=headers)


def json_model(model: BaseModel, status: int = 200) -> web.Response:
    return json_body(model.model_dump_json().encode(), status)


def json_body(body: bytes, status: int = 200) -> web.Response:
    """A response of JSON already rendered (a cached one, say)."""
    return web.Response(body=body, status=status, content_type="application/json")


def _describe(error: ValidationError) -> tuple[str, str]:
    """The first problem as (field, "field: what is wrong"); a bad or missing ``type`` tag names ``type``."""
    first = error.errors()[0]
    tag_error = first["type"] in ("union_tag_invalid", "union_tag_not_found")
    field = "type" if tag_error else ".".join(str(p) for p in first["loc"]) or "body"
    return field, f"{field}: {first['msg'].removeprefix('Value error, ')}"


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in ``raw`` nest deeper than ``limit``, found without parsing it."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    # Drop escapes (so every quote left delimits a string), then the strings (brackets inside
    # them do not nest), then close whatever is left open. Each pass peels the innermost pairs:
    # an opener left after ``limit`` passes sits deeper. Only bytes methods: milliseconds for 256 KiB.
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    nesting = b"".join(unescaped.split(b'"')[::2]).translate(_AS_BRACKETS, _NOT_BRACKETS)
    nesting += b"]" * nesting.count(b"[")
    too_deep = b"[" * (limit + 1)  # a run of openers says so at once (the usual attack)
    for _ in range(limit):
        if too_deep in nesting:
            return True
        nesting = nesting.replace(b"[]", b"")
    return b"[" in nesting


def query_int(request: web.Request, name: str, low: int, high: int) -> int | None:
    """An optional whole-number query parameter: ASCII digits only (``²`` and ``①`` pass isdigit)."""
    raw = request.query.get(name)
    if raw is None:
        return None
    if not _ASCII_DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise ValidationFailed(
            f"{name}: must be a whole number from {low} to {high}", details={"field": name}
        )
    return int(raw)


async def _read_body(request: web.Request, limit: int) -> bytes:
    """The whole body (``read(n)`` returns what has arrived so far), refused (413) once past ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(limit + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"JSON bodies are limited to {limit // 1024} KiB")
    return b"".join(chunks)


async def read_json(request: web.Request, model: type[M]) -> M:
    """The body as ``model``: 415 unless JSON, 413 when too big, 400 when unparseable, 422 when invalid."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"JSON bodies are limited to {MAX_JSON_BYTES // 1024} KiB")
    raw = await _read_body(request, MAX_JSON_BYTES)
    if json_too_deep(raw):
        raise BadRequest(f"the JSON body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep")
    try:
        # Strict: a number is a number and a boolean a boolean, as the API document says
        # ("100" is not 100, true is not 1); JSON strings still stand for UUIDs and enums.
        return model.model_validate_json(raw, strict=True)
    except ValidationError as error:
        if error.errors()[0]["type"] == "json_invalid":
            raise BadRequest("the body is not valid JSON") from None
        field, message = _describe(error)
        raise ValidationFailed(message, details={"field": field}) from None


def retry_after(error: DomainError) -> int | None:
    """Seconds the client should wait before trying again, when the error says."""
    seconds = error.details.get("retry_after")
    return seconds if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds >= 0 else None


def domain_error_response(error: DomainError, request_id: str | None) -> web.Response:
    wait = retry_after(error)
    headers = {"Retry-After": str(wait)} if wait is not None else None
    return error_response(error.status, error.code, error.message, request_id, headers)
