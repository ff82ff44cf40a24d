-- Images belong to a session and go with it (ON DELETE CASCADE, see DESIGN.md).
-- Versions, blobs and thumbnails arrive with the images capability in later migrations.
CREATE TABLE images.images (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX images_session_idx ON images.images (session_id, created_at DESC);
