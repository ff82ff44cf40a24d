-- The mask a background removal made, beside the version it made (GET .../mask?version=N).
-- It goes with its version: undo keeps both, pruning or a new branch drops both.
CREATE TABLE images.masks (
    image_id uuid NOT NULL,
    number integer NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (image_id, number),
    FOREIGN KEY (image_id, number) REFERENCES images.versions (image_id, number) ON DELETE CASCADE
);

-- A PNG is already compressed: skip TOAST's second pass, as for image data.
ALTER TABLE images.masks ALTER COLUMN data SET STORAGE EXTERNAL;
