"""session-service settings: the common ones plus the sweep cadence."""

from __future__ import annotations

from pydantic import Field

from imagetools_common.settings import Settings


class SessionSettings(Settings):
    session_sweep_interval_seconds: float = Field(
        300, gt=0, le=86400, description="How often expired sessions are deleted"
    )
