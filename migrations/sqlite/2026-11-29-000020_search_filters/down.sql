ALTER TABLE listings DROP COLUMN search_filters;
