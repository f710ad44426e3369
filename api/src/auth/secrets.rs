//! Client secrets: 256 random bits, shown once, stored only as a hash.
//!
//! The hash is SHA-256. Salting and deliberate slowness (argon2 and its kin) protect guessable
//! passwords; a secret of 256 random bits cannot be guessed at any speed, so they would only add
//! cost, and that cost was an anonymous caller's lever on the server (19 MiB and tens of
//! milliseconds per wrong guess). Secrets stored by earlier versions as argon2id hashes still
//! verify, and are re-stored as SHA-256 the first time they do.

use std::cell::RefCell;

use argon2::password_hash::PasswordHash;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const SHA256_PREFIX: &str = "sha256$";

/// The length of a secret: 32 bytes in base64url.
pub const SECRET_LEN: usize = 43;

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
    verify_argon2(secret, stored)
}

/// The most working memory a stored argon2 hash may ask for (64 MiB); earlier versions wrote
/// hashes of 19 MiB, and a hash asking for more is not one of ours.
const ARGON2_MAX_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// The working memory of argon2 checks, kept by each thread that runs them: allocated once,
    /// not 19 MiB per check that the allocator would keep anyway.
    static ARGON2_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn verify_argon2(secret: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed)) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    let blocks = params.block_count();
    if blocks > ARGON2_MAX_BLOCKS {
        return false;
    }
    let mut computed = vec![0u8; expected.len()];
    let hashed = ARGON2_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            secret.as_bytes(),
            salt,
            &mut computed,
            &mut memory[..blocks],
        )
    });
    hashed.is_ok() && constant_time_eq(&computed, expected.as_bytes())
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
    fn argon2_checks_reuse_one_working_memory_per_thread() {
        let secret = generate();
        let legacy =
            Argon2::default().hash_password(secret.as_bytes(), &SaltString::generate(&mut OsRng)).unwrap().to_string();
        for _ in 0..3 {
            assert!(verify(&secret, &legacy));
        }
        let kept = ARGON2_MEMORY.with(|memory| memory.borrow().len());
        assert_eq!(kept, Params::default().block_count(), "19 MiB, allocated once");
        let greedy = "$argon2id$v=19$m=262144,t=2,p=1$c2FsdHNhbHRzYWx0$2a0m3Kw6vQ0N1mQ0k1w1yS8h0l9mE7b9vA7bqXx1k0o";
        assert!(!verify(&secret, greedy), "a hash asking for 256 MiB is not checked");
    }

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
