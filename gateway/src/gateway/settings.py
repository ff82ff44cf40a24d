"""Gateway settings: the common ones plus where to listen and what to serve."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from imagetools_common.settings import Settings


class GatewaySettings(Settings):
    server_host: str = Field("0.0.0.0", description="Address the HTTP server binds")  # noqa: S104 - a server
    server_port: int = Field(8081, ge=1, le=65535, description="Port the HTTP server listens on")
    web_dist_dir: Path = Field(Path("web/dist"), description="The built web app the gateway serves")

    @property
    def https(self) -> bool:
        """Whether users reach the app over https (then cookies are Secure and __Host- prefixed)."""
        return self.openrouter_app_url.startswith("https://")
