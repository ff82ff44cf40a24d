"""Reading raw HTTP/1.1 answers in tests that talk to the gateway over plain sockets."""

from __future__ import annotations


def dechunk(data: bytes) -> bytes:
    """The body of a ``Transfer-Encoding: chunked`` answer (chunk extensions ignored)."""
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)
