"""The backend containers' health check, against a real nats-server and a real service instance."""

from __future__ import annotations

import socket
import subprocess
import sys

from imagetools_common.contracts.base import ServiceSpec
from imagetools_common.embedded import EmbeddedNats, free_port
from imagetools_common.healthcheck import instance_answers
from imagetools_common.lifecycle import Runtime
from imagetools_common.settings import Settings
from imagetools_common.testing.services import running, settings_for

SPEC = ServiceSpec(name="probe-service", version="1.0.0", subject_prefix="test.probe.v1", description="x")


async def nothing(_: Runtime[Settings]) -> None:
    """A service with no endpoints still answers $SRV.PING."""


async def test_healthy_only_while_this_hosts_instance_answers(
    nats_server: EmbeddedNats, base_env: dict[str, str]
) -> None:
    host = socket.gethostname()
    assert not await instance_answers(nats_server.url, SPEC.name, host)
    async with running(SPEC, settings_for(Settings, base_env), nothing):
        assert await instance_answers(nats_server.url, SPEC.name, host)
        # Another container's instance does not make this one healthy.
        assert not await instance_answers(nats_server.url, SPEC.name, "another-container")
    assert not await instance_answers(nats_server.url, SPEC.name, host)


def test_the_command_fails_without_nats() -> None:
    """As Docker runs it: exit status 1 when NATS cannot be reached at all."""
    env = {"NATS_URL": f"nats://127.0.0.1:{free_port()}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "imagetools_common.healthcheck", "image-service"], env=env, check=False
    )
    assert done.returncode == 1
