"""AI models, chat about an image (streamed as Server-Sent Events) and AI edits.

Everything is done by oauth-service's ``ai.v1`` endpoints, which hold the key; these views only
translate HTTP. A chat answer arrives over a NATS stream and is relayed as SSE (``views.streams``):
when the browser goes away the NATS stream is left, which cancels the OpenRouter call and saves
nothing.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from gateway import keys
from gateway.cookies import session_for_write, session_id
from gateway.http import json_model, read_json
from gateway.views.common import ImageView, cancel_on_disconnect, existing_session, image_id, view
from gateway.views.streams import relay
from imagetools_common.contracts import ai
from imagetools_common.contracts.base import NO_NUL
from imagetools_common.contracts.session import SessionRef
from imagetools_common.logs import get_logger

log = get_logger("gateway.ai")


class ModelsBody(BaseModel):
    chat: str | None = Field(None, pattern=ai.MODEL_ID, description="A model id from the chat list")
    edit: str | None = Field(None, pattern=ai.MODEL_ID, description="A model id from the edit list")


class ChatBody(BaseModel):
    message: str = Field(min_length=1, max_length=ai.MAX_MESSAGE, pattern=NO_NUL)
    model: str | None = Field(None, pattern=ai.MODEL_ID, description="Default: the selected chat model")


class EditBody(BaseModel):
    instruction: str = Field(min_length=1, max_length=ai.MAX_INSTRUCTION, pattern=NO_NUL)
    model: str | None = Field(None, pattern=ai.MODEL_ID, description="Default: the selected edit model")


class EditReply(BaseModel):
    image: ImageView = Field(description="The image; the edit is its new current version")
    text: str | None = Field(description="What the model said beside the image")
    cost: float | None = Field(description="USD OpenRouter charged for the edit")


async def _image_chat(request: web.Request) -> ai.ImageChat:
    """The session and image a chat URL names; no session or a malformed id is simply not found."""
    wanted = image_id(request)
    return ai.ImageChat(session_id=(await existing_session(request)).id, image_id=wanted)


# Models ---------------------------------------------------------------------------------------


async def list_models(request: web.Request) -> web.Response:
    """Models for chat and for edits, and the session's choice of each."""
    ref = SessionRef(session_id=await session_id(request))
    return json_model(await request.app[keys.RPC].call(ai.MODELS, ref))


async def select_models(request: web.Request) -> web.Response:
    """Choose the session's chat and/or edit model."""
    body = await read_json(request, ModelsBody)
    session = await session_for_write(request)
    chosen = ai.SelectModels(session_id=session.id, chat=body.chat, edit=body.edit)
    return json_model(await request.app[keys.RPC].call(ai.SELECT, chosen))


# Chat -----------------------------------------------------------------------------------------


async def get_chat(request: web.Request) -> web.Response:
    """The image's conversation, oldest message first, with its total cost."""
    return json_model(await request.app[keys.RPC].call(ai.CONVERSATION, await _image_chat(request)))


async def clear_chat(request: web.Request) -> web.Response:
    """Forget the image's conversation."""
    return json_model(await request.app[keys.RPC].call(ai.CLEAR, await _image_chat(request)))


async def chat(request: web.Request) -> web.StreamResponse:
    """Ask about the image; the answer streams back as SSE ``delta`` events, then ``done``."""
    body = await read_json(request, ChatBody)
    ref = await _image_chat(request)
    question = ai.ChatRequest(
        session_id=ref.session_id, image_id=ref.image_id, message=body.message, model=body.model
    )
    return await relay(
        request, ai.CHAT, question, lambda delta: ("delta", delta), lambda done: ("done", done)
    )


# Edit -----------------------------------------------------------------------------------------


async def ai_edit(request: web.Request) -> web.Response:
    """Edit the image in words; the result is a new version (undo takes it back)."""
    body = await read_json(request, EditBody)
    ref = await _image_chat(request)
    wanted = ai.EditRequest(
        session_id=ref.session_id, image_id=ref.image_id, instruction=body.instruction, model=body.model
    )
    # Leaving the stream early (the browser gave up) cancels the edit before it becomes a version.
    async with cancel_on_disconnect(request), request.app[keys.RPC].stream(ai.EDIT, wanted) as edit:
        async for _ in edit:
            pass
    done = edit.result
    assert done is not None
    return json_model(EditReply(image=view(done.image), text=done.text, cost=done.cost))
