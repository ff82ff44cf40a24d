"""Pure rules of the connect flow and the credential box."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import pytest

from oauth_service import core
from oauth_service.crypto import CredentialUnusable, KeyBox

SECRET = "s" * 48
KEY = "sk-or-v1-" + "ab" * 32


# RFC 7636, appendix B: the worked S256 example, a known answer rather than the formula restated.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifier_and_challenge_follow_rfc_7636() -> None:
    """Verifiers are fresh, 43 to 128 unreserved characters; the challenge is the RFC's S256 answer."""
    assert core.PendingFlow(state="s", verifier=RFC_VERIFIER).challenge == RFC_CHALLENGE
    flows = [core.new_flow() for _ in range(200)]
    assert len({f.verifier for f in flows}) == 200 and len({f.state for f in flows}) == 200
    for flow in flows[:20]:
        assert 43 <= len(flow.verifier) <= 128
        assert re.fullmatch(r"[A-Za-z0-9\-._~]+", flow.verifier)


def test_authorize_url_is_s256_with_the_configured_callback() -> None:
    """The approval URL carries the configured callback, the S256 challenge and the state, never plain."""
    flow = core.new_flow()
    url = core.authorize_url("https://openrouter.ai/auth", "https://img.example/oauth/callback", flow)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://openrouter.ai/auth"
    assert query == {
        "callback_url": "https://img.example/oauth/callback",
        "code_challenge": flow.challenge,
        "code_challenge_method": "S256",
        "state": flow.state,
    }


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://img.example/oauth/callback", True),
        ("http://localhost:8081/oauth/callback", True),
        ("http://127.0.0.1:8082/oauth/callback", True),
        ("http://192.168.1.5:8082/oauth/callback", False),
        ("http://img.example/oauth/callback", False),
    ],
)
def test_callback_urls_openrouter_accepts(url: str, ok: bool) -> None:
    """OpenRouter takes https or localhost callbacks; anything else gets an explanation naming the fix."""
    problem = core.callback_problem(url)
    assert (problem is None) == ok
    if problem:
        assert url in problem and "OPENROUTER_APP_URL" in problem


def test_key_hash_and_revoke_link() -> None:
    """OpenRouter identifies a key by its SHA-256 in hex: the revoke link is built from it."""
    hashed = core.key_hash(KEY)
    assert hashed == hashlib.sha256(KEY.encode()).hexdigest()
    assert core.revoke_url(hashed) == f"https://openrouter.ai/keys/{hashed}"


def test_sealed_keys_open_only_for_their_session() -> None:
    """A sealed key round-trips for its session; moved to another session it is unusable."""
    box = KeyBox([SECRET])
    owner = uuid4()
    blob = box.seal(KEY, owner)
    assert KEY.encode() not in blob and box.open(blob, owner) == KEY
    assert box.seal(KEY, owner) != blob  # a fresh nonce every time
    with pytest.raises(CredentialUnusable):
        box.open(blob, uuid4())
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(CredentialUnusable):
        box.open(tampered, owner)


def test_key_rotation() -> None:
    """After adding a new secret first, old blobs still open and new ones use the new key."""
    old = KeyBox(["o" * 48])
    owner = uuid4()
    blob = old.seal(KEY, owner)
    rotated = KeyBox(["n" * 48, "o" * 48])
    assert rotated.open(blob, owner) == KEY and rotated.needs_rotation(blob)
    assert not rotated.needs_rotation(rotated.seal(KEY, owner))
    with pytest.raises(CredentialUnusable, match="no longer has"):
        KeyBox(["n" * 48]).open(blob, owner)
