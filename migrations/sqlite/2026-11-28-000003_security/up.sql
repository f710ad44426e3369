-- The short names under which an organization pushes records (`source.exchange`): each belongs to
-- one organization, registered by the operator, so no one else can write under it.
CREATE TABLE source_exchanges (
    code TEXT PRIMARY KEY NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id)
);
CREATE INDEX source_exchanges_organization ON source_exchanges (organization_id);

-- Tokens issued before a client's secret was last rotated stop working.
ALTER TABLE api_clients ADD COLUMN secret_rotated_at TIMESTAMP;

-- A deleted listing gives its source back, so its owner can push the record again.
UPDATE listings SET source_exchange = NULL, source_external_id = NULL WHERE deleted_at IS NOT NULL;
