DROP INDEX listings_search_title;
DROP INDEX listings_search_text;
DROP INDEX listings_status_trl;
DROP INDEX listings_status_price;
DROP INDEX listings_status_updated;
DROP TABLE listing_terms;
ALTER TABLE listings DROP COLUMN search_title;
