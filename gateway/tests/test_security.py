"""Pure CSRF, CORS and header decisions."""

from __future__ import annotations

from gateway.security import CSP, cors_headers, csrf_violation, security_headers

TRUSTED = {"https://app.example"}
OK = {"X-Requested-With": "ImageTools"}


def test_safe_methods_are_never_refused() -> None:
    """GET and HEAD pass whatever their origin (they must not change state)."""
    for method in ("GET", "HEAD", "OPTIONS"):
        assert csrf_violation(method, {"Origin": "https://evil.example"}, TRUSTED, "app.example") is None


def test_unsafe_requests_need_a_trusted_or_same_origin() -> None:
    """An Origin that is neither trusted nor this host is refused; the Host comparison covers proxies."""
    assert csrf_violation("POST", {**OK, "Origin": "https://app.example"}, TRUSTED, "x") is None
    assert (
        csrf_violation("POST", {**OK, "Origin": "http://192.168.1.5:8082"}, TRUSTED, "192.168.1.5:8082")
        is None
    )
    assert csrf_violation("POST", {**OK, "Origin": "https://evil.example"}, TRUSTED, "app.example")
    assert csrf_violation("POST", {**OK, "Origin": "null"}, TRUSTED, "app.example")


def test_fetch_metadata_without_origin() -> None:
    """Without Origin, Sec-Fetch-Site must say same-origin (or be absent, as for non-browser clients)."""
    assert csrf_violation("DELETE", {**OK, "Sec-Fetch-Site": "same-origin"}, TRUSTED, "h") is None
    assert csrf_violation("DELETE", dict(OK), TRUSTED, "h") is None
    assert csrf_violation("DELETE", {**OK, "Sec-Fetch-Site": "cross-site"}, TRUSTED, "h")
    assert csrf_violation("DELETE", {**OK, "Sec-Fetch-Site": "same-site"}, TRUSTED, "h")


def test_the_custom_header_is_required() -> None:
    """Even same-origin unsafe requests need the header a cross-site form cannot send."""
    assert "X-Requested-With" in (
        csrf_violation("PUT", {"Sec-Fetch-Site": "same-origin"}, TRUSTED, "h") or ""
    )


def test_cors_never_wildcards() -> None:
    """CORS headers echo a configured origin only, with credentials, and vary on Origin."""
    headers = cors_headers("https://app.example", TRUSTED, preflight=True)
    assert headers["Access-Control-Allow-Origin"] == "https://app.example" and headers["Vary"] == "Origin"
    assert cors_headers("https://evil.example", TRUSTED, preflight=True) == {}
    assert cors_headers(None, TRUSTED, preflight=False) == {}


def test_csp_allows_no_inline_script_or_framing() -> None:
    """The app's CSP has no inline script or style; only the docs page relaxes style-src."""
    assert "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP
    assert "'unsafe-inline'" in security_headers("/api/v1/docs", https=False)["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in security_headers("/", https=False)
