//! The keys that sign access tokens, their public half as a JWKS, and token verification with
//! the algorithm pinned to each key's. Two kinds: Ed25519 (`EdDSA`, compact and fast) and P-256
//! (`ES256`, which the standard JWT stacks of .NET and Java verify without extra packages).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The claims of a techex access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The client id.
    pub sub: String,
    /// The organization the client acts for.
    pub org: String,
    /// Space-separated scopes.
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
}

/// Why a token was refused; the detail stays in the server, the client hears `invalid_token`.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token or header: {0}")]
    Malformed(jsonwebtoken::errors::Error),
    #[error("the token's algorithm is not its key's")]
    WrongAlgorithm,
    #[error("the token names no key or an unknown key")]
    UnknownKey,
    #[error("invalid token: {0}")]
    Invalid(jsonwebtoken::errors::Error),
}

/// The algorithm access tokens are signed with, chosen by the kind of the first key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// Ed25519.
    EdDSA,
    /// ECDSA with P-256 and SHA-256.
    ES256,
}

impl SigningAlgorithm {
    pub const ALL: [SigningAlgorithm; 2] = [SigningAlgorithm::EdDSA, SigningAlgorithm::ES256];

    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::EdDSA => "EdDSA",
            SigningAlgorithm::ES256 => "ES256",
        }
    }

    fn jwt(self) -> Algorithm {
        match self {
            SigningAlgorithm::EdDSA => Algorithm::EdDSA,
            SigningAlgorithm::ES256 => Algorithm::ES256,
        }
    }

    /// Where a key of this kind is generated and kept when none is configured.
    pub fn generated_key_path(self, data_dir: &Path) -> std::path::PathBuf {
        data_dir.join(self.generated_file())
    }

    fn generated_file(self) -> &'static str {
        match self {
            SigningAlgorithm::EdDSA => "jwt-signing-key.pem",
            SigningAlgorithm::ES256 => "jwt-signing-key-es256.pem",
        }
    }
}

impl std::str::FromStr for SigningAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "EdDSA" => Ok(SigningAlgorithm::EdDSA),
            "ES256" => Ok(SigningAlgorithm::ES256),
            other => Err(format!("'{other}' is not a signing algorithm; use EdDSA or ES256")),
        }
    }
}

struct Key {
    algorithm: SigningAlgorithm,
    jwk: Jwk,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// One public key in JWK form (RFC 8037 for Ed25519, RFC 7518 for P-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Jwk {
    /// `OKP` (Ed25519) or `EC` (P-256).
    #[schema(example = "OKP")]
    pub kty: String,
    /// `Ed25519` or `P-256`.
    #[schema(example = "Ed25519")]
    pub crv: String,
    /// The public key (Ed25519) or its x coordinate (P-256), base64url.
    pub x: String,
    /// The y coordinate of a P-256 key, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// RFC 7638 thumbprint of the key.
    pub kid: String,
    /// `EdDSA` or `ES256`.
    #[schema(example = "EdDSA")]
    pub alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub use_: String,
}

/// The most characters of each member of a [`Jwk`] the hub publishes: 32-byte coordinates and
/// SHA-256 thumbprints in base64url are 43.
pub const JWK_LIMITS: [(&str, usize); 7] =
    [("kty", 3), ("crv", 7), ("x", 43), ("y", 43), ("kid", 43), ("alg", 5), ("use", 3)];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// The signing keys: the first signs, all verify, so a new key can be put first while tokens
/// signed with the previous one are still in use.
pub struct KeySet {
    keys: Vec<Key>,
    issuer: String,
    audience: String,
    verified: VerifiedTokens,
}

/// Clock leeway for `exp` and `nbf`, in seconds.
const LEEWAY: u64 = 30;

/// Tokens whose signature and claims verified, with their claims: an app sends one token with
/// every call for the token's lifetime, and checking its signature again each time was a
/// quarter of the server's CPU for a read by id. Only the time limits are checked on a hit; the
/// client behind the token (revoked, rotated) is checked on every request as before. Keyed by
/// the whole token, so any other text, however close, is verified in full. At most
/// [`VERIFIED_TOKENS_MAX`] (about 0.5 MB): when full, the expired go, and if none had, all.
#[derive(Default)]
struct VerifiedTokens(Mutex<HashMap<Box<str>, Claims>>);

