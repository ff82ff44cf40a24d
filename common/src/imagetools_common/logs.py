"""structlog set-up shared by every process: JSON lines off a terminal, pretty on one.

Standard-library loggers (aiohttp, nats, asyncpg) go through the same processors, so every
line carries the service name and whatever the current unit of work bound (request id,
subject), and secrets are redacted by a processor rather than by care.

Tracebacks are rendered to plain data (no frame locals: a local holding a key or a token would
otherwise be printed) *before* the redaction step, in both renderers, so a secret quoted in an
exception message is scrubbed like any other text.
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
# Session and join tokens are 32 random bytes in base64url: exactly 43 such characters.
_SECRET_TEXT = re.compile(
    r"sk-or-[A-Za-z0-9_\-]+|(?i:bearer\s+)[A-Za-z0-9._\-]+|(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{43}(?![A-Za-z0-9_\-])"
)
# The repr of a long bytes value (an upload quoted in an exception message) is dropped whole.
# A backslash only ever starts an escape: were it also "any character", an unclosed repr full of
# escapes (aiohttp quotes the bytes of a malformed request) would backtrack for minutes.
_BYTES_REPR = re.compile(r"""b(['"])(?:\\.|(?!\1)[^\\]){32,}?\1""")
# Longer text is cut: an exception quoting a request body (image bytes, say) must not flood the log.
MAX_TEXT = 2000


def _scrub(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        text = _BYTES_REPR.sub("<bytes>", _SECRET_TEXT.sub(REDACTED, value))
        if len(text) > MAX_TEXT:
            text = f"{text[:MAX_TEXT]}… [{len(text) - MAX_TEXT} characters cut]"
        return text
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if depth >= 6:
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


_JSON_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False, use_rich=False)
)


def _add_service(service: str) -> Processor:
    def add(_logger: WrappedLogger, _name: str, event_dict: MutableMapping[str, Any]) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add


class _StderrHandler(logging.StreamHandler[Any]):
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
        # Exceptions become data here, without frame locals, so that redaction below sees them.
        _JSON_TRACEBACKS if as_json else structlog.processors.format_exc_info,
        redact_secrets,
    ]
    renderer: Processor
    if as_json:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )

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
