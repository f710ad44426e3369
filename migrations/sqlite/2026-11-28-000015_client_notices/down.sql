-- Nothing on SQLite: the client check is not cached there (no notices, and no round trip to
-- save). The number is kept so that both backends list the same migrations.
SELECT 1;
