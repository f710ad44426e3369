-- Saved searches and match subscriptions, kept by an API client for its organization. A saved
-- search keeps `query`, the query string of `GET /v1/listings` it runs; a match subscription
-- keeps `matches_for`, the organization's own listing whose new matches it follows.
CREATE TABLE saved_searches (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    client_id TEXT NOT NULL REFERENCES api_clients (id),
    name TEXT NOT NULL,
    query TEXT,
    matches_for TEXT REFERENCES listings (id),
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX saved_searches_organization ON saved_searches (organization_id, id);

-- The listings that match a search now, as the alert job last saw them: a listing alerts when
-- it comes in here, and leaves when it stops matching (so that matching again alerts again).
CREATE TABLE search_matches (
    search_id TEXT NOT NULL REFERENCES saved_searches (id),
    listing_id TEXT NOT NULL,
    PRIMARY KEY (search_id, listing_id)
);

-- One alert per listing that newly matched a search: the listing as it was then (`listing`,
-- a JSON summary of published fields), and for a match subscription its score and reasons.
CREATE TABLE search_alerts (
    id TEXT PRIMARY KEY NOT NULL,
    search_id TEXT NOT NULL REFERENCES saved_searches (id),
    listing_id TEXT NOT NULL,
    listing TEXT NOT NULL,
    score BIGINT,
    reasons TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX search_alerts_search ON search_alerts (search_id, id);
