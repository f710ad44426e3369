-- The parties of the exchange, and the API clients that act for them.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    name_vi TEXT NOT NULL,
    province TEXT NOT NULL,
    tax_code TEXT,
    content TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX organizations_tax_code ON organizations (tax_code);

-- Secrets are kept only as argon2 hashes (PHC strings, which carry their own parameters).
CREATE TABLE api_clients (
    id TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX api_clients_organization ON api_clients (organization_id, id);

-- The organization a write was made for, beside the actor who made it.
ALTER TABLE change_log ADD COLUMN actor_organization TEXT;
