"""image-service endpoints: contract model in, repo, contract model out."""

from __future__ import annotations

from image_service.repo import ImageRepo
from imagetools_common.contracts import image as contract
from imagetools_common.contracts.session import SessionRef
from imagetools_common.lifecycle import Runtime
from imagetools_common.settings import Settings


async def register(runtime: Runtime[Settings]) -> None:
    assert runtime.pool is not None
    repo = ImageRepo(runtime.pool)

    async def count(request: SessionRef) -> contract.ImageCount:
        return contract.ImageCount(count=await repo.count(request.session_id))

    runtime.service.add(contract.COUNT, count)
