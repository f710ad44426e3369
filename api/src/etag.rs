//! Entity tags built on record versions: `"v3"` is version 3.
//!
//! A compressed answer carries its content coding in its tag (`"v3-gzip"`, `"v3-br"`), so each
//! coding of a representation has its own strong validator as RFC 9110 asks, while preconditions
//! compare the representation underneath: `"v3-gzip"` and `"v3"` name the same version, whichever
//! of them a client kept.

/// The content codings the server answers with, as they appear in a tag's suffix.
pub const CODINGS: [&str; 3] = ["gzip", "br", "zstd"];

/// The most characters of a tag the server writes: the largest version with a field set, a
/// language and a content coding (`"v9223372036854775807.f0123456789.en-gzip"`); a page's hash
/// tag is shorter.
pub const MAX_LENGTH: usize = 42;

/// The most characters of an `If-Match` or `If-None-Match` the server reads: a handful of tags;
/// a longer one is refused (`invalid_header`).
pub const IF_MATCH_MAX_LENGTH: usize = 400;

/// A tag from a BLAKE3 digest: 27 characters of base64url (160 bits). BLAKE3 rather than
/// SHA-256: as hard to make collide (a publisher must not be able to craft a page that keeps a
/// stale one cached), and several times faster.
pub fn of_digest(digest: &blake3::Hasher) -> String {
    use base64::Engine;
    format!("\"{}\"", &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.finalize().as_bytes())[..27])
}

pub fn of_version(version: i64) -> String {
    format!("\"v{version}\"")
}

/// The tag of a version sent with some of its fields only (`"v3.f1a2b3c4d5"`, the suffix naming
/// the field set): another representation, so another tag.
pub fn of_fields(version: i64, fields: Option<&str>) -> String {
    match fields {
        Some(fields) => format!("\"v{version}.f{fields}\""),
        None => of_version(version),
    }
}

/// The field-set part of a tag (see [`of_fields`]) for a representation that also carries
/// counts of interests, which change without a new version of the listing: a new interest gives
/// the representation another tag, so an `If-None-Match` never hides it. The tag still names
/// the version for `If-Match`, and is as long as a field set's.
pub fn with_counts(fields: Option<String>, counts: Option<techex_domain::interest::InterestCount>) -> Option<String> {
    use sha2::{Digest, Sha256};
    let Some(counts) = counts else { return fields };
    let seed = format!("{}|{}|{}", fields.unwrap_or_default(), counts.total, counts.unanswered);
    Some(Sha256::digest(seed.as_bytes())[..5].iter().map(|b| format!("{b:02x}")).collect())
}

/// The version a tag names, whatever fields, language (`"v3.en"`, see
/// [`crate::language::tagged`]) and coding its representation had: what a write's precondition
/// is about.
fn version_of(tag: &str) -> std::borrow::Cow<'_, str> {
    let tag = uncoded(tag);
    match tag.split_once('.') {
        Some((version, _)) => format!("{version}\"").into(),
        None => tag,
    }
}

/// The tag of `etag`'s representation sent with content coding `coding`.
pub fn for_coding(etag: &str, coding: &str) -> String {
    match etag.strip_suffix('"') {
        Some(open) => format!("{open}-{coding}\""),
        None => etag.to_owned(),
    }
}

/// The tag without a content-coding suffix.
fn uncoded(tag: &str) -> std::borrow::Cow<'_, str> {
    for coding in CODINGS {
        if let Some(open) = tag.strip_suffix(&format!("-{coding}\"")) {
            return format!("{open}\"").into();
        }
    }
    tag.into()
}

/// Whether an `If-Match` header names `etag`: `*`, or one of a list of tags compared strongly
/// (RFC 9110 section 13.1.1): a weak tag (`W/"v2"`) never matches, since a weak tag does not
/// promise the bytes a write would replace. Anything else, malformed tags included, names
/// something else. A tag of some fields of the version (`"v2.f…"`) names the version: the write
/// replaces the record the client read part of.
pub fn matches_strong(header: &str, etag: &str) -> bool {
    !is_weak(etag)
        && candidates(header)
            .any(|candidate| candidate == "*" || (!is_weak(candidate) && version_of(candidate) == version_of(etag)))
}

/// Whether an `If-None-Match` header names `etag`: `*`, or one of a list of tags compared weakly
/// (RFC 9110 section 13.1.2): `W/"v2"` and `"v2"` name the same representation.
pub fn matches_weak(header: &str, etag: &str) -> bool {
    candidates(header).any(|candidate| candidate == "*" || uncoded(opaque(candidate)) == uncoded(opaque(etag)))
}

