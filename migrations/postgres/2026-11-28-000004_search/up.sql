-- Listing search: the folded title apart from the rest of the folded text (titles rank higher),
-- the multi-valued vocabulary of a listing as rows (filters and facets), and the full-text index.
-- Listings written before this migration have an empty `search_title` until their next write:
-- they are still found by every word, only not ranked for words in their title.
ALTER TABLE listings ADD COLUMN search_title TEXT NOT NULL DEFAULT '';

-- `transfer_form:<word>`, `transfer_method:<word>`, `right:<word>`: one row each.
CREATE TABLE listing_terms (
    listing_id TEXT NOT NULL REFERENCES listings (id),
    term TEXT NOT NULL,
    PRIMARY KEY (listing_id, term)
);
CREATE INDEX listing_terms_term ON listing_terms (term, listing_id);
INSERT INTO listing_terms (listing_id, term)
SELECT l.id, 'transfer_form:' || j FROM listings l, json_array_elements_text((l.content::json) -> 'transfer_forms') j
UNION SELECT l.id, 'transfer_method:' || j FROM listings l, json_array_elements_text((l.content::json) -> 'transfer_methods') j
UNION SELECT l.id, 'right:' || j FROM listings l, json_array_elements_text((l.content::json) -> 'rights') j;

CREATE INDEX listings_status_updated ON listings (status, updated_at, id);
CREATE INDEX listings_status_price ON listings (status, price_amount, id);
CREATE INDEX listings_status_trl ON listings (status, trl, id);

-- GIN indexes over the folded text, words as they are ('simple': no stemming, no stop words).
-- They narrow the rows; the exact word patterns of techex_domain::search decide.
CREATE INDEX listings_search_text ON listings USING gin (to_tsvector('simple', search_text));
CREATE INDEX listings_search_title ON listings USING gin (to_tsvector('simple', search_title));
