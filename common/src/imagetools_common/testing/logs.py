"""Log lines as data a test can assert on and wait for, through structlog's capture tools.

``structlog.testing.capture_logs`` swaps the configured processor chain in place, so loggers
cached on first use are captured too. The chain it runs is the one this process configured
(context, level, logger name, tracebacks rendered, secrets redacted) ending in a recorder instead
of the renderer: an entry holds exactly what would have been written, so "no secret in the logs"
is asserted on redacted lines, as production writes them. Standard-library loggers (aiohttp,
asyncpg, nats) reach the same chain through a handler on the root logger.

A line written after the response a test awaited (the gateway's access line is) is waited for
with ``wait_for``, never looked for after a sleep.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from structlog.stdlib import ProcessorFormatter
from structlog.typing import EventDict, Processor, WrappedLogger

Entry = dict[str, Any]


class CapturedLogs:
    """Every line logged while active, structlog's and the standard library's alike, oldest first."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.entries: list[Entry] = []
        self._loop = loop
        self._grew = asyncio.Event()

    def record(self, _logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
        """The chain's last step: keep the line (from any thread) and wake whoever waits for one."""
        self.entries.append(dict(event_dict))
        self._loop.call_soon_threadsafe(self._grew.set)
        return event_dict

    async def wait_for(self, accept: Callable[[Entry], bool], *, timeout: float = 10.0) -> Entry:
        """The first line ``accept`` takes, waiting up to ``timeout`` seconds for it to be logged."""
        seen = 0
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self._grew.clear()
                    for entry in self.entries[seen:]:
                        if accept(entry):
                            return entry
                    seen = len(self.entries)
                    await self._grew.wait()
        except TimeoutError:
            raise AssertionError(f"no such log line within {timeout} s among {seen} lines") from None

    def problems(self) -> list[str]:
        """Lines at error level or above, or carrying a traceback, one short line each; debug lines
        are left out (aiohttp logs each malformed request with its traceback at debug, which a
        deployment at the default INFO level never writes)."""
        return [
            f"{e.get('logger')} {e.get('level')}: {str(e.get('event'))[:300]}"
            for e in self.entries
            if e.get("level") != "debug"
            and (
                e.get("level") in ("error", "critical")
                or e.get("exception")
                or "Traceback" in str(e.get("event"))
            )
        ]

    def text(self) -> str:
        """Every line with all its fields, for "this never appears in the logs" assertions."""
        return "\n".join(repr(entry) for entry in self.entries)


class _Foreign(logging.Handler):
    """Sends standard-library records through the configured chain into the capture."""

    def __init__(self, chain: list[Processor], logs: CapturedLogs) -> None:
        super().__init__()

        def keep(logger: WrappedLogger, name: str, event_dict: EventDict) -> str:
            logs.record(logger, name, event_dict)
            return ""  # the formatter's last step must return text; nothing is written

        self.setFormatter(
            ProcessorFormatter(
                foreign_pre_chain=chain, processors=[ProcessorFormatter.remove_processors_meta, keep]
            )
        )

    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)


def _configured_chain() -> list[Processor]:
    """The processors configure_logging set up, without the hand-off to the standard library."""
    processors = list(structlog.get_config()["processors"])
    if processors and processors[-1] is ProcessorFormatter.wrap_for_formatter:
        processors.pop()
    return processors


def _drop(_logger: WrappedLogger, _name: str, _event_dict: EventDict) -> EventDict:
    raise structlog.DropEvent


@contextmanager
def captured_logs(loop: asyncio.AbstractEventLoop) -> Iterator[CapturedLogs]:
    """Capture every log line while the block runs."""
    logs = CapturedLogs(loop)
    chain = _configured_chain()
    foreign = _Foreign(chain, logs)
    root = logging.getLogger()
    # The recorder drops each line after keeping it, so capture_logs' own list stays empty.
    with structlog.testing.capture_logs(processors=[*chain, logs.record, _drop]):
        root.addHandler(foreign)
        try:
            yield logs
        finally:
            root.removeHandler(foreign)
