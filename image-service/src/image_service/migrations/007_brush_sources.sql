-- The erase/restore brush (docs/ARCHITECTURE.md, "The erase/restore brush"): a mask remembers the
-- version whose pixels it cut out, so a brush can re-compose from them at any later time. NULL:
-- a mask stored before this migration (its source is unknown; the brush explains and refuses).
ALTER TABLE images.masks ADD COLUMN source integer;
-- Pruning keeps a source while a mask refers to it (repo.add_version); this key is the guard
-- behind that rule. Checked at commit: deleting a whole image (or a branch holding both a source
-- and the versions cut from it) removes the referring masks in the same transaction.
ALTER TABLE images.masks ADD CONSTRAINT masks_source_fkey
    FOREIGN KEY (image_id, source) REFERENCES images.versions (image_id, number)
    DEFERRABLE INITIALLY DEFERRED;
