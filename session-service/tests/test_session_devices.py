"""Devices of one session and joining by a QR token or a short code, over real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from imagetools_common.contracts import session as contract
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import Conflict, Gone, NotFound, ValidationFailed
from imagetools_common.rpc import RpcClient
from session_service import core

pytestmark = pytest.mark.usefixtures("session_service")


def sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def device(reply: contract.CreateReply) -> contract.DeviceRef:
    return contract.DeviceRef(session_id=reply.session.id, device_id=reply.session.device_id)


async def resolves(rpc: RpcClient, token: str) -> contract.SessionInfo | None:
    try:
        return await rpc.call(contract.RESOLVE, contract.ResolveRequest(token=token))
    except NotFound:
        return None


@pytest.fixture
async def changes(nc: NATS) -> AsyncIterator[asyncio.Queue[contract.SessionChanged]]:
    """SESSION_CHANGED events as the gateways hear them."""
    heard: asyncio.Queue[contract.SessionChanged] = asyncio.Queue()

    async def on_message(msg: Msg) -> None:
        await heard.put(contract.SessionChanged.model_validate_json(msg.data))

    subscription = await nc.subscribe(contract.SESSION_CHANGED.subject, cb=on_message)
    yield heard
    await subscription.unsubscribe()


async def test_each_device_has_its_own_token_and_rotates_alone(nc: NATS, db_pool: asyncpg.Pool) -> None:
    """A joined device has its own token for the same session; rotating one leaves the other working."""
    rpc = RpcClient(nc)
    first = await rpc.call(contract.CREATE, Empty())
    offer = await rpc.call(contract.OFFER, device(first))
    second = await rpc.call(
        contract.JOIN, contract.JoinRequest(token=offer.token, device_name="Firefox on Linux")
    )
    assert second.session.id == first.session.id and second.session.device_id != first.session.device_id
    assert second.token != first.token

    # Only hashes are stored: the tokens, and the offer's token and code.
    rows = await db_pool.fetch("SELECT * FROM sessions.devices WHERE session_id = $1", first.session.id)
    assert {bytes(r["token_hash"]) for r in rows} == {sha256(first.token), sha256(second.token)}
    offer_row = await db_pool.fetchrow(
        "SELECT * FROM sessions.join_offers WHERE session_id = $1", first.session.id
    )
    code = offer.code.replace("-", "")
    assert bytes(offer_row["token_hash"]) == sha256(offer.token) and bytes(offer_row["code_hash"]) == sha256(
        code
    )
    stored = repr([dict(r) for r in rows]) + repr(dict(offer_row))
    for secret in (first.token, second.token, offer.token, code, offer.code):
        assert secret not in stored

    rotated = await rpc.call(contract.ROTATE, device(second))
    assert await resolves(rpc, second.token) is None
    assert (await resolves(rpc, rotated.token)) == rotated.session
    still = await resolves(rpc, first.token)
    assert still is not None and still.device_id == first.session.device_id

    listed = (await rpc.call(contract.DEVICES, contract.SessionRef(session_id=first.session.id))).devices
    assert [d.id for d in listed] == [first.session.device_id, second.session.device_id]
    assert [d.name for d in listed] == ["", "Firefox on Linux"]


async def test_resolve_names_the_device_after_its_browser(nc: NATS) -> None:
    rpc = RpcClient(nc)
    created = await rpc.call(contract.CREATE, Empty())
    await rpc.call(
        contract.RESOLVE, contract.ResolveRequest(token=created.token, device_name="Chrome on Android")
    )
    listed = (await rpc.call(contract.DEVICES, contract.SessionRef(session_id=created.session.id))).devices
    assert [d.name for d in listed] == ["Chrome on Android"]


async def test_removing_devices_kills_their_tokens_and_the_last_ends_the_session(
    nc: NATS, db_pool: asyncpg.Pool, changes: asyncio.Queue[contract.SessionChanged]
) -> None:
    """A removed device's token dies at once and gateways hear of it; the last one out ends the session."""
    rpc = RpcClient(nc)
    first = await rpc.call(contract.CREATE, Empty())
    offer = await rpc.call(contract.OFFER, device(first))
    second = await rpc.call(contract.JOIN, contract.JoinRequest(token=offer.token))

    await rpc.call(contract.REMOVE_DEVICE, device(second))
    assert (await asyncio.wait_for(changes.get(), 10)).session_id == first.session.id
    assert await resolves(rpc, second.token) is None
    assert await resolves(rpc, first.token) is not None
    with pytest.raises(NotFound):  # already gone, or a device of another session
        await rpc.call(contract.REMOVE_DEVICE, device(second))
    other = await rpc.call(contract.CREATE, Empty())
    with pytest.raises(NotFound):
        await rpc.call(
            contract.REMOVE_DEVICE,
            contract.DeviceRef(session_id=other.session.id, device_id=first.session.device_id),
        )

    await rpc.call(contract.REMOVE_DEVICE, device(first))
    assert (await asyncio.wait_for(changes.get(), 10)).session_id == first.session.id
    assert (
        await db_pool.fetchval("SELECT count(*) FROM sessions.sessions WHERE id = $1", first.session.id) == 0
    )


