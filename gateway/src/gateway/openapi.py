"""The OpenAPI document, generated from the route table and the pydantic models it names."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

from gateway.http import ErrorBody
from gateway.idempotency import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_PATTERN
from gateway.ratelimit import Limit, RateLimits
from gateway.schemas import UI_KEY_PATTERN
from gateway.security import CSRF_HEADER, CSRF_HEADER_VALUE, SAFE_METHODS
from imagetools_common.contracts.image import MAX_VERSION

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The reference to a model's schema in components, by the direction it travels in.
SchemaRef = Callable[[type[BaseModel], JsonSchemaMode], dict[str, Any]]
_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")

_ERROR_TEXT = {
    400: "Malformed request",
    401: "Not authorised",
    402: "Out of credits at the AI provider",
    403: "Refused (cross-site or forbidden)",
    404: "Not found",
    409: "Conflict or quota exceeded",
    410: "No longer valid (expired or already used)",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid field",
    429: "Too many requests",
    502: "An upstream service failed",
    503: "A service is unavailable",
    504: "A service timed out",
}

# Every path and query parameter of the API by name: one meaning wherever it appears. A route
# naming a parameter that is not here fails when the document is built.
PARAMETERS: dict[str, dict[str, Any]] = {
    "image_id": {"description": "An image of this session", "schema": {"type": "string", "format": "uuid"}},
    "profile_id": {
        "description": "email, web, web_hq, or a profile's id",
        "schema": {"type": "string", "minLength": 1, "maxLength": 64},
    },
    "device_id": {
        "description": "A device (browser) of this session",
        "schema": {"type": "string", "format": "uuid"},
    },
    "link_id": {"description": "A share link of this image", "schema": {"type": "string", "format": "uuid"}},
    "preview_id": {
        "description": "A compression preview of this image",
        "schema": {"type": "string", "format": "uuid"},
    },
    "key": {"description": "A UI preference", "schema": {"type": "string", "pattern": f"^{UI_KEY_PATTERN}$"}},
    "version": {
        "description": "A version number (1 is the original upload); default: the current version",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION},
    },
    "original": {"description": "The upload exactly as received", "schema": {"type": "boolean"}},
    "download": {"description": "As an attachment", "schema": {"type": "boolean"}},
    "code": {"description": "OpenRouter's authorisation code", "schema": {"type": "string"}},
    "state": {"description": "The pending flow this return belongs to", "schema": {"type": "string"}},
    "error": {"description": "Why OpenRouter did not authorise", "schema": {"type": "string"}},
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}
}


@dataclass(frozen=True)
class ApiRoute:
    """One public endpoint: how it is served and how it is documented."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    # Statuses particular to this route; those that follow from its shape (a body, a limit,
    # an unsafe method, parameters, calls to services) are added by _statuses.
    errors: tuple[int, ...] = ()
    # Error statuses whose body is ``response`` rather than ErrorBody (/health's 503 is its report).
    errors_as_response: tuple[int, ...] = ()
    content_type: str = "application/json"
    # A text/event-stream answer's events, by name, with the model of each one's data (x-events).
    events: tuple[tuple[str, type[BaseModel]], ...] = ()
    body_type: str = "application/json"
    # Query parameters it reads, by their name in PARAMETERS.
    query: tuple[str, ...] = ()
    # Answered by calling services over NATS: 503 when none answers, 504 when one is too slow.
    calls_services: bool = True
    # Answers with an ETag; a request whose If-None-Match names it gets an empty 304.
    etag: bool = False
    description: str = ""
    # Takes an optional Idempotency-Key header: a retry with the same key returns the first result.
    idempotent: bool = False
    # The rate limit it draws from (ratelimit.py); the middleware finds it here.
    limit: Limit | None = None
    # It stores something for a visitor who may have no session yet, so it may create one
    # (cookies.session_for_write); only unsafe methods may.
    creates_session: bool = False
    # Whether an unsafe method needs the CSRF guard. Only a route that writes nothing and reads
    # no session may go without: the share target, which a phone's share sheet posts to as a form.
    csrf: bool = True

    def __post_init__(self) -> None:
        if self.creates_session and self.method in SAFE_METHODS:
            raise ValueError(f"{self.method} {self.path}: a safe method may not create a session")
        if not self.csrf and (self.creates_session or self.method in SAFE_METHODS):
            raise ValueError(f"{self.method} {self.path}: only a route that stores nothing may skip CSRF")
        if self.errors_as_response and self.response is None:
            raise ValueError(f"{self.method} {self.path}: errors_as_response needs a response model")

    @property
    def openapi_path(self) -> str:
        return _PARAM.sub(r"{\1}", self.path)


