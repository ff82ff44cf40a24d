"""What /health reports: every backend service and how many replicas answered a ping."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Literal

from nats.aio.client import Client as NATS
from pydantic import BaseModel, Field

from imagetools_common import __version__
from imagetools_common.contracts.base import ServiceSpec
from imagetools_common.rpc import Instance, ping_all


class ServiceHealth(BaseModel):
    replicas: int = Field(description="Instances that answered a ping")
    versions: list[str] = Field(description="Versions those instances run")
    model: str | None = Field(
        None, description="image-service: the background-removal model loaded (default)"
    )
    models: list[str] | None = Field(None, description="image-service: every background-removal model loaded")
    engine: str | None = Field(
        None,
        description="image-service: the default model's inference engine and precision, e.g. openvino/f32",
    )
    problems: list[str] = Field(default_factory=list, description="Why an instance reports itself unhealthy")


class HealthReport(BaseModel):
    status: Literal["healthy", "unhealthy"] = Field(
        description="unhealthy when anything is missing or has a problem"
    )
    version: str = Field(description="Gateway version")
    services: dict[str, ServiceHealth] = Field(description="Each service, the gateway included")
    missing: list[str] = Field(default_factory=list, description="What did not answer")
    problems: list[str] = Field(
        default_factory=list, description="What answered but cannot work (e.g. a corrupt model file)"
    )


def summarise(
    expected: Sequence[ServiceSpec], found: Mapping[str, list[Instance]], bus_up: bool
) -> HealthReport:
    """Pure: the report for what answered."""
    services = {"gateway": ServiceHealth(replicas=1, versions=[__version__])}
    missing = [] if bus_up else ["nats"]
    problems: list[str] = []
    for spec in expected:
        instances = found.get(spec.name, [])
        # Instances announce what they loaded and what is wrong with them in their micro metadata.
        reported = sorted({i.metadata["problem"] for i in instances if i.metadata.get("problem")})
        models = sorted({m for i in instances for m in i.metadata.get("models", "").split(",") if m})
        services[spec.name] = ServiceHealth(
            replicas=len(instances),
            versions=sorted({i.version for i in instances}),
            model=next((i.metadata["model"] for i in instances if i.metadata.get("model")), None),
            models=models or None,
            engine=next((i.metadata["engine"] for i in instances if i.metadata.get("engine")), None),
            problems=reported,
        )
        problems += [f"{spec.name}: {problem}" for problem in reported]
        if not instances:
            missing.append(spec.name)
    return HealthReport(
        status="unhealthy" if missing or problems else "healthy",
        version=__version__,
        services=services,
        missing=missing,
        problems=problems,
    )


class HealthProbe:
    """Pings the bus at most once per ``ttl`` seconds however many browsers poll /health."""

    def __init__(
        self, nc: NATS, expected: Sequence[ServiceSpec], *, window: float = 0.4, ttl: float = 1.0
    ) -> None:
        self._nc = nc
        self._expected = expected
        self._window = window
        self._ttl = ttl
        self._cached: tuple[float, HealthReport] | None = None
        self._inflight: asyncio.Task[HealthReport] | None = None

    async def report(self) -> HealthReport:
        loop = asyncio.get_running_loop()
        # A cached "healthy" is void the moment the gateway itself loses the bus.
        if self._cached and loop.time() - self._cached[0] < self._ttl and self._nc.is_connected:
            return self._cached[1]
        if self._inflight is None:
            self._inflight = asyncio.create_task(self._probe())
            self._inflight.add_done_callback(lambda _: setattr(self, "_inflight", None))
        return await asyncio.shield(self._inflight)

    async def _probe(self) -> HealthReport:
        found = await ping_all(self._nc, window=self._window)
        report = summarise(self._expected, found, self._nc.is_connected)
        self._cached = (asyncio.get_running_loop().time(), report)
        return report
