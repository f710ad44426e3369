//! API clients: the credentials through which portals, apps and partner exchanges act for their
//! organization. The secret itself never leaves the hub after it is shown once.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Scope;
use crate::text::{Lines, clean};
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
    /// When the secret was last replaced; tokens issued before then stop working.
    pub secret_rotated_at: Option<DateTime<Utc>>,
}

/// A client's display name: 1 to 200 characters of one line, after cleaning (see
/// [`crate::text::clean`]).
pub fn check_client_name(name: &str) -> Result<String, ValidationErrors> {
    let name = clean(name, Lines::One)
        .map_err(|refused| ValidationErrors::single("name", "control_character", refused.to_string()))?;
    match name.chars().count() {
        0 => Err(ValidationErrors::single("name", "required", "must not be empty")),
        1..=200 => Ok(name),
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
            secret_rotated_at: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }

    /// Records a new secret: whoever held the old one loses its tokens too.
    pub fn rotate_secret(&mut self, now: DateTime<Utc>) {
        self.secret_rotated_at = Some(now);
        self.touch(now);
    }

    /// Whether a token issued at `issued_at` (seconds since the epoch, a JWT's `iat`) still
    /// speaks for this client: not revoked, and issued no earlier than the second in which the
    /// secret was last rotated (`iat` has whole seconds, so a token from that same second
    /// survives).
    pub fn honours_token_issued_at(&self, issued_at: i64) -> bool {
        self.is_active() && self.secret_rotated_at.is_none_or(|rotated| issued_at >= rotated.timestamp())
    }

    pub fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rotation_ends_the_tokens_of_the_old_secret_and_revocation_all() {
        let issued = Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap();
        let mut client = ApiClient::new(Uuid::now_v7(), "Cổng Đồng Nai".into(), BTreeSet::new(), issued);
        assert!(client.honours_token_issued_at(issued.timestamp()));
        let rotated = issued + chrono::Duration::milliseconds(60_500);
        client.rotate_secret(rotated);
        assert_eq!(client.version, 2);
        assert!(!client.honours_token_issued_at(issued.timestamp()));
        assert!(!client.honours_token_issued_at(rotated.timestamp() - 1));
        assert!(client.honours_token_issued_at(rotated.timestamp()));
        client.revoked_at = Some(rotated);
        assert!(!client.honours_token_issued_at(rotated.timestamp() + 60));
    }

    #[test]
    fn client_names_are_one_clean_line() {
        assert_eq!(check_client_name("  Cổng\u{200B} ").unwrap(), "Cổng");
        assert_eq!(check_client_name("a\u{0}b").unwrap_err().0[0].code, "control_character");
        assert_eq!(check_client_name("\u{FEFF}").unwrap_err().0[0].code, "required");
        assert!(check_client_name(&"x".repeat(200)).is_ok());
        assert_eq!(check_client_name(&"x".repeat(201)).unwrap_err().0[0].code, "too_long");
    }
}
