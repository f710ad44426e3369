-- Each listing's filters (kind, province, field code starts) as the tokens PostgreSQL's full-text
-- index holds beside the words (see techex_domain::search::IndexFilter). The FTS5 index here
-- holds the words only and the filters are decided by their own conditions, but the column is
-- written alike on both backends: one schema, one write path. Existing rows get their tokens
-- here, in the order the app writes them (field code starts sorted, each once).
ALTER TABLE listings ADD COLUMN search_filters TEXT NOT NULL DEFAULT '';
UPDATE listings SET search_filters = '/kind/' || kind || ' /province/' || province || COALESCE((
    SELECT group_concat(' /field/' || prefix, '') FROM (
        SELECT substr(field_code, 1, 1) AS prefix FROM listing_fields WHERE listing_id = listings.id
        UNION SELECT substr(field_code, 1, 2) FROM listing_fields WHERE listing_id = listings.id
        UNION SELECT field_code FROM listing_fields WHERE listing_id = listings.id
        ORDER BY prefix)), '');
