"""Header names on the bus and the request id that follows one user action across processes."""

from __future__ import annotations

import re
import secrets

import structlog

REQUEST_ID_HEADER = "X-Request-Id"
# The nats.micro error convention (ADR-32): description and code travel as headers.
ERROR_HEADER = "Nats-Service-Error"
ERROR_CODE_HEADER = "Nats-Service-Error-Code"

_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")


def new_request_id() -> str:
    return secrets.token_hex(8)


def accept_request_id(candidate: str | None) -> str:
    """Keep a caller's request id when it is short and plain, otherwise make a new one."""
    if candidate and _REQUEST_ID.fullmatch(candidate):
        return candidate
    return new_request_id()


def current_request_id() -> str | None:
    """The request id bound to the current unit of work, if any."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None
