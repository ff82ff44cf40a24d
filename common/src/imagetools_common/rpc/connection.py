"""Connecting to NATS: reconnect forever, log transitions, and check the payload limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from nats.aio.client import Client as NATS

from imagetools_common.logs import get_logger
from imagetools_common.settings import nats_servers

log = get_logger("imagetools.nats")

# Room for headers and the multipart framing around the largest upload.
PAYLOAD_HEADROOM = 256 * 1024


class PayloadLimitTooSmall(RuntimeError):
    """The server's max_payload cannot carry the largest upload this deployment accepts."""


async def connect(url: str, name: str, *, wait: float = 30.0) -> NATS:
    """Connect, retrying for ``wait`` seconds while the server comes up; then reconnect forever.

    ``url`` is NATS_URL: one server or a comma-separated list (a cluster's nodes), tried in order.
    """
    servers = list(nats_servers(url))

    async def on_error(error: Exception) -> None:
        log.warning("nats error", error=str(error))

    client: list[NATS] = []

    async def on_disconnected() -> None:
        if client and not (client[0].is_closed or client[0].is_draining):
            log.warning("nats disconnected")

    async def on_reconnected() -> None:
        log.info("nats reconnected")

    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    delay = 0.1
    while True:
        try:
            nc = await nats.connect(
                servers=servers,
                # In the order given, not shuffled: each process names its own node first, so an
                # operator decides how connections spread; the rest (and the nodes the cluster
                # announces) are where it goes when that node does.
                dont_randomize=True,
                name=name,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                ping_interval=5,
                max_outstanding_pings=2,
                error_cb=on_error,
                disconnected_cb=on_disconnected,
                reconnected_cb=on_reconnected,
            )
            client.append(nc)
            return nc
        except (OSError, nats.errors.NoServersError, nats.errors.TimeoutError) as error:
            if loop.time() + delay > deadline:
                raise ConnectionError(f"cannot reach NATS at {url}: {error}") from error
            log.info("waiting for nats", url=url, error=str(error))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def check_max_payload(nc: NATS, max_upload_bytes: int) -> None:
    """Refuse to run when an upload of the configured size could not cross the bus."""
    needed = max_upload_bytes + PAYLOAD_HEADROOM
    if nc.max_payload < needed:
        raise PayloadLimitTooSmall(
            f"NATS max_payload is {nc.max_payload} bytes but MAX_UPLOAD_SIZE_MB needs {needed}: "
            "raise max_payload in the NATS server config (deploy/nats/nats.conf) or lower MAX_UPLOAD_SIZE_MB"
        )


@asynccontextmanager
async def connection(url: str, name: str, max_upload_bytes: int) -> AsyncIterator[NATS]:
    """A checked connection that is drained (in-flight replies flushed) on exit."""
    nc = await connect(url, name)
    try:
        check_max_payload(nc, max_upload_bytes)
        yield nc
    finally:
        if not nc.is_closed:
            try:
                await asyncio.wait_for(nc.drain(), timeout=5)
            except (TimeoutError, nats.errors.Error):
                await nc.close()
