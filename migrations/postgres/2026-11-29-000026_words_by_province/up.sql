-- Each word and filter token of a listing also within its current province (`/79/nuoc`,
-- `/79/field/20`), in the same GIN index as the words and the filter tokens: a search with a
-- province looks its words and filters up there, whose posting lists hold that province's
-- listings only, instead of skipping through a common word's and a filter's (1,000,000
-- listings: "nuoc" in 513,000, field 4 in 278,000). Made from the row by the index expression,
-- so they follow a listing's province with nothing written by the app; the regular expression
-- puts `/<province>/` before each word and in place of each token's leading `/`.
-- techex_persistence::search::Column::indexed repeats the expression for the planner to match.
DROP INDEX listings_search_text;
CREATE INDEX listings_search_text ON listings USING gin (to_tsvector('simple',
    search_text || ' ' || search_filters || ' ' ||
    regexp_replace(search_text || ' ' || search_filters, '(^| )/?', '\1/' || province || '/', 'g')));
