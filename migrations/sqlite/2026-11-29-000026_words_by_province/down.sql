-- Nothing on SQLite: PostgreSQL's GIN index of the whole text now holds each word within its
-- listing's province as well; SQLite's FTS5 index holds the words only, and a province filter
-- is a condition beside it.
SELECT 1;
