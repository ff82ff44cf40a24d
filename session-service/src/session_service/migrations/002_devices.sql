-- Several devices (browsers) per session, each with its own token (docs/ARCHITECTURE.md,
-- "Devices and joining"). A session whose last device leaves is ended.
CREATE TABLE sessions.devices (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    -- SHA-256 of the device's cookie value, as the session's was before.
    token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    -- Derived from the User-Agent by the gateway ("Chrome on Android"); '' until it is known.
    name text NOT NULL DEFAULT '' CHECK (char_length(name) <= 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX devices_session_id_idx ON sessions.devices (session_id);

-- Every existing session's browser becomes its first device, keeping its cookie.
INSERT INTO sessions.devices (session_id, token_hash, created_at, last_seen_at)
SELECT id, token_hash, created_at, last_seen_at FROM sessions.sessions;

ALTER TABLE sessions.sessions DROP COLUMN token_hash;

-- A device's invitation for another device to join its session: a QR token and a short code,
-- single use, for a few minutes. Only hashes are stored; the code's first characters (the
-- locator) are kept plain so that a wrong code can be counted against its offer.
CREATE TABLE sessions.join_offers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    -- One live offer per device: a new one replaces it; removing the device withdraws it.
    device_id uuid NOT NULL UNIQUE REFERENCES sessions.devices (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    locator text NOT NULL UNIQUE,
    code_hash bytea NOT NULL CHECK (octet_length(code_hash) = 32),
    failed_attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    CHECK (expires_at > created_at)
);

CREATE INDEX join_offers_expires_at_idx ON sessions.join_offers (expires_at);
