"""The stack runner's secret handling: the all-in-one container's `--require-secret`."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagetools_common.stack import main


def test_require_secret_refuses_to_start_without_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without SESSION_SECRET_KEY the runner stops with one line and writes no generated secret."""
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("SESSION_SECRET_KEY", raising=False)
    with pytest.raises(SystemExit) as stopped:
        main(["--var-dir", str(tmp_path / "data"), "--require-secret"])
    assert "SESSION_SECRET_KEY must be set" in str(stopped.value.code)
    assert not (tmp_path / "data").exists()


def test_require_secret_refuses_a_short_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret shorter than the settings accept is refused before anything starts."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SESSION_SECRET_KEY", "short")
    with pytest.raises(SystemExit) as stopped:
        main(["--var-dir", str(tmp_path / "data"), "--require-secret"])
    assert "at least 32 characters" in str(stopped.value.code)
