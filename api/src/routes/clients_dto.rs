//! The wire shapes of API clients: what the operator writes, the client the hub answers (with
//! its secret, once), and their conversions ([`LIMITS`] from the domain's rules).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use techex_domain::access::Scope;
use techex_domain::client::{ApiClient, CLIENT_NAME_MAX};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::secrets::SECRET_LEN;
use crate::kit::{Limit, Limits, Page};
use crate::routes::vocabulary_dto as words;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientResponse {
    /// The `client_id` for the token endpoint.
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    #[schema(value_type = BTreeSet<words::Scope>)]
    pub scopes: BTreeSet<Scope>,
    /// `false` once revoked.
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A page of them, as every list answers it (named in the document, which cannot name a generic).
pub type ClientPage = Page<ClientResponse>;

impl From<&ApiClient> for ClientResponse {
    fn from(client: &ApiClient) -> Self {
        ClientResponse {
            active: client.is_active(),
            id: client.id,
            organization_id: client.organization_id,
            name: client.name.clone(),
            scopes: client.scopes.clone(),
            version: client.version,
            created_at: client.created_at,
            updated_at: client.updated_at,
            revoked_at: client.revoked_at,
        }
    }
}

/// A client with its secret, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClientWithSecret {
    pub client: ClientResponse,
    /// Store it now: the hub keeps only a hash and cannot show it again.
    pub client_secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    #[serde(deserialize_with = "crate::kit::body_id")]
    pub organization_id: Uuid,
    #[schema(example = "Cổng thông tin Sở KH&CN Đồng Nai")]
    pub name: String,
    /// Each scope at most once.
    #[schema(example = json!(["listings:write"]), value_type = BTreeSet<words::Scope>)]
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientRequest {
    pub name: Option<String>,
    /// Replaces the client's scopes (each at most once); tokens already issued lose the removed
    /// ones at once.
    #[schema(value_type = Option<BTreeSet<words::Scope>>)]
    pub scopes: Option<Vec<Scope>>,
}

/// What the domain enforces on a client, and the length of its secret.
pub const LIMITS: Limits = &[
    ("ClientResponse", "name", Limit::MaxLength(CLIENT_NAME_MAX)),
    ("ClientResponse", "scopes", Limit::MaxItems(Scope::ALL.len())),
    ("ClientResponse", "version", Limit::Minimum(1)),
    ("ClientResponse", "version", Limit::Maximum(i64::MAX)),
    ("ClientWithSecret", "client_secret", Limit::MaxLength(SECRET_LEN)),
    ("CreateClientRequest", "name", Limit::MinLength(1)),
    ("CreateClientRequest", "name", Limit::MaxLength(CLIENT_NAME_MAX)),
    ("CreateClientRequest", "scopes", Limit::MaxItems(Scope::ALL.len())),
    ("UpdateClientRequest", "name", Limit::MinLength(1)),
    ("UpdateClientRequest", "name", Limit::MaxLength(CLIENT_NAME_MAX)),
    ("UpdateClientRequest", "scopes", Limit::MaxItems(Scope::ALL.len())),
];
