DROP INDEX change_log_feed;
ALTER TABLE change_log DROP COLUMN audience;
