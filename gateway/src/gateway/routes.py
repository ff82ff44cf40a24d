"""The public HTTP API, declared once: aiohttp serves it and OpenAPI documents it."""

from __future__ import annotations

from gateway.health import HealthReport
from gateway.openapi import ApiRoute
from gateway.schemas import SessionView, SettingBody, SettingView
from gateway.views import session, system

ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute(
        "GET",
        "/health",
        system.health,
        "Service health",
        "system",
        response=HealthReport,
        errors=(503,),
        description="503 names the services that did not answer.",
    ),
    ApiRoute(
        "GET",
        "/api/v1/session",
        session.get_session,
        "This browser session",
        "session",
        response=SessionView,
        errors=(503, 504),
        description="Issues a session cookie on first use; an expired or unknown cookie gets a fresh one.",
    ),
    ApiRoute(
        "DELETE",
        "/api/v1/session",
        session.delete_session,
        "End the session and delete its data",
        "session",
        status=204,
        errors=(403, 503),
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
        errors=(400, 403, 413, 415, 422),
    ),
    ApiRoute(
        "DELETE",
        "/api/v1/settings/{key}",
        session.delete_setting,
        "Forget a UI preference",
        "session",
        status=204,
        errors=(403, 422),
    ),
    ApiRoute("GET", "/api/v1/openapi.json", system.openapi, "This OpenAPI document", "system"),
    ApiRoute(
        "GET", "/api/v1/docs", system.docs, "Interactive API reference", "system", content_type="text/html"
    ),
)
