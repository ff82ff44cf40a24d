"""Pure rules of the connect flow: PKCE values, the authorize URL, callback checks, key hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

FLOW_MINUTES = 10  # OpenRouter's codes live ten minutes; a pending flow no longer
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


@dataclass(frozen=True)
class PendingFlow:
    state: str
    verifier: str

    @property
    def challenge(self) -> str:
        return str(create_s256_code_challenge(self.verifier))  # authlib is untyped


def new_flow() -> PendingFlow:
    """A fresh verifier (48 characters: authlib's default 30 is too short for PKCE) and state."""
    return PendingFlow(state=secrets.token_urlsafe(24), verifier=generate_token(48))


def authorize_url(auth_url: str, callback_url: str, flow: PendingFlow) -> str:
    """OpenRouter's approval page for this flow; always S256, never plain."""
    query = urlencode(
        {
            "callback_url": callback_url,
            "code_challenge": flow.challenge,
            "code_challenge_method": "S256",
            "state": flow.state,
        }
    )
    return f"{auth_url}?{query}"


def state_matches(expected: str, given: str) -> bool:
    """Whether a callback's state is this flow's own (constant-time compare)."""
    return hmac.compare_digest(expected.encode(), given.encode())


def callback_problem(callback_url: str) -> str | None:
    """Why OpenRouter would refuse this callback URL, or None: it takes https, or localhost on any port."""
    parts = urlsplit(callback_url)
    if parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in LOCAL_HOSTS):
        return None
    return (
        f"OpenRouter only accepts https or localhost callback URLs; this server uses {callback_url}. "
        "Set OPENROUTER_APP_URL (or OPENROUTER_OAUTH_CALLBACK_URL) to an https address, "
        "or open the app through localhost."
    )


def key_hash(key: str) -> str:
    """OpenRouter's identifier for a key: the lowercase hex SHA-256 of the key."""
    return hashlib.sha256(key.encode()).hexdigest()


def revoke_url(hashed: str) -> str:
    return f"https://openrouter.ai/keys/{hashed}"


def denial_reason(error: str) -> str:
    if error == "access_denied":
        return "You declined the connection at OpenRouter."
    return f"OpenRouter did not connect the account ({error[:80]})."
