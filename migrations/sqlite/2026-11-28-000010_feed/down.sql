ALTER TABLE change_log DROP COLUMN audience;
