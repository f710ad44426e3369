//! API clients: the credentials through which portals, apps and partner exchanges act for their
//! organization. The secret itself never leaves the hub after it is shown once.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Scope;
use crate::validation::ValidationErrors;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiClient {
    /// The `client_id` of OAuth 2.0.
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub scopes: BTreeSet<Scope>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set once revoked; a revoked client gets no token and its tokens stop working.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A client's display name: 1 to 200 characters after trimming.
pub fn check_client_name(name: &str) -> Result<String, ValidationErrors> {
    let name = name.trim();
    match name.chars().count() {
        0 => Err(ValidationErrors::single("name", "required", "must not be empty")),
        1..=200 => Ok(name.to_owned()),
        n => Err(ValidationErrors::single("name", "too_long", format!("at most 200 characters, got {n}"))),
    }
}

impl ApiClient {
    pub fn new(organization_id: Uuid, name: String, scopes: BTreeSet<Scope>, now: DateTime<Utc>) -> Self {
        ApiClient {
            id: Uuid::now_v7(),
            organization_id,
            name,
            scopes,
            version: 1,
            created_at: now,
            updated_at: now,
            revoked_at: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }

    pub fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }
}
