DROP TABLE sync_cursors;
DROP TABLE mirrored_records;
