"""AI with the session's OpenRouter key: models, chat about an image, AI edit (subjects ``ai.v1.*``).

Served by the oauth-service process as a second micro service (``ai-service``), because every call
made with a key happens there and the key never leaves that process. Requests carry session and
image ids; nothing here ever carries key material.

Errors it may return: ``openrouter_not_connected`` (no usable key), ``not_found`` (image),
``validation_error`` (unknown model, naming the field), ``payment_required``, ``rate_limited``
(``details.retry_after`` in seconds when OpenRouter gave one), ``upstream_refused`` (OpenRouter
refused the request: content policy, unsupported image, bad parameters), ``bad_gateway``
(OpenRouter failed, or answered with something unusable), ``timeout``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from imagetools_common import __version__
from imagetools_common.contracts.base import NO_NUL, Empty, Endpoint, ServiceSpec, StreamEndpoint, WireModel
from imagetools_common.contracts.image import ImageInfo
from imagetools_common.contracts.session import SessionRef

SERVICE = ServiceSpec(
    name="ai-service",
    version=__version__,
    subject_prefix="ai.v1",
    description="Model list, chat about an image and AI image edits, with the session's OpenRouter key",
)

MAX_MESSAGE = 4000
MAX_INSTRUCTION = 2000
MODEL_ID = r"^[A-Za-z0-9._:/@\-]{1,200}$"


class Pricing(WireModel):
    prompt: str = Field("0", description="USD per prompt token, as OpenRouter writes it")
    completion: str = Field("0", description="USD per completion token")
    image: str = Field("0", description="USD per input image")


class Model(WireModel):
    id: str
    name: str
    context_length: int | None = None
    pricing: Pricing


class Selected(WireModel):
    chat: str | None = Field(description="Model used for chat (null when none is available)")
    edit: str | None = Field(description="Model used for AI edits")


class Models(WireModel):
    chat: list[Model] = Field(description="Models that take an image and answer in text")
    edit: list[Model] = Field(description="Models that take an image and return an image")
    selected: Selected


class SelectModels(WireModel):
    session_id: UUID
    chat: str | None = Field(None, pattern=MODEL_ID)
    edit: str | None = Field(None, pattern=MODEL_ID)


class Message(WireModel):
    id: UUID
    role: Literal["user", "assistant"]
    content: str
    model: str | None = None
    cost: float | None = Field(None, description="USD OpenRouter charged for this turn (on the answer)")
    created_at: datetime


class Conversation(WireModel):
    messages: list[Message] = Field(description="Oldest first")
    total_cost: float | None = Field(description="Sum of the known costs; null when none is known")


class ImageChat(WireModel):
    session_id: UUID
    image_id: UUID


class ChatRequest(WireModel):
    session_id: UUID
    image_id: UUID
    message: str = Field(min_length=1, max_length=MAX_MESSAGE, pattern=NO_NUL)
    model: str | None = Field(None, pattern=MODEL_ID, description="Default: the session's chat model")


class ChatDelta(WireModel):
    text: str = Field(description="The next tokens of the answer")


class ChatDone(WireModel):
    """The turn succeeded and both messages are saved."""

    user_message: Message
    assistant_message: Message
    cost: float | None
    total_cost: float | None


class EditRequest(WireModel):
    session_id: UUID
    image_id: UUID
    instruction: str = Field(min_length=1, max_length=MAX_INSTRUCTION, pattern=NO_NUL)
    model: str | None = Field(None, pattern=MODEL_ID, description="Default: the session's edit model")


class EditDone(WireModel):
    image: ImageInfo = Field(description="The image with the edit as its new current version")
    text: str | None = Field(description="What the model said beside the image")
    cost: float | None


MODELS = Endpoint(SERVICE, "models", SessionRef, Models, timeout=30.0)
SELECT = Endpoint(SERVICE, "select", SelectModels, Models, timeout=30.0)
CONVERSATION = Endpoint(SERVICE, "conversation", ImageChat, Conversation)
CLEAR = Endpoint(SERVICE, "clear", ImageChat, Conversation)
# Streams: OpenRouter can think for minutes, so liveness comes from keep-alives, not a total timeout.
CHAT = StreamEndpoint(SERVICE, "chat", ChatRequest, ChatDelta, ChatDone)
EDIT = StreamEndpoint(SERVICE, "edit", EditRequest, Empty, EditDone)
