"""The browser session and its UI preferences."""

from __future__ import annotations

from gateway.openapi import ApiRoute
from gateway.schemas import SessionView, SettingBody, SettingView
from gateway.views import session

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute(
        "GET",
        "/api/v1/session",
        session.get_session,
        "This browser session",
        "session",
        response=SessionView,
        description="Before the visitor first stores something there is no session: `active` is false, "
        "the dates are null and the limits say what a session will allow. Never creates a session.",
    ),
    ApiRoute(
        "DELETE",
        "/api/v1/session",
        session.delete_session,
        "End the session and delete its data",
        "session",
        status=204,
    ),
    ApiRoute(
        "GET",
        "/api/v1/settings/{key}",
        session.get_setting,
        "Read a UI preference",
        "session",
        response=SettingView,
        errors=(422,),
    ),
    ApiRoute(
        "PUT",
        "/api/v1/settings/{key}",
        session.put_setting,
        "Store a UI preference",
        "session",
        body=SettingBody,
        response=SettingView,
        creates_session=True,
    ),
    ApiRoute(
        "DELETE",
        "/api/v1/settings/{key}",
        session.delete_setting,
        "Forget a UI preference",
        "session",
        status=204,
        errors=(422,),
    ),
)
