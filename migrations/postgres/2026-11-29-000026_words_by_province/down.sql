DROP INDEX listings_search_text;
CREATE INDEX listings_search_text ON listings USING gin (to_tsvector('simple', search_text || ' ' || search_filters));
