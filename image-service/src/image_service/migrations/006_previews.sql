-- Compression previews (docs/ARCHITECTURE.md, "Compare and compression previews"): a result shown
-- before Apply, kept briefly per session so that Apply stores exactly these bytes. Not a version,
-- counted in no quota and listed nowhere; gone with the version it was computed for (and so with
-- its image) and with its session, and swept after a few minutes.
CREATE TABLE images.previews (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    image_id uuid NOT NULL,
    based_on integer NOT NULL,
    preset text,
    settings jsonb NOT NULL,
    outcome jsonb NOT NULL,
    data bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (image_id, based_on) REFERENCES images.versions (image_id, number) ON DELETE CASCADE
);
ALTER TABLE images.previews ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE INDEX previews_session_idx ON images.previews (session_id, created_at DESC);
CREATE INDEX previews_version_idx ON images.previews (image_id, based_on);
CREATE INDEX previews_created_idx ON images.previews (created_at);
