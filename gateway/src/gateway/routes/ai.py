"""OpenRouter: connecting an account, and the AI chat and edits made with it."""

from __future__ import annotations

from gateway.openapi import ApiRoute
from gateway.ratelimit import AI_CHAT, AI_EDITS, OPENROUTER
from gateway.views import ai as ai_views
from gateway.views import openrouter
from gateway.views.ai import ChatBody, EditBody, EditReply, ModelsBody
from gateway.views.openrouter import ConnectReply
from gateway.views.streams import StreamError
from imagetools_common.contracts import ai, oauth

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute(
        "POST",
        "/api/v1/openrouter/connect",
        openrouter.connect,
        "Start connecting OpenRouter",
        "openrouter",
        response=ConnectReply,
        description="Send the browser to `authorize_url`; OpenRouter returns it to /oauth/callback.",
        limit=OPENROUTER,
        creates_session=True,
    ),
    ApiRoute(
        "GET",
        "/oauth/callback",
        openrouter.oauth_callback,
        "OpenRouter's return (a 303 into the app)",
        "openrouter",
        status=303,
        description="Redirects to `/?openrouter=connected` or `/?openrouter=failed&reason=…`.",
        query=("code", "state", "error"),
        limit=OPENROUTER,
    ),
    ApiRoute(
        "GET",
        "/api/v1/openrouter/status",
        openrouter.status,
        "Connection status and limits",
        "openrouter",
        response=oauth.Status,
        errors=(502,),
    ),
    ApiRoute(
        "DELETE",
        "/api/v1/openrouter",
        openrouter.disconnect,
        "Disconnect (forget the stored key)",
        "openrouter",
        response=oauth.Status,
    ),
    ApiRoute(
        "GET",
        "/api/v1/ai/models",
        ai_views.list_models,
        "Models for AI chat and AI edits",
        "ai",
        response=ai.Models,
        errors=(409, 502),
        description="chat: models that take an image and answer in text; edit: models that take an image "
        "and return one. 409 `openrouter_not_connected` when there is no key (neither the session's own "
        "nor a server-wide one).",
    ),
    ApiRoute(
        "PUT",
        "/api/v1/ai/models",
        ai_views.select_models,
        "Choose the chat and/or edit model",
        "ai",
        body=ModelsBody,
        response=ai.Models,
        errors=(409, 502),
        description="Kept for this session. 422 names the field whose model is not on offer.",
        creates_session=True,
    ),
    ApiRoute(
        "GET",
        "/api/v1/images/{image_id}/chat",
        ai_views.get_chat,
        "The image's AI conversation",
        "ai",
        response=ai.Conversation,
        errors=(404,),
    ),
    ApiRoute(
        "DELETE",
        "/api/v1/images/{image_id}/chat",
        ai_views.clear_chat,
        "Forget the image's AI conversation",
        "ai",
        response=ai.Conversation,
        errors=(404,),
    ),
    ApiRoute(
        "POST",
        "/api/v1/images/{image_id}/chat",
        ai_views.chat,
        "Ask about the image (answer streamed as Server-Sent Events)",
        "ai",
        body=ChatBody,
        content_type="text/event-stream",
        events=(("delta", ai.ChatDelta), ("done", ai.ChatDone), ("error", StreamError)),
        errors=(402, 404, 409, 502),
        description="The current image (at most 1536 px) and the conversation so far go to the model. "
        "Errors before the answer starts are JSON (429 with Retry-After). Then `event: delta` "
        "as tokens arrive, and finally `event: done` (only then is the turn saved) or `event: error`; "
        "`x-events` names each event's body. Aborting the request stops the model and saves nothing.",
        limit=AI_CHAT,
    ),
    ApiRoute(
        "POST",
        "/api/v1/images/{image_id}/ai-edit",
        ai_views.ai_edit,
        "Edit the image in words",
        "ai",
        body=EditBody,
        response=EditReply,
        errors=(402, 404, 409, 502),
        description="The result becomes a new version (operation `ai_edit`, params `model` and "
        "`instruction`) that undo takes back. The model must answer with a PNG, JPEG or WebP data: "
        "image; links are refused, never fetched. A failed or aborted edit changes nothing.",
        limit=AI_EDITS,
    ),
)
