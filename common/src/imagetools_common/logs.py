"""structlog set-up shared by every process: JSON lines off a terminal, pretty on one.

Standard-library loggers (aiohttp, nats, asyncpg) go through the same processors, so every
line carries the service name and whatever the current unit of work bound (request id,
subject), and secrets are redacted by a processor rather than by care.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"
# Names of fields whose value is a secret whatever it looks like.
_SECRET_KEY = re.compile(
    r"(secret|token|password|passwd|api_?key|authorization|cookie|verifier|ciphertext|^code$|^key$)", re.I
)
# Secrets that may hide inside free text (an error message quoting a header, say).
_SECRET_TEXT = re.compile(r"sk-or-[A-Za-z0-9_\-]+|(?i:bearer\s+)[A-Za-z0-9._\-]+")


def _scrub(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return _SECRET_TEXT.sub(REDACTED, value)
    if depth >= 3:
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else _scrub(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v, depth + 1) for v in value)
    return value


def redact_secrets(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """Replace secret-named fields and secret-looking text with a marker."""
    for key, value in list(event_dict.items()):
        if _SECRET_KEY.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(value)
    return event_dict


def _add_service(service: str) -> Processor:
    def add(_logger: WrappedLogger, _name: str, event_dict: MutableMapping[str, Any]) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is logged (test runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(service: str, level: str = "INFO", fmt: str = "auto") -> None:
    """Configure structlog and the standard library once for this process."""
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        redact_secrets,
    ]
    renderer: Processor
    if as_json:
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.dict_tracebacks)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's own access logger is replaced by the gateway's canonical request line.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Pillow logs every TIFF tag it parses at DEBUG.
    logging.getLogger("PIL").setLevel(logging.INFO)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
