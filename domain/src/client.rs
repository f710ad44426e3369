//! API clients: the credentials through which portals, apps and partner exchanges act for their
//! organization. The secret itself never leaves the hub after it is shown once.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::access::Scope;
use crate::messages::{Message, Text};
use crate::text::{Lines, clean};
use crate::validation::ValidationErrors;

#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The longest client name.
pub const CLIENT_NAME_MAX: usize = 200;

/// A client's display name: 1 to 200 characters of one line, after cleaning (see
/// [`crate::text::clean`]).
pub fn check_client_name(name: &str) -> Result<String, ValidationErrors> {
    let name = clean(name, Lines::One).map_err(|refused| ValidationErrors::single("name", refused.message()))?;
    match name.chars().count() {
        0 => Err(ValidationErrors::single("name", Text::NotEmpty)),
        1..=CLIENT_NAME_MAX => Ok(name),
        n => Err(ValidationErrors::single(
            "name",
            Message::new(Text::TooLong).with("max", CLIENT_NAME_MAX).with("length", n),
        )),
    }
}

/// The scopes of a client as a request lists them: each at most once. `scopes[i]` names a repeat.
pub fn check_scopes(scopes: Vec<Scope>) -> Result<BTreeSet<Scope>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut unique = BTreeSet::new();
    for (i, scope) in scopes.into_iter().enumerate() {
        if !unique.insert(scope) {
            errors.add(format!("scopes[{i}]"), Message::new(Text::ListedTwice).with("value", scope));
        }
    }
    errors.finish(unique)
}

/// A change refused because the client is revoked: a revoked client stays as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client is revoked")]
pub struct ClientRevoked;

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
    pub fn rotate_secret(&mut self, now: DateTime<Utc>) -> Result<(), ClientRevoked> {
        self.require_active()?;
        self.secret_rotated_at = Some(now);
        self.touch(now);
        Ok(())
    }

    /// Revokes the client: it gets no more tokens, and the ones it holds stop working.
    pub fn revoke(&mut self, now: DateTime<Utc>) -> Result<(), ClientRevoked> {
        self.require_active()?;
        self.revoked_at = Some(now);
        self.touch(now);
        Ok(())
    }

    /// Renames the client or replaces its scopes; `false` (and no change) when both stay.
    pub fn revise(
        &mut self,
        name: Option<String>,
        scopes: Option<BTreeSet<Scope>>,
        now: DateTime<Utc>,
    ) -> Result<bool, ClientRevoked> {
        self.require_active()?;
        let name = name.unwrap_or_else(|| self.name.clone());
        let scopes = scopes.unwrap_or_else(|| self.scopes.clone());
        if name == self.name && scopes == self.scopes {
            return Ok(false);
        }
        self.name = name;
        self.scopes = scopes;
        self.touch(now);
        Ok(true)
    }

    fn require_active(&self) -> Result<(), ClientRevoked> {
        if self.is_active() { Ok(()) } else { Err(ClientRevoked) }
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
        client.rotate_secret(rotated).unwrap();
        assert_eq!(client.version, 2);
        assert!(!client.honours_token_issued_at(issued.timestamp()));
        assert!(!client.honours_token_issued_at(rotated.timestamp() - 1));
        assert!(client.honours_token_issued_at(rotated.timestamp()));
        client.revoke(rotated).unwrap();
        assert!(!client.honours_token_issued_at(rotated.timestamp() + 60));
        assert_eq!(client.rotate_secret(rotated), Err(ClientRevoked));
        assert_eq!(client.revoke(rotated), Err(ClientRevoked));
        assert_eq!(client.revise(Some("x".into()), None, rotated), Err(ClientRevoked));
    }

    #[test]
    fn a_revision_that_changes_nothing_keeps_the_version() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap();
        let mut client = ApiClient::new(Uuid::now_v7(), "Cổng".into(), BTreeSet::from([Scope::Admin]), now);
        assert_eq!(client.revise(Some("Cổng".into()), Some(BTreeSet::from([Scope::Admin])), now), Ok(false));
        assert_eq!(client.version, 1);
        assert_eq!(client.revise(None, Some(BTreeSet::new()), now), Ok(true));
        assert_eq!((client.version, client.scopes.len()), (2, 0));
    }

    #[test]
    fn scopes_are_listed_once() {
        let scopes = check_scopes(vec![Scope::Admin, Scope::ListingsWrite]).unwrap();
        assert_eq!(scopes.len(), 2);
        let errors = check_scopes(vec![Scope::Admin, Scope::ListingsWrite, Scope::Admin]).unwrap_err().0;
        assert_eq!((errors[0].field.as_str(), errors[0].code.as_str()), ("scopes[2]", "duplicate"));
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