fn candidates(header: &str) -> impl Iterator<Item = &str> {
    header.split(',').map(str::trim)
}

fn is_weak(tag: &str) -> bool {
    tag.starts_with("W/")
}

fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_tag_is_as_long_as_documented() {
        let longest = CODINGS
            .iter()
            .map(|c| {
                let tag = crate::language::tagged(&of_fields(i64::MAX, Some("0123456789")), techex_domain::Lang::En);
                for_coding(&tag, c).len()
            })
            .max();
        assert_eq!(longest, Some(MAX_LENGTH));
    }

    #[test]
    fn if_match_compares_strongly() {
        assert_eq!(of_version(42), "\"v42\"");
        assert!(matches_strong("\"v2\"", "\"v2\""));
        assert!(matches_strong("\"v1\", \"v2\"", "\"v2\""));
        assert!(matches_strong("\"v1\",\"v2\"", "\"v2\""));
        assert!(matches_strong("*", "\"v9\""));
        assert!(!matches_strong("W/\"v2\"", "\"v2\""), "a weak tag never satisfies If-Match");
        assert!(!matches_strong("W/\"v1\", W/\"v2\"", "\"v2\""));
        assert!(!matches_strong("\"v2\"", "W/\"v2\""), "nor does a weak current tag");
        assert!(!matches_strong("\"v1\"", "\"v2\""));
        assert!(!matches_strong("v2", "\"v2\""));
        assert!(!matches_strong("\"v85710445734796001182559\"", "\"v2\""));
        assert!(!matches_strong("", "\"v2\""));
    }

    #[test]
    fn coded_tags_name_the_same_version_as_the_plain_one() {
        assert_eq!(for_coding("\"v3\"", "gzip"), "\"v3-gzip\"");
        assert_eq!(for_coding("W/\"abc\"", "br"), "W/\"abc-br\"");
        assert!(matches_strong("\"v3-gzip\"", "\"v3\""));
        assert!(matches_strong("\"v3-br\"", "\"v3\""));
        assert!(!matches_strong("\"v2-gzip\"", "\"v3\""));
        assert!(!matches_strong("W/\"v3-gzip\"", "\"v3\""));
        assert!(matches_weak("\"v3-zstd\"", "\"v3\""));
        assert!(matches_weak("W/\"v3-gzip\"", "\"v3\""));
        assert!(!matches_weak("\"v3-deflate\"", "\"v3\""), "a coding the server never sends is another tag");
    }

    #[test]
    fn a_field_set_has_its_own_tag_for_reads_and_names_its_version_for_writes() {
        let sparse = of_fields(3, Some("0a1b2c3d4e"));
        assert_eq!(sparse, "\"v3.f0a1b2c3d4e\"");
        assert_eq!(of_fields(3, None), of_version(3));
        assert!(!matches_weak(&sparse, &of_version(3)), "another representation");
        assert!(matches_weak(&for_coding(&sparse, "gzip"), &sparse));
        assert!(matches_strong(&sparse, &of_version(3)));
        assert!(matches_strong(&for_coding(&sparse, "br"), &of_version(3)));
        assert!(!matches_strong(&sparse, &of_version(4)));
        let english = crate::language::tagged(&of_version(3), techex_domain::Lang::En);
        assert!(!matches_weak(&english, &of_version(3)), "another language, another representation");
        assert!(!matches_weak(&english, &crate::language::tagged(&of_version(3), techex_domain::Lang::Vi)));
        assert!(matches_strong(&english, &of_version(3)), "the same version to write over");
        assert!(matches_strong(
            &for_coding(&crate::language::tagged(&sparse, techex_domain::Lang::Vi), "br"),
            &of_version(3)
        ));
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(matches_weak("\"v2\"", "\"v2\""));
        assert!(matches_weak("W/\"v2\"", "\"v2\""));
        assert!(matches_weak("\"v2\"", "W/\"v2\""));
        assert!(matches_weak("\"v1\", W/\"v2\"", "\"v2\""));
        assert!(matches_weak("*", "\"v9\""));
        assert!(!matches_weak("W/\"v1\"", "\"v2\""));
        assert!(!matches_weak("v2", "\"v2\""));
        assert!(!matches_weak("", "\"v2\""));
    }
}
