"""OpenRouter's models, split into those that can chat about an image and those that can edit one.

The list comes from ``GET /models`` (public, no key) with OpenRouter's modality filters and is
cached for OPENROUTER_MODELS_TTL_SECONDS; each model is then checked against its own
``architecture`` (the filters' exact semantics are undocumented). A failed refresh serves the
previous list when there is one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from imagetools_common.contracts import ai
from imagetools_common.errors import DomainError
from imagetools_common.logs import get_logger
from oauth_service.openrouter import OpenRouter

log = get_logger("oauth_service.catalogue")


@dataclass(frozen=True)
class Entry:
    model: ai.Model
    inputs: frozenset[str]
    outputs: frozenset[str]


@dataclass(frozen=True)
class Catalogue:
    chat: dict[str, Entry]
    edit: dict[str, Entry]

    def view(self, selected: ai.Selected) -> ai.Models:
        return ai.Models(
            chat=[e.model for e in self.chat.values()],
            edit=[e.model for e in self.edit.values()],
            selected=selected,
        )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _entry(raw: dict[str, Any]) -> Entry | None:
    """One catalogue entry, or None when it lacks what the app needs (OpenRouter's list may change)."""
    architecture, pricing = _mapping(raw.get("architecture")), _mapping(raw.get("pricing"))
    try:
        model = ai.Model(
            id=raw["id"],
            name=str(raw.get("name") or raw["id"]),
            context_length=raw.get("context_length") if isinstance(raw.get("context_length"), int) else None,
            pricing=ai.Pricing(
                **{k: str(pricing[k]) for k in ("prompt", "completion", "image") if k in pricing}
            ),
        )
    except (KeyError, ValidationError):
        return None
    inputs = architecture.get("input_modalities") or []
    outputs = architecture.get("output_modalities") or []
    return Entry(model, frozenset(map(str, inputs)), frozenset(map(str, outputs)))


def split(chat_candidates: list[dict[str, Any]], edit_candidates: list[dict[str, Any]]) -> Catalogue:
    """Chat: sees images and answers in text. Edit: sees images and answers with an image."""
    chat: dict[str, Entry] = {}
    edit: dict[str, Entry] = {}
    for raw in [*chat_candidates, *edit_candidates]:
        entry = _entry(raw)
        if entry is None or "image" not in entry.inputs:
            continue
        if "text" in entry.outputs:
            chat.setdefault(entry.model.id, entry)
        if "image" in entry.outputs:
            edit.setdefault(entry.model.id, entry)

    def by_name(models: dict[str, Entry]) -> dict[str, Entry]:
        return dict(sorted(models.items(), key=lambda item: item[1].model.name.lower()))

    return Catalogue(by_name(chat), by_name(edit))


def choose(models: dict[str, Entry], *preferences: str | None) -> str | None:
    """The first preference still on offer, else the first model, else None."""
    for wanted in preferences:
        if wanted and wanted in models:
            return wanted
    return next(iter(models), None)


class Models:
    """The cached catalogue."""

    def __init__(
        self, openrouter: OpenRouter, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._openrouter = openrouter
        self._ttl = ttl
        self._clock = clock
        self._cached: Catalogue | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> Catalogue:
        async with self._lock:  # one refresh at a time; the others then find it fresh
            if self._cached is not None and self._clock() - self._fetched_at < self._ttl:
                return self._cached
            try:
                chat, edit = await asyncio.gather(
                    self._openrouter.models(input_modalities="image", output_modalities="text"),
                    self._openrouter.models(output_modalities="image"),
                )
            except DomainError as error:
                if self._cached is None:
                    raise
                log.warning("model list refresh failed; serving the previous one", error=error.message)
                return self._cached
            self._cached, self._fetched_at = split(chat, edit), self._clock()
            log.info("model list fetched", chat=len(self._cached.chat), edit=len(self._cached.edit))
            return self._cached
