"""oauth-service as a process: it declares itself, and refuses to run without a real secret."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from nats.aio.client import Client as NATS

from imagetools_common.rpc import ping_all


async def test_answers_discovery_and_stops_on_sigterm(
    nc: NATS, base_env: dict[str, str], tmp_path: Path
) -> None:
    """A real oauth-service process shows up in $SRV.PING and exits 0 on SIGTERM."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "oauth_service", env={**os.environ, **base_env}, cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(100):
            if (await ping_all(nc, window=0.1)).get("oauth-service"):
                break
        else:
            raise AssertionError("oauth-service never answered a ping")
    finally:
        process.terminate()
        code = await asyncio.wait_for(process.wait(), 15)
    assert code == 0


async def test_refuses_to_start_without_a_secret_in_production(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    """With DEBUG false and no SESSION_SECRET_KEY the process exits at once with one clear line."""
    env = {k: v for k, v in {**os.environ, **base_env}.items() if k != "SESSION_SECRET_KEY"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "oauth_service", env={**env, "DEBUG": "false"}, cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert (
        stderr.decode().strip().startswith("ImageTools configuration error: SESSION_SECRET_KEY must be set")
    )
