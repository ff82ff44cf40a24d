"""Run the gateway: ``python -m gateway``."""

from __future__ import annotations

from aiohttp import web

from gateway.access_log import AccessLogger
from gateway.app import create_app
from gateway.settings import GatewaySettings
from imagetools_common.logs import configure_logging, get_logger
from imagetools_common.settings import load_settings

# Longer than any request the gateway relays, so a rolling restart drops nothing in flight.
SHUTDOWN_TIMEOUT = 30.0


def main() -> None:
    settings = load_settings(GatewaySettings)
    configure_logging("gateway", settings.log_level, settings.log_format)
    log = get_logger("gateway")
    try:
        web.run_app(
            create_app(settings),
            host=settings.server_host,
            port=settings.server_port,
            access_log_class=AccessLogger,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            print=None,
        )
    except ConnectionError as error:
        log.error("cannot start", error=str(error))
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
