-- `Idempotency-Key` on POST: the first answer to a client's key, replayed to its retries for 24 h.
-- A row is reserved (no status yet) before the request runs, so a concurrent retry finds it and
-- waits instead of running the request a second time; any server of a hub replays it.
CREATE TABLE idempotency_keys (
    client_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT,
    headers TEXT,
    body TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (client_id, idempotency_key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
