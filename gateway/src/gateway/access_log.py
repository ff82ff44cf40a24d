"""One canonical line per request, without the query string (it may carry codes) or a share link's token."""

from __future__ import annotations

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from gateway import keys
from gateway.share_page import loggable
from imagetools_common.logs import get_logger

log = get_logger("gateway.access")


class AccessLogger(AbstractAccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        log.info(
            "request",
            method=request.method,
            path=loggable(request.path),
            status=response.status,
            ms=round(time * 1000, 1),
            bytes=response.body_length,
            request_id=request.get(keys.REQUEST_ID),
        )

    @property
    def enabled(self) -> bool:
        return True
