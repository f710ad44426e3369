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
SELECT DISTINCT l.id, 'transfer_form:' || j.value FROM listings l, json_each(l.content, '$.transfer_forms') j
UNION SELECT DISTINCT l.id, 'transfer_method:' || j.value FROM listings l, json_each(l.content, '$.transfer_methods') j
UNION SELECT DISTINCT l.id, 'right:' || j.value FROM listings l, json_each(l.content, '$.rights') j;

CREATE INDEX listings_status_updated ON listings (status, updated_at, id);
CREATE INDEX listings_status_price ON listings (status, price_amount, id);
CREATE INDEX listings_status_trl ON listings (status, trl, id);

-- The full-text index over the folded text (FTS5, built into the bundled SQLite). It narrows the
-- rows; the exact word patterns of techex_domain::search decide. Its rows carry the listing's
-- rowid, kept in step by triggers. (A table without INTEGER PRIMARY KEY may get new rowids from
-- VACUUM: the app never runs one; after a manual VACUUM, rebuild with
-- `DELETE FROM listings_fts; INSERT INTO listings_fts(rowid, search_title, search_text) SELECT rowid, search_title, search_text FROM listings;`.)
CREATE VIRTUAL TABLE listings_fts USING fts5(
    search_title, search_text, prefix = '2 3', tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO listings_fts (rowid, search_title, search_text) SELECT rowid, search_title, search_text FROM listings;
CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN
    INSERT INTO listings_fts (rowid, search_title, search_text) VALUES (new.rowid, new.search_title, new.search_text);
END;
CREATE TRIGGER listings_fts_update AFTER UPDATE OF search_title, search_text ON listings BEGIN
    DELETE FROM listings_fts WHERE rowid = old.rowid;
    INSERT INTO listings_fts (rowid, search_title, search_text) VALUES (new.rowid, new.search_title, new.search_text);
END;
CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
    DELETE FROM listings_fts WHERE rowid = old.rowid;
END;
