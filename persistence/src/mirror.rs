//! Provenance of records mirrored from another hub (`techex sync`): the remote record each local
//! one came from with the remote version last applied, and where the sync from each hub resumes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::StoreError;
use crate::schema::{mirrored_records, sync_cursors};

/// The remote version last applied of a hub's record, if it was ever mirrored.
pub fn remote_version(conn: &mut DbConn, hub: &str, entity: &str, remote_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(mirrored_records::table
        .filter(mirrored_records::hub.eq(hub))
        .filter(mirrored_records::entity.eq(entity))
        .filter(mirrored_records::remote_id.eq(remote_id))
        .select(mirrored_records::remote_version)
        .first(conn)
        .optional()?)
}

/// Records that the hub's record at `remote_version` is applied as the local record `local_id`;
/// call it in the transaction of the local write.
pub fn record(
    conn: &mut DbConn,
    hub: &str,
    entity: &str,
    remote_id: &str,
    local_id: &str,
    remote_version: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let updated = diesel::update(
        mirrored_records::table
            .filter(mirrored_records::hub.eq(hub))
            .filter(mirrored_records::entity.eq(entity))
            .filter(mirrored_records::remote_id.eq(remote_id)),
    )
    .set((mirrored_records::remote_version.eq(remote_version), mirrored_records::synced_at.eq(at.naive_utc())))
    .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(mirrored_records::table)
            .values((
                mirrored_records::hub.eq(hub),
                mirrored_records::entity.eq(entity),
                mirrored_records::remote_id.eq(remote_id),
                mirrored_records::local_id.eq(local_id),
                mirrored_records::remote_version.eq(remote_version),
                mirrored_records::synced_at.eq(at.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The hub a local record is mirrored from, if it is a mirror.
pub fn hub_of(conn: &mut DbConn, entity: &str, local_id: &str) -> Result<Option<String>, StoreError> {
    Ok(mirrored_records::table
        .filter(mirrored_records::entity.eq(entity))
        .filter(mirrored_records::local_id.eq(local_id))
        .select(mirrored_records::hub)
        .first(conn)
        .optional()?)
}

/// Whether a local record is a mirror of another hub's (which owns it).
pub fn is_mirrored(conn: &mut DbConn, entity: &str, local_id: &str) -> Result<bool, StoreError> {
    let count: i64 = mirrored_records::table
        .filter(mirrored_records::entity.eq(entity))
        .filter(mirrored_records::local_id.eq(local_id))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Where the sync from `hub` resumes in its change feed (its `next_cursor`), if it ever ran.
pub fn cursor(conn: &mut DbConn, hub: &str) -> Result<Option<String>, StoreError> {
    Ok(sync_cursors::table.filter(sync_cursors::hub.eq(hub)).select(sync_cursors::cursor).first(conn).optional()?)
}

/// Stores where the sync from `hub` resumes; call it in the transaction of the changes applied.
pub fn set_cursor(conn: &mut DbConn, hub: &str, cursor: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    let updated = diesel::update(sync_cursors::table.filter(sync_cursors::hub.eq(hub)))
        .set((sync_cursors::cursor.eq(cursor), sync_cursors::updated_at.eq(at.naive_utc())))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(sync_cursors::table)
            .values((
                sync_cursors::hub.eq(hub),
                sync_cursors::cursor.eq(cursor),
                sync_cursors::updated_at.eq(at.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}
