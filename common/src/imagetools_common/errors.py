"""Domain errors and their one translation table to HTTP.

Services raise these; the RPC layer sends ``code`` and ``message`` over NATS; the gateway turns
the code back into an HTTP status with ``http_status``. Nothing else inspects NATS errors.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """An expected failure with a stable machine code and a message fit for the user."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.message})"


class BadRequest(DomainError):
    code = "bad_request"
    status = 400


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class NotFound(DomainError):
    code = "not_found"
    status = 404


class MethodNotAllowed(DomainError):
    code = "method_not_allowed"
    status = 405


class Conflict(DomainError):
    code = "conflict"
    status = 409


class Gone(DomainError):
    """It existed but can no longer be used (an expired or used join offer)."""

    code = "gone"
    status = 410


class NotConnected(Conflict):
    """No OpenRouter key for this session (neither its own nor a server-wide one), or it stopped working."""

    code = "openrouter_not_connected"


class QuotaExceeded(DomainError):
    code = "quota_exceeded"
    status = 409


class PaymentRequired(DomainError):
    """The upstream account has no credits left (OpenRouter's 402)."""

    code = "payment_required"
    status = 402


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = 415


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422


class UpstreamRefused(DomainError):
    """The AI provider refused the request itself (content policy, unsupported image, bad parameters)."""

    code = "upstream_refused"
    status = 422


class RateLimited(DomainError):
    """Too many requests; ``details["retry_after"]`` (seconds), when known, becomes Retry-After."""

    code = "rate_limited"
    status = 429


class Internal(DomainError):
    code = "internal"
    status = 500


class BadGateway(DomainError):
    """A service answered with something the caller cannot use."""

    code = "bad_gateway"
    status = 502


class ServiceUnavailable(DomainError):
    code = "service_unavailable"
    status = 503


class UpstreamTimeout(DomainError):
    code = "timeout"
    status = 504


_BY_CODE: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        Gone,
        NotConnected,
        QuotaExceeded,
        PaymentRequired,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
        UpstreamRefused,
        RateLimited,
        Internal,
        BadGateway,
        ServiceUnavailable,
        UpstreamTimeout,
    )
}


def http_status(code: str) -> int:
    """HTTP status for a wire error code; a code nobody registered means a broken upstream (502)."""
    cls = _BY_CODE.get(code)
    return cls.status if cls else BadGateway.status


def from_wire(code: str, message: str, details: dict[str, Any] | None = None) -> DomainError:
    """Rebuild the domain error a service raised from its wire code."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return BadGateway(f"unexpected error from a service: {message}", details={"code": code})
    return cls(message, details=details)
