-- The facet counts of the whole published set (status published, not deleted), kept at write
-- time so that a search without a filter counts its facets without reading every listing. Rows
-- are only ever inserted by writers, each a signed change (facet, value, n) in the writing
-- transaction: no two writers touch one row, so they neither queue on hot counters nor
-- deadlock. A value's count is the sum of its rows; a periodic job folds them into one row per
-- value. The facets: kind, province, ip_status, trl, field1-field3 (the field codes cut to
-- 1-3 digits, a listing counted once per cut), transfer_form.
CREATE TABLE facet_counts (
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    n BIGINT NOT NULL
);
-- Published listings past their expiry that the expiry job has not moved yet are in the counts
-- and taken out at read time: this finds them without reading the others.
CREATE INDEX listings_live_expiry ON listings (expires_at) WHERE status = 'published' AND deleted_at IS NULL AND expires_at IS NOT NULL;
INSERT INTO facet_counts (facet, value, n)
SELECT 'kind', kind, COUNT(*) FROM listings WHERE status = 'published' AND deleted_at IS NULL GROUP BY kind;
INSERT INTO facet_counts (facet, value, n)
SELECT 'province', province, COUNT(*) FROM listings WHERE status = 'published' AND deleted_at IS NULL GROUP BY province;
INSERT INTO facet_counts (facet, value, n)
SELECT 'ip_status', ip_status, COUNT(*) FROM listings WHERE status = 'published' AND deleted_at IS NULL GROUP BY ip_status;
INSERT INTO facet_counts (facet, value, n)
SELECT 'trl', CAST(trl AS TEXT), COUNT(*) FROM listings
WHERE status = 'published' AND deleted_at IS NULL AND trl IS NOT NULL GROUP BY trl;
INSERT INTO facet_counts (facet, value, n)
SELECT 'field' || CAST(d.digits AS TEXT), substr(f.field_code, 1, d.digits), COUNT(DISTINCT f.listing_id)
FROM listing_fields f
JOIN listings l ON l.id = f.listing_id
CROSS JOIN (SELECT 1 AS digits UNION ALL SELECT 2 UNION ALL SELECT 3) d
WHERE l.status = 'published' AND l.deleted_at IS NULL
GROUP BY d.digits, substr(f.field_code, 1, d.digits);
INSERT INTO facet_counts (facet, value, n)
SELECT 'transfer_form', substr(t.term, 15), COUNT(*) FROM listing_terms t
JOIN listings l ON l.id = t.listing_id
WHERE l.status = 'published' AND l.deleted_at IS NULL AND t.term LIKE 'transfer_form:%'
GROUP BY t.term;
