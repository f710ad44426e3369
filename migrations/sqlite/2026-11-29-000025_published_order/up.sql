-- The newest published listings, by id, without the drafts and deleted listings between them: as
-- on PostgreSQL (see its migration 000025), whose planner walked the primary key back through a
-- burst of newer drafts for the newest published page. SQLite's planner took
-- `listings_status_id (status, id)` for that page; the index keeps both schemas alike.
CREATE INDEX listings_published_id ON listings (id) WHERE status = 'published' AND deleted_at IS NULL;
