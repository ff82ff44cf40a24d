"""Rate limits per session and per client address, declared on the routes they guard.

A route in gateway.routes names its ``Limit`` (``limit=OPERATIONS``); the middleware finds it from
the matched route, so a route and its limit cannot drift apart, and the OpenAPI document states
it. Each limit is counted twice: per session (the cookie, hashed, never kept raw) and per client
address at RATE_LIMIT_ADDRESS_FACTOR times the session's rate, so dropping or rotating the
cookie gains nothing. Starting a session is limited per address alone (``admit_new_session``).
Beyond a limit the answer is 429 with Retry-After, before anything reaches a service.

Counts live in this gateway process: with several gateways each allows the rate
(docs/ARCHITECTURE.md, "Session model").
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from aiohttp.typedefs import Handler

from gateway import keys
from gateway.client_address import client_address, limit_key
from gateway.cookies import session_token
from gateway.settings import GatewaySettings
from imagetools_common.errors import RateLimited

Budget = Literal["uploads", "operations", "ai_chat", "ai_edits", "openrouter", "join", "share_links"]


@dataclass(frozen=True)
class Limit:
    """A per-minute budget (its number is the setting RATE_LIMIT_<BUDGET>) a route draws from."""

    budget: Budget
    what: str  # said in the 429 message
    concurrent: int | None = None  # at most this many at once per session


UPLOADS = Limit("uploads", "Uploads")
# Undo, redo and revert draw from the same budget as the operations they step through.
OPERATIONS = Limit("operations", "Image operations")
AI_CHAT = Limit("ai_chat", "AI chat messages", concurrent=2)
AI_EDITS = Limit("ai_edits", "AI edits", concurrent=1)
OPENROUTER = Limit("openrouter", "OpenRouter connections")
# Public share links (views.shared): counted per link, since their visitors have no session.
SHARE_LINKS = Limit("share_links", "Views of this link")
JOIN = Limit("join", "Join tries")
# Budgets counted per address at their own factor instead of RATE_LIMIT_ADDRESS_FACTOR: short
# join codes are guessable in bulk, so an address gets no more tries than a session.
ADDRESS_FACTORS: dict[Budget, int] = {"join": 1}

# Subjects remembered per window; the oldest are forgotten first (a bound on memory, not a limit).
MAX_TRACKED = 50_000
WINDOW = 60.0
# Suggested wait when only the in-flight count is full.
BUSY_RETRY_AFTER = 5


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds for each key; ``now`` is passed in."""

    def __init__(self, limit: int, window: float = WINDOW, max_keys: int = MAX_TRACKED) -> None:
        self.limit = limit
        self._window = window
        self._max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str, now: float) -> float | None:
        """Seconds until ``key`` may have another event, or None when it may now (records nothing)."""
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - self._window:
            events.popleft()
        return events[0] + self._window - now if len(events) >= self.limit else None

    def add(self, key: str, now: float) -> None:
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
            if len(self._events) > self._max_keys:
                self._events.popitem(last=False)
        self._events.move_to_end(key)
        events.append(now)

    def take(self, key: str, now: float) -> float | None:
        """Record an event, or return how many seconds until one would be allowed."""
        if (wait := self.wait(key, now)) is not None:
            return wait
        self.add(key, now)
        return None


@dataclass(frozen=True)
class Subject:
    """Who a request counts against: its session (if it sent a cookie) and its address."""

    address: str
    session: str | None = None


