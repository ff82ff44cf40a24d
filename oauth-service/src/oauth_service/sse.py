"""A Server-Sent Events parser with a size cap, fed the raw bytes of a response as they arrive.

aiohttp's line iterator refuses lines over 2 × read_bufsize (512 KiB by default), and a streamed
image arrives as one multi-megabyte ``data:`` line, so this keeps its own buffer: it scans only
bytes it has not seen yet (a long line costs linear time) and refuses an event above ``max_event``.
"""

from __future__ import annotations


class EventTooLarge(Exception):
    """One event grew beyond the cap."""


class SseParser:
    def __init__(self, max_event: int) -> None:
        self._max = max_event
        self._buffer = bytearray()
        self._scanned = 0
        self._data: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> list[str]:
        """The ``data`` of every event completed by ``chunk``; comments and other fields are skipped."""
        self._buffer += chunk
        events: list[str] = []
        while (end := self._buffer.find(b"\n", self._scanned)) >= 0:
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[: end + 1]
            self._scanned = 0
            if not line:
                if self._data:
                    events.append(b"\n".join(self._data).decode("utf-8", errors="replace"))
                self._data, self._size = [], 0
                continue
            if line.startswith(b":"):  # a comment, e.g. ": OPENROUTER PROCESSING" keep-alives
                continue
            field, _, value = line.partition(b":")
            if field == b"data":
                self._data.append(value.removeprefix(b" "))
                self._size += len(value)
                self._check(0)
        self._scanned = len(self._buffer)
        self._check(len(self._buffer))
        return events

    def _check(self, pending: int) -> None:
        if self._size + pending > self._max:
            raise EventTooLarge(f"a streamed event exceeded {self._max // (1024 * 1024)} MiB")
