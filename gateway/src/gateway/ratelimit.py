"""Per-session limits on the endpoints that spend the user's money or start OAuth flows.

A browser session may start a few OpenRouter connections, chat at a conversational pace and run
a handful of AI edits a minute, one at a time; beyond that the gateway answers 429 with
Retry-After before anything reaches a service. Uploads need no rate here: a session holds at most
MAX_IMAGES_PER_SESSION images and each body is capped.

Limits are per session (the cookie), counted in this gateway process. Per-IP limits belong at the
reverse proxy, which alone sees the client's address (docs/DEPLOYMENT.md has the nginx lines);
behind it every request comes from the proxy.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from gateway import keys
from gateway.cookies import cookie_name
from imagetools_common.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    what: str  # said in the 429 message
    per_minute: int
    concurrent: int | None = None  # at most this many at once per session


# (method, route path as in routes.py) -> its limit.
LIMITS: dict[tuple[str, str], Limit] = {
    ("POST", "/api/v1/openrouter/connect"): Limit("OpenRouter connections", 10),
    ("GET", "/oauth/callback"): Limit("OpenRouter sign-in returns", 10),
    ("POST", "/api/v1/images/{image_id}/chat"): Limit("AI chat messages", 20, concurrent=2),
    ("POST", "/api/v1/images/{image_id}/ai-edit"): Limit("AI edits", 6, concurrent=1),
}

# Sessions remembered per limit; the oldest are forgotten first (a bound on memory, not a limit).
MAX_TRACKED = 50_000
WINDOW = 60.0


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds for each key; ``now`` is passed in."""

    def __init__(self, limit: int, window: float = WINDOW, max_keys: int = MAX_TRACKED) -> None:
        self._limit = limit
        self._window = window
        self._max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def take(self, key: str, now: float) -> float | None:
        """Record an event, or return how many seconds until one would be allowed."""
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
            if len(self._events) > self._max_keys:
                self._events.popitem(last=False)
        self._events.move_to_end(key)
        while events and events[0] <= now - self._window:
            events.popleft()
        if len(events) >= self._limit:
            return events[0] + self._window - now
        events.append(now)
        return None


class RateLimits:
    """The sliding windows and in-flight counts of one gateway process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows = {route: SlidingWindow(limit.per_minute) for route, limit in LIMITS.items()}
        self._running: dict[tuple[tuple[str, str], str], int] = {}

    def enter(self, route: tuple[str, str], subject: str) -> None:
        """Admit one request of ``subject`` on ``route``, or raise RateLimited with the wait."""
        limit = LIMITS[route]
        running = self._running.get((route, subject), 0)
        if limit.concurrent is not None and running >= limit.concurrent:
            raise RateLimited(
                f"{limit.what}: at most {limit.concurrent} at a time; wait for the one running",
                details={"retry_after": 5},
            )
        wait = self._windows[route].take(subject, self._clock())
        if wait is not None:
            raise RateLimited(
                f"{limit.what}: at most {limit.per_minute} a minute; try again in {math.ceil(wait)} s",
                details={"retry_after": math.ceil(wait)},
            )
        self._running[(route, subject)] = running + 1

    def leave(self, route: tuple[str, str], subject: str) -> None:
        left = self._running.pop((route, subject)) - 1
        if left:
            self._running[(route, subject)] = left


def _subject(request: web.Request) -> str:
    """Who is limited: the session cookie (hashed, never kept raw), else the peer address."""
    token = request.cookies.get(cookie_name(request.app[keys.SETTINGS].https))
    if token:
        return hashlib.sha256(token.encode()).hexdigest()
    return f"peer:{request.remote}"


@web.middleware
async def rate_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply LIMITS to the matched route; inside json_errors, so a 429 is the usual JSON error."""
    resource = request.match_info.route.resource
    route = (request.method, resource.canonical if resource is not None else "")
    if route not in LIMITS:
        return await handler(request)
    limits = request.app[keys.RATE_LIMITS]
    subject = _subject(request)
    limits.enter(route, subject)
    try:
        return await handler(request)
    finally:
        limits.leave(route, subject)
