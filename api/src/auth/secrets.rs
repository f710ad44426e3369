//! Client secrets: 256 random bits, shown once, stored only as a hash.
//!
//! The hash is SHA-256. Salting and deliberate slowness (argon2 and its kin) protect guessable
//! passwords; a secret of 256 random bits cannot be guessed at any speed, so they would only add
//! cost, and that cost was an anonymous caller's lever on the server (19 MiB and tens of
//! milliseconds per wrong guess). Secrets stored by earlier versions as argon2id hashes still
//! verify, and are re-stored as SHA-256 the first time they do.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const SHA256_PREFIX: &str = "sha256$";

/// A new secret: 32 random bytes from the operating system, base64url (43 characters).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a secret: `sha256$` and the base64url SHA-256 of it.
pub fn hash(secret: &str) -> String {
    format!("{SHA256_PREFIX}{}", URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes())))
}

/// Whether a stored hash is of the slow kind earlier versions wrote, to be replaced once the
/// secret verifies.
pub fn is_legacy(stored: &str) -> bool {
    !stored.starts_with(SHA256_PREFIX)
}

/// Whether `secret` matches `stored`, compared in constant time.
pub fn verify(secret: &str, stored: &str) -> bool {
    if !is_legacy(stored) {
        return constant_time_eq(hash(secret).as_bytes(), stored.as_bytes());
    }
    PasswordHash::new(stored).is_ok_and(|parsed| Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok())
}

/// Spends the time of one verification, so an unknown client id answers like a wrong secret.
pub fn verify_nothing(secret: &str) {
    let _ = verify(secret, &hash("no client has this secret"));
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |differ, (x, y)| differ | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};

    #[test]
    fn secrets_are_long_random_and_verify_only_against_their_hash() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let stored = hash(&a);
        assert!(stored.starts_with("sha256$"));
        assert!(!stored.contains(&a));
        assert!(!is_legacy(&stored));
        assert!(verify(&a, &stored));
        assert!(!verify(&b, &stored));
        assert!(!verify(&a, "not a hash"));
        assert!(!verify(&a, "sha256$"));
    }

    #[test]
    fn argon2_hashes_of_earlier_versions_still_verify_and_are_marked_for_replacement() {
        let secret = generate();
        let legacy =
            Argon2::default().hash_password(secret.as_bytes(), &SaltString::generate(&mut OsRng)).unwrap().to_string();
        assert!(is_legacy(&legacy));
        assert!(verify(&secret, &legacy));
        assert!(!verify(&generate(), &legacy));
    }

    #[test]
    fn comparison_needs_every_byte_equal() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
