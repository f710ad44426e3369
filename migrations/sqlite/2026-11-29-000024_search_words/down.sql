-- Nothing on SQLite: PostgreSQL keeps the words of its full-text index in `search_words` so a
-- search can spell out its prefix word as the words it starts; FTS5 has its own prefix index
-- (`prefix = '2 3'`, migration 000004) and searches a prefix directly.
SELECT 1;
