"""What a session keeps about how it works: privacy, compression presets and profiles."""

from __future__ import annotations

from gateway.openapi import ApiRoute
from gateway.views import privacy, profiles
from imagetools_common.contracts import image as contract

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute(
        "GET",
        "/api/v1/privacy",
        privacy.get_privacy,
        "Whether edited copies keep the location",
        "privacy",
        response=contract.PrivacySettings,
    ),
    ApiRoute(
        "PUT",
        "/api/v1/privacy",
        privacy.put_privacy,
        "Keep or drop the location in edited copies made from now on",
        "privacy",
        body=contract.PrivacySettings,
        response=contract.PrivacySettings,
        creates_session=True,
    ),
    ApiRoute(
        "GET",
        "/api/v1/presets",
        profiles.presets,
        "Compression presets and profiles",
        "profiles",
        response=contract.PresetList,
    ),
    ApiRoute(
        "POST",
        "/api/v1/profiles",
        profiles.create_profile,
        "Save a compression profile",
        "profiles",
        body=contract.ProfileBody,
        response=contract.Preset,
        status=201,
        creates_session=True,
    ),
    ApiRoute(
        "PUT",
        "/api/v1/profiles/{profile_id}",
        profiles.update_profile,
        "Edit a profile or override a system preset",
        "profiles",
        body=contract.ProfileBody,
        response=contract.Preset,
        errors=(404,),
        creates_session=True,
    ),
    ApiRoute(
        "DELETE",
        "/api/v1/profiles/{profile_id}",
        profiles.delete_profile,
        "Delete a profile or reset a system preset",
        "profiles",
        response=contract.PresetList,
        errors=(404,),
    ),
)
