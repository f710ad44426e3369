DROP TABLE change_log;
DROP TABLE listing_fields;
DROP TABLE listings;
