-- The facets on columns of listings (kind, province, IP status, TRL) group the matches by all four
-- at once; with the status and expiry columns beside them, the whole published set is counted from
-- this index alone, without reading the rows (100,000 listings: 196 ms to 78 ms in
-- EXPLAIN ANALYZE). `id` lets the other facets' `IN (SELECT id ...)` read it too.
CREATE INDEX listings_facets ON listings (status, kind, province, ip_status, trl) INCLUDE (deleted_at, expires_at, id);
