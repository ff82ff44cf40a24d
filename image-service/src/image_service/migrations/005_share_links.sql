-- Public, read-only links to one version of an image (docs/ARCHITECTURE.md, "Share links").
-- Only the token's SHA-256 is kept. A link goes with its version (and so with its image: versions
-- cascade from it) and with its session; revoking deletes the row.
CREATE TABLE images.share_links (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    image_id uuid NOT NULL,
    version integer NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    FOREIGN KEY (image_id, version) REFERENCES images.versions (image_id, number) ON DELETE CASCADE
);

CREATE INDEX share_links_image_idx ON images.share_links (image_id, created_at DESC);
-- Ending a session deletes its links through this index, not a scan.
CREATE INDEX share_links_session_idx ON images.share_links (session_id);
