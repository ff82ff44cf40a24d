-- Browser sessions. Every other schema's rows reference sessions.sessions(id) ON DELETE CASCADE,
-- so ending or expiring a session removes everything it owns in one transaction.
CREATE TABLE sessions.sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- SHA-256 of the cookie value: a database leak does not hand out live sessions.
    token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);

CREATE INDEX sessions_expires_at_idx ON sessions.sessions (expires_at);

-- Small per-session preferences (chosen AI model, UI choices) for the other services.
CREATE TABLE sessions.settings (
    session_id uuid NOT NULL REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    key text NOT NULL,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, key)
);
