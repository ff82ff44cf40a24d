"""Waiting for a state a test can only observe by asking (an HTTP answer, a count): always bounded.

A test that can subscribe to the event itself (an ``asyncio.Event``, a log line through
``testing.logs``) should; this is for the rest. Never sleep a fixed time and hope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    *,
    timeout: float,
    interval: float = 0.05,
) -> T:
    """Ask ``probe`` until ``accept`` takes its answer, and return that answer.

    Fails (``AssertionError``, quoting the last answer) after ``timeout`` seconds.
    """
    answers: list[T] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                answers[:] = [await probe()]
                if accept(answers[0]):
                    return answers[0]
                await asyncio.sleep(interval)
    except TimeoutError:
        last = repr(answers[0]) if answers else "none yet"
        raise AssertionError(f"not within {timeout} s; last answer: {last}") from None
