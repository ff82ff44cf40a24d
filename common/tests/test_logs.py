"""Logging: secrets are redacted by the pipeline, and every line carries its context."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from imagetools_common.logs import REDACTED, configure_logging, get_logger, redact_secrets


def test_secret_named_fields_are_redacted() -> None:
    """Fields named like secrets are replaced whatever their value."""
    event = redact_secrets(None, "info", {"event": "x", "api_key": "abc", "session_token": "t", "count": 3})
    assert event == {"event": "x", "api_key": REDACTED, "session_token": REDACTED, "count": 3}


def test_secrets_inside_text_and_nested_values_are_redacted() -> None:
    """An OpenRouter key or bearer token quoted inside a message or a nested dict is scrubbed."""
    event = redact_secrets(
        None,
        "info",
        {
            "event": "upstream said: bad key sk-or-v1-abcdef123 for Bearer eyJ.abc.def",
            "headers": {"Authorization": "Bearer x", "Accept": "json"},
            "items": ["sk-or-v1-zzz"],
        },
    )
    assert "sk-or-v1-abcdef123" not in event["event"] and "eyJ.abc.def" not in event["event"]
    assert event["headers"] == {"Authorization": REDACTED, "Accept": "json"}
    assert event["items"] == [REDACTED]


def test_an_unclosed_bytes_repr_is_scrubbed_without_backtracking() -> None:
    """A message quoting raw bytes cut mid-repr (as aiohttp's parse errors do) is logged, not stuck on."""
    message = "Data after `Connection: close`: b'" + "\\xff\\xd8" * 60
    assert redact_secrets(None, "info", {"event": message})["event"] == message


def test_json_lines_carry_service_and_bound_context(capsys: pytest.CaptureFixture[str]) -> None:
    """Off a terminal every line is JSON with the service name and the bound request id."""
    configure_logging("unit-service", "INFO", "json")
    try:
        with structlog.contextvars.bound_contextvars(request_id="rid-1"):
            get_logger("t").info("hello", api_key="sk-or-v1-secret")
            logging.getLogger("aiohttp.server").warning("stdlib line")
        lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    finally:
        configure_logging("test", "DEBUG", "console")
    assert lines[0]["event"] == "hello" and lines[0]["service"] == "unit-service"
    assert lines[0]["request_id"] == "rid-1" and lines[0]["api_key"] == REDACTED
    assert lines[1]["event"] == "stdlib line" and lines[1]["service"] == "unit-service"


KEY = "sk-or-v1-" + "a1b2c3d4" * 8
TOKEN = "Q" * 20 + "-_" + "z9" * 10 + "x"  # the shape of a session token: 43 base64url characters
IMAGE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 64


def _fail_holding_secrets(api_key: str, session_token: str, body: bytes) -> None:
    headers = {"Authorization": f"Bearer {api_key}"}
    raise RuntimeError(f"upstream refused {headers} for {session_token} with {body!r}")


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_a_traceback_never_carries_secrets_or_bytes(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An exception inside a function holding a key, a token and image bytes logs none of them."""
    configure_logging("unit-service", "INFO", fmt)
    try:
        try:
            _fail_holding_secrets(KEY, TOKEN, IMAGE)
        except RuntimeError:
            get_logger("t").exception("call failed", api_key=KEY, upload=IMAGE)
            logging.getLogger("aiohttp.server").exception("stdlib failure")
        err = capsys.readouterr().err
    finally:
        configure_logging("test", "DEBUG", "console")
    assert "_fail_holding_secrets" in err  # the traceback itself is there
    assert "RuntimeError" in err
    assert KEY not in err and "a1b2c3d4" not in err
    assert TOKEN not in err
    assert REDACTED in err
    text = err
    if fmt == "json":
        lines = [json.loads(line) for line in err.strip().splitlines()]
        text = json.dumps(lines, ensure_ascii=False).encode().decode("unicode_escape")
        assert [line["event"] for line in lines] == ["call failed", "stdlib failure"]
        frames = [f for line in lines for exc in line["exception"] for f in exc["frames"]]
        assert frames and all("locals" not in frame for frame in frames)
    assert repr(IMAGE)[2:40] not in text.replace("\\\\", "\\")
