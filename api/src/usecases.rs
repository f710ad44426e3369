//! The writes of organizations and API clients as the routes, the command line, the demo loader
//! and the tests all make them. Each takes a connection and writes in one transaction, its own
//! or the caller's, so a use case can write several records atomically.

use std::collections::BTreeSet;

use techex_domain::access::Scope;
use techex_domain::client::{ApiClient, check_client_name};
use techex_domain::organization::{Organization, OrganizationContent};
use techex_domain::{Message, Text, ValidationErrors};
use techex_persistence::change_log::Author;
use techex_persistence::clients::{self, ClientWrite};
use techex_persistence::{DbConn, db, organizations};
use uuid::Uuid;

use crate::auth::secrets;
use crate::error::ApiError;
use crate::kit;

/// Registers an organization from what the operator wrote.
pub fn register_organization(
    conn: &mut DbConn,
    content: OrganizationContent,
    author: &Author,
) -> Result<Organization, ApiError> {
    let valid = content.validate().map_err(ApiError::Validation)?;
    let org = Organization::new(valid, techex_domain::now());
    kit::create(conn, &org, author, |conn| organizations::insert(conn, &org))?;
    Ok(org)
}

/// The first client of a new organization.
#[derive(Debug, Clone)]
pub struct FirstClient {
    pub name: String,
    pub scopes: BTreeSet<Scope>,
}

/// An organization and its first client, registered together: both or neither.
pub struct Onboarded {
    pub organization: Organization,
    pub client: ApiClient,
    /// Shown once.
    pub client_secret: String,
}

/// Registers an organization with its first API client in one transaction: when the client
/// cannot be written, the organization is not registered either.
pub fn register_organization_with_client(
    conn: &mut DbConn,
    content: OrganizationContent,
    first: FirstClient,
    author: &Author,
) -> Result<Onboarded, ApiError> {
    db::write(conn, |conn| {
        let organization = register_organization(conn, content, author)?;
        let (client, client_secret) = register_client(conn, organization.id, &first.name, first.scopes, author)?;
        Ok(Onboarded { organization, client, client_secret })
    })
}

/// Registers a client for an existing organization and returns it with its new secret.
pub fn register_client(
    conn: &mut DbConn,
    organization_id: Uuid,
    name: &str,
    scopes: BTreeSet<Scope>,
    author: &Author,
) -> Result<(ApiClient, String), ApiError> {
    let name = check_client_name(name).map_err(ApiError::Validation)?;
    if organizations::find(conn, organization_id)?.is_none() {
        return Err(ApiError::Validation(ValidationErrors::single(
            "organization_id",
            Message::new(Text::UnknownOrganization).with("id", organization_id),
        )));
    }
    let client = ApiClient::new(organization_id, name, scopes, techex_domain::now());
    let secret = secrets::generate();
    let hash = secrets::hash(&secret);
    kit::create(conn, &client, author, |conn| clients::insert(conn, &client, &hash))?;
    Ok((client, secret))
}

/// What an operator asks to change of a client.
#[derive(Debug, Clone, Default)]
pub struct ClientChange {
    pub name: Option<String>,
    pub scopes: Option<BTreeSet<Scope>>,
    /// Whether the caller is this client: it may not take `admin` from itself.
    pub own_client: bool,
    /// The `If-Match` of the request, if any.
    pub if_match: Option<String>,
}

/// Renames a client or replaces its scopes.
pub fn revise_client(
    conn: &mut DbConn,
    id: Uuid,
    change: ClientChange,
    author: &Author,
) -> Result<ApiClient, ApiError> {
    kit::modify(conn, id, author, |_, client: &mut ApiClient| {
        kit::check_version(client, change.if_match.as_deref())?;
        let keeps_admin = change.scopes.as_ref().unwrap_or(&client.scopes).contains(&Scope::Admin);
        if change.own_client && client.is_active() && !keeps_admin {
            return Err(ApiError::SelfLockout);
        }
        let changed = client.revise(change.name, change.scopes, techex_domain::now())?;
        Ok(if changed { ClientWrite::Updated } else { ClientWrite::Unchanged })
    })
}

/// Gives a client a new secret; the old one, and the tokens issued with it, stop working at once.
pub fn rotate_secret(conn: &mut DbConn, id: Uuid, author: &Author) -> Result<(ApiClient, String), ApiError> {
    let secret = secrets::generate();
    let hash = secrets::hash(&secret);
    let client = kit::modify(conn, id, author, |_, client: &mut ApiClient| {
        client.rotate_secret(techex_domain::now())?;
        Ok::<_, ApiError>(ClientWrite::SecretRotated(hash))
    })?;
    Ok((client, secret))
}

/// Revokes a client: it gets no more tokens, and the ones it holds stop working.
pub fn revoke(conn: &mut DbConn, id: Uuid, author: &Author) -> Result<ApiClient, ApiError> {
    kit::modify(conn, id, author, |_, client: &mut ApiClient| {
        client.revoke(techex_domain::now())?;
        Ok(ClientWrite::Revoked)
    })
}
