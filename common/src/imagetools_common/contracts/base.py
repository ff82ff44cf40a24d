"""The building blocks every contract module uses: wire models, services and endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    """A message body on NATS: immutable, and unknown fields are an error, not a surprise."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Empty(WireModel):
    """A request or reply that carries nothing."""


@dataclass(frozen=True)
class ServiceSpec:
    """A service as declared to ``nats.micro``: replicas share the name and its queue group."""

    name: str
    version: str
    subject_prefix: str
    description: str


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

    @property
    def subject(self) -> str:
        return f"{self.service.subject_prefix}.{self.name}"
