-- When the write of a key's request committed: set in the write's own transaction, so that a
-- retry after a crash that lost the answer never runs the write again.
ALTER TABLE idempotency_keys ADD COLUMN committed_at TIMESTAMP;
