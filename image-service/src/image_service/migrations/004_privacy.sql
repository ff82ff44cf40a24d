-- What a session chose about metadata in the versions it makes (absent: the defaults).
CREATE TABLE images.preferences (
    session_id uuid PRIMARY KEY REFERENCES sessions.sessions (id) ON DELETE CASCADE,
    -- Off by default: every version made from the original drops its GPS location.
    keep_location boolean NOT NULL DEFAULT false
);

-- Whether a file holds a location, read from its bytes when it was stored. Rows stored before
-- this migration were never checked, so they count as holding one until proven otherwise.
ALTER TABLE images.versions ADD COLUMN has_location boolean NOT NULL DEFAULT true;
ALTER TABLE images.versions ALTER COLUMN has_location DROP DEFAULT;
ALTER TABLE images.images ADD COLUMN original_has_location boolean NOT NULL DEFAULT true;
ALTER TABLE images.images ALTER COLUMN original_has_location DROP DEFAULT;
