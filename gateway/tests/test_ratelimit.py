"""The limits' arithmetic on a clock the test moves, and the client address behind proxies."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from gateway.client_address import client_address, limit_key, parse_networks
from gateway.ratelimit import AI_EDITS, OPERATIONS, RateLimits, SlidingWindow, Subject
from gateway.settings import GatewaySettings
from imagetools_common.errors import RateLimited


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


def limits_at(now: list[float], **overrides: int) -> RateLimits:
    settings = GatewaySettings.model_validate({"debug": True, **overrides})
    return RateLimits(settings, clock=lambda: now[0])


def test_limits_count_per_minute_and_in_flight() -> None:
    now = [0.0]
    limits = limits_at(now, rate_limit_ai_edits=6)
    me = Subject(address="192.0.2.1", session="s")
    with (
        limits.admit(AI_EDITS, me),
        pytest.raises(RateLimited, match="at a time"),
        limits.admit(AI_EDITS, me),
    ):
        pass
    for _ in range(5):
        with limits.admit(AI_EDITS, me):
            pass
    with pytest.raises(RateLimited) as refused, limits.admit(AI_EDITS, me):
        pass
    assert refused.value.details == {"retry_after": 60}
    now[0] = 60.0
    with limits.admit(AI_EDITS, me):
        pass


def test_the_address_has_its_own_budget_a_factor_larger_so_new_cookies_gain_nothing() -> None:
    now = [0.0]
    limits = limits_at(now, rate_limit_operations=2, rate_limit_address_factor=3)
    # Six sessions from one address: each may do 2, the address 6 in all.
    for n in range(3):
        for _ in range(2):
            with limits.admit(OPERATIONS, Subject(address="192.0.2.1", session=f"s{n}")):
                pass
    with (
        pytest.raises(RateLimited, match="at most 6 a minute"),
        limits.admit(OPERATIONS, Subject(address="192.0.2.1", session="fresh")),
    ):
        pass
    with pytest.raises(RateLimited), limits.admit(OPERATIONS, Subject(address="192.0.2.1")):
        pass  # no cookie at all: the address alone
    with limits.admit(OPERATIONS, Subject(address="192.0.2.2", session="fresh")):
        pass  # another address is not affected


def test_a_refused_request_does_not_use_up_the_other_budget() -> None:
    now = [0.0]
    limits = limits_at(now, rate_limit_operations=1, rate_limit_address_factor=2)
    with limits.admit(OPERATIONS, Subject(address="a", session="s")):
        pass
    for _ in range(3):  # refused by the session's budget: the address's is not charged
        with pytest.raises(RateLimited), limits.admit(OPERATIONS, Subject(address="a", session="s")):
            pass
    with limits.admit(OPERATIONS, Subject(address="a", session="t")):
        pass


def test_the_openapi_description_states_both_rates() -> None:
    limits = limits_at([0.0], rate_limit_ai_edits=4, rate_limit_address_factor=5)
    assert limits.describe(AI_EDITS) == {
        "budget": "ai_edits",
        "per_minute_per_session": 4,
        "per_minute_per_address": 20,
        "concurrent_per_session": 1,
    }


# The client's address -----------------------------------------------------------------------------

PROXY = parse_networks("10.0.0.2, 172.16.0.0/12, fd00::/8")


def client(
    peer: str | None, proxies: str = "10.0.0.2, 172.16.0.0/12, fd00::/8", **headers: str
) -> str | None:
    found = client_address(
        peer, {k.replace("_", "-"): v for k, v in headers.items()}, parse_networks(proxies)
    )
    return None if found is None else str(found)


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_sends() -> None:
    assert client("203.0.113.9", proxies="", X_Forwarded_For="198.51.100.1") == "203.0.113.9"
    assert client("203.0.113.9", X_Forwarded_For="198.51.100.1") == "203.0.113.9"  # peer not a proxy
    assert client("203.0.113.9", Forwarded="for=198.51.100.1") == "203.0.113.9"


def test_behind_a_trusted_proxy_the_right_most_untrusted_entry_is_the_client() -> None:
    assert client("10.0.0.2", X_Forwarded_For="198.51.100.7") == "198.51.100.7"
    # Left-most entries come from the client and are ignored, however many.
    assert client("10.0.0.2", X_Forwarded_For="1.1.1.1, 2.2.2.2, 198.51.100.7") == "198.51.100.7"
    # Our own proxies in the chain are skipped.
    assert client("10.0.0.2", X_Forwarded_For="6.6.6.6, 198.51.100.7, 172.16.5.5") == "198.51.100.7"
    # Only proxies: the farthest of them.
    assert client("10.0.0.2", X_Forwarded_For="172.16.0.9, 172.16.5.5") == "172.16.0.9"
    # No header: the proxy itself.
    assert client("10.0.0.2") == "10.0.0.2"


def test_ipv6_ports_brackets_and_mapped_addresses() -> None:
    assert client("fd00::1", X_Forwarded_For="[2001:db8::7]:4711") == "2001:db8::7"
    assert client("fd00::1", X_Forwarded_For="2001:db8::7") == "2001:db8::7"
    assert client("10.0.0.2", X_Forwarded_For="198.51.100.7:51234") == "198.51.100.7"
    assert client("::ffff:10.0.0.2", X_Forwarded_For="198.51.100.7") == "198.51.100.7"
    assert client("10.0.0.2", Forwarded='for="[2001:db8:cafe::17]:4711"') == "2001:db8:cafe::17"


def test_rfc7239_forwarded_takes_the_right_most_for_and_ignores_other_parameters() -> None:
    header = 'for=1.1.1.1, for=198.51.100.7;proto=https;by=10.0.0.2, for="172.16.0.3"'
    assert client("10.0.0.2", Forwarded=header) == "198.51.100.7"
    assert client("10.0.0.2", Forwarded="proto=https;For=198.51.100.8") == "198.51.100.8"
    # X-Forwarded-For wins when both are present: the client cannot add a Forwarded that is believed.
    assert client("10.0.0.2", Forwarded="for=1.1.1.1", X_Forwarded_For="198.51.100.7") == "198.51.100.7"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "unknown"},
        {"X-Forwarded-For": "198.51.100.7, garbage"},
        {"X-Forwarded-For": "1.1.1.1, "},
        {"X-Forwarded-For": "300.1.1.1"},
        {"X-Forwarded-For": "1.1.1.1" + ", 1.1.1.1" * 1000},
        {"Forwarded": "for=_hidden"},
        {"Forwarded": "for=unknown"},
        {"Forwarded": "by=10.0.0.2"},
        {"Forwarded": "for="},
        {"X-Forwarded-For": "\x00\xff"},
    ],
)
def test_anything_unreadable_where_the_client_should_be_falls_back_to_the_peer(
    headers: dict[str, str],
) -> None:
    assert str(client_address("10.0.0.2", headers, PROXY)) == "10.0.0.2"


def test_an_unknown_peer_stays_unknown_and_ipv6_clients_count_by_their_64() -> None:
    assert client(None) is None and client("not-an-ip") is None
    assert limit_key(None) == "unknown"
    assert limit_key(ip_address("198.51.100.7")) == "198.51.100.7"
    assert limit_key(ip_address("2001:db8:1:2:aaaa::1")) == limit_key(ip_address("2001:db8:1:2:ffff::9"))
    assert limit_key(ip_address("2001:db8:1:2::1")) == "2001:db8:1:2::/64"


def test_trusted_proxies_setting_is_parsed_and_checked() -> None:
    settings = GatewaySettings(debug=True, trusted_proxies="10.0.0.2, 172.16.0.0/12 ,::1")
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.2/32", "172.16.0.0/12", "::1/128"]
    with pytest.raises(ValueError, match="'nginx' is not an IP address"):
        GatewaySettings(debug=True, trusted_proxies="nginx")
