//! The language of error messages, negotiated from `Accept-Language` (RFC 9110 section 12.5.4).

use actix_web::HttpMessage;
use actix_web::http::header::{self, AcceptLanguage, Header, HeaderMap, HeaderValue, Preference, Quality};
use techex_domain::Lang;

/// The language the caller prefers among those the API speaks: the highest-weighted range
/// (`q`, ties in the order sent) whose primary subtag is `vi` or `en`; `*`, a malformed header
/// or no match at all means English.
pub fn negotiate(request: &impl HttpMessage) -> Lang {
    let Ok(ranges) = AcceptLanguage::parse(request) else { return Lang::En };
    let mut ranges: Vec<_> = ranges.0.into_iter().filter(|range| range.quality > Quality::ZERO).collect();
    // Stable, so that equal weights keep the caller's order.
    ranges.sort_by_key(|range| std::cmp::Reverse(range.quality));
    ranges
        .iter()
        .find_map(|range| match &range.item {
            Preference::Any => Some(Lang::En),
            Preference::Specific(tag) => match tag.primary_language().to_ascii_lowercase().as_str() {
                "vi" => Some(Lang::Vi),
                "en" => Some(Lang::En),
                _ => None,
            },
        })
        .unwrap_or_default()
}

/// Says which language a problem is in, and that another `Accept-Language` may get another.
pub fn mark(headers: &mut HeaderMap, lang: Lang) {
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
    headers.append(header::VARY, HeaderValue::from_static("accept-language"));
}
