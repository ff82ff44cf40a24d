"""What a gateway replica remembers between requests: resolved sessions and rendered image lists.

Each replica keeps its own copy, kept true by one broadcast event: whatever ends a session,
rotates or removes one of its tokens, or changes its images publishes ``session.SESSION_CHANGED``
{session_id}, and every replica drops all it holds for that session on hearing it
(docs/ARCHITECTURE.md, "Gateway caches"). An event can still be missed, so:

- while the connection to NATS is down nothing is served from here or stored, and once its
  reconnect count moves everything is dropped (events published in between never arrived);
- every entry lives at most ``ttl`` seconds, and a session no longer than its ``expires_at``: a
  lost event costs at most that much staleness, and a session in use is resolved again every
  ``ttl`` seconds, which is when session-service writes last_seen (at most once a minute);
- a value fetched while anything was dropped is not stored: it may predate the change.

The core is pure (the clocks and the connection's state are given); ``app`` wires it to NATS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar
from uuid import UUID

from imagetools_common.contracts.session import SessionChanged, SessionInfo
from imagetools_common.tokens import hash_token

# Short: it bounds the harm of a lost event and how stale last_seen may get.
TTL_SECONDS = 30.0
MAX_SESSIONS = 10_000
MAX_LIST_BYTES = 16 * 1024 * 1024

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    session_id: UUID
    deadline: float
    weight: int


class _Store(Generic[K, V]):
    """Entries until their deadline, findable by session; beyond ``budget`` (summed weights) the oldest go."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._weight = 0
        self._entries: dict[K, _Entry[V]] = {}
        self._by_session: dict[UUID, set[K]] = {}

    def get(self, key: K, now: float) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.deadline <= now:
            self._remove(key)
            return None
        return entry.value

    def put(self, key: K, entry: _Entry[V]) -> None:
        self._remove(key)
        self._entries[key] = entry
        self._by_session.setdefault(entry.session_id, set()).add(key)
        self._weight += entry.weight
        while self._weight > self._budget:
            self._remove(next(iter(self._entries)))  # dicts keep insertion order: the oldest

    def forget(self, session_id: UUID) -> None:
        for key in self._by_session.pop(session_id, set()):
            self._weight -= self._entries.pop(key).weight

    def clear(self) -> None:
        self._entries.clear()
        self._by_session.clear()
        self._weight = 0

    def _remove(self, key: K) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._weight -= entry.weight
        keys = self._by_session[entry.session_id]
        keys.discard(key)
        if not keys:
            del self._by_session[entry.session_id]


class SessionCaches:
    """Resolved session tokens and rendered image lists, dropped per session by SESSION_CHANGED.

    ``connection`` gives the NATS connection's reconnect count, or None while it is down. A caller
    that fetches takes a ``ticket()`` first and hands it back to ``remember_*``.
    """

    def __init__(
        self,
        connection: Callable[[], int | None],
        *,
        ttl: float = TTL_SECONDS,
        max_sessions: int = MAX_SESSIONS,
        max_list_bytes: int = MAX_LIST_BYTES,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._connection = connection
        self._ttl = ttl
        self._clock = clock
        self._wall_clock = wall_clock
        self._epoch = connection()
        # Moves on every drop: a fill that began before it may hold what the drop was about.
        self._generation = 0
        # Keyed by the token's SHA-256, so a memory dump of the cache holds no usable cookie.
        self._sessions: _Store[bytes, SessionInfo] = _Store(max_sessions)
        self._lists: _Store[UUID, bytes] = _Store(max_list_bytes)

    def ticket(self) -> int | None:
        """What a fill hands back to ``remember_*``; None while nothing may be cached (the bus is down)."""
        epoch = self._connection()
        if epoch is None:
            return None
        if epoch != self._epoch:  # reconnected: whatever was published meanwhile was missed
            self._epoch = epoch
            self._drop_all()
        return self._generation

    def session(self, token: str) -> SessionInfo | None:
        if self.ticket() is None:
            return None
        return self._sessions.get(hash_token(token), self._clock())

    def remember_session(self, token: str, info: SessionInfo, ticket: int | None) -> None:
        lifetime = min(self._ttl, (info.expires_at - self._wall_clock()).total_seconds())
        if self._valid(ticket) and lifetime > 0:
            entry = _Entry(info, info.id, self._clock() + lifetime, 1)
            self._sessions.put(hash_token(token), entry)

    def image_list(self, session_id: UUID) -> bytes | None:
        """The list's response body as last rendered for this session."""
        if self.ticket() is None:
            return None
        return self._lists.get(session_id, self._clock())

    def remember_image_list(self, session_id: UUID, body: bytes, ticket: int | None) -> None:
        if self._valid(ticket):
            self._lists.put(session_id, _Entry(body, session_id, self._clock() + self._ttl, len(body)))

    def forget(self, session_id: UUID) -> None:
        self._generation += 1
        self._sessions.forget(session_id)
        self._lists.forget(session_id)

    async def on_changed(self, event: SessionChanged) -> None:
        """The SESSION_CHANGED handler."""
        self.forget(event.session_id)

    def _valid(self, ticket: int | None) -> bool:
        return ticket is not None and ticket == self._generation and self.ticket() == ticket

    def _drop_all(self) -> None:
        self._generation += 1
        self._sessions.clear()
        self._lists.clear()
