-- The stored documents (each record's JSON, the change log's data, the listings' search text)
-- compressed with LZ4 instead of PostgreSQL's default pglz. Most of them are 1-3 KB, past the
-- size at which PostgreSQL compresses a value, so every read by id, page, export and feed page
-- decompresses them: pglz took about 6 µs a change of the feed, LZ4 about half (bench/README.md).
-- Values written before keep their compression until they are written again; both read alike.
-- A server built without LZ4 (`compression method lz4 not supported`) keeps pglz.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE change_log ALTER COLUMN data SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE listings ALTER COLUMN content SET COMPRESSION lz4, '
        'ALTER COLUMN search_text SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE organizations ALTER COLUMN content SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE centers ALTER COLUMN content SET COMPRESSION lz4, '
        'ALTER COLUMN search_text SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE contracts ALTER COLUMN content SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no LZ4: documents stay compressed with pglz';
END
$$;
