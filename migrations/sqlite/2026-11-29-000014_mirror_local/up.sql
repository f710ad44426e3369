-- Which hub a local record is mirrored from, asked on every write through the API (a mirrored
-- record is refused local edits): by kind of record and local id.
CREATE INDEX mirrored_records_local ON mirrored_records (entity, local_id);
