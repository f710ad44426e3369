-- Technology transfer contracts. Queryable attributes are columns (the organizations involved,
-- for who may see a contract; the registration deadline, for the list of registrations to chase;
-- the province and signing day, for statistics); the content as recorded is kept whole in
-- `content` (JSON). Days are ISO 8601 text (`2026-04-01`), which sorts as the days do.
CREATE TABLE contracts (
    id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL,
    transferor_org TEXT REFERENCES organizations (id),
    transferee_org TEXT REFERENCES organizations (id),
    brokered_by TEXT REFERENCES organizations (id),
    recorded_by TEXT NOT NULL,
    listing_id TEXT REFERENCES listings (id),
    province TEXT,
    signed_on TEXT,
    registration_deadline TEXT,
    content TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX contracts_transferor ON contracts (transferor_org, id);
CREATE INDEX contracts_transferee ON contracts (transferee_org, id);
CREATE INDEX contracts_broker ON contracts (brokered_by, id);
CREATE INDEX contracts_registration ON contracts (status, registration_deadline);
CREATE INDEX contracts_signed_on ON contracts (signed_on);
