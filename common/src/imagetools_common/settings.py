"""Frozen, validated settings read once per process from the environment and an optional .env.

Each service subclasses ``Settings`` with what only it reads; ``load_settings`` turns any bad
value into one clear line naming the variable and stops the process.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_LENGTH = 32
DEV_SECRET_FILE = "session_secret_key"  # noqa: S105 - a file name, not a secret


NATS_SCHEMES = ("nats", "tls")


def nats_servers(value: str) -> tuple[str, ...]:
    """The servers of a NATS_URL: one URL, or several separated by commas (the nodes of a cluster).

    Order matters: a client connects to the first one it reaches, so each process can name its
    nearest node first. Anything a client could not dial is refused here, at start-up, with the
    entry named.
    """
    servers = tuple(part.strip() for part in value.split(","))
    for server in servers:
        if not server:
            raise ValueError("an empty entry: separate server URLs with single commas")
        parts = urlsplit(server)
        shown = repr(parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl())  # no credentials
        try:
            port = parts.port  # parsed lazily: a bad port raises here
        except ValueError:
            port = -1
        if parts.scheme not in NATS_SCHEMES or not parts.hostname or port == -1:
            raise ValueError(f"{shown} is not a NATS server URL like nats://nats-0:4222")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"{shown} must be a server only, without a path")
    if len(set(servers)) < len(servers):
        raise ValueError("a server is named twice")
    return servers


def _origin(value: str) -> str:
    """Normalise ``scheme://host[:port]``; anything with a path, query or wildcard is refused."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or "*" in value:
        raise ValueError(f"{value!r} is not an origin like https://images.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{value!r} must be an origin only, without a path")
    return f"{parts.scheme}://{parts.netloc.lower()}"


class Settings(BaseSettings):
    """What every ImageTools process reads. Names follow the deployment guide."""

    model_config = SettingsConfigDict(
        frozen=True,
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # `VAR=` in .env means "use the default", as in the template
        extra="ignore",
        case_sensitive=False,
    )

    debug: bool = Field(False, description="Development mode: generated secret, verbose errors in logs")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Lowest level written to the log"
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: pretty in a terminal, JSON lines otherwise"
    )
    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        description="NATS server the services talk over; several (a cluster's nodes) separated by commas",
    )
    database_url: str = Field(
        "postgresql://imagetools@127.0.0.1:5432/imagetools", description="PostgreSQL shared by the services"
    )
    database_pool_size: int = Field(
        10, ge=1, le=200, description="Most PostgreSQL connections one service process keeps open"
    )
    session_expiry_days: int = Field(
        7, ge=1, le=3650, description="Days a browser session and its images live"
    )
    max_images_per_session: int = Field(5, ge=1, le=1000, description="Images one session may hold")
    max_upload_size_mb: int = Field(20, ge=1, le=512, description="Largest accepted upload, in MiB")
    session_secret_key: SecretStr | None = Field(
        None, description="Secret (≥32 chars) from which encryption keys are derived"
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Comma-separated extra origins allowed to call the API with credentials"
    )
    openrouter_app_url: str = Field("http://localhost:8081", description="Public URL of this app")
    openrouter_oauth_callback_url: str | None = Field(
        None, description="OAuth callback; defaults to OPENROUTER_APP_URL + /oauth/callback"
    )
    openrouter_app_name: str = Field("ImageTools", min_length=1, description="Name shown at OpenRouter")
    openrouter_api_key: SecretStr | None = Field(None, description="Optional server-wide fallback key")
    var_dir: Path = Field(Path("var"), description="Where development state lives (embedded servers, secret)")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        return tuple(_origin(v) for v in value)

    @field_validator("nats_url")
    @classmethod
    def _nats_servers(cls, value: str) -> str:
        return ",".join(nats_servers(value))

    @field_validator("openrouter_app_url")
    @classmethod
    def _app_url(cls, value: str) -> str:
        return _origin(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _secret(self) -> Settings:
        key = self.session_secret_key
        if key is not None and len(key.get_secret_value()) >= MIN_SECRET_LENGTH:
            return self
        if not self.debug:
            raise ValueError(
                f"SESSION_SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} characters "
                "when DEBUG is false"
                " (generate one with: openssl rand -base64 48)"
            )
        # Development only: one generated secret kept under var/ so restarts can still decrypt.
        object.__setattr__(self, "session_secret_key", SecretStr(dev_secret(self.var_dir)))
        return self

    @property
    def oauth_callback_url(self) -> str:
        return self.openrouter_oauth_callback_url or f"{self.openrouter_app_url}/oauth/callback"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_size_mb * 1024 * 1024


def dev_secret(var_dir: Path) -> str:
    """The development secret under ``var_dir``, generated on first use and kept private."""
    path = var_dir / DEV_SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret


S = TypeVar("S", bound=Settings)


def describe_error(error: ValidationError) -> str:
    """One line naming the first bad variable, what is wrong with it and the value given."""
    first = error.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    if not first["loc"]:  # a whole-model rule: its message names the variables itself
        return message
    name = "_".join(str(p) for p in first["loc"]).upper()
    given = first.get("input")
    # A URL with user:password@ is a secret too, whatever the variable's name.
    secret = any(word in name for word in ("SECRET", "KEY", "PASSWORD")) or "@" in str(given)
    shown = "" if secret or isinstance(given, dict | list) or given is None else f" (got {given!r})"
    return f"{name}: {message}{shown}"


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build ``cls`` from the environment, or exit with one line naming the bad variable."""
    try:
        return cls(**overrides)
    except ValidationError as error:
        _die(f"ImageTools configuration error: {describe_error(error)}")


def _die(line: str) -> NoReturn:
    print(line, file=sys.stderr)
    raise SystemExit(2)
