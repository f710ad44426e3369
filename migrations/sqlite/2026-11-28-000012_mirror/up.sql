-- Records mirrored from another hub by `techex sync`: which hub and remote record each came from,
-- and the remote version last applied (a change at or below it is applied already).
CREATE TABLE mirrored_records (
    hub TEXT NOT NULL,
    entity TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    local_id TEXT NOT NULL,
    remote_version BIGINT NOT NULL,
    synced_at TIMESTAMP NOT NULL,
    PRIMARY KEY (hub, entity, remote_id)
);

-- Where the sync from each hub resumes in that hub's change feed.
CREATE TABLE sync_cursors (
    hub TEXT PRIMARY KEY NOT NULL,
    cursor TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