const VERIFIED_TOKENS_MAX: usize = 1024;

impl VerifiedTokens {
    /// The claims of `token` if it verified before, or why it no longer holds at `now`.
    fn get(&self, token: &str, now: u64) -> Option<Result<Claims, TokenError>> {
        let tokens = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let claims = tokens.get(token)?;
        // `nbf` held when the token verified, and time only moves on.
        Some(if claims.holds_at(now) {
            Ok(claims.clone())
        } else {
            Err(TokenError::Invalid(jsonwebtoken::errors::ErrorKind::ExpiredSignature.into()))
        })
    }

    fn insert(&self, token: &str, claims: &Claims, now: u64) {
        let mut tokens = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if tokens.len() >= VERIFIED_TOKENS_MAX {
            tokens.retain(|_, claims| claims.holds_at(now));
            if tokens.len() >= VERIFIED_TOKENS_MAX {
                tokens.clear();
            }
        }
        tokens.insert(token.into(), claims.clone());
    }
}

impl Claims {
    /// Whether the token has not expired at `now` (seconds since the epoch), leeway included.
    fn holds_at(&self, now: u64) -> bool {
        self.exp.max(0) as u64 + LEEWAY >= now
    }
}

impl KeySet {
    /// Keys from PKCS#8 PEM texts of Ed25519 or P-256 private keys; the first signs.
    pub fn from_pems(pems: &[String], issuer: &str, audience: &str) -> Result<KeySet, String> {
        if pems.is_empty() {
            return Err("no signing key".into());
        }
        let keys = pems.iter().map(|pem| key_of(pem)).collect::<Result<Vec<_>, _>>()?;
        Ok(KeySet {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            verified: VerifiedTokens::default(),
        })
    }

    /// A new Ed25519 private key as PKCS#8 PEM.
    pub fn generate_pem() -> String {
        KeySet::generate_pem_for(SigningAlgorithm::EdDSA)
    }

    /// A new private key of the kind `algorithm` signs with, as PKCS#8 PEM.
    pub fn generate_pem_for(algorithm: SigningAlgorithm) -> String {
        let lf = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
        match algorithm {
            SigningAlgorithm::EdDSA => {
                let mut seed = [0u8; 32];
                OsRng.fill_bytes(&mut seed);
                SigningKey::from_bytes(&seed).to_pkcs8_pem(lf).expect("an Ed25519 key encodes as PKCS#8").to_string()
            }
            SigningAlgorithm::ES256 => {
                p256::SecretKey::random(&mut OsRng).to_pkcs8_pem(lf).expect("a P-256 key encodes as PKCS#8").to_string()
            }
        }
    }

    /// Reads the PEM files named, or, with none named, the generated key of `algorithm` under
    /// `data_dir`, creating it on first start. A generated key of the other kind found there
    /// still verifies (listed second), so switching the algorithm does not end the tokens
    /// already issued. Returns the keys and whether a key was generated.
    pub fn load(
        paths: &[String],
        data_dir: &Path,
        algorithm: SigningAlgorithm,
        issuer: &str,
        audience: &str,
    ) -> Result<(KeySet, bool), String> {
        let read =
            |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
        if !paths.is_empty() {
            let pems = paths.iter().map(|p| read(Path::new(p))).collect::<Result<Vec<_>, _>>()?;
            return Ok((KeySet::from_pems(&pems, issuer, audience)?, false));
        }
        let signing = data_dir.join(algorithm.generated_file());
        let generated = !signing.exists();
        if generated {
            std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            write_private(&signing, &KeySet::generate_pem_for(algorithm))?;
        }
        let mut pems = vec![read(&signing)?];
        let other = [SigningAlgorithm::EdDSA, SigningAlgorithm::ES256].into_iter().find(|a| *a != algorithm);
        if let Some(previous) = other.map(|a| data_dir.join(a.generated_file())).filter(|p| p.exists()) {
            pems.push(read(&previous)?);
        }
        Ok((KeySet::from_pems(&pems, issuer, audience)?, generated))
    }

    /// The id of the key that signs.
    pub fn signing_kid(&self) -> &str {
        &self.keys[0].jwk.kid
    }

