DROP INDEX mirrored_records_local;
