"""oauth-service settings: the common ones plus where OpenRouter is and the credential keys."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from imagetools_common.settings import MIN_SECRET_LENGTH, Settings


class OAuthSettings(Settings):
    openrouter_api_base: str = Field("https://openrouter.ai/api/v1", description="OpenRouter's API root")
    openrouter_auth_url: str = Field("https://openrouter.ai/auth", description="OpenRouter's approval page")
    openrouter_timeout_seconds: float = Field(20, gt=0, le=600, description="Timeout of each OpenRouter call")
    credential_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        (),
        description="Comma-separated secrets for stored keys, newest first (default: SESSION_SECRET_KEY)",
    )

    @field_validator("credential_keys", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for secret in value:
            plain = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
            if len(plain) < MIN_SECRET_LENGTH:
                raise ValueError(f"each key must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @property
    def encryption_secrets(self) -> list[str]:
        """Secrets for the credential keyring, the active one first."""
        if self.credential_keys:
            return [k.get_secret_value() for k in self.credential_keys]
        assert self.session_secret_key is not None  # the common settings guarantee one
        return [self.session_secret_key.get_secret_value()]
