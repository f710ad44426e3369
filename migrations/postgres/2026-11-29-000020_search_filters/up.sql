-- A search with words and filters (kind, province, field) answered by one GIN index: each
-- listing's filters as tokens beside its folded words (`/kind/offer /province/79 /field/2
-- /field/20 /field/206`, see techex_domain::search::IndexFilter), so PostgreSQL intersects the
-- posting lists of the words and the filters inside the index instead of combining the large
-- bitmaps of a common word and a province (1,000,000 listings: "nuoc" alone is in 270,000).
-- The app writes the tokens on every write of a listing; existing rows get them here, in the
-- order the app writes them (field code starts sorted, each once). The words' index is dropped
-- first: the update rewrites every row, and would otherwise insert each into it again.
DROP INDEX listings_search_text;
ALTER TABLE listings ADD COLUMN search_filters TEXT NOT NULL DEFAULT '';
UPDATE listings SET search_filters = '/kind/' || kind || ' /province/' || province || COALESCE((
    SELECT string_agg(' /field/' || prefix, '' ORDER BY prefix COLLATE "C")
    FROM (SELECT DISTINCT unnest(ARRAY[substr(field_code, 1, 1), substr(field_code, 1, 2), field_code]) AS prefix
          FROM listing_fields WHERE listing_fields.listing_id = listings.id) AS prefixes), '');
-- The same name, the words and now the filter tokens: every search by words reads this index.
CREATE INDEX listings_search_text ON listings USING gin (to_tsvector('simple', search_text || ' ' || search_filters));
