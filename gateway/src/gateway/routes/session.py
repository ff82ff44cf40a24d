"""The browser session and its UI preferences."""

from __future__ import annotations

from gateway.openapi import ApiRoute
from gateway.ratelimit import JOIN
from gateway.schemas import DeviceListView, JoinBody, JoinOfferView, SessionView, SettingBody, SettingView
from gateway.views import devices, session

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
        description="For every device at once: their cookies stop working on every gateway.",
    ),
    ApiRoute(
        "GET",
        "/api/v1/session/devices",
        devices.list_devices,
        "The devices (browsers) using this session",
        "session",
        response=DeviceListView,
        description="Empty before a session exists. `current` marks the browser asking.",
    ),
    ApiRoute(
        "DELETE",
        "/api/v1/session/devices/{device_id}",
        devices.remove_device,
        "Remove a device from the session, or leave it",
        "session",
        status=204,
        errors=(404,),
        description="The device's cookie stops working at once on every gateway. Removing this browser's "
        "own device is leaving: its cookie is cleared, and when it was the last device the session ends "
        "and its data is deleted.",
    ),
    ApiRoute(
        "POST",
        "/api/v1/session/join-offer",
        devices.make_join_offer,
        "Let another device join this session",
        "session",
        response=JoinOfferView,
        status=201,
        limit=JOIN,
        creates_session=True,
        description="A QR link (the public app URL, `/join` and a single-use token in the fragment) and a "
        "short code, both valid for 5 minutes and usable once. A new offer replaces this device's last one.",
    ),
    ApiRoute(
        "POST",
        "/api/v1/session/join",
        devices.join,
        "Join the session of a QR link or short code",
        "session",
        body=JoinBody,
        response=SessionView,
        errors=(404, 409, 410),
        limit=JOIN,
        description="Give `token` (from the QR link) or `code`. This browser becomes a device of that "
        "session with its own cookie. 404: no offer has this token or code (a wrong code counts "
        "against the offer it was close to; 5 kill it); 410: expired, already used or killed; "
        "409: this browser is in another session and `leave_current` was not set, or is in this one.",
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
