-- Technology listings. Queryable attributes are columns; the content as written is kept whole in
-- `content` (JSON), so what a publisher sent comes back unchanged.
CREATE TABLE listings (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    province TEXT NOT NULL,
    province_as_sent TEXT NOT NULL,
    trl BIGINT,
    price_amount BIGINT,
    ip_status TEXT NOT NULL,
    publisher TEXT,
    source_exchange TEXT,
    source_external_id TEXT,
    title_vi TEXT NOT NULL,
    search_text TEXT NOT NULL,
    content TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    expires_at TIMESTAMP,
    deleted_at TIMESTAMP
);
-- One listing per record of a source exchange, however often a portal pushes it.
CREATE UNIQUE INDEX listings_source ON listings (source_exchange, source_external_id);
CREATE INDEX listings_status_id ON listings (status, id);
CREATE INDEX listings_province_id ON listings (province, id);

CREATE TABLE listing_fields (
    listing_id TEXT NOT NULL REFERENCES listings (id),
    field_code TEXT NOT NULL,
    PRIMARY KEY (listing_id, field_code)
);
CREATE INDEX listing_fields_code ON listing_fields (field_code, listing_id);

-- Every write, in the transaction of the write: the audit trail and the source of partner feeds.
-- On SQLite the single writer makes `seq` order commit order.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    op TEXT NOT NULL,
    version BIGINT NOT NULL,
    actor TEXT,
    at TIMESTAMP NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX change_log_entity ON change_log (entity, entity_id, seq);