    /// The algorithm tokens are signed with now.
    pub fn signing_algorithm(&self) -> SigningAlgorithm {
        self.keys[0].algorithm
    }

    /// Every algorithm a key of this set verifies, the signing one first.
    pub fn algorithms(&self) -> Vec<SigningAlgorithm> {
        let mut algorithms: Vec<SigningAlgorithm> = Vec::new();
        for key in &self.keys {
            if !algorithms.contains(&key.algorithm) {
                algorithms.push(key.algorithm);
            }
        }
        algorithms
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let key = &self.keys[0];
        let mut header = Header::new(key.algorithm.jwt());
        header.kid = Some(key.jwk.kid.clone());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, claims, &key.encoding).expect("signing with a valid key cannot fail")
    }

    /// Verifies a token: a known `kid`, the algorithm of that key and no other, the signature,
    /// `exp` and `nbf` (30 s of clock leeway), `iss` and `aud`. A token that verified before is
    /// answered from memory, its time limits checked again (see [`VerifiedTokens`]).
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.verify_at(token, jsonwebtoken::get_current_timestamp())
    }

    /// [`KeySet::verify`] at `now`, for a token seen before; a new one is verified at the
    /// system's time, as `jsonwebtoken` reads it.
    fn verify_at(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        if let Some(known) = self.verified.get(token, now) {
            return known;
        }
        let claims = self.verify_signed(token)?;
        self.verified.insert(token, &claims, now);
        Ok(claims)
    }

    fn verify_signed(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(TokenError::Malformed)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.keys.iter().find(|k| k.jwk.kid == kid).ok_or(TokenError::UnknownKey)?;
        if header.alg != key.algorithm.jwt() {
            return Err(TokenError::WrongAlgorithm);
        }
        let mut validation = Validation::new(key.algorithm.jwt());
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY;
        jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
            .map(|data| data.claims)
            .map_err(TokenError::Invalid)
    }

    pub fn jwks(&self) -> Jwks {
        Jwks { keys: self.keys.iter().map(|k| k.jwk.clone()).collect() }
    }
}

fn key_of(pem: &str) -> Result<Key, String> {
    if let Ok(signing) = SigningKey::from_pkcs8_pem(pem) {
        let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
        let der = signing.to_pkcs8_der().map_err(|e| e.to_string())?;
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        return Ok(Key {
            algorithm: SigningAlgorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding: DecodingKey::from_ed_components(&x).map_err(|e| e.to_string())?,
            jwk: jwk("OKP", "Ed25519", x, None, &canonical, SigningAlgorithm::EdDSA),
        });
    }
    let secret =
        p256::SecretKey::from_pkcs8_pem(pem).map_err(|_| "not a PKCS#8 private key of Ed25519 or P-256".to_owned())?;
    let point = secret.public_key().to_encoded_point(false);
    let coordinate = |c: Option<&p256::FieldBytes>| c.map(|bytes| URL_SAFE_NO_PAD.encode(bytes));
    let (x, y) = coordinate(point.x()).zip(coordinate(point.y())).ok_or("a P-256 public key has coordinates")?;
    let der = secret.to_pkcs8_der().map_err(|e| e.to_string())?;
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    Ok(Key {
        algorithm: SigningAlgorithm::ES256,
        encoding: EncodingKey::from_ec_der(der.as_bytes()),
        decoding: DecodingKey::from_ec_components(&x, &y).map_err(|e| e.to_string())?,
        jwk: jwk("EC", "P-256", x, Some(y), &canonical, SigningAlgorithm::ES256),
    })
}

