"""Who is on the bus: ``$SRV.PING`` gathers one answer per running service instance."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from pydantic import BaseModel, Field, ValidationError


class Instance(BaseModel):
    name: str
    id: str
    version: str
    metadata: dict[str, str] = Field(default_factory=dict)


async def ping_all(nc: NATS, window: float = 0.4) -> dict[str, list[Instance]]:
    """Every service instance that answers a ping within ``window`` seconds, by service name."""
    found: dict[str, list[Instance]] = defaultdict(list)
    if not nc.is_connected:
        return found
    inbox = nc.new_inbox()

    async def collect(msg: Msg) -> None:
        try:
            instance = Instance.model_validate(json.loads(msg.data))
        except (ValueError, ValidationError):
            return
        found[instance.name].append(instance)

    sub = await nc.subscribe(inbox, cb=collect)
    try:
        await nc.publish("$SRV.PING", b"", reply=inbox)
        await nc.flush(timeout=max(1, round(window)))
        await asyncio.sleep(window)
    finally:
        await sub.unsubscribe()
    return found
