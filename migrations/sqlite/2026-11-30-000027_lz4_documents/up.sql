-- Nothing on SQLite: it stores values uncompressed. On PostgreSQL the stored documents are
-- compressed with LZ4 from this migration on; the number is kept so that both backends list the
-- same migrations.
SELECT 1;
