//! Entity tags built on record versions: `"v3"` is version 3.

pub fn of_version(version: i64) -> String {
    format!("\"v{version}\"")
}

/// Whether an `If-Match` header names `etag`: `*`, or one of a list of tags compared strongly
/// (RFC 9110 section 13.1.1): a weak tag (`W/"v2"`) never matches, since a weak tag does not
/// promise the bytes a write would replace. Anything else, malformed tags included, names
/// something else.
pub fn matches_strong(header: &str, etag: &str) -> bool {
    !is_weak(etag) && candidates(header).any(|candidate| candidate == "*" || (!is_weak(candidate) && candidate == etag))
}

/// Whether an `If-None-Match` header names `etag`: `*`, or one of a list of tags compared weakly
/// (RFC 9110 section 13.1.2): `W/"v2"` and `"v2"` name the same representation.
pub fn matches_weak(header: &str, etag: &str) -> bool {
    candidates(header).any(|candidate| candidate == "*" || opaque(candidate) == opaque(etag))
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
