"""How a backend service process lives: settings, logging, pool, migrations, NATS, signals.

Each service's ``__main__`` names its contract, schema and a ``register`` function that adds
handlers (and may start background loops); this module does the rest in one symmetric
``AsyncExitStack``: SIGTERM stops taking requests (replicas take over), lets in-flight work
finish, drains NATS and closes the pool.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
from nats.aio.client import Client as NATS

from imagetools_common import db
from imagetools_common.contracts.base import ServiceSpec
from imagetools_common.healthcheck import HOST_METADATA
from imagetools_common.logs import configure_logging, get_logger
from imagetools_common.migrations import MigrationError, migrate
from imagetools_common.rpc.connection import PayloadLimitTooSmall, connection
from imagetools_common.rpc.service import RpcService
from imagetools_common.settings import Settings, load_settings

S = TypeVar("S", bound=Settings)
log = get_logger("imagetools.lifecycle")


@dataclass
class Runtime(Generic[S]):
    """What ``register`` gets to wire its handlers to."""

    settings: S
    nc: NATS
    service: RpcService
    pool: asyncpg.Pool | None = None
    background: list[Coroutine[Any, Any, None]] = field(default_factory=list)
    # Called once the service has stopped taking requests (e.g. to shut a worker pool).
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    async_cleanup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


@dataclass(frozen=True)
class Storage:
    """The schema a service owns, its migrations, and the schemas its foreign keys point into."""

    schema: str
    migrations: Path
    requires: tuple[str, ...] = ()


Register = Callable[[Runtime[S]], Awaitable[None]]


async def serve(
    settings: S, spec: ServiceSpec, register: Register[S], *, storage: Storage | None, stop: asyncio.Event
) -> None:
    """Run one service instance until ``stop`` is set, then shut down in reverse order."""
    async with AsyncExitStack() as stack:
        pool = None
        if storage is not None:
            pool = await stack.enter_async_context(
                db.pool(settings.database_url, max_size=settings.database_pool_size)
            )
            await migrate(pool, storage.schema, storage.migrations, requires=storage.requires)
        nc = await stack.enter_async_context(
            connection(settings.nats_url, spec.name, settings.max_upload_bytes)
        )
        service = RpcService(nc, spec)
        # Lets a container's health check find its own instance (see imagetools_common.healthcheck).
        service.metadata[HOST_METADATA] = socket.gethostname()
        runtime = Runtime(settings=settings, nc=nc, service=service, pool=pool)
        await register(runtime)
        for callback in runtime.cleanup:
            stack.callback(callback)
        for async_callback in runtime.async_cleanup:
            stack.push_async_callback(async_callback)
        await stack.enter_async_context(service)
        tasks = [asyncio.create_task(job) for job in runtime.background]
        stack.push_async_callback(_cancel, tasks)
        await stop.wait()
        log.info("stopping")


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def run_service(
    spec: ServiceSpec, settings_cls: type[S], register: Register[S], *, storage: Storage | None = None
) -> None:
    """The whole life of a service process; start-up failures end it with one clear line."""
    settings = load_settings(settings_cls)
    configure_logging(spec.name, settings.log_level, settings.log_format)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, spec, register, storage=storage, stop=stop)

    try:
        asyncio.run(main())
    except (ConnectionError, PayloadLimitTooSmall, MigrationError) as error:
        log.error("cannot start", error=str(error))
        raise SystemExit(1) from None
    log.info("stopped")
