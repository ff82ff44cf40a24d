"""Pure HTTP security decisions: CSRF, CORS and the headers every response carries."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from urllib.parse import urlsplit

from gateway import share_page

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-Requested-With"
CSRF_HEADER_VALUE = "ImageTools"

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
# Swagger UI sets inline styles; its page gets that one relaxation and nothing else.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def same_host(origin: str, host: str | None) -> bool:
    """Whether ``origin`` names the host the request was sent to (same origin behind any proxy)."""
    return bool(host) and urlsplit(origin).netloc.lower() == (host or "").lower()


def csrf_violation(
    method: str, headers: Mapping[str, str], trusted_origins: Collection[str], host: str | None
) -> str | None:
    """Why an unsafe request must be refused as cross-site, or None when it may proceed.

    Browsers always send ``Origin`` on unsafe cross-origin requests, and ``Sec-Fetch-Site`` on
    https and localhost; plain-http LAN origins get only ``Origin``. The custom header cannot be
    set cross-origin without a CORS preflight, which only trusted origins pass.
    """
    if method in SAFE_METHODS:
        return None
    origin = headers.get("Origin")
    if origin is not None:
        if origin not in trusted_origins and not same_host(origin, host):
            return f"requests from {origin} are not allowed"
    elif headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return "cross-site requests are not allowed"
    if headers.get(CSRF_HEADER) != CSRF_HEADER_VALUE:
        return f"unsafe requests must carry the header {CSRF_HEADER}: {CSRF_HEADER_VALUE}"
    return None


def cors_headers(origin: str | None, allowed: Collection[str], preflight: bool) -> dict[str, str]:
    """CORS headers for an allowed cross origin (never a wildcard: credentials are involved)."""
    if origin is None or origin not in allowed:
        return {}
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": "X-Request-ID, Retry-After",
        "Vary": "Origin",
    }
    if preflight:
        headers |= {
            "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE",
            "Access-Control-Allow-Headers": f"Content-Type, {CSRF_HEADER}, X-Request-ID, Idempotency-Key",
            "Access-Control-Max-Age": "600",
        }
    return headers


def security_headers(path: str, https: bool) -> dict[str, str]:
    shared = path.startswith(share_page.PREFIX)
    csp = DOCS_CSP if path == "/api/v1/docs" else share_page.CSP if shared else CSP
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # The OAuth callback's URL carries a code, a share link's its token: neither may leak to
        # wherever the page goes next.
        "Referrer-Policy": (
            "no-referrer" if path == "/oauth/callback" or shared else "strict-origin-when-cross-origin"
        ),
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if shared:  # public, but not for search engines
        headers["X-Robots-Tag"] = "noindex, nofollow"
    return headers
