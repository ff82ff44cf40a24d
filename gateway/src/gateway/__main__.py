"""Run the gateway: ``python -m gateway``."""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from gateway.access_log import AccessLogger
from gateway.app import create_app
from gateway.connections import GuardedRunner
from gateway.settings import GatewaySettings
from imagetools_common.logs import configure_logging, get_logger
from imagetools_common.settings import load_settings

# Longer than any request the gateway relays, so a rolling restart drops nothing in flight.
SHUTDOWN_TIMEOUT = 30.0


async def serve(settings: GatewaySettings) -> None:
    """Serve until SIGINT or SIGTERM, then stop taking connections, finish those in flight, drain NATS.

    Not ``web.run_app``: it cannot take a runner, and the gateway's runner guards every connection
    against slow clients (connections.py).
    """
    runner = GuardedRunner(
        create_app(settings), access_log_class=AccessLogger, shutdown_timeout=SHUTDOWN_TIMEOUT
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await runner.setup()
        await web.TCPSite(runner, settings.server_host, settings.server_port).start()
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    settings = load_settings(GatewaySettings)
    configure_logging("gateway", settings.log_level, settings.log_format)
    log = get_logger("gateway")
    try:
        asyncio.run(serve(settings))
    except ConnectionError as error:
        log.error("cannot start", error=str(error))
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
