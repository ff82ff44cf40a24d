"""The installed web app's share target (the manifest's ``share_target.action``)."""

from __future__ import annotations

from gateway.openapi import ApiRoute
from gateway.views import share_target

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute(
        "POST",
        "/share-target",
        share_target.share_target,
        "Photos shared to the app before its service worker ran (a 303 into the app)",
        "app",
        status=303,
        description="A phone's share sheet posts the photos here as `multipart/form-data` (field "
        "`photos`). The app's service worker normally takes this request and uploads them; when it is "
        "not running yet the request reaches the server, which stores nothing, reads or creates no "
        "session and redirects to `/?share=again`, where the app asks to share once more. It needs no "
        "CSRF header: it changes nothing.",
        calls_services=False,
        csrf=False,
    ),
)
