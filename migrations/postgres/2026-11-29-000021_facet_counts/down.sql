DROP INDEX listings_live_expiry;
DROP TABLE facet_counts;
