"""The building blocks every contract module uses: wire models, services and endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class WireModel(BaseModel):
    """A message body on NATS: immutable, and unknown fields are an error, not a surprise."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Empty(WireModel):
    """A request or reply that carries nothing."""


# Free text bound for a PostgreSQL column (text and jsonb cannot hold the NUL character): refused
# at the edge as invalid input (422) rather than failing in the database.
NO_NUL = r"^[^\x00]*$"

# Version numbers are PostgreSQL integers: anything larger is refused as invalid, not sent to the database.
MAX_VERSION = 2**31 - 1

# What an idempotency key may look like: a UUID, a ULID, or the gateway's "<key>:<n>" per file.
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._:\-]{8,128}$"


class Keyed(WireModel):
    """A mutation that may be sent again: the service applies it once per key and session and
    answers a repeat with the first reply (see docs/DEPLOYMENT.md, "Retries and idempotency")."""

    idempotency_key: str | None = Field(
        None, pattern=IDEMPOTENCY_KEY_PATTERN, description="Same key, same effect: applied at most once"
    )


@dataclass(frozen=True)
class ServiceSpec:
    """A service as declared to ``nats.micro``: replicas share the name and its queue group."""

    name: str
    version: str
    subject_prefix: str
    description: str


# A heartbeat endpoint's service beats every HEARTBEAT_INTERVAL seconds while it works; its
# caller gives the responder up after HEARTBEAT_LOST_AFTER seconds without one (see rpc.streaming).
HEARTBEAT_INTERVAL = 1.0
HEARTBEAT_LOST_AFTER = 3.0

Req = TypeVar("Req", bound=BaseModel)
# Covariant: an endpoint replying with a subclass is usable where any model reply is expected.
Resp = TypeVar("Resp", bound=BaseModel, covariant=True)


@dataclass(frozen=True)
class Endpoint(Generic[Req, Resp]):
    """One request/reply subject with its typed bodies and the caller's timeout in seconds."""

    service: ServiceSpec
    name: str
    request: type[Req]
    reply: type[Resp]
    timeout: float = 5.0
    # Binary endpoints carry raw bytes after the model (see rpc.frames).
    request_body: bool = False
    reply_body: bool = False
    # A read: asking again can change nothing, so a caller may retry it after a timeout.
    read_only: bool = False
    # A long call: the service sends keep-alive frames while it works, so a caller notices a
    # replica that died within HEARTBEAT_LOST_AFTER seconds instead of waiting out ``timeout``.
    heartbeat: bool = False

    @property
    def subject(self) -> str:
        return f"{self.service.subject_prefix}.{self.name}"


Chunk = TypeVar("Chunk", bound=BaseModel)
End = TypeVar("End", bound=BaseModel)


@dataclass(frozen=True)
class StreamEndpoint(Generic[Req, Chunk, End]):
    """A request answered by a stream: any number of ``chunk`` messages, then one ``end`` (or an error).

    The caller names a reply inbox; see ``imagetools_common.rpc.streaming``. ``idle_timeout`` bounds
    the silence between two messages (the service sends keep-alives while it works), so a service
    that died is noticed without capping how long the work itself may take.
    """

    service: ServiceSpec
    name: str
    request: type[Req]
    chunk: type[Chunk]
    end: type[End]
    idle_timeout: float = 30.0

    @property
    def subject(self) -> str:
        return f"{self.service.subject_prefix}.{self.name}"


Payload = TypeVar("Payload", bound=BaseModel)


class Delivery(StrEnum):
    """Who hears an event."""

    # Every subscriber, e.g. every replica of a service when only one of them holds what it is about.
    BROADCAST = "broadcast"
    # One replica of each subscribing service (the service's queue group): work to be done once.
    QUEUE = "queue"


@dataclass(frozen=True)
class Event(Generic[Payload]):
    """A fire-and-forget message published by ``service``: its typed payload and who hears it.

    Published with ``RpcClient.publish`` and handled with ``RpcService.on`` (see rpc.events), which
    decode the payload and carry the request id like a request's.
    """

    service: ServiceSpec
    name: str
    payload: type[Payload]
    delivery: Delivery

    @property
    def subject(self) -> str:
        return f"{self.service.subject_prefix}.events.{self.name}"
