//! The keys that sign access tokens (Ed25519, `EdDSA`), their public half as a JWKS, and token
//! verification with the algorithm pinned.

use std::path::Path;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
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
    #[error("the token is not signed with EdDSA")]
    WrongAlgorithm,
    #[error("the token names no key or an unknown key")]
    UnknownKey,
    #[error("invalid token: {0}")]
    Invalid(jsonwebtoken::errors::Error),
}

struct Key {
    kid: String,
    x: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// One public key in JWK form (RFC 8037).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Jwk {
    #[schema(example = "OKP")]
    pub kty: String,
    #[schema(example = "Ed25519")]
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// RFC 7638 thumbprint of the key.
    pub kid: String,
    #[schema(example = "EdDSA")]
    pub alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    pub use_: String,
}

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
}

impl KeySet {
    /// Keys from PKCS#8 PEM texts of Ed25519 private keys.
    pub fn from_pems(pems: &[String], issuer: &str, audience: &str) -> Result<KeySet, String> {
        if pems.is_empty() {
            return Err("no signing key".into());
        }
        let keys = pems.iter().map(|pem| key_of(pem)).collect::<Result<Vec<_>, _>>()?;
        Ok(KeySet { keys, issuer: issuer.to_owned(), audience: audience.to_owned() })
    }

    /// A new private key as PKCS#8 PEM.
    pub fn generate_pem() -> String {
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        SigningKey::from_bytes(&seed)
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .expect("an Ed25519 key encodes as PKCS#8")
            .to_string()
    }

    /// Reads the PEM files named, or, with none named, the key file under `data_dir`, creating it
    /// on first start. Returns the keys and whether a key was generated.
    pub fn load(paths: &[String], data_dir: &Path, issuer: &str, audience: &str) -> Result<(KeySet, bool), String> {
        let read =
            |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
        if !paths.is_empty() {
            let pems = paths.iter().map(|p| read(Path::new(p))).collect::<Result<Vec<_>, _>>()?;
            return Ok((KeySet::from_pems(&pems, issuer, audience)?, false));
        }
        let default = data_dir.join("jwt-signing-key.pem");
        let generated = !default.exists();
        if generated {
            std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            write_private(&default, &KeySet::generate_pem())?;
        }
        Ok((KeySet::from_pems(&[read(&default)?], issuer, audience)?, generated))
    }

    /// The id of the key that signs.
    pub fn signing_kid(&self) -> &str {
        &self.keys[0].kid
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let key = &self.keys[0];
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, claims, &key.encoding).expect("EdDSA signing with a valid key cannot fail")
    }

    /// Verifies a token: EdDSA only, a known `kid`, the signature, `exp` and `nbf` (30 s of clock
    /// leeway), `iss` and `aud`.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(TokenError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::WrongAlgorithm);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.keys.iter().find(|k| k.kid == kid).ok_or(TokenError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
            .map(|data| data.claims)
            .map_err(TokenError::Invalid)
    }

    pub fn jwks(&self) -> Jwks {
        let keys = self
            .keys
            .iter()
            .map(|k| Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: k.x.clone(),
                kid: k.kid.clone(),
                alg: "EdDSA".into(),
                use_: "sig".into(),
            })
            .collect();
        Jwks { keys }
    }
}

fn key_of(pem: &str) -> Result<Key, String> {
    let signing = SigningKey::from_pkcs8_pem(pem).map_err(|e| format!("not a PKCS#8 Ed25519 private key: {e}"))?;
    let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
    let der = signing.to_pkcs8_der().map_err(|e| e.to_string())?;
    Ok(Key {
        kid: thumbprint(&x),
        encoding: EncodingKey::from_ed_der(der.as_bytes()),
        decoding: DecodingKey::from_ed_components(&x).map_err(|e| e.to_string())?,
        x,
    })
}

/// RFC 7638: SHA-256 of the key's required members in lexicographic order, base64url.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
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

    #[test]
    fn tokens_round_trip_and_name_their_key() {
        let keys = KeySet::from_pems(&[KeySet::generate_pem()], "techex", "techex-api").unwrap();
        let claims = claims(&keys);
        let token = keys.sign(&claims);
        assert_eq!(keys.verify(&token).unwrap(), claims);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(keys.signing_kid()));
        assert_eq!(keys.jwks().keys[0].kid, keys.signing_kid());
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
        let (first, generated) = KeySet::load(&[], &dir, "techex", "techex-api").unwrap();
        assert!(generated);
        let (second, generated_again) = KeySet::load(&[], &dir, "techex", "techex-api").unwrap();
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

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("techex-keys-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
