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
    openrouter_max_seconds: float = Field(
        300, gt=0, le=3600, description="Longest a chat answer or AI edit may take in all"
    )
    openrouter_chat_model: str = Field("google/gemini-2.5-flash", description="Default model for AI chat")
    openrouter_edit_model: str = Field(
        "google/gemini-2.5-flash-image", description="Default model for AI image edits"
    )
    openrouter_models_ttl_seconds: int = Field(
        3600, ge=0, le=86400, description="How long the model list from OpenRouter is reused"
    )
    openrouter_max_tokens: int = Field(
        1024, ge=16, le=32768, description="max_completion_tokens of a chat answer (a cost guard)"
    )
    openrouter_max_image_mb: float = Field(
        20, gt=0, le=48, description="Largest image a model may send back (and largest streamed event)"
    )
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
    def max_model_image_bytes(self) -> int:
        return int(self.openrouter_max_image_mb * 1024 * 1024)

    @property
    def encryption_secrets(self) -> list[str]:
        """Secrets for the credential keyring, the active one first."""
        if self.credential_keys:
            return [k.get_secret_value() for k in self.credential_keys]
        assert self.session_secret_key is not None  # the common settings guarantee one
        return [self.session_secret_key.get_secret_value()]
