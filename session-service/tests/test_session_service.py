"""session-service on its own, over real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
from uuid import uuid4

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from imagetools_common.contracts import session as contract
from imagetools_common.contracts.base import Empty
from imagetools_common.errors import BadRequest, NotFound, ValidationFailed
from imagetools_common.rpc import RpcClient
from imagetools_common.testing.waits import eventually
from session_service.settings import SessionSettings

pytestmark = pytest.mark.usefixtures("session_service")


async def expire(pool: asyncpg.Pool, session_id: object) -> None:
    """Move a session's expiry into the past, as the clock eventually would."""
    await pool.execute(
        "UPDATE sessions.sessions SET created_at = now() - interval '8 days', "
        "expires_at = now() - interval '1 second' WHERE id = $1",
        session_id,
    )


async def test_lifecycle_create_resolve_end(nc: NATS, session_service: SessionSettings) -> None:
    """A created session resolves by its token until it is ended, then it is gone."""
    rpc = RpcClient(nc)
    created = await rpc.call(contract.CREATE, Empty())
    delta = created.session.expires_at - created.session.created_at
    assert delta.days == session_service.session_expiry_days
    resolved = await rpc.call(contract.RESOLVE, contract.ResolveRequest(token=created.token))
    assert resolved.id == created.session.id
    await rpc.call(contract.END, contract.SessionRef(session_id=created.session.id))
    with pytest.raises(NotFound):
        await rpc.call(contract.RESOLVE, contract.ResolveRequest(token=created.token))
    with pytest.raises(NotFound):
        await rpc.call(contract.END, contract.SessionRef(session_id=created.session.id))


async def test_only_a_hash_of_the_token_is_stored(nc: NATS, db_pool: asyncpg.Pool) -> None:
    """The database holds the SHA-256 of the token and never the token itself."""
    created = await RpcClient(nc).call(contract.CREATE, Empty())
    row = await db_pool.fetchrow("SELECT * FROM sessions.devices WHERE session_id = $1", created.session.id)
    assert bytes(row["token_hash"]) == hashlib.sha256(created.token.encode()).digest()
    assert created.token not in repr(dict(row))


async def test_unknown_forged_and_malformed_tokens_are_not_found(nc: NATS) -> None:
    """Forged and malformed tokens resolve to nothing; an oversized one is a bad request."""
    rpc = RpcClient(nc)
    for token in ("A" * 43, "short", "", "é" * 43):
        with pytest.raises(NotFound):
            await rpc.call(contract.RESOLVE, contract.ResolveRequest(token=token))
    msg = await nc.request(contract.RESOLVE.subject, b'{"token": "' + b"a" * 300 + b'"}', timeout=2)
    assert msg.headers is not None and msg.headers["Nats-Service-Error-Code"] == BadRequest.code


async def test_expired_sessions_do_not_resolve_and_are_swept(nc: NATS, db_pool: asyncpg.Pool) -> None:
    """Past its expiry a session stops resolving at once, and the periodic sweep deletes it."""
    rpc = RpcClient(nc)
    created = await rpc.call(contract.CREATE, Empty())
    await expire(db_pool, created.session.id)
    with pytest.raises(NotFound, match="expired"):
        await rpc.call(contract.RESOLVE, contract.ResolveRequest(token=created.token))
    # The test service sweeps every 0.2 s: many sweeps' time, for a loaded machine.
    await eventually(
        lambda: db_pool.fetchval("SELECT 1 FROM sessions.sessions WHERE id = $1", created.session.id),
        lambda found: found is None,
        timeout=30,
    )


async def test_ending_a_session_cascades_into_other_schemas(nc: NATS, db_pool: asyncpg.Pool) -> None:
    """Rows of other services that reference a session (ON DELETE CASCADE) go when it ends or expires."""
    await db_pool.execute(
        "CREATE SCHEMA IF NOT EXISTS dummy; CREATE TABLE IF NOT EXISTS dummy.children ("
        " id serial PRIMARY KEY,"
        " session_id uuid NOT NULL REFERENCES sessions.sessions (id) ON DELETE CASCADE)"
    )
    rpc = RpcClient(nc)
    ended, expired, kept = [await rpc.call(contract.CREATE, Empty()) for _ in range(3)]
    for s in (ended, expired, kept):
        await db_pool.execute("INSERT INTO dummy.children (session_id) VALUES ($1), ($1)", s.session.id)
    await rpc.call(contract.END, contract.SessionRef(session_id=ended.session.id))
    await expire(db_pool, expired.session.id)
    await rpc.call(contract.SWEEP, Empty())
    owners = await db_pool.fetch("SELECT DISTINCT session_id FROM dummy.children")
    assert kept.session.id in {r["session_id"] for r in owners}
    assert {r["session_id"] for r in owners}.isdisjoint({ended.session.id, expired.session.id})