class RateLimits:
    """The sliding windows and in-flight counts of one gateway process."""

    def __init__(self, settings: GatewaySettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.factor = settings.rate_limit_address_factor
        self.per_minute: dict[Budget, int] = {
            "uploads": settings.rate_limit_uploads,
            "operations": settings.rate_limit_operations,
            "ai_chat": settings.rate_limit_ai_chat,
            "ai_edits": settings.rate_limit_ai_edits,
            "openrouter": settings.rate_limit_openrouter,
            "join": settings.rate_limit_join,
            "share_links": settings.rate_limit_share_links,
        }
        self.factors = {b: ADDRESS_FACTORS.get(b, self.factor) for b in self.per_minute}
        self._sessions = {b: SlidingWindow(n) for b, n in self.per_minute.items()}
        self._addresses = {b: SlidingWindow(n * self.factors[b]) for b, n in self.per_minute.items()}
        self.new_sessions = SlidingWindow(settings.rate_limit_new_sessions)
        self._running: dict[tuple[Budget, str], int] = {}

    def describe(self, limit: Limit) -> dict[str, Any]:
        """The limit as the OpenAPI document states it (``x-rate-limit``)."""
        per_minute = self.per_minute[limit.budget]
        described: dict[str, Any] = {
            "budget": limit.budget,
            "per_minute_per_session": per_minute,
            "per_minute_per_address": per_minute * self.factors[limit.budget],
        }
        if limit.concurrent is not None:
            described["concurrent_per_session"] = limit.concurrent
        return described

    def _checks(self, limit: Limit, subject: Subject) -> Iterator[tuple[SlidingWindow, str, int | None]]:
        concurrent = limit.concurrent
        if subject.session is not None:
            yield self._sessions[limit.budget], f"s:{subject.session}", concurrent
        yield (
            self._addresses[limit.budget],
            f"a:{subject.address}",
            None if concurrent is None else concurrent * self.factors[limit.budget],
        )

    @contextmanager
    def admit(self, limit: Limit, subject: Subject) -> Iterator[None]:
        """Hold one request of ``subject`` on ``limit`` while the block runs, or raise RateLimited."""
        checks = list(self._checks(limit, subject))
        now = self._clock()
        for window, key, concurrent in checks:
            if concurrent is not None and self._running.get((limit.budget, key), 0) >= concurrent:
                raise RateLimited(
                    f"{limit.what}: at most {concurrent} at a time; wait for the one running",
                    details={"retry_after": BUSY_RETRY_AFTER},
                )
            if (wait := window.wait(key, now)) is not None:
                raise RateLimited(
                    f"{limit.what}: at most {window.limit} a minute; try again in {math.ceil(wait)} s",
                    details={"retry_after": math.ceil(wait)},
                )
        for window, key, _ in checks:  # recorded only once every check passed
            window.add(key, now)
        held = [(limit.budget, key) for _, key, concurrent in checks if concurrent is not None]
        for slot in held:
            self._running[slot] = self._running.get(slot, 0) + 1
        try:
            yield
        finally:
            for slot in held:
                if left := self._running.pop(slot) - 1:
                    self._running[slot] = left

    def admit_new_session(self, request: web.Request) -> None:
        """Count a session about to be created against the client's address, or raise RateLimited."""
        wait = self.new_sessions.take(request_subject(request).address, self._clock())
        if wait is not None:
            raise RateLimited(
                f"New sessions: at most {self.new_sessions.limit} a minute from one address; "
                f"try again in {math.ceil(wait)} s",
                details={"retry_after": math.ceil(wait)},
            )


def request_subject(request: web.Request) -> Subject:
    """The request's session (a hash of its cookie) and client address (its limit key)."""
    known: Subject | None = request.get(keys.SUBJECT)
    if known is not None:
        return known
    settings = request.app[keys.SETTINGS]
    address = client_address(request.remote, request.headers, settings.trusted_proxies)
    token = session_token(request)
    subject = Subject(
        address=limit_key(address), session=hashlib.sha256(token.encode()).hexdigest() if token else None
    )
    request[keys.SUBJECT] = subject
    return subject


def link_subject(request: web.Request, token: str) -> Subject:
    """A public share route's subject: its link (token hashed) in the session's place, and the address."""
    link = hashlib.sha256(token.encode()).hexdigest()
    return Subject(address=request_subject(request).address, session=link)


@web.middleware
async def rate_limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply the matched route's Limit; inside json_errors and csrf, so a 429 is the usual JSON error."""
    route = request.app[keys.API_ROUTES].get(request.match_info.route)
    if route is None or route.limit is None:
        return await handler(request)
    with request.app[keys.RATE_LIMITS].admit(route.limit, request_subject(request)):
        return await handler(request)
