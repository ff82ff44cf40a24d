"""The erase/restore brush in image-service: real cut-outs re-composed, over real NATS and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import numpy as np
import pytest
from nats.aio.client import Client as NATS
from PIL import Image
from skimage import data as skdata
from test_background_removal import current, mask, new_session, png, remove, sessions, start, upload

from imagetools_common.contracts import image as contract
from imagetools_common.contracts import registry
from imagetools_common.errors import Conflict, NotFound, ValidationFailed
from imagetools_common.rpc import RpcClient

__all__ = ["sessions"]  # the background tests' session-service


@pytest.fixture
async def rpc(sessions: None, base_env: dict[str, str], nc: NATS) -> AsyncIterator[RpcClient]:
    """image-service with the real model and a short history (two edits kept: pruning is cheap to reach)."""
    async with start(base_env, undo_stack_limit=2):
        yield RpcClient(nc)


# The astronaut at half size (256 × 256): a face that is surely subject, a wall surely not.
FACE = (0.42, 0.19)
WALL = (0.69, 0.11)
RADIUS = 0.04  # of the longer side: ~10 px here


def stroke(mode: str, *points: tuple[float, float], radius: float = RADIUS) -> contract.BrushStroke:
    return contract.BrushStroke(mode=mode, radius=radius, points=list(points))  # type: ignore[arg-type]


async def brush(
    rpc: RpcClient, session_id: UUID, image_id: UUID, version: int, *strokes: contract.BrushStroke
) -> contract.ImageInfo:
    request = contract.ApplyRequest(
        session_id=session_id,
        image_id=image_id,
        operation=contract.BrushOp(version=version, strokes=list(strokes)),
    )
    return await rpc.call(registry.route(request.operation).endpoint, request)


def disc(size: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray[Any, Any]:
    """Where a one-point stroke paints, with a pixel of slack at its edge (True: inside)."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width]
    r = radius * max(size)
    return (xs + 0.5 - centre[0] * width) ** 2 + (ys + 0.5 - centre[1] * height) ** 2 <= (r + 1.5) ** 2


def astronaut() -> bytes:
    return png(Image.fromarray(skdata.astronaut()).resize((256, 256), Image.Resampling.LANCZOS))


async def test_strokes_change_alpha_where_painted_and_only_there_from_the_pixels_the_cut_came_from(
    rpc: RpcClient,
) -> None:
    """Erase clears, restore brings back the source version's colours, nothing else moves; stale (409),
    foreign (404) or unbrushable (422) saves change nothing; pruning keeps the source while it is needed."""
    session_id, stranger = await new_session(rpc), await new_session(rpc)
    image = await upload(rpc, session_id, astronaut())
    erase = stroke("erase", (0.5, 0.5))
    with pytest.raises(
        ValidationFailed, match="version 1 was made by upload: the brush works on versions made by"
    ):
        await brush(rpc, session_id, image.id, 1, erase)

    # The cut is made from an edit (a mirror image), so its source is version 2, not the upload.
    flip = contract.FlipOp(direction="horizontal")
    flipped = await rpc.call(
        contract.APPLY, contract.ApplyRequest(session_id=session_id, image_id=image.id, operation=flip)
    )
    source = np.asarray(await current(rpc, session_id, image.id), dtype=int)
    face, wall = (1 - FACE[0], FACE[1]), (1 - WALL[0], WALL[1])
    cut = await remove(rpc, session_id, image.id, format="png")
    number = cut.current.number
    assert cut.current.params["source_version"] == flipped.current.number == 2
    before = np.asarray((await current(rpc, session_id, image.id)).getchannel("A"), dtype=int)
    assert (
        before[disc((256, 256), face, 0.01)].min() > 200 and before[disc((256, 256), wall, 0.01)].max() < 50
    )

    with pytest.raises(NotFound):
        await brush(rpc, stranger, image.id, number, erase)
    with pytest.raises(Conflict, match=f"version 1 was painted on, but version {number} is current"):
        await brush(rpc, session_id, image.id, 1, erase)

    done = await brush(rpc, session_id, image.id, number, stroke("erase", face), stroke("restore", wall))
    assert done.current.operation == "brush" and done.current.format == "png"
    assert done.current.params["source_version"] == 2 and done.current.params["strokes"] == 2
    after = await current(rpc, session_id, image.id)
    alpha = np.asarray(after.getchannel("A"), dtype=int)
    core = lambda centre: disc(after.size, centre, RADIUS - 2 / 256)  # noqa: E731 - inside the edge
    assert alpha[core(face)].max() == 0
    assert alpha[core(wall)].min() == 255
    colours = np.asarray(after.convert("RGB"), dtype=int)
    assert np.abs(colours[core(wall)] - source[core(wall)]).max() <= 1  # the source's pixels, not the cut's
    untouched = ~(disc(after.size, face, RADIUS) | disc(after.size, wall, RADIUS))
    assert np.array_equal(alpha[untouched], before[untouched])
    # The new version keeps its own mask: the alpha just painted.
    assert np.array_equal(np.asarray(await mask(rpc, session_id, image.id), dtype=int), alpha)

    await rpc.call(contract.UNDO, contract.HistoryStep(session_id=session_id, image_id=image.id))
    with pytest.raises(Conflict):
        await brush(
            rpc, session_id, image.id, done.current.number, erase
        )  # painted on a version undone since
    info = await rpc.call(contract.REDO, contract.HistoryStep(session_id=session_id, image_id=image.id))
    assert [v.number for v in info.versions] == [1, 2, number, number + 1]

    # Brushes stack; two edits are kept, yet the flipped source stays while a kept touch-up needs it.
    for x in (0.1, 0.9):
        info = await brush(rpc, session_id, image.id, info.current.number, stroke("erase", (x, 0.9)))
    assert info.current.params["source_version"] == 2
    assert [v.number for v in info.versions] == [1, 2, number + 2, number + 3]
    assert (await current(rpc, session_id, image.id)).getchannel("A").getpixel((round(0.1 * 256), 230)) == 0
    # Once no kept version was cut from it, the source goes like any old edit.
    for _ in range(2):
        info = await rpc.call(
            contract.APPLY, contract.ApplyRequest(session_id=session_id, image_id=image.id, operation=flip)
        )
    assert [v.number for v in info.versions] == [1, number + 4, number + 5]


async def test_another_operations_endpoint_refuses_a_brush(rpc: RpcClient) -> None:
    """A brush sent to the pixel-work endpoint is refused there: only the brush endpoint runs it."""
    session_id = await new_session(rpc)
    image = await upload(rpc, session_id, astronaut())
    request = contract.ApplyRequest(
        session_id=session_id,
        image_id=image.id,
        operation=contract.BrushOp(version=1, strokes=[stroke("erase", (0, 0))]),
    )
    with pytest.raises(ValidationFailed, match="does not run on"):
        await rpc.call(contract.APPLY, request)
