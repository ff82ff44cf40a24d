"""The README's configuration table, .env.example and the settings classes name the same variables."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic.fields import FieldInfo

from gateway.settings import GatewaySettings
from image_service.settings import ImageSettings
from imagetools_common.embedded import find_project_file
from imagetools_common.settings import Settings
from oauth_service.settings import OAuthSettings
from session_service.settings import SessionSettings

SETTINGS_CLASSES = (Settings, GatewaySettings, SessionSettings, ImageSettings, OAuthSettings)
ROOT = find_project_file("README.md").parent
_ROW = re.compile(r"^\| `([A-Z_]+)` \| (.+?) \| .+ \|$")
_TEMPLATE = re.compile(r"^#? ?([A-Z][A-Z_]+)=(.*)$")


def settings_fields() -> dict[str, FieldInfo]:
    fields: dict[str, FieldInfo] = {}
    for cls in SETTINGS_CLASSES:
        fields.update({name.upper(): info for name, info in cls.model_fields.items()})
    return fields


def readme_rows() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- configuration-table", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines():
        if match := _ROW.match(line):
            rows[match.group(1)] = match.group(2)
    return rows


def template_values() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if match := _TEMPLATE.match(line):
            values[match.group(1)] = match.group(2)
    return values


def shown_default(info: FieldInfo) -> str:
    """How a default is written in the template: booleans lower case, nothing for None or empty."""
    default = info.default
    if info.default_factory is not None or default is None or default == ():
        return ""
    if isinstance(default, bool):
        return str(default).lower()
    return str(default)


def test_readme_table_lists_exactly_the_settings() -> None:
    """Every variable the code reads is in the README table, and the table lists nothing else."""
    assert set(readme_rows()) == set(settings_fields())


def test_env_template_lists_exactly_the_settings_with_their_defaults() -> None:
    """.env.example names every variable with the code's default (empty where there is none)."""
    template = template_values()
    fields = settings_fields()
    assert set(template) == set(fields)
    for name, info in fields.items():
        assert template[name] == shown_default(info), name


def test_readme_defaults_match_the_code() -> None:
    """Defaults written as code in the README table are the code's defaults."""
    fields = settings_fields()
    for name, cell in readme_rows().items():
        if cell.startswith("`") and cell.endswith("`") and cell != "`OPENROUTER_APP_URL/oauth/callback`":
            assert cell.strip("`") == shown_default(fields[name]), name


def test_deployment_guide_variables_are_all_supported() -> None:
    """The variables self-hosters know from the original deployment guide all still work."""
    guide = {
        "DEBUG", "LOG_LEVEL", "SERVER_HOST", "SERVER_PORT", "SESSION_EXPIRY_DAYS", "MAX_IMAGES_PER_SESSION",
        "MAX_UPLOAD_SIZE_MB", "SESSION_SECRET_KEY", "CORS_ORIGINS", "OPENROUTER_OAUTH_CALLBACK_URL",
        "OPENROUTER_APP_URL", "OPENROUTER_APP_NAME", "OPENROUTER_API_KEY",
    }  # fmt: skip
    assert guide | {"DATABASE_URL", "NATS_URL"} <= set(settings_fields())


def test_the_template_loads_as_valid_settings(tmp_path: Path) -> None:
    """A .env copied from the template (plus a secret) is accepted as it stands."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        (ROOT / ".env.example").read_text().replace("SESSION_SECRET_KEY=", "SESSION_SECRET_KEY=" + "k" * 40)
    )
    settings = GatewaySettings(_env_file=env_file)  # type: ignore[call-arg]
    assert settings.server_port == 8081 and settings.cors_origins == ()
