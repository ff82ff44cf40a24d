"""The per-session limits' arithmetic, on a clock the test moves."""

from __future__ import annotations

import pytest

from gateway.ratelimit import LIMITS, RateLimits, SlidingWindow
from imagetools_common.errors import RateLimited

EDIT = ("POST", "/api/v1/images/{image_id}/ai-edit")


def test_the_window_slides_and_says_how_long_to_wait() -> None:
    window = SlidingWindow(limit=3, window=60)
    assert [window.take("a", t) for t in (0, 10, 20)] == [None, None, None]
    assert window.take("a", 30) == 30  # the first event leaves the window at 60
    assert window.take("b", 30) is None  # another session has its own count
    assert window.take("a", 60) is None
    assert window.take("a", 61) == 9


def test_forgotten_sessions_make_room_without_touching_recent_ones() -> None:
    window = SlidingWindow(limit=1, window=60, max_keys=2)
    window.take("old", 0)
    window.take("recent", 1)
    window.take("new", 2)  # "old" is dropped to stay within max_keys
    assert window.take("recent", 3) is not None
    assert window.take("old", 3) is None


def test_limits_count_per_minute_and_in_flight() -> None:
    now = [0.0]
    limits = RateLimits(clock=lambda: now[0])
    limits.enter(EDIT, "s")
    with pytest.raises(RateLimited, match="at a time"):
        limits.enter(EDIT, "s")
    limits.leave(EDIT, "s")
    for _ in range(LIMITS[EDIT].per_minute - 1):
        limits.enter(EDIT, "s")
        limits.leave(EDIT, "s")
    with pytest.raises(RateLimited) as refused:
        limits.enter(EDIT, "s")
    assert refused.value.details == {"retry_after": 60}
    now[0] = 60.0
    limits.enter(EDIT, "s")
