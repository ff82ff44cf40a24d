"""oauth-service endpoints: the connect flow, status and disconnect."""

from __future__ import annotations

import aiohttp

from imagetools_common.contracts import ai, image
from imagetools_common.contracts import oauth as contract
from imagetools_common.contracts.session import SessionRef
from imagetools_common.lifecycle import Runtime
from imagetools_common.logs import get_logger
from imagetools_common.rpc import RpcClient, RpcService
from oauth_service import core
from oauth_service.assistant import Assistant
from oauth_service.catalogue import Models
from oauth_service.chat_repo import ChatRepo
from oauth_service.crypto import CredentialUnusable, KeyBox
from oauth_service.keys import Keys
from oauth_service.openrouter import ExchangeRefused, InvalidKey, OpenRouter
from oauth_service.repo import OAuthRepo
from oauth_service.settings import OAuthSettings

log = get_logger("oauth_service")


class Connections:
    """Connecting, describing and disconnecting a session's OpenRouter account."""

    def __init__(self, repo: OAuthRepo, box: KeyBox, openrouter: OpenRouter, settings: OAuthSettings) -> None:
        self._repo = repo
        self._box = box
        self._openrouter = openrouter
        self._settings = settings
        self._callback_url = settings.oauth_callback_url

    async def start(self, request: SessionRef) -> contract.StartReply:
        flow = core.new_flow()
        await self._repo.begin_flow(request.session_id, flow)
        url = core.authorize_url(self._settings.openrouter_auth_url, self._callback_url, flow)
        return contract.StartReply(authorize_url=url)

    async def callback(self, request: contract.CallbackRequest) -> contract.CallbackReply:
        # Only a callback carrying the pending flow's own state consumes it (whatever happens next,
        # a code or flow is never tried twice); without state nothing is cancelled or exchanged.
        flow = await self._repo.take_flow(request.session_id, request.state) if request.state else None
        if request.error:
            # OpenRouter sends a denial without state: the user is told, the flow simply expires.
            return contract.CallbackReply(connected=False, reason=core.denial_reason(request.error))
        if flow is None or not request.code:
            return contract.CallbackReply(
                connected=False,
                reason="OpenRouter's answer did not match this attempt, or the attempt expired or was "
                "already used. Please start again.",
            )
        try:
            key = await self._openrouter.exchange(request.code, flow.verifier)
        except ExchangeRefused as refused:
            log.info("code exchange refused", reason=str(refused))
            return contract.CallbackReply(
                connected=False, reason=f"OpenRouter refused the connection: {refused}"
            )
        await self._repo.save_credential(
            request.session_id, self._box.seal(key, request.session_id), core.key_hash(key)
        )
        log.info("openrouter connected", session_id=str(request.session_id))
        return contract.CallbackReply(connected=True)

    async def status(self, request: SessionRef) -> contract.Status:
        credential = await self._repo.credential(request.session_id)
        if credential is None:
            if self._settings.openrouter_api_key is not None:
                return self._status("connected", source="server")
            return self._status("disconnected")
        if credential.invalid_at is not None:
            return self._status("invalid", key_hash=credential.key_hash)
        try:
            key = self._box.open(credential.ciphertext, request.session_id)
            info = await self._openrouter.key_info(key)
        except (CredentialUnusable, InvalidKey) as problem:
            log.warning("stored key unusable", reason=type(problem).__name__)
            await self._repo.mark_invalid(request.session_id)
            return self._status("invalid", key_hash=credential.key_hash)
        return self._status(
            "connected",
            source="user",
            key_hash=credential.key_hash,
            # OpenRouter labels OAuth keys with the masked key itself: never hand key text to the browser.
            label=None if (info.label or "").startswith("sk-or-") else info.label,
            limit=info.limit,
            limit_remaining=info.limit_remaining,
            usage=info.usage,
        )

    async def disconnect(self, request: SessionRef) -> contract.Status:
        """Forget the key here. The app cannot revoke it at OpenRouter: the reply links to where one can."""
        hashed = await self._repo.delete_credential(request.session_id)
        status = await self.status(request)
        return status.model_copy(update={"revoke_url": core.revoke_url(hashed) if hashed else None})

    def _status(
        self, state: str, *, source: str | None = None, key_hash: str | None = None, **info: object
    ) -> contract.Status:
        problem = core.callback_problem(self._callback_url)
        return contract.Status.model_validate(
            {
                "state": state,
                "source": source,
                "key_hash": key_hash,
                "revoke_url": core.revoke_url(key_hash) if key_hash else None,
                "callback_url": self._callback_url,
                "callback_ok": problem is None,
                "callback_problem": problem,
                "server_key_available": self._settings.openrouter_api_key is not None,
                **info,
            }
        )


async def register(runtime: Runtime[OAuthSettings]) -> None:
    assert runtime.pool is not None
    settings = runtime.settings
    if problem := core.callback_problem(settings.oauth_callback_url):
        log.warning("openrouter callback will be refused", problem=problem)
    timeout = aiohttp.ClientTimeout(total=settings.openrouter_timeout_seconds, sock_connect=10)
    http = aiohttp.ClientSession(timeout=timeout, raise_for_status=False)
    runtime.async_cleanup.append(http.close)
    box = KeyBox(settings.encryption_secrets)
    repo = OAuthRepo(runtime.pool)
    if rotated := await repo.reseal_credentials(box):
        log.info("stored keys re-encrypted under the newest secret", count=rotated)
    openrouter = OpenRouter(
        http,
        settings.openrouter_api_base,
        app_url=settings.openrouter_app_url,
        app_name=settings.openrouter_app_name,
    )
    connections = Connections(repo, box, openrouter, settings)
    service = runtime.service
    service.add(contract.START, connections.start)
    service.add(contract.CALLBACK, connections.callback)
    service.add(contract.STATUS, connections.status)
    service.add(contract.DISCONNECT, connections.disconnect)
    await _serve_ai(runtime, repo, box, openrouter)


async def _serve_ai(
    runtime: Runtime[OAuthSettings], repo: OAuthRepo, box: KeyBox, openrouter: OpenRouter
) -> None:
    """The ``ai.v1`` endpoints: a second micro service in this process, because they need the keys."""
    assert runtime.pool is not None
    settings = runtime.settings
    assistant = Assistant(
        settings,
        Keys(repo, box, settings.openrouter_api_key),
        Models(openrouter, settings.openrouter_models_ttl_seconds),
        openrouter,
        ChatRepo(runtime.pool),
        RpcClient(runtime.nc),
    )
    runtime.cleanup.append(assistant.close)
    service = RpcService(runtime.nc, ai.SERVICE)
    service.add(ai.MODELS, assistant.list_models)
    service.add(ai.SELECT, assistant.select_models)
    service.add(ai.CONVERSATION, assistant.conversation)
    service.add(ai.CLEAR, assistant.clear)
    service.add_stream(ai.CHAT, assistant.chat)
    service.add_stream(ai.EDIT, assistant.edit)
    # A queue event: one replica of this service acts on each deletion.
    service.on(image.IMAGES_DELETED, assistant.images_deleted)
    await service.start()
    runtime.async_cleanup.append(service.stop)
