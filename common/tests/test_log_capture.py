"""The shared log capture (testing/logs.py): what production would write, as data, waited for."""

from __future__ import annotations

import asyncio
import logging

import pytest

from imagetools_common.logs import get_logger
from imagetools_common.testing.logs import CapturedLogs


async def test_structlog_and_standard_library_lines_are_captured_redacted(logs: CapturedLogs) -> None:
    """Both kinds of logger land in the capture, after the redaction production applies."""
    get_logger("capture.test").info("connected", api_key="sk-or-v1-abcdef", note="key sk-or-v1-abcdef")
    logging.getLogger("capture.stdlib").warning("peer said %s", "sk-or-v1-abcdef")
    assert [(e["logger"], e["level"]) for e in logs.entries] == [
        ("capture.test", "info"),
        ("capture.stdlib", "warning"),
    ]
    assert "sk-or-" not in logs.text() and logs.problems() == []


async def test_errors_and_tracebacks_are_problems(logs: CapturedLogs) -> None:
    """An error line and a line carrying a traceback, from either kind of logger, are reported (not debug)."""
    try:
        raise ValueError("boom")
    except ValueError:
        get_logger("capture.test").exception("handler failed")
        logging.getLogger("capture.stdlib").info("carried on", exc_info=True)
        logging.getLogger("capture.stdlib").debug("not written at INFO", exc_info=True)
    problems = logs.problems()
    assert len(problems) == 2 and "handler failed" in problems[0] and "carried on" in problems[1]


async def test_a_line_logged_later_from_a_thread_is_waited_for(logs: CapturedLogs) -> None:
    """wait_for returns once the line is written, whichever thread writes it, and fails when it never is."""
    writer = asyncio.get_running_loop().run_in_executor(None, get_logger("capture.thread").info, "late")
    line = await logs.wait_for(lambda e: e["event"] == "late", timeout=10)
    await writer
    assert line["logger"] == "capture.thread"
    with pytest.raises(AssertionError, match="no such log line"):
        await logs.wait_for(lambda e: e["event"] == "never", timeout=0.1)
