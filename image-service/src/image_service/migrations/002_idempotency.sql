-- What a keyed mutation answered, so that a retry (the gateway's, after a replica died or timed
-- out, or the client's own with the same Idempotency-Key) gets that answer instead of applying the
-- change twice. Written in the same transaction as the change it records.
CREATE TABLE images.idempotency (
    session_id uuid NOT NULL REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    key text NOT NULL,
    -- The endpoint and a hash of the request without its key: reusing a key for another request
    -- is refused rather than answered with an unrelated reply.
    fingerprint text NOT NULL,
    reply jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, key)
);

-- Keys go with their session, and after a day even while it lives (see repo.IDEMPOTENCY_TTL).
CREATE INDEX idempotency_age_idx ON images.idempotency (session_id, created_at);
