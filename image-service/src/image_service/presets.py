"""Compression presets: the system ones, a session's overrides of them, and its own profiles.

The merge is pure (``merged``, ``settings_of``); ``Presets`` is the use case over ``ProfileRepo``.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from image_service.imaging.compress import SYSTEM_PRESETS
from image_service.profile_repo import ProfileRepo
from imagetools_common.contracts import image as contract
from imagetools_common.errors import NotFound, ValidationFailed


def merged(saved: list[contract.Preset]) -> contract.PresetList:
    """The system presets in their order (a saved override in place of one), then the profiles."""
    by_id = {preset.id: preset for preset in saved}
    presets = []
    for preset_id, (name, settings) in SYSTEM_PRESETS.items():
        override = by_id.pop(preset_id, None)
        if override is None:
            presets.append(contract.Preset(id=preset_id, name=name, settings=settings, system=True))
        else:
            presets.append(override.model_copy(update={"system": True, "overridden": True}))
    return contract.PresetList(presets=presets + list(by_id.values()))


def settings_of(presets: contract.PresetList, preset_id: str) -> contract.CompressionSettings:
    """The settings a compress operation naming ``preset_id`` uses (a 422 naming the field if none)."""
    for preset in presets.presets:
        if preset.id == preset_id:
            return preset.settings
    raise ValidationFailed(f"preset: no preset or profile called {preset_id!r}", details={"field": "preset"})


class Presets:
    """List presets; create, change and delete profiles; override and reset system presets."""

    def __init__(self, repo: ProfileRepo) -> None:
        self._repo = repo

    async def for_session(self, session_id: UUID) -> contract.PresetList:
        return merged(await self._repo.saved(session_id))

    async def settings(self, session_id: UUID, preset_id: str) -> contract.CompressionSettings:
        return settings_of(await self.for_session(session_id), preset_id)

    async def create(self, request: contract.ProfileCreate) -> contract.Preset:
        profile_id = str(uuid.uuid4())
        await self._repo.save(request.session_id, profile_id, request.profile)
        body = request.profile
        return contract.Preset(id=profile_id, name=body.name, settings=body.settings, system=False)

    async def update(self, request: contract.ProfileUpdate) -> contract.Preset:
        """Change a profile, or override a system preset (which then keeps its id)."""
        system = request.profile_id in SYSTEM_PRESETS
        if not system and not await self._repo.exists(request.session_id, request.profile_id):
            raise NotFound("no such profile")
        await self._repo.save(request.session_id, request.profile_id, request.profile)
        body = request.profile
        return contract.Preset(
            id=request.profile_id, name=body.name, settings=body.settings, system=system, overridden=system
        )

    async def delete(self, ref: contract.ProfileRef) -> contract.PresetList:
        """Delete a profile, or reset a system preset to its defaults."""
        removed = await self._repo.delete(ref.session_id, ref.profile_id)
        if not removed and ref.profile_id not in SYSTEM_PRESETS:
            raise NotFound("no such profile")
        return await self.for_session(ref.session_id)
