//! Keyset pagination shared by every list: an opaque cursor naming the last id of a page, a
//! bounded `limit`, and the RFC 8288 `Link` to the next page.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponseBuilder, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use techex_domain::{Message, Text, ValidationErrors};
use uuid::Uuid;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;
const CURSOR_PREFIX: &str = "v1:";

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{id}"))
}

const KEYED_PREFIX: &str = "k1:";

/// A cursor of a list sorted by a key other than the id: the sort it belongs to (with anything
/// else that key depends on, such as the query of a relevance sort), the key of the last item
/// and its id. The id alone ([`encode_cursor`]) serves lists sorted by id.
pub fn encode_keyed_cursor(sort: &str, key: i64, id: Uuid) -> String {
    let payload = format!("{KEYED_PREFIX}{sort}:{key}:{id}");
    URL_SAFE_NO_PAD.encode(format!("{payload}:{}", check_of(&payload)))
}

/// A check of a keyed cursor's payload, so that a cursor edited by hand (another key, another
/// id) is refused rather than followed to an arbitrary place.
fn check_of(payload: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(payload.as_bytes())[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// The sort and key a keyed cursor carries (see [`encode_keyed_cursor`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorKey {
    pub sort: String,
    pub key: i64,
}

fn decode_cursor(cursor: &str) -> Option<(Uuid, Option<CursorKey>)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    if let Some(id) = text.strip_prefix(CURSOR_PREFIX) {
        return Some((id.parse().ok()?, None));
    }
    let (payload, check) = text.rsplit_once(':')?;
    if check != check_of(payload) {
        return None;
    }
    let mut parts = payload.strip_prefix(KEYED_PREFIX)?.splitn(3, ':');
    let (sort, key, id) = (parts.next()?, parts.next()?, parts.next()?);
    Some((id.parse().ok()?, Some(CursorKey { sort: sort.to_owned(), key: key.parse().ok()? })))
}

/// The page size and starting point a query asks for; problems go to `errors`.
pub fn page_request(
    limit: Option<&str>,
    cursor: Option<&str>,
    errors: &mut ValidationErrors,
) -> (i64, Option<(Uuid, Option<CursorKey>)>) {
    let limit = match limit.map(str::parse::<i64>) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(Ok(_)) => {
            errors.add("limit", Message::new(Text::PageLimit).with("max", MAX_LIMIT));
            DEFAULT_LIMIT
        }
        Some(Err(_)) => {
            errors.add_as("limit", "invalid_format", Message::new(Text::PageLimit).with("max", MAX_LIMIT));
            DEFAULT_LIMIT
        }
    };
    let after = cursor.and_then(|c| {
        let id = decode_cursor(c);
        if id.is_none() {
            errors.add("cursor", Text::InvalidCursor);
        }
        id
    });
    (limit, after)
}

/// Trims a result fetched with `limit + 1` rows to the page and says where the next one starts.
pub fn split_page<T>(items: Vec<T>, limit: i64, id_of: impl Fn(&T) -> Uuid) -> (Vec<T>, Option<String>) {
    split_page_with(items, limit, |item| encode_cursor(id_of(item)))
}

/// [`split_page`] with the cursor of the last item written by `cursor_of`.
pub fn split_page_with<T>(mut items: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if items.len() as i64 > limit {
        items.truncate(limit as usize);
        let next = items.last().map(cursor_of);
        (items, next)
    } else {
        (items, None)
    }
}

/// Adds `Link: <this query with the next cursor>; rel="next"` when there is a next page.
pub fn link_next(response: &mut HttpResponseBuilder, req: &HttpRequest, next_cursor: Option<&str>) {
    let Some(cursor) = next_cursor else { return };
    let mut pairs: Vec<(String, String)> =
        web::Query::<Vec<(String, String)>>::from_query(req.query_string()).map(|q| q.into_inner()).unwrap_or_default();
    pairs.retain(|(k, _)| k != "cursor");
    pairs.push(("cursor".to_owned(), cursor.to_owned()));
    let query: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v))).collect();
    if let Ok(link) = HeaderValue::from_str(&format!("<{}?{}>; rel=\"next\"", req.path(), query.join("&"))) {
        response.insert_header((header::LINK, link));
    }
}

fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some((id, None)));
        let key = CursorKey { sort: "-price".into(), key: -1 };
        assert_eq!(decode_cursor(&encode_keyed_cursor("-price", -1, id)), Some((id, Some(key))));
        assert_eq!(decode_cursor("bm90LWEtY3Vyc29y"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("v2:0190")), None);
        for forged in
            [format!("k1:price:x:{id}"), format!("k1:price:1:{id}x"), "k1:price:1".into(), format!("k1:1:{id}")]
        {
            assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode(&forged)), None, "{forged}");
        }
    }

    #[test]
    fn limits_outside_1_to_100_are_errors_not_clamped() {
        for bad in ["0", "101", "-1", "ten", ""] {
            let mut errors = ValidationErrors::default();
            page_request(Some(bad), None, &mut errors);
            assert_eq!(errors.0.len(), 1, "{bad}");
        }
        let mut errors = ValidationErrors::default();
        assert_eq!(page_request(None, None, &mut errors), (DEFAULT_LIMIT, None));
        assert!(errors.is_empty());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// A cursor comes from the client: any text is a page request or an `invalid_cursor`.
            #[test]
            fn any_cursor_or_limit_is_read_without_panic(cursor in ".{0,200}", limit in ".{0,12}") {
                let mut errors = ValidationErrors::default();
                let (size, _) = page_request(Some(&limit), Some(&cursor), &mut errors);
                prop_assert!((1..=MAX_LIMIT).contains(&size));
                let mut errors = ValidationErrors::default();
                let _ = page_request(None, Some(&URL_SAFE_NO_PAD.encode(cursor.as_bytes())), &mut errors);
            }

            #[test]
            fn cursors_round_trip(id in any::<u128>().prop_map(Uuid::from_u128), sort in "[a-z0-9._-]{0,40}", key in any::<i64>()) {
                prop_assert_eq!(decode_cursor(&encode_cursor(id)), Some((id, None)));
                let keyed = CursorKey { sort: sort.clone(), key };
                prop_assert_eq!(decode_cursor(&encode_keyed_cursor(&sort, key, id)), Some((id, Some(keyed))));
            }

            /// A keyed cursor edited by hand (any one character of what it carries) is refused.
            #[test]
            fn an_edited_keyed_cursor_is_refused(id in any::<u128>().prop_map(Uuid::from_u128), key in any::<i64>(), at in any::<prop::sample::Index>(), to in "[0-9a-z:-]") {
                let text = String::from_utf8(URL_SAFE_NO_PAD.decode(encode_keyed_cursor("-price", key, id)).unwrap()).unwrap();
                let at = at.index(text.len());
                let edited = format!("{}{to}{}", &text[..at], &text[at + 1..]);
                prop_assume!(edited != text);
                prop_assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode(&edited)), None);
            }
        }
    }
}
