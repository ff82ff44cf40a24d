"""The AI use cases: model choice, chat about an image, AI edits. Every call with a key starts here.

Each turn reads the image's current version from image-service, downscales and re-encodes it in a
worker thread, and sends it to OpenRouter as a data: URL. Nothing is saved until OpenRouter has
finished: a chat turn's two messages are written together, an edit becomes a version in one call.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

import aiohttp

from imagetools_common.contracts import ai, image, session
from imagetools_common.contracts.session import SessionRef
from imagetools_common.errors import BadGateway, NotFound, ValidationFailed
from imagetools_common.logs import get_logger
from imagetools_common.rpc import RpcClient
from imagetools_common.rpc.streaming import Emit
from oauth_service import picture
from oauth_service.catalogue import Catalogue, Entry, Models, choose
from oauth_service.chat_repo import ChatRepo
from oauth_service.keys import Key, Keys
from oauth_service.openrouter import InvalidKey, OpenRouter
from oauth_service.settings import OAuthSettings

log = get_logger("oauth_service.assistant")
P = ParamSpec("P")
T = TypeVar("T")

CHAT_SETTING = "ai.chat_model"
EDIT_SETTING = "ai.edit_model"
# Earlier turns sent as text with each question: enough context, bounded cost.
HISTORY_MESSAGES = 40
SYSTEM_PROMPT = (
    "You are the assistant of ImageTools, an image tool. The user's current image is attached to "
    "their latest message. Answer questions about it helpfully and concisely. You cannot change "
    "the image from this chat; for that the user has the AI edit tool."
)


@dataclass
class Reply:
    """What a streamed completion added up to."""

    text: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    cost: float | None = None
    finished: bool = False


def read_chunk(chunk: dict[str, Any], reply: Reply) -> str:
    """Fold one stream chunk into ``reply``; the new text it carried."""
    usage = chunk.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("cost"), int | float | str):
        with contextlib.suppress(ValueError):
            reply.cost = float(usage["cost"])
    new = ""
    for choice in chunk.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        delta = choice["delta"] if isinstance(choice.get("delta"), dict) else {}
        if isinstance(delta.get("content"), str):
            new += delta["content"]
        for item in delta.get("images") or []:
            url = (item.get("image_url") or {}).get("url") if isinstance(item, dict) else None
            if isinstance(url, str):
                reply.images.append(url)
        reason = choice.get("finish_reason")
        if reason == "error":
            raise BadGateway("The model stopped with an error before finishing.")
        if reason:
            reply.finished = True
    if new:
        reply.text.append(new)
    return new


class Assistant:
    def __init__(
        self,
        settings: OAuthSettings,
        keys: Keys,
        models: Models,
        openrouter: OpenRouter,
        chats: ChatRepo,
        rpc: RpcClient,
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._models = models
        self._openrouter = openrouter
        self._chats = chats
        self._rpc = rpc
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ai-pixels")
        self._timeout = aiohttp.ClientTimeout(
            total=settings.openrouter_max_seconds,
            sock_connect=10,
            sock_read=settings.openrouter_timeout_seconds,
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _cpu(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    # Models ------------------------------------------------------------------------------------

    async def list_models(self, request: SessionRef) -> ai.Models:
        await self._keys.for_session(request.session_id)  # no key, no AI: say so before anything else
        catalogue = await self._models.get()
        return catalogue.view(await self._selected(request.session_id, catalogue))

    async def select_models(self, request: ai.SelectModels) -> ai.Models:
        await self._keys.for_session(request.session_id)
        catalogue = await self._models.get()
        changes = [("chat", request.chat, catalogue.chat, CHAT_SETTING),
                   ("edit", request.edit, catalogue.edit, EDIT_SETTING)]  # fmt: skip
        for name, wanted, offered, _ in changes:
            if wanted is not None and wanted not in offered:
                raise ValidationFailed(
                    f"{name}: {wanted} is not one of the available {name} models", details={"field": name}
                )
        for _, wanted, _, key in changes:
            if wanted is not None:
                put = session.PutSetting(session_id=request.session_id, key=key, value=wanted)
                await self._rpc.call(session.PUT_SETTING, put)
        return catalogue.view(await self._selected(request.session_id, catalogue))

    async def _selected(self, session_id: UUID, catalogue: Catalogue) -> ai.Selected:
        chat, edit = await asyncio.gather(self._setting(session_id, CHAT_SETTING),
                                          self._setting(session_id, EDIT_SETTING))  # fmt: skip
        return ai.Selected(
            chat=choose(catalogue.chat, chat, self._settings.openrouter_chat_model),
            edit=choose(catalogue.edit, edit, self._settings.openrouter_edit_model),
        )

    async def _setting(self, session_id: UUID, key: str) -> str | None:
        found = await self._rpc.call(session.GET_SETTING, session.SettingRef(session_id=session_id, key=key))
        return found.value if isinstance(found.value, str) else None

    async def _model(self, session_id: UUID, wanted: str | None, kind: str) -> Entry:
        catalogue = await self._models.get()
        offered = catalogue.chat if kind == "chat" else catalogue.edit
        if wanted is not None:
            if wanted not in offered:
                raise ValidationFailed(
                    f"model: {wanted} is not one of the available {kind} models", details={"field": "model"}
                )
            return offered[wanted]
        chosen = getattr(await self._selected(session_id, catalogue), kind)
        if chosen is None:
            raise BadGateway(f"OpenRouter offers no model for image {kind} right now.")
        return offered[chosen]

    # Conversations -----------------------------------------------------------------------------

    async def _current_image(self, session_id: UUID, image_id: UUID) -> image.ImageInfo:
        """The image, if this session owns it; a conversation left by a deleted image is dropped."""
        try:
            return await self._rpc.call(image.GET, image.ImageRef(session_id=session_id, image_id=image_id))
        except NotFound:
            await self._chats.forget(session_id, [image_id])
            raise

    async def conversation(self, request: ai.ImageChat) -> ai.Conversation:
        await self._current_image(request.session_id, request.image_id)
        return await self._chats.conversation(request.session_id, request.image_id)

    async def clear(self, request: ai.ImageChat) -> ai.Conversation:
        await self._current_image(request.session_id, request.image_id)
        await self._chats.forget(request.session_id, [request.image_id])
        return ai.Conversation(messages=[], total_cost=None)

    async def images_deleted(self, event: image.ImagesDeleted) -> None:
        """image-service deleted images: their conversations go too."""
        forgotten = await self._chats.forget(event.session_id, event.image_ids)
        if forgotten:
            log.info("conversations of deleted images removed", messages=forgotten)

    async def _image_for_model(self, info: image.ImageInfo, session_id: UUID) -> str:
        wanted = image.ContentRequest(session_id=session_id, image_id=info.id, version=info.current.number)
        _, data = await self._rpc.fetch(image.CONTENT, wanted)
        return await self._cpu(picture.for_model, data)

    async def _complete(
        self, session_id: UUID, key: Key, body: dict[str, Any], on_text: Emit | None = None
    ) -> Reply:
        reply = Reply()
        try:
            stream = self._openrouter.stream(
                key.secret.get_secret_value(), body,
                max_event=self._settings.max_model_image_bytes * 4 // 3 + 1024 * 1024, timeout=self._timeout,
            )  # fmt: skip
            async for chunk in stream:
                text = read_chunk(chunk, reply)
                if text and on_text is not None:
                    await on_text(ai.ChatDelta(text=text))
        except InvalidKey:
            raise await self._keys.rejected(session_id, key) from None
        if not reply.finished:
            raise BadGateway("OpenRouter's answer was cut off before the end.")
        return reply

    # Chat --------------------------------------------------------------------------------------

    async def chat(self, request: ai.ChatRequest, emit: Emit) -> ai.ChatDone:
        started = time.perf_counter()
        key = await self._keys.for_session(request.session_id)
        model = await self._model(request.session_id, request.model, "chat")
        info = await self._current_image(request.session_id, request.image_id)
        history = (await self._chats.conversation(request.session_id, request.image_id)).messages
        data_url = await self._image_for_model(info, request.session_id)
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}]
        messages += [{"role": m.role, "content": m.content} for m in history[-HISTORY_MESSAGES:]]
        messages.append({"role": "user", "content": [
            {"type": "text", "text": request.message},
            {"type": "image_url", "image_url": {"url": data_url}},
        ]})  # fmt: skip
        body = {"model": model.model.id, "messages": messages,
                "max_completion_tokens": self._settings.openrouter_max_tokens}  # fmt: skip
        reply = await self._complete(request.session_id, key, body, emit)
        answer = "".join(reply.text)
        if not answer.strip():
            raise BadGateway("The model sent an empty answer.")
        question, answered, total = await self._chats.save_turn(
            request.session_id, request.image_id, request.message, answer, model.model.id, reply.cost
        )
        log.info("chat answered", model=model.model.id, cost=reply.cost, key=key.source,
                 ms=round((time.perf_counter() - started) * 1000))  # fmt: skip
        return ai.ChatDone(
            user_message=question, assistant_message=answered, cost=reply.cost, total_cost=total
        )

    # Edit --------------------------------------------------------------------------------------

    async def edit(self, request: ai.EditRequest, _emit: Emit) -> ai.EditDone:
        started = time.perf_counter()
        key = await self._keys.for_session(request.session_id)
        model = await self._model(request.session_id, request.model, "edit")
        info = await self._current_image(request.session_id, request.image_id)
        data_url = await self._image_for_model(info, request.session_id)
        body = {
            "model": model.model.id,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": request.instruction},
                {"type": "image_url", "image_url": {"url": data_url}},
            ]}],
            "modalities": ["image", "text"] if "text" in model.outputs else ["image"],
        }  # fmt: skip
        reply = await self._complete(request.session_id, key, body)
        text = "".join(reply.text).strip()
        if not reply.images:
            raise picture.refused_without_image(text)
        data = await self._cpu(picture.from_model, reply.images[0], self._settings.max_model_image_bytes)
        header = image.AddVersionHeader(
            session_id=request.session_id, image_id=request.image_id, based_on=info.current.number,
            operation="ai_edit", params={"model": model.model.id, "instruction": request.instruction},
        )  # fmt: skip
        updated = await self._rpc.send(image.ADD_VERSION, header, data)
        log.info("image edited", model=model.model.id, cost=reply.cost, key=key.source,
                 ms=round((time.perf_counter() - started) * 1000))  # fmt: skip
        return ai.EditDone(image=updated, text=text or None, cost=reply.cost)
