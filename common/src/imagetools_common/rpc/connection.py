"""Connecting to NATS: reconnect forever, log transitions, and check the payload limit."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
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


# Who wants to hear that a connection made by ``connect`` dropped or came back, by event.
_listeners: weakref.WeakKeyDictionary[NATS, dict[str, list[Callable[[], None]]]] = weakref.WeakKeyDictionary()


def on_disconnect(nc: NATS, listener: Callable[[], None]) -> None:
    """Call ``listener`` each time ``nc`` loses its server (not when it is closed on purpose).

    Replies addressed to a connection while it reconnects are lost for good (its inbox lived on
    the old node), so whoever waits for one should stop waiting at once rather than at its
    timeout. Only connections made by ``connect`` report this.
    """
    _listeners.setdefault(nc, {}).setdefault("lost", []).append(listener)


def on_reconnect(nc: NATS, listener: Callable[[], None]) -> None:
    """Call ``listener`` each time ``nc`` is connected again after losing its server."""
    _listeners.setdefault(nc, {}).setdefault("back", []).append(listener)


def _notify(nc: NATS, change: str) -> None:
    for listener in _listeners.get(nc, {}).get(change, ()):
        listener()


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
            _notify(client[0], "lost")

    async def on_reconnected() -> None:
        log.info("nats reconnected")
        if client:
            _notify(client[0], "back")

    # nats-py itself goes round the servers (reconnect_time_wait apart) and, with attempts
    # unlimited, never gives up on a first connection: the deadline is ours.
    nc = NATS()
    try:
        await asyncio.wait_for(
            nc.connect(
                servers=servers,
                # In the order given, not shuffled: each process names its own node first, so an
                # operator decides how connections spread; the rest (and the nodes the cluster
                # announces) are where it goes when that node does.
                dont_randomize=True,
                name=name,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,  # type: ignore[arg-type]  # annotated int; it sleeps a float
                ping_interval=5,
                max_outstanding_pings=2,
                error_cb=on_error,
                disconnected_cb=on_disconnected,
                reconnected_cb=on_reconnected,
            ),
            wait,
        )
    except TimeoutError:
        await nc.close()
        raise ConnectionError(f"cannot reach NATS at {url} within {wait:g} s") from None
    client.append(nc)
    return nc


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
