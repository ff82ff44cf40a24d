"""HTTP byte ranges (RFC 9110 §14) for bytes held in memory: which part of a file a request wants.

Pure. One range is served; a request for several, or one this cannot read, gets the whole file
(a server may always ignore Range). Only a well-formed range that lies wholly past the end is 416.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ONE_RANGE = re.compile(r"bytes=(?:(\d{1,18})-(\d{0,18})|-(\d{1,18}))")


@dataclass(frozen=True)
class Part:
    """Bytes ``start`` to ``end`` inclusive, as Content-Range counts them."""

    start: int
    end: int

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class Unsatisfiable(Exception):
    """A well-formed range with no byte in the file: answer 416 with ``bytes */size``."""


def wanted(range_header: str | None, if_range: str | None, etag: str, size: int) -> Part | None:
    """The part to serve (206), or None for the whole file (200); raises Unsatisfiable (416).

    ``If-Range`` naming other bytes than ``etag`` (or a date, which these files do not carry)
    means the client's copy is stale: it gets the whole file.
    """
    if range_header is None or (if_range is not None and if_range.strip() != etag):
        return None
    found = _ONE_RANGE.fullmatch(range_header.strip().replace(" ", ""))
    if found is None:
        return None
    first, last, suffix = found.groups()
    if suffix is not None:
        length = int(suffix)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return Part(max(size - length, 0), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored, as the RFC says
    if start >= size:
        raise Unsatisfiable
    return Part(start, min(int(last), size - 1) if last else size - 1)
