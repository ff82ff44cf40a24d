"""The one translation table from wire codes to HTTP statuses."""

from __future__ import annotations

from imagetools_common import errors


def test_every_domain_error_round_trips_through_its_code() -> None:
    """A domain error rebuilt from its wire code is the same class with the same message."""
    for cls in errors.DomainError.__subclasses__():
        rebuilt = errors.from_wire(cls.code, "msg", {"field": "x"})
        assert type(rebuilt) is cls and rebuilt.message == "msg" and rebuilt.details == {"field": "x"}
        assert errors.http_status(cls.code) == cls.status


def test_unknown_codes_become_bad_gateway() -> None:
    """A code no service should send means a broken upstream: 502, with the code kept for logs."""
    error = errors.from_wire("500", "boom")
    assert isinstance(error, errors.BadGateway) and errors.http_status("500") == 502
    assert error.details == {"code": "500"}
