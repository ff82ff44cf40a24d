"""session-service endpoints: contract model in, core and repo, contract model out."""

from __future__ import annotations

import asyncio
from uuid import UUID

from imagetools_common import db
from imagetools_common.contracts import session as contract
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import NotFound
from imagetools_common.lifecycle import Runtime
from imagetools_common.logs import get_logger
from imagetools_common.rpc import RpcClient
from imagetools_common.settings import Settings
from session_service import core
from session_service.repo import SessionRepo
from session_service.settings import SessionSettings

log = get_logger("session_service")


class SessionHandlers:
    def __init__(self, repo: SessionRepo, settings: Settings, rpc: RpcClient) -> None:
        self._repo = repo
        self._settings = settings
        self._rpc = rpc

    async def _changed(self, session_id: UUID) -> None:
        """Tell every gateway replica to drop what it caches for the session (a token stopped working)."""
        await self._rpc.publish(contract.SESSION_CHANGED, contract.SessionChanged(session_id=session_id))

    async def create(self, _: Empty) -> contract.CreateReply:
        token = core.new_token()
        info = await self._repo.create(core.hash_token(token), self._settings.session_expiry_days)
        log.info("session created", session_id=str(info.id))
        return contract.CreateReply(token=token, session=info)

    async def resolve(self, request: contract.ResolveRequest) -> contract.SessionInfo:
        if not core.is_well_formed(request.token):
            raise NotFound("no such session")
        found = await self._repo.find_live(core.hash_token(request.token))
        if found is None:
            raise NotFound("no such session, or it has expired")
        info, now = found
        if core.needs_touch(info.last_seen_at, now):
            touched = await self._repo.touch(info.id)
            if touched is not None:
                info = info.model_copy(update={"last_seen_at": touched})
        return info

    async def rotate(self, request: contract.SessionRef) -> contract.CreateReply:
        token = core.new_token()
        info = await self._repo.rotate(request.session_id, core.hash_token(token))
        if info is None:
            raise NotFound("no such session, or it has expired")
        await self._changed(info.id)
        log.info("session token rotated", session_id=str(info.id))
        return contract.CreateReply(token=token, session=info)

    async def end(self, request: contract.SessionRef) -> Empty:
        if not await self._repo.end(request.session_id):
            raise NotFound("no such session")
        await self._changed(request.session_id)
        log.info("session ended", session_id=str(request.session_id))
        return Empty()

    async def get_setting(self, request: contract.SettingRef) -> contract.Setting:
        value = await self._repo.get_setting(request.session_id, request.key)
        return contract.Setting(key=request.key, value=value)

    async def put_setting(self, request: contract.PutSetting) -> contract.Setting:
        core.check_setting_value(request.value)
        if request.value is None:
            # null is how an unset setting reads, so storing it forgets the setting.
            await self._repo.delete_setting(request.session_id, request.key)
        elif not await self._repo.put_setting(request.session_id, request.key, request.value):
            raise NotFound("no such session")
        return contract.Setting(key=request.key, value=request.value)

    async def delete_setting(self, request: contract.SettingRef) -> Empty:
        await self._repo.delete_setting(request.session_id, request.key)
        return Empty()

    async def sweep(self, _: Empty) -> contract.SweepReply:
        return contract.SweepReply(deleted=await self._repo.sweep() or 0)


async def sweep_forever(repo: SessionRepo, interval: float) -> None:
    """Delete expired sessions every ``interval`` seconds; a failed round is logged and retried."""
    while True:
        try:
            deleted = await repo.sweep()
            if deleted:
                log.info("expired sessions deleted", count=deleted)
        except Exception as error:
            if not db.is_transient(error):
                log.exception("sweep failed")
            else:  # the database restarted: the next round will do
                log.warning("sweep skipped: database unavailable", error=type(error).__name__)
        await asyncio.sleep(interval)


async def register(runtime: Runtime[SessionSettings]) -> None:
    assert runtime.pool is not None
    repo = SessionRepo(runtime.pool)
    handlers = SessionHandlers(repo, runtime.settings, RpcClient(runtime.nc))
    service = runtime.service
    service.add(contract.CREATE, handlers.create)
    service.add(contract.RESOLVE, handlers.resolve)
    service.add(contract.END, handlers.end)
    service.add(contract.ROTATE, handlers.rotate)
    service.add(contract.GET_SETTING, handlers.get_setting)
    service.add(contract.PUT_SETTING, handlers.put_setting)
    service.add(contract.DELETE_SETTING, handlers.delete_setting)
    service.add(contract.SWEEP, handlers.sweep)
    runtime.background.append(sweep_forever(repo, runtime.settings.session_sweep_interval_seconds))
