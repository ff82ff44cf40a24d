"""image-service endpoints: contract model in, use case, contract model out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar
from uuid import UUID

from PIL import Image

from image_service.background.service import BackgroundRemoval
from image_service.batches import Batches
from image_service.brush.repo import BrushRepo
from image_service.brush.service import Brush
from image_service.images import Images
from image_service.preview_repo import PreviewRepo
from image_service.previews import Previews, sweep_forever
from image_service.repo import ImageRepo
from image_service.settings import ImageSettings
from image_service.share_links import ShareLinks
from imagetools_common.contracts import batches as batch_contract
from imagetools_common.contracts import image as contract
from imagetools_common.contracts import previews as previews_contract
from imagetools_common.contracts import registry
from imagetools_common.contracts.session import SESSION_CHANGED, SessionChanged, SessionRef
from imagetools_common.errors import ValidationFailed
from imagetools_common.lifecycle import Runtime
from imagetools_common.rpc import RpcClient

Apply = Callable[[contract.ApplyRequest], Awaitable[contract.ImageInfo]]


class _SessionScoped(Protocol):
    @property
    def session_id(self) -> UUID: ...


S = TypeVar("S", bound=_SessionScoped)
P = ParamSpec("P")
R = TypeVar("R")


def announcing(
    changed: Callable[[UUID], Awaitable[None]], handler: Callable[Concatenate[S, P], Awaitable[R]]
) -> Callable[Concatenate[S, P], Awaitable[R]]:
    """``handler``, then SESSION_CHANGED for its session: gateways drop the image list they cached.

    Also after a failure: a timeout or a cancel can come after the change was stored, and a
    needless drop costs one fetch. Published before the reply, so the caller's replica has heard
    it before it answers its browser.
    """

    async def run(request: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await handler(request, *args, **kwargs)
        finally:
            await changed(request.session_id)

    return run


def routed(endpoint: registry.ApplyEndpoint, run: Apply) -> Apply:
    """``run`` for the operations the registry sends to ``endpoint``; any other is refused."""

    async def apply(request: contract.ApplyRequest) -> contract.ImageInfo:
        if not registry.serves(endpoint, request.operation):
            wrong = f"type: {request.operation.type} does not run on {endpoint.subject}"
            raise ValidationFailed(wrong, details={"field": "type"})
        return await run(request)

    return apply


async def register(runtime: Runtime[ImageSettings]) -> None:
    assert runtime.pool is not None
    # Pillow's own bomb guard must agree with MAX_IMAGE_MEGAPIXELS (its default is about 89 MP).
    Image.MAX_IMAGE_PIXELS = runtime.settings.max_pixels
    repo = ImageRepo(runtime.pool)
    images = Images(repo, runtime.settings, max_payload=runtime.nc.max_payload)
    runtime.cleanup.append(images.close)
    # Models load (verified, warmed up) before the replica announces itself; see background.service.
    background = BackgroundRemoval(repo, runtime.settings, images)
    runtime.service.metadata.update(await background.start())
    runtime.cleanup.append(background.close)
    rpc = RpcClient(runtime.nc)
    share_links = ShareLinks(repo.share_links, images)

    async def session_changed(session_id: UUID) -> None:
        """Every gateway drops what it cached for the session (its image list changed)."""
        await rpc.publish(SESSION_CHANGED, SessionChanged(session_id=session_id))

    batches = Batches(images, background, runtime.settings, session_changed)

    async def count(request: SessionRef) -> contract.ImageCount:
        return contract.ImageCount(count=await repo.count(request.session_id))

    async def list_images(request: SessionRef) -> contract.ImageList:
        return await images.list_images(request.session_id)

    async def announce_deleted(session_id: UUID, image_ids: list[UUID] | None) -> None:
        """Tell other services (oauth-service drops the images' AI conversations); fire and forget."""
        await rpc.publish(
            contract.IMAGES_DELETED, contract.ImagesDeleted(session_id=session_id, image_ids=image_ids)
        )

    async def delete(request: contract.ImageIds) -> contract.Deleted:
        deleted = await images.delete(request)
        await announce_deleted(request.session_id, request.image_ids)
        return deleted

    async def clear(request: SessionRef) -> contract.Deleted:
        deleted = contract.Deleted(deleted=await repo.delete(request.session_id, None))
        await announce_deleted(request.session_id, None)
        return deleted

    async def presets(request: SessionRef) -> contract.PresetList:
        return await images.presets(request.session_id)

    service = runtime.service
    service.add(contract.COUNT, count)
    service.add(contract.LIST, list_images)
    service.add(contract.GET, images.get)
    service.add(contract.DELETE, announcing(session_changed, delete))
    service.add(contract.METADATA, images.metadata)
    service.add(contract.UPLOAD, announcing(session_changed, images.upload))
    service.add(contract.APPLY, announcing(session_changed, routed(contract.APPLY, images.apply)))
    service.add(
        contract.REMOVE_BACKGROUND,
        announcing(session_changed, routed(contract.REMOVE_BACKGROUND, background.apply)),
    )
    service.on(contract.CANCEL, background.on_cancel)
    brush = Brush(repo, BrushRepo(runtime.pool), images)
    service.add(contract.BRUSH, announcing(session_changed, routed(contract.BRUSH, brush.apply)))
    service.add_stream(batch_contract.BATCH, batches.run)
    service.add(contract.BACKGROUND_MODELS, background.models)
    service.add(contract.MASK, background.mask)
    service.add(contract.UNDO, announcing(session_changed, images.undo))
    service.add(contract.REDO, announcing(session_changed, images.redo))
    service.add(contract.REVERT, announcing(session_changed, images.revert))
    service.add(contract.CONTENT, images.content)
    service.add(contract.ADD_VERSION, announcing(session_changed, images.add_version))
    service.add(contract.CLEAR, announcing(session_changed, clear))
    service.add(contract.PRESETS, presets)
    service.add(contract.PRIVACY, images.privacy)
    service.add(contract.PRIVACY_SET, images.set_privacy)
    service.add(contract.PROFILE_CREATE, images.create_profile)
    service.add(contract.PROFILE_UPDATE, images.update_profile)
    service.add(contract.PROFILE_DELETE, images.delete_profile)
    service.add(contract.SHARE_CREATE, share_links.create)
    service.add(contract.SHARE_LIST, share_links.list_links)
    service.add(contract.SHARE_REVOKE, share_links.revoke)
    service.add(contract.SHARED, share_links.shared)
    service.add(contract.SHARED_CONTENT, share_links.shared_content)
    # Compression previews (see previews): kept briefly, stopped when superseded or abandoned.
    previews = Previews(repo, PreviewRepo(runtime.pool), images, rpc)
    service.add(previews_contract.PREVIEW, previews.preview)
    service.add(previews_contract.PREVIEW_CONTENT, previews.content)
    service.add(previews_contract.PREVIEW_APPLY, announcing(session_changed, previews.apply))
    service.on(previews_contract.PREVIEW_STARTED, previews.on_started)
    service.on(contract.CANCEL, previews.on_cancel)
    runtime.background.append(sweep_forever(PreviewRepo(runtime.pool)))
