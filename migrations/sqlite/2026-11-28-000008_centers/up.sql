-- Application centers: where the provinces apply and transfer S&T progress. The folded
-- `search_text` (a space before each word and after the last) is matched with LIKE; latitude
-- and longitude are indexed together for the bounding box of a nearby search.
CREATE TABLE centers (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name_vi TEXT NOT NULL,
    province TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    search_text TEXT NOT NULL,
    content TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX centers_position ON centers (latitude, longitude);
CREATE INDEX centers_province ON centers (province, id);
CREATE INDEX centers_kind ON centers (kind, id);
CREATE INDEX centers_organization ON centers (organization_id, id);

CREATE TABLE center_fields (
    center_id TEXT NOT NULL REFERENCES centers (id),
    field_code TEXT NOT NULL,
    PRIMARY KEY (center_id, field_code)
);
CREATE INDEX center_fields_code ON center_fields (field_code, center_id);

CREATE TABLE center_services (
    center_id TEXT NOT NULL REFERENCES centers (id),
    service TEXT NOT NULL,
    PRIMARY KEY (center_id, service)
);
CREATE INDEX center_services_service ON center_services (service, center_id);
