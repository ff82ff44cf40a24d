"""Container health check of a backend service: ``python -m imagetools_common.healthcheck NAME``.

Healthy (exit 0) when an instance of NAME running on this host — in a container, this
container: its hostname — answers ``$SRV.PING`` over NATS: the process is up, connected to the
bus, and its event loop answers. Backend services have no HTTP port, and the slim images no curl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from imagetools_common.settings import Settings, nats_servers

# The $SRV metadata key every service instance announces its hostname under (see lifecycle.serve).
HOST_METADATA = "host"


async def instance_answers(nats_url: str, name: str, host: str, window: float = 2.0) -> bool:
    """Whether an instance of ``name`` on ``host`` answers a ping within ``window`` seconds."""
    nc = NATS()

    async def quiet(_: Exception) -> None:
        """A failed check says so by its exit status; no traceback per connection attempt."""

    try:
        # Not rpc.connect: a check must fail fast, never wait or reconnect; same server list, though.
        await nc.connect(
            list(nats_servers(nats_url)), name="healthcheck", connect_timeout=2, allow_reconnect=False,
            # nats-py's initial connect loops over attempts too; 0 would mean forever.
            max_reconnect_attempts=1, reconnect_time_wait=1, error_cb=quiet,
        )  # fmt: skip
    except Exception:  # a bad NATS_URL, or any failure to reach NATS, means unhealthy
        return False
    found = asyncio.Event()

    async def collect(msg: Msg) -> None:
        try:
            metadata = json.loads(msg.data).get("metadata") or {}
        except (ValueError, AttributeError):
            return
        if metadata.get(HOST_METADATA) == host:
            found.set()

    try:
        inbox = nc.new_inbox()
        await nc.subscribe(inbox, cb=collect)
        await nc.publish(f"$SRV.PING.{name}", b"", reply=inbox)
        try:
            await asyncio.wait_for(found.wait(), window)
        except TimeoutError:
            return False
        return True
    finally:
        await nc.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Exit 0 when this host's instance of SERVICE answers on NATS"
    )
    parser.add_argument("service", help="e.g. image-service")
    args = parser.parse_args(argv)
    # The environment only: compose passes NATS_URL there, and a check must not need a full config.
    nats_url = os.environ.get("NATS_URL") or str(Settings.model_fields["nats_url"].default)
    healthy = asyncio.run(instance_answers(nats_url, args.service, socket.gethostname()))
    raise SystemExit(0 if healthy else 1)


if __name__ == "__main__":
    main()