async def test_an_offer_is_single_use_and_dies_after_five_minutes(nc: NATS, db_pool: asyncpg.Pool) -> None:
    rpc = RpcClient(nc)
    first = await rpc.call(contract.CREATE, Empty())
    offer = await rpc.call(contract.OFFER, device(first))
    assert offer.expires_at - await db_pool.fetchval("SELECT now()") <= core.OFFER_LIFETIME
    await rpc.call(contract.JOIN, contract.JoinRequest(token=offer.token))
    with pytest.raises(Gone, match="already used"):
        await rpc.call(contract.JOIN, contract.JoinRequest(token=offer.token))
    with pytest.raises(Gone, match="already used"):
        await rpc.call(contract.JOIN, contract.JoinRequest(code=offer.code))

    expired = await rpc.call(contract.OFFER, device(first))
    await db_pool.execute(
        "UPDATE sessions.join_offers SET created_at = now() - interval '6 minutes', "
        "expires_at = now() - interval '1 minute' WHERE session_id = $1",
        first.session.id,
    )
    for request in (contract.JoinRequest(token=expired.token), contract.JoinRequest(code=expired.code)):
        with pytest.raises(Gone, match="expired"):
            await rpc.call(contract.JOIN, request)

    # A new offer replaces the device's last one.
    replaced = await rpc.call(contract.OFFER, device(first))
    newest = await rpc.call(contract.OFFER, device(first))
    with pytest.raises(NotFound):
        await rpc.call(contract.JOIN, contract.JoinRequest(token=replaced.token))
    assert (
        await rpc.call(contract.JOIN, contract.JoinRequest(token=newest.token))
    ).session.id == first.session.id


async def test_codes_are_forgiving_to_type_and_five_wrong_ones_kill_the_offer(nc: NATS) -> None:
    rpc = RpcClient(nc)
    first = await rpc.call(contract.CREATE, Empty())
    offer = await rpc.call(contract.OFFER, device(first))
    assert len(offer.code.replace("-", "")) == core.CODE_LENGTH >= 8
    typed = " ".join(offer.code.replace("-", "").lower())  # lower case, spaced out
    joined = await rpc.call(contract.JOIN, contract.JoinRequest(code=typed))
    assert joined.session.id == first.session.id

    target = await rpc.call(contract.OFFER, device(first))
    code = target.code.replace("-", "")
    wrong = code[: core.LOCATOR_LENGTH] + "".join(
        next(c for c in core.CODE_ALPHABET if c != ch) for ch in code[core.LOCATOR_LENGTH :]
    )
    for _ in range(core.MAX_WRONG_CODES):
        with pytest.raises(NotFound, match="No session is waiting for this code"):
            await rpc.call(contract.JOIN, contract.JoinRequest(code=wrong))
    with pytest.raises(Gone, match="Too many wrong codes"):
        await rpc.call(contract.JOIN, contract.JoinRequest(code=code))
    with pytest.raises(Gone, match="Too many wrong codes"):  # the QR link dies with it
        await rpc.call(contract.JOIN, contract.JoinRequest(token=target.token))


async def test_malformed_and_unknown_offers_are_refused_precisely(nc: NATS) -> None:
    rpc = RpcClient(nc)
    for request in (
        contract.JoinRequest(),
        contract.JoinRequest(token="A" * 42),
        contract.JoinRequest(code="ABCDE"),
        contract.JoinRequest(code="ABCDE-FGHI0"),  # 0 is not in the alphabet
        contract.JoinRequest(token=core.new_token(), code="ABCDE-FGHJK"),
    ):
        with pytest.raises(ValidationFailed):
            await rpc.call(contract.JOIN, request)
    with pytest.raises(NotFound):
        await rpc.call(contract.JOIN, contract.JoinRequest(token=core.new_token()))


async def test_joining_from_another_session_leaves_it(
    nc: NATS, db_pool: asyncpg.Pool, changes: asyncio.Queue[contract.SessionChanged]
) -> None:
    """A browser of one session joins another: its old device goes (and the old session with its
    last device); joining the session it is already in is a conflict that uses nothing up."""
    rpc = RpcClient(nc)
    host = await rpc.call(contract.CREATE, Empty())
    guest = await rpc.call(contract.CREATE, Empty())
    offer = await rpc.call(contract.OFFER, device(host))
    with pytest.raises(Conflict):
        await rpc.call(contract.JOIN, contract.JoinRequest(token=offer.token, leaving=device(host)))

    joined = await rpc.call(contract.JOIN, contract.JoinRequest(token=offer.token, leaving=device(guest)))
    assert joined.session.id == host.session.id
    assert (await asyncio.wait_for(changes.get(), 10)).session_id == guest.session.id
    assert await resolves(rpc, guest.token) is None
    assert (
        await db_pool.fetchval("SELECT count(*) FROM sessions.sessions WHERE id = $1", guest.session.id) == 0
    )
