"""Request pipeline: request id and logging context, JSON errors, CORS, CSRF."""

from __future__ import annotations

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestPayloadError

from gateway import keys
from gateway.cookies import apply_cookie
from gateway.http import domain_error_response, error_response
from gateway.security import cors_headers, csrf_violation
from gateway.share_page import loggable
from imagetools_common.errors import DomainError
from imagetools_common.logs import get_logger
from imagetools_common.rpc import REQUEST_ID_HEADER, accept_request_id

log = get_logger("gateway")

# nginx's status for "the client closed the connection": the access log shows it; nobody reads it.
CLIENT_CLOSED_REQUEST = 499

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the request an id (the caller's if plausible) and bind it for every log line and RPC."""
    request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
    request[keys.REQUEST_ID] = request_id
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        return await handler(request)


@web.middleware
async def session_cookie(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Set or clear the session cookie as the view decided, on error responses too."""
    response = await handler(request)
    apply_cookie(request, response)
    return response


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes ``{"error": {code, message, request_id}}``; no stack trace leaves."""
    request_id = request.get(keys.REQUEST_ID)
    try:
        return await handler(request)
    except DomainError as error:
        if error.status >= 500:
            log.warning("request failed", error_code=error.code, message=error.message)
        return domain_error_response(error, request_id)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status == 413:
            limit = request.app[keys.SETTINGS].max_upload_size_mb
            message = f"the request body is larger than the {limit} MiB limit"
        elif exc.status == 405:
            message = f"{request.method} is not allowed on {request.path}"
        elif exc.status == 404:
            message = f"no such endpoint: {request.method} {request.path}"
        else:
            message = exc.reason
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_response(
            exc.status, _HTTP_CODES.get(exc.status, "http_error"), message, request_id, headers
        )
    except RequestPayloadError as error:
        # aiohttp could not decode the body (a Content-Encoding that does not match its bytes):
        # the client's mistake, like any other malformed body.
        log.info("refused an undecodable body", reason=str(error).split("\n")[-1].strip()[:200])
        return error_response(400, "bad_request", "the request body could not be decoded", request_id)
    except ConnectionResetError:
        if request.transport is not None and not request.transport.is_closing():
            log.exception("unhandled error")
            return error_response(500, "internal", "something went wrong on our side", request_id)
        # The client hung up (or was cut off as too slow) mid-request: its business, not an error.
        log.info("client went away before the response", method=request.method, path=loggable(request.path))
        return web.Response(status=CLIENT_CLOSED_REQUEST)
    except Exception:
        log.exception("unhandled error")
        return error_response(500, "internal", "something went wrong on our side", request_id)


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer preflights and add CORS headers for the configured origins only."""
    allowed = request.app[keys.SETTINGS].cors_origins
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        headers = cors_headers(origin, allowed, preflight=True)
        if not headers:
            return error_response(403, "forbidden", "cross-origin requests from this origin are not allowed",
                                  request.get(keys.REQUEST_ID))  # fmt: skip
        return web.Response(status=204, headers=headers)
    response = await handler(request)
    response.headers.update(cors_headers(origin, allowed, preflight=False))
    return response


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse unsafe requests that a different site could have made the browser send."""
    route = request.app[keys.API_ROUTES].get(request.match_info.route)
    if route is not None and not route.csrf:
        return await handler(request)
    settings = request.app[keys.SETTINGS]
    trusted = {settings.openrouter_app_url, *settings.cors_origins}
    reason = csrf_violation(request.method, request.headers, trusted, request.headers.get("Host"))
    if reason is not None:
        log.info("csrf refused", reason=reason)
        return error_response(403, "csrf_failed", reason, request.get(keys.REQUEST_ID))
    return await handler(request)