/// The JWK of a public key; its `kid` is the RFC 7638 thumbprint: the SHA-256 of `canonical`
/// (the key's required members in lexicographic order), base64url.
fn jwk(kty: &str, crv: &str, x: String, y: Option<String>, canonical: &str, algorithm: SigningAlgorithm) -> Jwk {
    Jwk {
        kty: kty.into(),
        crv: crv.into(),
        x,
        y,
        kid: URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())),
        alg: algorithm.as_str().into(),
        use_: "sig".into(),
    }
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, pem: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(pem.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::errors::ErrorKind;

    #[test]
    fn the_keys_of_each_algorithm_fit_their_documented_lengths() {
        for algorithm in SigningAlgorithm::ALL {
            let keys = KeySet::from_pems(&[KeySet::generate_pem_for(algorithm)], "techex", "techex-api").unwrap();
            for key in keys.jwks().keys {
                let published = serde_json::to_value(&key).unwrap();
                for (member, value) in published.as_object().unwrap() {
                    let (_, max) = JWK_LIMITS.iter().find(|(name, _)| name == member).unwrap();
                    assert!(value.as_str().unwrap().len() <= *max, "{algorithm:?} {member} {value}");
                }
            }
        }
    }

    /// A key set of one new Ed25519 key.
    fn ed25519_keys() -> KeySet {
        KeySet::from_pems(&[KeySet::generate_pem()], "techex", "techex-api").unwrap()
    }

    fn claims(keys: &KeySet) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: keys.issuer().into(),
            aud: keys.audience().into(),
            sub: "client".into(),
            org: "org".into(),
            scope: "listings:write".into(),
            exp: now + 60,
            iat: now,
            nbf: now,
            jti: "1".into(),
        }
    }

    /// A token of fresh claims signed by `keys`, verified once: the claims come back unchanged.
    fn verified_token(keys: &KeySet) -> (Claims, String) {
        let signed = claims(keys);
        let token = keys.sign(&signed);
        assert_eq!(keys.verify(&token).unwrap(), signed);
        (signed, token)
    }

    #[test]
    fn tokens_round_trip_and_name_their_key() {
        let keys = ed25519_keys();
        let (_, token) = verified_token(&keys);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(keys.signing_kid()));
        assert_eq!(keys.jwks().keys[0].kid, keys.signing_kid());
    }

    #[test]
    fn a_token_verified_before_is_refused_once_it_expires() {
        let keys = ed25519_keys();
        let (signed, token) = verified_token(&keys);
        let last = signed.exp as u64 + LEEWAY;
        assert_eq!(keys.verify_at(&token, last).unwrap(), signed, "within the leeway");
        let later = keys.verify_at(&token, last + 1);
        assert!(
            matches!(later, Err(TokenError::Invalid(ref e)) if *e.kind() == ErrorKind::ExpiredSignature),
            "{later:?}"
        );
    }

    #[test]
    fn a_token_not_yet_valid_stays_refused_after_its_first_check() {
        let keys = ed25519_keys();
        let mut early = claims(&keys);
        early.nbf += 3600;
        let token = keys.sign(&early);
        for _ in 0..2 {
            assert!(
                matches!(keys.verify(&token), Err(TokenError::Invalid(ref e)) if *e.kind() == ErrorKind::ImmatureSignature)
            );
        }
    }

    #[test]
    fn a_changed_token_is_verified_in_full_after_the_original_was_remembered() {
        let keys = ed25519_keys();
        let (_, token) = verified_token(&keys);
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[0] ^= 1;
        let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert!(
            matches!(keys.verify(&forged), Err(TokenError::Invalid(ref e)) if *e.kind() == ErrorKind::InvalidSignature)
        );
    }

    #[test]
    fn the_remembered_tokens_stay_bounded() {
        let keys = ed25519_keys();
        let mut first = String::new();
        for n in 0..VERIFIED_TOKENS_MAX + 10 {
            let token = keys.sign(&Claims { jti: n.to_string(), ..claims(&keys) });
            keys.verify(&token).unwrap();
            if n == 0 {
                first = token;
            }
            assert!(keys.verified.0.lock().unwrap().len() <= VERIFIED_TOKENS_MAX);
        }
        assert!(keys.verify(&first).is_ok(), "a token forgotten is verified again");
    }

    #[test]
    fn rotation_signs_with_the_first_key_and_verifies_with_all() {
        let (old, new) = (KeySet::generate_pem(), KeySet::generate_pem());
        let before = KeySet::from_pems(std::slice::from_ref(&old), "techex", "techex-api").unwrap();
        let old_token = before.sign(&claims(&before));
        let rotated = KeySet::from_pems(&[new, old], "techex", "techex-api").unwrap();
        assert!(rotated.verify(&old_token).is_ok());
        let new_token = rotated.sign(&claims(&rotated));
        assert!(matches!(before.verify(&new_token), Err(TokenError::UnknownKey)));
        assert_eq!(rotated.jwks().keys.len(), 2);
    }

    #[test]
    fn the_key_file_is_created_once_and_kept_private() {
        let dir = tempfile_dir();
        let (first, generated) = KeySet::load(&[], &dir, SigningAlgorithm::EdDSA, "techex", "techex-api").unwrap();
        assert!(generated);
        let (second, generated_again) =
            KeySet::load(&[], &dir, SigningAlgorithm::EdDSA, "techex", "techex-api").unwrap();
        assert!(!generated_again);
        assert_eq!(first.signing_kid(), second.signing_kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("jwt-signing-key.pem")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn es256_keys_sign_verify_and_publish_their_coordinates() {
        let keys =
            KeySet::from_pems(&[KeySet::generate_pem_for(SigningAlgorithm::ES256)], "techex", "techex-api").unwrap();
        let signed = claims(&keys);
        let token = keys.sign(&signed);
        assert_eq!(jsonwebtoken::decode_header(&token).unwrap().alg, Algorithm::ES256);
        assert_eq!(keys.verify(&token).unwrap(), signed);
        let jwk = &keys.jwks().keys[0];
        assert_eq!((jwk.kty.as_str(), jwk.crv.as_str(), jwk.alg.as_str()), ("EC", "P-256", "ES256"));
        assert_eq!(URL_SAFE_NO_PAD.decode(&jwk.x).unwrap().len(), 32);
        assert_eq!(URL_SAFE_NO_PAD.decode(jwk.y.as_ref().unwrap()).unwrap().len(), 32);
        assert_eq!(keys.signing_algorithm(), SigningAlgorithm::ES256);
    }

    #[test]
    fn switching_algorithms_keeps_the_old_kind_verifying_while_it_is_listed() {
        let (ed, ec) = (KeySet::generate_pem(), KeySet::generate_pem_for(SigningAlgorithm::ES256));
        let before = KeySet::from_pems(std::slice::from_ref(&ed), "techex", "techex-api").unwrap();
        let old_token = before.sign(&claims(&before));
        let during = KeySet::from_pems(&[ec, ed], "techex", "techex-api").unwrap();
        assert_eq!(during.algorithms(), [SigningAlgorithm::ES256, SigningAlgorithm::EdDSA]);
        assert!(during.verify(&old_token).is_ok());
        let kinds: Vec<String> = during.jwks().keys.into_iter().map(|k| k.kty).collect();
        assert_eq!(kinds, ["EC", "OKP"]);
        assert_eq!(jsonwebtoken::decode_header(during.sign(&claims(&during))).unwrap().alg, Algorithm::ES256);
    }

    #[test]
    fn a_token_signed_with_another_algorithm_than_its_keys_is_refused() {
        let ec =
            KeySet::from_pems(&[KeySet::generate_pem_for(SigningAlgorithm::ES256)], "techex", "techex-api").unwrap();
        let token = ec.sign(&claims(&ec));
        let (header, rest) = token.split_once('.').unwrap();
        let mut decoded: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        decoded["alg"] = "HS256".into();
        let forged = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(decoded.to_string()));
        assert!(matches!(ec.verify(&forged), Err(TokenError::WrongAlgorithm)));
    }

    #[test]
    fn a_generated_key_of_the_previous_kind_keeps_verifying_after_a_switch() {
        let dir = tempfile_dir();
        let (ed, _) = KeySet::load(&[], &dir, SigningAlgorithm::EdDSA, "techex", "techex-api").unwrap();
        let old_token = ed.sign(&claims(&ed));
        let (ec, generated) = KeySet::load(&[], &dir, SigningAlgorithm::ES256, "techex", "techex-api").unwrap();
        assert!(generated);
        assert_eq!(ec.signing_algorithm(), SigningAlgorithm::ES256);
        assert!(ec.verify(&old_token).is_ok());
        assert_eq!(ec.jwks().keys.len(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn keys_of_other_kinds_are_refused_with_a_clear_message() {
        let refused = KeySet::from_pems(&["not a key".into()], "techex", "techex-api").err().unwrap();
        assert!(refused.contains("Ed25519 or P-256"), "{refused}");
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("techex-keys-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
