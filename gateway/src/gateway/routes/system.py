"""The probe and the API's own description."""

from __future__ import annotations

from gateway.health import HealthReport
from gateway.openapi import ApiRoute
from gateway.views import system

HEALTH: tuple[ApiRoute, ...] = (
    ApiRoute(
        "GET",
        "/health",
        system.health,
        "Service health",
        "system",
        response=HealthReport,
        errors_as_response=(503,),
        calls_services=False,  # the probe's own answer: 503 naming who is missing
        description="503 (the same report) names the services that did not answer and the problems of "
        "those that answered but cannot work.",
    ),
)

DOCUMENTATION: tuple[ApiRoute, ...] = (
    ApiRoute(
        "GET", "/api/v1/openapi.json", system.openapi, "This OpenAPI document", "system", calls_services=False
    ),
    ApiRoute(
        "GET",
        "/api/v1/docs",
        system.docs,
        "Interactive API reference",
        "system",
        content_type="text/html",
        calls_services=False,
    ),
)
