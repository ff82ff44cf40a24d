-- Both tables belong to a session and go with it (ON DELETE CASCADE, see DESIGN.md).

-- A connect flow in progress: at most one per session, valid for ten minutes, used once.
CREATE TABLE oauth.flows (
    session_id uuid PRIMARY KEY REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    state text NOT NULL,
    verifier text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The session's OpenRouter key, encrypted (AES-256-GCM, bound to the session id).
CREATE TABLE oauth.credentials (
    session_id uuid PRIMARY KEY REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    ciphertext bytea NOT NULL,
    key_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Set when OpenRouter rejected the key (revoked): the user is asked to reconnect.
    invalid_at timestamptz
);
