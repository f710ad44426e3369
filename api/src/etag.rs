//! Entity tags built on record versions: `"v3"` is version 3.

pub fn of_version(version: i64) -> String {
    format!("\"v{version}\"")
}

/// Whether an `If-Match` or `If-None-Match` header names `etag`: one of a list of tags (weak or
/// strong alike), or `*`. Anything else, malformed tags included, names something else.
pub fn matches(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_match_in_lists_weakly_or_by_wildcard() {
        assert_eq!(of_version(42), "\"v42\"");
        assert!(matches("\"v1\", \"v2\"", "\"v2\""));
        assert!(matches("W/\"v2\"", "\"v2\""));
        assert!(matches("*", "\"v9\""));
        assert!(!matches("\"v1\"", "\"v2\""));
        assert!(!matches("v2", "\"v2\""));
        assert!(!matches("\"v85710445734796001182559\"", "\"v2\""));
        assert!(!matches("", "\"v2\""));
    }
}
