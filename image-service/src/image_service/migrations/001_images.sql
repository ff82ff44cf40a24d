-- Images belong to a session and go with it (ON DELETE CASCADE, see DESIGN.md).
CREATE TABLE images.images (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    filename text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The upload exactly as received, whatever happens to the versions.
    original bytea NOT NULL,
    original_format text NOT NULL,
    first_frame_only boolean NOT NULL DEFAULT false,
    current_version integer NOT NULL DEFAULT 1,
    -- Version numbers are never reused, so a version-addressed URL can be cached forever.
    last_version integer NOT NULL DEFAULT 1,
    CHECK (current_version BETWEEN 1 AND last_version)
);

CREATE INDEX images_session_idx ON images.images (session_id, created_at DESC);

-- One row per version: number 1 is the working copy of the upload (orientation applied).
CREATE TABLE images.versions (
    image_id uuid NOT NULL REFERENCES images.images (id) ON DELETE CASCADE,
    number integer NOT NULL CHECK (number >= 1),
    operation text NOT NULL,
    params jsonb NOT NULL DEFAULT '{}',
    format text NOT NULL,
    width integer NOT NULL CHECK (width > 0),
    height integer NOT NULL CHECK (height > 0),
    bytes integer NOT NULL,
    data bytea NOT NULL,
    thumbnail bytea NOT NULL,
    compression jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (image_id, number)
);

-- Image data is already compressed: storing it EXTERNAL skips TOAST's pointless second pass.
ALTER TABLE images.images ALTER COLUMN original SET STORAGE EXTERNAL;
ALTER TABLE images.versions ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE images.versions ALTER COLUMN thumbnail SET STORAGE EXTERNAL;

-- Compression profiles of a session; a row whose id is a system preset's overrides it.
CREATE TABLE images.profiles (
    session_id uuid NOT NULL REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    id text NOT NULL,
    name text NOT NULL,
    settings jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, id)
);
