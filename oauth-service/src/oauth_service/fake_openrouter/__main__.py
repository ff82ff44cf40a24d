"""Serve the fake OpenRouter: ``python -m oauth_service.fake_openrouter --port 8090 [--host 127.0.0.1]``.

Prints the two settings that point ImageTools at it, then runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from aiohttp import web
from yarl import URL

from imagetools_common.logs import configure_logging
from oauth_service.fake_openrouter.app import create_fake
from oauth_service.fake_openrouter.state import FakeState, Mode


async def serve(host: str, port: int, state: FakeState) -> None:
    """Run the fake until a stop signal; port 0 picks a free port, and the URLs printed say which."""
    # A client that disconnects cancels its request, as at OpenRouter (and as under TestServer).
    runner = web.AppRunner(create_fake(state), handler_cancellation=True)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        origin = URL.build(scheme="http", host=host, port=runner.addresses[0][1])
        print(f"Fake OpenRouter on {origin}", flush=True)
        print(f"OPENROUTER_API_BASE={origin / 'api' / 'v1'}", flush=True)
        print(f"OPENROUTER_AUTH_URL={origin / 'auth'}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m oauth_service.fake_openrouter", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--auto-approve", action="store_true", help="skip the approve page")
    parser.add_argument("--mode", type=Mode, default=Mode.OK, choices=list(Mode), help="initial failure mode")
    args = parser.parse_args()
    configure_logging("fake-openrouter")
    asyncio.run(serve(args.host, args.port, FakeState(mode=args.mode, auto_approve=args.auto_approve)))


if __name__ == "__main__":
    main()
