"""The cache core on its own (gateway.caches): lifetimes, bounds and drops, with given clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from gateway.caches import SessionCaches
from imagetools_common.contracts.session import SessionChanged, SessionInfo

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TOKEN = "t" * 43


class Clocks:
    def __init__(self) -> None:
        self.seconds = 1000.0
        self.reconnects: int | None = 0

    def advance(self, seconds: float) -> None:
        self.seconds += seconds

    def wall(self) -> datetime:
        return NOW + timedelta(seconds=self.seconds - 1000.0)


def caches(clocks: Clocks, **limits: int) -> SessionCaches:
    return SessionCaches(
        lambda: clocks.reconnects, ttl=30.0, clock=lambda: clocks.seconds, wall_clock=clocks.wall, **limits
    )


def info(expires_in: float = 7 * 86400, session_id: UUID | None = None) -> SessionInfo:
    return SessionInfo(
        id=session_id or uuid4(),
        created_at=NOW,
        expires_at=NOW + timedelta(seconds=expires_in),
        last_seen_at=NOW,
        device_id=uuid4(),
    )


def test_an_entry_lives_for_the_ttl_and_a_session_never_past_its_expiry() -> None:
    clocks = Clocks()
    cache = caches(clocks)
    long, short = info(), info(expires_in=5)
    cache.remember_session(TOKEN, long, cache.ticket())
    cache.remember_session("s" * 43, short, cache.ticket())
    cache.remember_image_list(long.id, b"[]", cache.ticket())
    clocks.advance(6)
    assert cache.session(TOKEN) == long and cache.image_list(long.id) == b"[]"
    assert cache.session("s" * 43) is None  # expired with its session, well before the TTL
    clocks.advance(24)
    assert cache.session(TOKEN) is None and cache.image_list(long.id) is None


def test_an_expired_session_is_not_remembered() -> None:
    clocks = Clocks()
    cache = caches(clocks)
    cache.remember_session(TOKEN, info(expires_in=-1), cache.ticket())
    assert cache.session(TOKEN) is None


async def test_the_event_drops_every_token_and_the_list_of_its_session_only() -> None:
    clocks = Clocks()
    cache = caches(clocks)
    mine, other = info(), info()
    ticket = cache.ticket()
    cache.remember_session("a" * 43, mine, ticket)
    cache.remember_session("b" * 43, info(session_id=mine.id), ticket)  # a second device
    cache.remember_session("c" * 43, other, ticket)
    cache.remember_image_list(mine.id, b"mine", ticket)
    cache.remember_image_list(other.id, b"other", ticket)
    await cache.on_changed(SessionChanged(session_id=mine.id))
    assert cache.session("a" * 43) is None and cache.session("b" * 43) is None
    assert cache.image_list(mine.id) is None
    assert cache.session("c" * 43) == other and cache.image_list(other.id) == b"other"


def test_a_fetch_that_overlapped_a_drop_is_not_stored() -> None:
    clocks = Clocks()
    cache = caches(clocks)
    session = info()
    ticket = cache.ticket()  # a fetch starts...
    cache.forget(uuid4())  # ...something changes meanwhile (maybe what it is reading)...
    cache.remember_session(TOKEN, session, ticket)  # ...so its answer may be old
    cache.remember_image_list(session.id, b"old", ticket)
    assert cache.session(TOKEN) is None and cache.image_list(session.id) is None


def test_nothing_is_served_or_stored_while_the_bus_is_down_and_all_is_dropped_after() -> None:
    clocks = Clocks()
    cache = caches(clocks)
    session = info()
    cache.remember_session(TOKEN, session, cache.ticket())
    clocks.reconnects = None
    assert cache.ticket() is None and cache.session(TOKEN) is None
    cache.remember_image_list(session.id, b"[]", cache.ticket())
    clocks.reconnects = 1
    assert cache.session(TOKEN) is None and cache.image_list(session.id) is None


def test_the_oldest_go_beyond_the_bounds() -> None:
    clocks = Clocks()
    cache = caches(clocks, max_sessions=2, max_list_bytes=10)
    sessions = [info() for _ in range(3)]
    for number, session in enumerate(sessions):
        cache.remember_session(str(number) * 43, session, cache.ticket())
        cache.remember_image_list(session.id, b"12345", cache.ticket())
    assert cache.session("0" * 43) is None and cache.image_list(sessions[0].id) is None
    assert cache.session("2" * 43) == sessions[2] and cache.image_list(sessions[2].id) == b"12345"
