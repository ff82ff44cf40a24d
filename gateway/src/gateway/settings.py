"""Gateway settings: the common ones plus where to listen and what to serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from gateway.client_address import Network, parse_networks
from imagetools_common.settings import Settings

# Per-minute counts (docs/ARCHITECTURE.md, "Session model"); tests and benches raise them.
_MOST = 1_000_000


class GatewaySettings(Settings):
    server_host: str = Field("0.0.0.0", description="Address the HTTP server binds")  # noqa: S104 - a server
    server_port: int = Field(8081, ge=1, le=65535, description="Port the HTTP server listens on")
    web_dist_dir: Path = Field(Path("web/dist"), description="The built web app the gateway serves")
    # Slow and silent clients (docs/SECURITY.md): no socket is held for long by a client that sends nothing.
    http_header_timeout_seconds: float = Field(
        10.0, gt=0, le=600, description="Seconds a client has to send a request's headers"
    )
    http_keepalive_seconds: float = Field(
        30.0, gt=0, le=3600, description="Seconds an idle keep-alive connection stays open"
    )
    http_body_idle_seconds: float = Field(
        10.0, gt=0, le=600, description="Window in which a request body must make progress"
    )
    http_body_min_bytes_per_second: int = Field(
        1024, ge=0, le=1024**3, description="Slowest average body rate accepted over each idle window"
    )
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode] = Field(
        (), description="Comma-separated proxy IPs/CIDRs whose X-Forwarded-For / Forwarded is believed"
    )
    rate_limit_new_sessions: int = Field(
        10, ge=1, le=_MOST, description="New sessions one client address may start a minute"
    )
    rate_limit_uploads: int = Field(
        30, ge=1, le=_MOST, description="Upload requests one session may make a minute"
    )
    rate_limit_operations: int = Field(
        120, ge=1, le=_MOST, description="Operations, undos, redos and reverts one session may make a minute"
    )
    rate_limit_ai_chat: int = Field(
        20, ge=1, le=_MOST, description="AI chat messages one session may send a minute"
    )
    rate_limit_ai_edits: int = Field(6, ge=1, le=_MOST, description="AI edits one session may start a minute")
    rate_limit_openrouter: int = Field(
        20,
        ge=1,
        le=_MOST,
        description="OpenRouter connects and sign-in returns one session may make a minute",
    )
    rate_limit_join: int = Field(
        10,
        ge=1,
        le=_MOST,
        description="Join tries (QR link or short code) and join offers one session, and one client address, "
        "may make a minute",
    )
    rate_limit_share_links: int = Field(
        60,
        ge=1,
        le=_MOST,
        description="Requests one public share link may answer a minute (page, picture, download)",
    )
    rate_limit_address_factor: int = Field(
        10, ge=1, le=10_000, description="A client address may do this many times what one session may"
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> tuple[Network, ...]:
        return parse_networks(value) if isinstance(value, (str, list, tuple)) else value

    @property
    def https(self) -> bool:
        """Whether users reach the app over https (then cookies are Secure and __Host- prefixed)."""
        return self.openrouter_app_url.startswith("https://")
