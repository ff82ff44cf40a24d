"""Pure session rules: tokens, hashing, expiry and settings limits. No I/O."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from pydantic import JsonValue

from imagetools_common.errors import ValidationFailed

# Session tokens are the shared opaque tokens; re-exported as this core's vocabulary.
from imagetools_common.tokens import TOKEN_BYTES, hash_token, is_well_formed, new_token

__all__ = ["TOKEN_BYTES", "hash_token", "is_well_formed", "new_token"]

TOUCH_INTERVAL = timedelta(minutes=1)
MAX_SETTING_BYTES = 16 * 1024
# A \u0000 escape not itself escaped (an even run of backslashes before it): PostgreSQL's jsonb
# cannot store the NUL character, so it is refused here rather than failing in the database.
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def expires_at(created_at: datetime, expiry_days: int) -> datetime:
    """Sessions expire a fixed time after they begin: a privacy promise, not an idle timer."""
    return created_at + timedelta(days=expiry_days)


def needs_touch(last_seen_at: datetime, now: datetime) -> bool:
    """last_seen is kept to the minute, so a busy session costs one write a minute, not one per request."""
    return now - last_seen_at >= TOUCH_INTERVAL


def check_setting_value(value: JsonValue) -> None:
    encoded = json.dumps(value, separators=(",", ":"))
    size = len(encoded.encode())
    if size > MAX_SETTING_BYTES:
        raise ValidationFailed(
            f"setting value is {size} bytes; the limit is {MAX_SETTING_BYTES}", details={"field": "value"}
        )
    if _ESCAPED_NUL.search(encoded):
        raise ValidationFailed(
            "setting value: the NUL character cannot be stored", details={"field": "value"}
        )