async def test_resolve_touches_last_seen_at_most_once_a_minute(nc: NATS, db_pool: asyncpg.Pool) -> None:
    """Resolving updates last_seen when it is a minute old, and leaves it alone otherwise."""
    rpc = RpcClient(nc)
    created = await rpc.call(contract.CREATE, Empty())
    await db_pool.execute(
        "UPDATE sessions.devices SET last_seen_at = now() - interval '5 minutes' WHERE id = $1",
        created.session.device_id,
    )
    first = await rpc.call(contract.RESOLVE, contract.ResolveRequest(token=created.token))
    assert first.last_seen_at > created.session.last_seen_at
    second = await rpc.call(contract.RESOLVE, contract.ResolveRequest(token=created.token))
    assert second.last_seen_at == first.last_seen_at


async def test_a_hundred_concurrent_resolves(nc: NATS) -> None:
    """100 resolves at once of 10 sessions all answer with the right session."""
    rpc = RpcClient(nc)
    created = [await rpc.call(contract.CREATE, Empty()) for _ in range(10)]
    replies = await asyncio.gather(
        *(
            rpc.call(contract.RESOLVE, contract.ResolveRequest(token=created[i % 10].token))
            for i in range(100)
        )
    )
    assert [r.id for r in replies] == [created[i % 10].session.id for i in range(100)]


async def test_settings_store_round_trip(nc: NATS) -> None:
    """A setting is stored as JSON per session, replaced, read back, and deleted."""
    rpc = RpcClient(nc)
    a, b = [await rpc.call(contract.CREATE, Empty()) for _ in range(2)]
    ref = contract.SettingRef(session_id=a.session.id, key="ui.theme")
    assert (await rpc.call(contract.GET_SETTING, ref)).value is None
    await rpc.call(
        contract.PUT_SETTING, contract.PutSetting(session_id=a.session.id, key="ui.theme", value="x")
    )
    value = {"mode": "dark", "sizes": [1, 2.5], "on": True}
    await rpc.call(
        contract.PUT_SETTING, contract.PutSetting(session_id=a.session.id, key="ui.theme", value=value)
    )
    assert (await rpc.call(contract.GET_SETTING, ref)).value == value
    other = contract.SettingRef(session_id=b.session.id, key="ui.theme")
    assert (await rpc.call(contract.GET_SETTING, other)).value is None
    await rpc.call(contract.DELETE_SETTING, ref)
    assert (await rpc.call(contract.GET_SETTING, ref)).value is None


async def test_storing_null_forgets_a_setting(nc: NATS) -> None:
    """A setting set to null reads as unset afterwards, as one never stored does."""
    rpc = RpcClient(nc)
    created = await rpc.call(contract.CREATE, Empty())
    ref = contract.SettingRef(session_id=created.session.id, key="ui.theme")
    for value in ("dark", None):
        put = contract.PutSetting(session_id=created.session.id, key="ui.theme", value=value)
        assert (await rpc.call(contract.PUT_SETTING, put)).value == value
        assert (await rpc.call(contract.GET_SETTING, ref)).value == value


async def test_settings_reject_bad_keys_big_values_and_missing_sessions(nc: NATS) -> None:
    """Bad keys and oversized values are refused; a setting for an unknown session is not found."""
    rpc = RpcClient(nc)
    created = await rpc.call(contract.CREATE, Empty())
    with pytest.raises(ValidationFailed):
        await rpc.call(
            contract.PUT_SETTING,
            contract.PutSetting(session_id=created.session.id, key="ui.big", value="x" * 20000),
        )
    msg = await nc.request(
        contract.PUT_SETTING.subject,
        f'{{"session_id": "{created.session.id}", "key": "../etc", "value": 1}}'.encode(),
        timeout=2,
    )
    assert msg.headers is not None and msg.headers["Nats-Service-Error-Code"] == "bad_request"
    with pytest.raises(NotFound):
        await rpc.call(contract.PUT_SETTING, contract.PutSetting(session_id=uuid4(), key="ui.x", value=1))


async def test_rotating_and_ending_announce_the_session_changed(nc: NATS) -> None:
    """Rotating and ending publish SESSION_CHANGED (gateways drop their cached copy); a no-op does not."""
    rpc = RpcClient(nc)
    heard: asyncio.Queue[contract.SessionChanged] = asyncio.Queue()

    async def on_message(msg: Msg) -> None:
        await heard.put(contract.SessionChanged.model_validate_json(msg.data))

    subscription = await nc.subscribe(contract.SESSION_CHANGED.subject, cb=on_message)
    try:
        created = await rpc.call(contract.CREATE, Empty())
        ref = contract.SessionRef(session_id=created.session.id)
        rotated = await rpc.call(
            contract.ROTATE,
            contract.DeviceRef(session_id=ref.session_id, device_id=created.session.device_id),
        )
        assert (await asyncio.wait_for(heard.get(), 10)).session_id == created.session.id
        with pytest.raises(NotFound):
            await rpc.call(contract.RESOLVE, contract.ResolveRequest(token=created.token))
        assert (
            await rpc.call(contract.RESOLVE, contract.ResolveRequest(token=rotated.token))
        ).id == ref.session_id
        await rpc.call(contract.END, ref)
        assert (await asyncio.wait_for(heard.get(), 10)).session_id == created.session.id
        with pytest.raises(NotFound):  # already ended: nothing changed, nothing announced
            await rpc.call(contract.END, ref)
        await nc.flush()
        assert heard.empty()
    finally:
        await subscription.unsubscribe()
