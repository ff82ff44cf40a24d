"""session-service endpoints: contract model in, core and repo, contract model out."""

from __future__ import annotations

import asyncio
import hmac
from uuid import UUID

import asyncpg

from imagetools_common import db
from imagetools_common.contracts import session as contract
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import Conflict, Gone, NotFound, ServiceUnavailable, ValidationFailed
from imagetools_common.lifecycle import Runtime
from imagetools_common.logs import get_logger
from imagetools_common.rpc import RpcClient
from imagetools_common.settings import Settings
from session_service import core
from session_service.repo import OfferRow, SessionRepo
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
        info = found.info
        # The device's name follows its browser (set on its first request, kept after upgrades).
        rename = request.device_name if request.device_name not in ("", found.device_name) else None
        if rename is not None or core.needs_touch(info.last_seen_at, found.now):
            touched = await self._repo.touch(info.device_id, rename)
            if touched is not None:
                info = info.model_copy(update={"last_seen_at": touched})
        return info

    async def rotate(self, request: contract.DeviceRef) -> contract.CreateReply:
        """A new token for one device; the session's other devices keep theirs."""
        token = core.new_token()
        info = await self._repo.rotate(request.session_id, request.device_id, core.hash_token(token))
        if info is None:
            raise NotFound("no such device, or its session has expired")
        await self._changed(info.id)
        log.info("device token rotated", session_id=str(info.id), device_id=str(info.device_id))
        return contract.CreateReply(token=token, session=info)

    async def devices(self, request: contract.SessionRef) -> contract.DeviceList:
        return contract.DeviceList(devices=await self._repo.devices(request.session_id))

    async def remove_device(self, request: contract.DeviceRef) -> Empty:
        """A device leaves or is removed: its token dies at once on every gateway."""
        ended = await self._repo.remove_device(request.session_id, request.device_id)
        if ended is None:
            raise NotFound("no such device in this session")
        await self._changed(request.session_id)
        log.info(
            "device removed",
            session_id=str(request.session_id),
            device_id=str(request.device_id),
            session_ended=ended,
        )
        return Empty()

    async def offer(self, request: contract.DeviceRef) -> contract.JoinOffer:
        """A fresh QR token and short code for this device's session, replacing its last offer."""
        token = core.new_token()
        for _ in range(5):  # a clash of locators with another live offer is rare; draw again
            code = core.new_code()
            try:
                expires = await self._repo.offer(
                    request.session_id,
                    request.device_id,
                    core.hash_token(token),
                    code.locator,
                    code.hash,
                    core.OFFER_LIFETIME.total_seconds(),
                )
            except asyncpg.UniqueViolationError:
                continue
            if expires is None:
                raise NotFound("no such device, or its session has expired")
            # Neither the token nor the code is logged: either joins the session.
            log.info("join offer made", session_id=str(request.session_id), device_id=str(request.device_id))
            return contract.JoinOffer(token=token, code=core.display_code(code), expires_at=expires)
        raise ServiceUnavailable("too many join offers are open; try again in a minute")

    async def join(self, request: contract.JoinRequest) -> contract.CreateReply:
        """The joining browser becomes a new device of the offer's session, with its own token."""
        offer = await self._find_offer(request)
        if request.leaving is not None and request.leaving.session_id == offer.session_id:
            raise Conflict("This browser is already in that session")
        if refusal := core.offer_refusal(
            used=offer.used, expired=offer.expired, failed_attempts=offer.failed_attempts
        ):
            raise refusal
        token = core.new_token()
        leaving = request.leaving
        info = await self._repo.redeem(
            offer.id,
            core.MAX_WRONG_CODES,
            core.hash_token(token),
            request.device_name,
            (leaving.session_id, leaving.device_id) if leaving else None,
        )
        if info is None:  # another browser redeemed it a moment ago, or the session ended
            raise Gone(
                "This join link or code was just used or withdrawn: make a new one on the other device"
            )
        if leaving is not None:
            await self._changed(leaving.session_id)
        log.info("device joined", session_id=str(info.id), device_id=str(info.device_id))
        return contract.CreateReply(token=token, session=info)

    async def _find_offer(self, request: contract.JoinRequest) -> OfferRow:
        """The offer the token or code names; a wrong code counts against the offer its locator names."""
        if (request.token is None) == (request.code is None):
            raise ValidationFailed("give either a join token or a code", details={"field": "token"})
        if request.token is not None:
            if not core.is_well_formed(request.token):
                raise ValidationFailed("join token: not a token this app makes", details={"field": "token"})
            found = await self._repo.find_offer("token_hash", core.hash_token(request.token))
            if found is None:
                raise NotFound("No session is waiting for this join link")
            return found
        code = core.parse_code(request.code or "")
        if code is None:
            raise ValidationFailed(
                f"code: {core.CODE_LENGTH} letters and digits, as shown on the other device",
                details={"field": "code"},
            )
        found = await self._repo.find_offer("locator", code.locator)
        if found is not None and not hmac.compare_digest(found.code_hash, code.hash):
            await self._repo.count_wrong_code(found.id)
            found = None
        if found is None:
            raise NotFound("No session is waiting for this code: check it, or make a new one")
        return found

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
    service.add(contract.DEVICES, handlers.devices)
    service.add(contract.REMOVE_DEVICE, handlers.remove_device)
    service.add(contract.OFFER, handlers.offer)
    service.add(contract.JOIN, handlers.join)
    service.add(contract.GET_SETTING, handlers.get_setting)
    service.add(contract.PUT_SETTING, handlers.put_setting)
    service.add(contract.DELETE_SETTING, handlers.delete_setting)
    service.add(contract.SWEEP, handlers.sweep)
    runtime.background.append(sweep_forever(repo, runtime.settings.session_sweep_interval_seconds))
