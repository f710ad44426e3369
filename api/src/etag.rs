//! Entity tags built on record versions: `"v3"` is version 3.

pub fn of_version(version: i64) -> String {
    format!("\"v{version}\"")
}

/// The version in an entity tag, weak (`W/"v3"`) or strong (`"v3"`).
pub fn parse_version(tag: &str) -> Option<i64> {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix("\"v")?.strip_suffix('"')?.parse().ok()
}

/// Whether an `If-None-Match` header value matches `etag` (a list, or `*`).
pub fn none_match(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_through_tags() {
        assert_eq!(parse_version(&of_version(42)), Some(42));
        assert_eq!(parse_version("W/\"v7\""), Some(7));
        assert_eq!(parse_version("v7"), None);
        assert_eq!(parse_version("\"vx\""), None);
    }

    #[test]
    fn if_none_match_lists_and_wildcards() {
        assert!(none_match("\"v1\", \"v2\"", "\"v2\""));
        assert!(none_match("W/\"v2\"", "\"v2\""));
        assert!(none_match("*", "\"v9\""));
        assert!(!none_match("\"v1\"", "\"v2\""));
    }
}
