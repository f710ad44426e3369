-- Who may follow a change in the change feed: '*' every partner with `changes:read`, '' only
-- the operator, otherwise the ids of the organizations that may (space-separated).
ALTER TABLE change_log ADD COLUMN audience TEXT NOT NULL DEFAULT '';

-- Changes written before the feed existed: organizations are public; a listing's change is
-- public when the listing was published before or after it (a move out of `published` tells
-- mirrors to take the listing down).
UPDATE change_log SET audience = '*' WHERE entity = 'organization';
UPDATE change_log SET audience = '*' WHERE seq IN (
    SELECT seq FROM (
        SELECT seq,
               json_extract(data, '$.status') AS status,
               LAG(json_extract(data, '$.status')) OVER (PARTITION BY entity_id ORDER BY seq) AS status_before
        FROM change_log WHERE entity = 'listing'
    ) WHERE status = 'published' OR status_before = 'published'
);
