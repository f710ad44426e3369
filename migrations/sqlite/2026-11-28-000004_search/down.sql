DROP TRIGGER listings_fts_delete;
DROP TRIGGER listings_fts_update;
DROP TRIGGER listings_fts_insert;
DROP TABLE listings_fts;
DROP INDEX listings_status_trl;
DROP INDEX listings_status_price;
DROP INDEX listings_status_updated;
DROP TABLE listing_terms;
ALTER TABLE listings DROP COLUMN search_title;
