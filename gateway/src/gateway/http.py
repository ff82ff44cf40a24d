"""HTTP helpers shared by the views: the JSON error body and validated JSON bodies."""

from __future__ import annotations

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
    return web.Response(body=model.model_dump_json().encode(), status=status, content_type="application/json")


def _describe(error: ValidationError) -> tuple[str, str]:
    """The first problem as (field, "field: what is wrong"); a bad or missing ``type`` tag names ``type``."""
    first = error.errors()[0]
    tag_error = first["type"] in ("union_tag_invalid", "union_tag_not_found")
    field = "type" if tag_error else ".".join(str(p) for p in first["loc"]) or "body"
    return field, f"{field}: {first['msg'].removeprefix('Value error, ')}"


async def read_json(request: web.Request, model: type[M]) -> M:
    """The body as ``model``: 415 unless JSON, 413 when too big, 400 when unparseable, 422 when invalid."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"JSON bodies are limited to {MAX_JSON_BYTES // 1024} KiB")
    raw = await request.content.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"JSON bodies are limited to {MAX_JSON_BYTES // 1024} KiB")
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
