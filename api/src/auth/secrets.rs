//! Client secrets: random, shown once, stored only as argon2 hashes.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A new secret: 32 random bytes from the operating system, base64url (43 characters).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The argon2id hash of a secret as a PHC string (salt and parameters included).
pub fn hash(secret: &str) -> String {
    Argon2::default()
        .hash_password(secret.as_bytes(), &SaltString::generate(&mut OsRng))
        .expect("argon2 hashes any input with default parameters")
        .to_string()
}

/// Whether `secret` matches `stored` (compared in constant time by argon2).
pub fn verify(secret: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok())
}

/// Spends the time of one verification, so an unknown client id answers as slowly as a wrong
/// secret and does not reveal which client ids exist.
pub fn verify_nothing(secret: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("no client has this secret"));
    let _ = verify(secret, dummy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_verify_only_against_their_hash() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let stored = hash(&a);
        assert!(stored.starts_with("$argon2id$"));
        assert!(!stored.contains(&a));
        assert!(verify(&a, &stored));
        assert!(!verify(&b, &stored));
        assert!(!verify(&a, "not a hash"));
    }
}
