//! API clients and their hashed secrets. The hash never leaves this module except to the one
//! function that verifies a secret; change-log entries carry the client without it.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use techex_domain::access::{Scope, format_scopes, parse_scopes};
use techex_domain::client::ApiClient;
use uuid::Uuid;

use crate::db::{Db, DbConn};
use crate::error::{Entity, StoreError};
use crate::schema::api_clients;
use crate::versioned::{Versioned, WriteKind, find_by_uuid, owned_by_organization, versioned_basics};

const ENTITY: &str = "api_client";

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_clients)]
struct ClientRow {
    id: String,
    organization_id: String,
    name: String,
    scopes: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    secret_rotated_at: Option<NaiveDateTime>,
}

impl ClientRow {
    fn into_domain(self) -> Result<ApiClient, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt { entity: ENTITY, id: self.id.clone(), reason };
        let scopes: BTreeSet<Scope> =
            parse_scopes(&self.scopes).map_err(|word| corrupt(format!("unknown scope {word}")))?;
        Ok(ApiClient {
            id: self.id.parse().map_err(|e: uuid::Error| corrupt(e.to_string()))?,
            organization_id: self.organization_id.parse().map_err(|e: uuid::Error| corrupt(e.to_string()))?,
            name: self.name.clone(),
            scopes,
            version: self.version,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            revoked_at: self.revoked_at.map(|t| t.and_utc()),
            secret_rotated_at: self.secret_rotated_at.map(|t| t.and_utc()),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = api_clients)]
struct NewClientRow {
    id: String,
    organization_id: String,
    name: String,
    scopes: String,
    secret_hash: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    secret_rotated_at: Option<NaiveDateTime>,
}

#[derive(AsChangeset)]
#[diesel(table_name = api_clients, treat_none_as_null = true)]
struct ClientChangeset {
    name: String,
    scopes: String,
    version: i64,
    updated_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    secret_rotated_at: Option<NaiveDateTime>,
}

impl ClientChangeset {
    fn of(client: &ApiClient) -> Self {
        ClientChangeset {
            name: client.name.clone(),
            scopes: format_scopes(&client.scopes),
            version: client.version,
            updated_at: client.updated_at.naive_utc(),
            revoked_at: client.revoked_at.map(|t| t.naive_utc()),
            secret_rotated_at: client.secret_rotated_at.map(|t| t.naive_utc()),
        }
    }
}

find_by_uuid!(api_clients, ClientRow, ApiClient);

/// The client, from memory when the cache can vouch for it (see [`crate::client_cache`]),
/// otherwise read and kept; for checking the bearer tokens of requests.
pub fn find_current(db: &Db, id: Uuid) -> Result<Option<ApiClient>, StoreError> {
    if let Some(client) = cached(db, id) {
        return Ok(Some(client));
    }
    let generation = db.clients.generation();
    let found = find(&mut *db.conn()?, id)?;
    if let (Some(generation), Some(client)) = (generation, &found) {
        db.clients.keep(generation, client);
    }
    Ok(found)
}

/// The client if the cache holds it and can be trusted now; never waits on the database, so an
/// async caller can ask before it moves to a blocking thread.
pub fn cached(db: &Db, id: Uuid) -> Option<ApiClient> {
    db.clients.lookup(id)
}

/// Tells the cache that this process has just committed a change of the client.
pub fn changed(db: &Db, id: Uuid) {
    db.clients.forget(id);
}

/// The client and the hash of its secret, for verifying credentials.
pub fn find_with_secret_hash(conn: &mut DbConn, id: Uuid) -> Result<Option<(ApiClient, String)>, StoreError> {
    let row = api_clients::table
        .filter(api_clients::id.eq(id.to_string()))
        .select((ClientRow::as_select(), api_clients::secret_hash))
        .first::<(ClientRow, String)>(conn)
        .optional()?;
    row.map(|(client, hash)| Ok((client.into_domain()?, hash))).transpose()
}

/// Replaces the stored hash of a client's secret with another of the same secret (a faster kind),
/// unless the secret changed meanwhile. Not a change of the client: no version, no change-log row.
pub fn replace_secret_hash(conn: &mut DbConn, id: Uuid, old_hash: &str, new_hash: &str) -> Result<(), StoreError> {
    diesel::update(api_clients::table)
        .filter(api_clients::id.eq(id.to_string()))
        .filter(api_clients::secret_hash.eq(old_hash))
        .set(api_clients::secret_hash.eq(new_hash))
        .execute(conn)?;
    Ok(())
}

owned_by_organization!(api_clients, ClientRow, ApiClient);

/// What a modification of a client did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientWrite {
    /// Nothing to write: the change asked for leaves the client as it is.
    Unchanged,
    Updated,
    /// A new secret, given as its hash.
    SecretRotated(String),
    Revoked,
}

impl WriteKind for ClientWrite {
    fn op(&self) -> Option<&'static str> {
        Some(match self {
            ClientWrite::Unchanged => return None,
            ClientWrite::Updated => "update",
            ClientWrite::SecretRotated(_) => "rotate_secret",
            ClientWrite::Revoked => "revoke",
        })
    }
}

/// Inserts a new client with the hash of its secret; pass it to [`crate::versioned::create`].
pub fn insert(conn: &mut DbConn, client: &ApiClient, secret_hash: &str) -> Result<(), StoreError> {
    diesel::insert_into(api_clients::table)
        .values(NewClientRow {
            id: client.id.to_string(),
            organization_id: client.organization_id.to_string(),
            name: client.name.clone(),
            scopes: format_scopes(&client.scopes),
            secret_hash: secret_hash.to_owned(),
            version: client.version,
            created_at: client.created_at.naive_utc(),
            updated_at: client.updated_at.naive_utc(),
            revoked_at: None,
            secret_rotated_at: None,
        })
        .execute(conn)?;
    Ok(())
}

impl Versioned for ApiClient {
    const ENTITY: Entity = Entity::ApiClient;
    type Id = Uuid;
    type Write = ClientWrite;

    versioned_basics!(api_clients, Uuid);

    fn overwrite(&self, conn: &mut DbConn, read_version: i64, write: &ClientWrite) -> Result<usize, StoreError> {
        let target = api_clients::table
            .filter(api_clients::id.eq(self.id.to_string()))
            .filter(api_clients::version.eq(read_version));
        Ok(match write {
            ClientWrite::SecretRotated(hash) => diesel::update(target)
                .set((ClientChangeset::of(self), api_clients::secret_hash.eq(hash)))
                .execute(conn)?,
            _ => diesel::update(target).set(ClientChangeset::of(self)).execute(conn)?,
        })
    }
}
