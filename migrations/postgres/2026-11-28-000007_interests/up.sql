-- Expressions of interest in listings. The sender's name, organization, e-mail, phone and message
-- are kept for the listing's publisher to answer; they never go to the change log.
CREATE TABLE interests (
    id TEXT PRIMARY KEY NOT NULL,
    listing_id TEXT NOT NULL REFERENCES listings (id),
    sender_organization_id TEXT REFERENCES organizations (id),
    sender_client_id TEXT,
    sender_name TEXT,
    sender_organization TEXT,
    sender_email TEXT,
    sender_phone TEXT,
    message TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP
);
-- A listing's interests newest first (ids are UUIDv7, in time order), and its counts.
CREATE INDEX interests_listing ON interests (listing_id, id);