class _WireSchema(GenerateJsonSchema):
    """Request bodies ("validation") may leave out a field that has a default; responses
    ("serialization") always carry every field, since json_model dumps them all. So the generated
    TypeScript types make optional exactly what a client may omit, and nothing it will receive."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        return self.mode == "serialization" or super().field_is_required(field, total)


def _operation(route: ApiRoute, rate_limits: RateLimits, ref: SchemaRef) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": route.handler.__name__,
        "responses": {},
    }
    if route.description:
        op["description"] = route.description
    params = [
        {"name": name, "in": "path", "required": True, **PARAMETERS[name]}
        for name in _PARAM.findall(route.path)
    ]
    params += [{"name": name, "in": "query", "required": False, **PARAMETERS[name]} for name in route.query]
    if route.method not in SAFE_METHODS and route.csrf:
        params.append(
            {
                "name": CSRF_HEADER,
                "in": "header",
                "required": True,
                "description": "Cross-site request guard",
                "schema": {"type": "string", "enum": [CSRF_HEADER_VALUE]},
            }
        )
    if route.idempotent:
        params.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "8 to 100 letters, digits, '.', '_' or '-' (a UUID fits). The same request "
                "sent again with the same key returns the first result instead of applying it twice; the "
                "same key with a different request is a 422. Kept for a day.",
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
            }
        )
    if route.etag:
        params.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "The ETag of a copy the client holds",
                "schema": {"type": "string"},
            }
        )
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {route.body_type: {"schema": ref(route.body, "validation")}},
        }
    ok: dict[str, Any] = {"description": "Success"}
    if route.response is not None:
        ok["content"] = {route.content_type: {"schema": ref(route.response, "serialization")}}
    if route.events:
        ok["x-events"] = {name: ref(model, "serialization") for name, model in route.events}
    op["responses"][str(route.status)] = ok
    if route.etag:
        etag = {"ETag": {"description": "Names these bytes", "schema": {"type": "string"}}}
        ok["headers"] = etag
        op["responses"]["304"] = {"description": "Not modified: the copy the client holds", "headers": etag}
    error_ref = {"application/json": {"schema": ref(ErrorBody, "serialization")}}
    if route.limit is not None:
        op["x-rate-limit"] = rate_limits.describe(route.limit)
    if route.creates_session:
        op["x-new-sessions-per-minute-per-address"] = rate_limits.new_sessions.limit
    for status in sorted(_statuses(route)):
        content = ok["content"] if status in route.errors_as_response else error_ref
        response = {"description": _ERROR_TEXT.get(status, "Error"), "content": content}
        if status in (429, 503):
            response["headers"] = _RETRY_AFTER
        op["responses"][str(status)] = response
    return op


def _statuses(route: ApiRoute) -> set[int]:
    """The error statuses ``route`` may answer: its own, and those that follow from its shape."""
    errors = set(route.errors) | set(route.errors_as_response)
    if route.method not in SAFE_METHODS and route.csrf:
        errors.add(403)  # the CSRF guard
    if route.body is not None:
        errors |= {400, 413, 415, 422}  # unparseable, too big, not the declared type, invalid
    if route.query or route.idempotent:
        errors.add(422)  # a malformed query value or Idempotency-Key
    if route.limit is not None or route.creates_session:
        errors.add(429)  # its own limit, or the address's limit on new sessions
    if route.calls_services:
        errors |= {503, 504}
    return errors


def build_openapi(
    routes: Sequence[ApiRoute], *, version: str, cookie: str, rate_limits: RateLimits
) -> dict[str, Any]:
    """An OpenAPI 3.1 document for ``routes``."""
    bodies = {route.body for route in routes if route.body is not None}
    responses = {ErrorBody} | {route.response for route in routes if route.response is not None}
    responses |= {model for route in routes for _, model in route.events}
    # A model that reads differently in the two directions gets two schemas (Name-Input, Name-Output).
    refs, schemas = models_json_schema(
        [(m, "validation") for m in sorted(bodies, key=lambda m: m.__name__)]
        + [(m, "serialization") for m in sorted(responses, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
        schema_generator=_WireSchema,
    )
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = _operation(
            route, rate_limits, lambda model, mode: refs[model, mode]
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ImageTools API",
            "version": version,
            "description": (
                "Every call is made by an anonymous browser session identified by a cookie the server "
                "issues when the visitor first stores something; without one, reads answer as for an "
                "empty session. Errors always have the ErrorBody shape."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": cookie}},
        },
        # The cookie is optional: a visitor without a session reads as an empty one.
        "security": [{"session": []}, {}],
    }
