DROP INDEX listings_published_id;
