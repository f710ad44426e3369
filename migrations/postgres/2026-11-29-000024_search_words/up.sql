-- Every distinct word of the listings' full-text index, so a search can spell out its last word,
-- a prefix (`'nuoc':*`), as the indexed words that start with it (`'nuoc' | 'nuocmam'`):
-- PostgreSQL's GIN index collects every row of a prefix into one bitmap before intersecting it
-- with the rest of the query (270,000 rows for "nuoc" at 1,000,000 listings), but skips
-- through the posting lists of words. The words are the lexemes of the index's own parser;
-- `COLLATE "C"` orders them by bytes, so the words starting with a prefix are one range of the
-- primary key. Every listing write adds its words (techex_persistence::search::add_words);
-- none is ever removed. SQLite's FTS5 has its own prefix index and needs no such table.
CREATE TABLE search_words (word TEXT COLLATE "C" PRIMARY KEY);
INSERT INTO search_words (word)
SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('simple', search_text))) FROM listings
ORDER BY 1;
