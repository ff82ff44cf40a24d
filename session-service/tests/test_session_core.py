"""Session rules without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from imagetools_common.errors import ValidationFailed
from session_service import core


def test_tokens_are_long_unique_and_url_safe() -> None:
    """Tokens carry 256 random bits, never repeat, and survive a cookie unchanged."""
    tokens = {core.new_token() for _ in range(10_000)}
    assert len(tokens) == 10_000
    assert all(core.is_well_formed(t) and len(t) == 43 for t in tokens)


def test_malformed_tokens_are_recognised() -> None:
    """Anything that new_token could not have produced is refused before any lookup."""
    good = core.new_token()
    for bad in ("", good[:-1], good + "A", good[:-1] + "!", "x" * 43 + "\n", "../" + good[3:]):
        assert not core.is_well_formed(bad)


def test_only_the_hash_is_kept() -> None:
    """The stored form is a 32-byte digest that does not contain the token."""
    token = core.new_token()
    digest = core.hash_token(token)
    assert len(digest) == 32 and token.encode() not in digest
    assert digest == core.hash_token(token) != core.hash_token(core.new_token())


def test_expiry_is_fixed_from_creation() -> None:
    """A session ends SESSION_EXPIRY_DAYS after it began, however active it is."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert core.expires_at(start, 7) == datetime(2026, 1, 8, tzinfo=UTC)


def test_last_seen_is_written_at_most_once_a_minute() -> None:
    """A busy session costs one write a minute, not one per request."""
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert not core.needs_touch(now - timedelta(seconds=59), now)
    assert core.needs_touch(now - timedelta(seconds=60), now)


def test_setting_values_are_bounded() -> None:
    """A setting is small JSON; 16 KiB and beyond is refused, naming the field."""
    core.check_setting_value({"model": "a" * 1000})
    with pytest.raises(ValidationFailed) as caught:
        core.check_setting_value("a" * 20_000)
    assert caught.value.details == {"field": "value"}


@pytest.mark.parametrize("value", ["a\x00b", {"k\x00": 1}, ["\\\x00"]])
def test_setting_values_never_hold_nul(value: object) -> None:
    """PostgreSQL's jsonb cannot store NUL: refused as the client's error, not a database failure."""
    with pytest.raises(ValidationFailed) as caught:
        core.check_setting_value(value)  # type: ignore[arg-type]
    assert caught.value.details == {"field": "value"}


def test_an_escaped_backslash_before_u0000_is_not_nul() -> None:
    """The text ``\\u0000`` (a backslash, then u0000) is plain characters and may be stored."""
    core.check_setting_value(["\\u0000", {"k": "\\\\u0000"}])
