"""What a stack's process writes to its log file from a point on.

End-to-end modules share whole stacks (tests/e2e/conftest.py), so a log file already holds what
earlier tests made its process write: a test asserts on, or waits for, its own lines only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path


class LogTail:
    """The lines ``path`` gains after this object is made."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = path.stat().st_size if path.exists() else 0

    def read(self) -> str:
        if not self.path.exists():
            return ""
        with self.path.open("rb") as file:
            file.seek(self.start)
            return file.read().decode(errors="replace")

    async def wait_for(self, text: str, *, timeout: float) -> None:
        """Until ``text`` is among the new lines; fails after ``timeout`` seconds. Polls: the file
        is another process's."""
        try:
            async with asyncio.timeout(timeout):
                while text not in await asyncio.to_thread(self.read):  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError(f"{self.path.name} did not log {text!r} within {timeout} s") from None
