"""Pure session rules: tokens, hashing, expiry, join codes and settings limits. No I/O."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import JsonValue

from imagetools_common.errors import Gone, ValidationFailed

# Session tokens are the shared opaque tokens; re-exported as this core's vocabulary.
from imagetools_common.tokens import TOKEN_BYTES, hash_token, is_well_formed, new_token

__all__ = ["TOKEN_BYTES", "hash_token", "is_well_formed", "new_token"]

TOUCH_INTERVAL = timedelta(minutes=1)
MAX_SETTING_BYTES = 16 * 1024
# A \u0000 escape not itself escaped (an even run of backslashes before it): PostgreSQL's jsonb
# cannot store the NUL character, so it is refused here rather than failing in the database.
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


# Join offers: how long a QR token and short code stay valid, and how many wrong codes kill one.
OFFER_LIFETIME = timedelta(minutes=5)
MAX_WRONG_CODES = 5
# Short codes are typed from one screen into another: no 0/O, 1/I/L or U/V look-alikes.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
CODE_LENGTH = 10  # 29^10 ≈ 2^48.6; the first LOCATOR_LENGTH name the offer, the rest (2^34) is secret
LOCATOR_LENGTH = 3
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
_CODE_SEPARATORS = re.compile(r"[\s\-]")


@dataclass(frozen=True)
class ShortCode:
    """A join code as typed back: ``locator`` finds the offer, the whole code must match its hash."""

    code: str

    @property
    def locator(self) -> str:
        return self.code[:LOCATOR_LENGTH]

    @property
    def hash(self) -> bytes:
        return hash_token(self.code)


def new_code() -> ShortCode:
    return ShortCode("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))


def display_code(code: ShortCode) -> str:
    """Two groups of five, as shown to be typed: ``K7M2Q-9XHT4``."""
    half = CODE_LENGTH // 2
    return f"{code.code[:half]}-{code.code[half:]}"


def parse_code(typed: str) -> ShortCode | None:
    """A typed code, forgiving case, spaces and dashes; None when it cannot be one of ours."""
    code = _CODE_SEPARATORS.sub("", typed).upper()
    return ShortCode(code) if _CODE.fullmatch(code) else None


def offer_refusal(*, used: bool, expired: bool, failed_attempts: int) -> Gone | None:
    """Why a join offer whose token or code is right can no longer be redeemed, if it can't."""
    again = "make a new one on the other device"
    if used:
        return Gone(f"This join link or code was already used: {again}")
    if expired:
        return Gone(f"This join link or code has expired: {again}")
    if failed_attempts >= MAX_WRONG_CODES:
        return Gone(f"Too many wrong codes were tried for this offer: {again}")
    return None


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
