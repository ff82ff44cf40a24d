"""Settings: defaults from the deployment guide, validation, and the one-line failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from imagetools_common.settings import Settings, describe_error, dev_secret, nats_servers

SECRET = "s" * 40


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_follow_the_deployment_guide() -> None:
    """The defaults users already know hold: 7 days, 5 images, 20 MB, INFO, debug off."""
    s = make(session_secret_key=SECRET)
    assert (s.session_expiry_days, s.max_images_per_session, s.max_upload_size_mb) == (7, 5, 20)
    assert s.log_level == "INFO" and s.debug is False
    assert s.oauth_callback_url == "http://localhost:8081/oauth/callback"


def test_production_refuses_a_missing_or_short_secret() -> None:
    """With DEBUG false, a missing or short SESSION_SECRET_KEY stops the process."""
    with pytest.raises(ValidationError, match="SESSION_SECRET_KEY must be set"):
        make()
    with pytest.raises(ValidationError, match="at least 32"):
        make(session_secret_key="short")


def test_development_generates_one_secret_and_keeps_it(tmp_path: Path) -> None:
    """In DEBUG a secret is generated once under var/ and reused, readable only by its owner."""
    first = make(debug=True, var_dir=tmp_path)
    second = make(debug=True, var_dir=tmp_path)
    assert first.session_secret_key is not None and second.session_secret_key is not None
    assert first.session_secret_key.get_secret_value() == second.session_secret_key.get_secret_value()
    assert len(first.session_secret_key.get_secret_value()) >= 32
    assert (tmp_path / "session_secret_key").stat().st_mode & 0o077 == 0
    assert dev_secret(tmp_path) == first.session_secret_key.get_secret_value()


def test_cors_origins_are_split_and_wildcards_refused() -> None:
    """CORS_ORIGINS is a comma list of origins; '*' can never be combined with credentials."""
    s = make(session_secret_key=SECRET, cors_origins="https://a.example, http://b.example:8082/")
    assert s.cors_origins == ("https://a.example", "http://b.example:8082")
    with pytest.raises(ValidationError, match="not an origin"):
        make(session_secret_key=SECRET, cors_origins="*")
    with pytest.raises(ValidationError, match="without a path"):
        make(session_secret_key=SECRET, cors_origins="https://a.example/app")


def test_nats_url_takes_a_list_of_servers() -> None:
    """NATS_URL may name a cluster's nodes, comma-separated, kept in order (spaces dropped)."""
    s = make(session_secret_key=SECRET, nats_url="nats://nats-0:4222, nats://nats-1:4222,tls://nats-2")
    assert s.nats_url == "nats://nats-0:4222,nats://nats-1:4222,tls://nats-2"
    assert nats_servers(s.nats_url) == ("nats://nats-0:4222", "nats://nats-1:4222", "tls://nats-2")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("nats://nats-0:4222,,nats://nats-1:4222", "an empty entry"),
        ("nats://nats-0:4222;nats://nats-1:4222", "not a NATS server URL"),  # wrong separator
        ("nats-0:4222", "not a NATS server URL"),
        ("http://nats-0:4222", "not a NATS server URL"),
        ("nats://nats-0:42x22", "not a NATS server URL"),
        ("nats://nats-0:4222/x", "without a path"),
        ("nats://nats-0:4222,nats://nats-0:4222", "named twice"),
    ],
)
def test_a_malformed_nats_url_is_one_clear_line(value: str, says: str) -> None:
    """A NATS_URL no client could dial stops start-up with a line naming NATS_URL and the fault."""
    with pytest.raises(ValidationError) as caught:
        make(session_secret_key=SECRET, nats_url=value)
    line = describe_error(caught.value)
    assert line.startswith("NATS_URL: ") and says in line and "\n" not in line


def test_a_bad_nats_url_never_shows_its_password() -> None:
    """Credentials in a refused NATS_URL are not echoed to the terminal or logs."""
    with pytest.raises(ValidationError) as caught:
        make(session_secret_key=SECRET, nats_url="nats://user:hunter2@nats-0:4222/path")
    line = describe_error(caught.value)
    assert "hunter2" not in line and "nats-0:4222" in line


def test_error_line_names_the_variable_and_value() -> None:
    """A bad value is described in one line naming the variable and what was given."""
    with pytest.raises(ValidationError) as caught:
        make(session_secret_key=SECRET, session_expiry_days="0")
    line = describe_error(caught.value)
    assert line.startswith("SESSION_EXPIRY_DAYS: ") and "'0'" in line and "\n" not in line


def test_error_line_never_shows_a_secret_value() -> None:
    """The rejected value of a secret setting is not echoed to the terminal or logs."""
    with pytest.raises(ValidationError) as caught:
        make(session_secret_key=SECRET, openrouter_api_key=123)
    assert "123" not in describe_error(caught.value)


def test_a_bad_environment_stops_a_service_with_one_line(tmp_path: Path) -> None:
    """A real service process given a bad variable exits 2 with one clear line on stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "session_service"],
        env={"PATH": "/usr/bin:/bin", "MAX_UPLOAD_SIZE_MB": "lots", "SESSION_SECRET_KEY": SECRET},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "ImageTools configuration error: MAX_UPLOAD_SIZE_MB: "
        "Input should be a valid integer, unable to parse string as an integer (got 'lots')"
    ]
