"""A ZIP of the selected images, streamed one image at a time."""

from __future__ import annotations

import time
import zipfile

from aiohttp import web

from gateway.cookies import session_id
from gateway.http import read_json
from gateway.views.common import IdsBody, content_disposition, rpc
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.session import SessionRef
from imagetools_common.errors import NotFound


class _Sink:
    """A write-only file for zipfile whose bytes are handed to the response as they come."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._written = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``stem (2).ext`` and so on when an earlier entry already has it."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}"
    taken.add(candidate.lower())
    return candidate


async def archive(request: web.Request) -> web.StreamResponse:
    """A ZIP of the selected images' current versions, streamed one image at a time."""
    body = await read_json(request, IdsBody)
    owner = await session_id(request)
    client = rpc(request)
    owned = {i.id for i in (await client.call(contract.LIST, SessionRef(session_id=owner))).images}
    missing = [str(i) for i in body.ids if i not in owned]
    if missing:
        raise NotFound(f"no such image in this session: {', '.join(missing)}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": content_disposition("attachment", f"imagetools-{stamp}.zip"),
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    sink, taken = _Sink(), set[str]()
    # Images are already compressed: storing them is as small as deflating and much faster.
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as zf:  # type: ignore[call-overload]
        for image_id in dict.fromkeys(body.ids):
            header, data = await client.fetch(
                contract.CONTENT, contract.ContentRequest(session_id=owner, image_id=image_id)
            )
            entry = zipfile.ZipInfo(unique_name(header.filename, taken), date_time=time.localtime()[:6])
            zf.writestr(entry, data)
            await response.write(sink.take())
    await response.write(sink.take())
    await response.write_eof()
    return response
