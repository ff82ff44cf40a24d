"""A device's name from its User-Agent ("Chrome on Android"): pure, for the session's device list.

Only a label for people to tell their devices apart; nothing is decided on it. Order matters:
Edge, Opera and Samsung Internet also say Chrome, Chrome also says Safari, Android also says Linux.
"""

from __future__ import annotations

import re

from imagetools_common.contracts.session import DEVICE_NAME_MAX_LENGTH

_BROWSERS = (
    ("Edge", re.compile(r"\b(?:Edg|EdgA|EdgiOS)/")),
    ("Opera", re.compile(r"\b(?:OPR|OPX)/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|HeadlessChrome|CriOS|Chromium)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"\bAndroid\b")),
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)


def device_name(user_agent: str) -> str:
    """ "Browser on System", either alone when only one is known, or "" when neither is."""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"[:DEVICE_NAME_MAX_LENGTH]
    return browser or system or ""
