//! Languages: of error messages, and of the text fields and labels of reads.
//!
//! One parser of `Accept-Language` (RFC 9110 section 12.5.4) serves both rules:
//! - error messages ([`negotiate`]): the caller's preferred language among `vi` and `en`, English
//!   when it names neither (`*` counts as English);
//! - reads ([`respond`]): `lang=vi|en`, or else an `Accept-Language` that ranks `vi` or `en` (`*`
//!   ignored), picks one language, and every bilingual member is answered as a plain string in it
//!   (Vietnamese where no English was written); with neither, both languages come as objects.

use std::collections::BTreeMap;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, AcceptLanguage, Header, HeaderMap, HeaderValue, Preference, Quality};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use serde_json::{Map, Value};
use techex_domain::{Lang, Message, Text, ValidationErrors};
use utoipa::IntoParams;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Components, Ref, RefOr};

use crate::error::ApiError;

/// A range of `Accept-Language` the API speaks, or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range {
    Spoken(Lang),
    Any,
}

/// The ranges of `Accept-Language` that name `vi`, `en` or `*`, best first (by `q`, ties in the
/// order sent); none for a malformed header.
fn ranked(request: &impl HttpMessage) -> Vec<Range> {
    let Ok(ranges) = AcceptLanguage::parse(request) else { return Vec::new() };
    let mut ranges: Vec<_> = ranges.0.into_iter().filter(|range| range.quality > Quality::ZERO).collect();
    // Stable, so that equal weights keep the caller's order.
    ranges.sort_by_key(|range| std::cmp::Reverse(range.quality));
    ranges
        .iter()
        .filter_map(|range| match &range.item {
            Preference::Any => Some(Range::Any),
            Preference::Specific(tag) => match tag.primary_language().to_ascii_lowercase().as_str() {
                "vi" => Some(Range::Spoken(Lang::Vi)),
                "en" => Some(Range::Spoken(Lang::En)),
                _ => None,
            },
        })
        .collect()
}

/// The language of error messages: the highest-weighted range whose primary subtag is `vi` or
/// `en`; `*`, a malformed header or no match at all means English.
pub fn negotiate(request: &impl HttpMessage) -> Lang {
    match ranked(request).first() {
        Some(Range::Spoken(lang)) => *lang,
        Some(Range::Any) | None => Lang::En,
    }
}

/// The language `Accept-Language` picks for the text of a read: the best-ranked `vi` or `en`,
/// `*` ignored; none when it names neither (`fr`).
pub fn preferred(request: &impl HttpMessage) -> Option<Lang> {
    ranked(request).into_iter().find_map(|range| match range {
        Range::Spoken(lang) => Some(lang),
        Range::Any => None,
    })
}

/// Says which language a problem is in, and that another `Accept-Language` may get another.
pub fn mark(headers: &mut HeaderMap, lang: Lang) {
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
    headers.append(header::VARY, HeaderValue::from_static("accept-language"));
}

/// `lang` of every read whose answer holds text in two languages.
#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LanguageQuery {
    /// `vi` or `en`: every text in two languages (titles, summaries, descriptions, names, labels)
    /// comes as one string in this language, Vietnamese where no English was written, and
    /// `Content-Language` names it. Without it, an `Accept-Language` that ranks `vi` or `en` picks
    /// the language alike (`fr, en;q=0.5` picks English; `*` counts for nothing); with neither,
    /// both languages come, as objects `{"vi": ..., "en": ...}` (and `label_vi`, `label_en` pairs).
    #[param(value_type = Option<LangWord>, inline, example = "en")]
    pub lang: Option<String>,
}

/// The words of `lang`.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum LangWord {
    Vi,
    En,
}

/// The reads whose text a language picks: every `GET` under these paths.
const LOCALIZED: [&str; 5] = ["/v1/listings", "/v1/organizations", "/v1/reference", "/v1/clients", "/v1/centers"];

fn is_localized(req: &ServiceRequest) -> bool {
    req.method() == Method::GET && LOCALIZED.iter().any(|prefix| req.path().starts_with(prefix))
}

/// The language of a read's text: `lang` first, then `Accept-Language`; `lang` with another value
/// than `vi` or `en` is refused.
fn picked(req: &ServiceRequest) -> Result<Option<Lang>, ApiError> {
    let mut asked = None;
    for (name, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
        match (name.as_ref(), value.as_ref()) {
            ("lang", "") => {}
            ("lang", "vi") => asked = asked.or(Some(Lang::Vi)),
            ("lang", "en") => asked = asked.or(Some(Lang::En)),
            ("lang", _) => {
                return Err(ApiError::InvalidQuery(ValidationErrors::single(
                    "lang",
                    Message::new(Text::OneOf).with("allowed", "vi, en"),
                )));
            }
            _ => {}
        }
    }
    Ok(asked.or_else(|| preferred(req.request())))
}

/// Answers a read in the language picked (see the module): its bilingual members as strings,
/// `Content-Language` naming the language, and an entity tag of its own per language, so a 304
/// for one language never stands for another. Every answer of such a read varies with
/// `Accept-Language`, picked or not.
pub async fn respond(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !is_localized(&req) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let lang = match picked(&req) {
        Ok(lang) => lang,
        Err(refused) => return Ok(req.error_response(refused)),
    };
    let mut response = next.call(req).await?;
    if response.response().error().is_some() || response.status() != StatusCode::OK {
        return Ok(response.map_into_boxed_body());
    }
    vary_by_language(response.headers_mut());
    let Some(lang) = lang else { return Ok(response.map_into_boxed_body()) };
    let is_json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_json {
        return Ok(response.map_into_boxed_body());
    }
    let (request, response) = response.into_parts();
    let (mut head, body) = response.into_parts();
    let Ok(bytes) = actix_web::body::to_bytes(body).await else {
        return Ok(ServiceResponse::new(request, HttpResponse::InternalServerError().finish()));
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Ok(ServiceResponse::new(request, head.set_body(bytes).map_into_boxed_body()));
    };
    localize(&mut value, lang);
    let headers = head.headers_mut();
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
    if let Some(tag) = headers.get(header::ETAG).and_then(|v| v.to_str().ok()).map(|tag| tagged(tag, lang))
        && let Ok(tag) = HeaderValue::from_str(&tag)
    {
        headers.insert(header::ETAG, tag);
    }
    let body = serde_json::to_vec(&value).expect("JSON values serialize");
    Ok(ServiceResponse::new(request, head.set_body(body).map_into_boxed_body()))
}

/// Adds `Accept-Language` to `Vary`, merged into one value with those already there (`Vary:
/// Authorization` of reads whose answer depends on the caller): layers that rewrite `Vary`
/// (CORS) keep its first value only.
fn vary_by_language(headers: &mut HeaderMap) {
    let mut names: Vec<String> = headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    if !names.iter().any(|name| name.eq_ignore_ascii_case("accept-language")) {
        names.push("Accept-Language".to_owned());
    }
    if let Ok(value) = HeaderValue::from_str(&names.join(", ")) {
        headers.insert(header::VARY, value);
    }
}

/// The entity tag of a record's representation in one language: `"v3"` in English is `"v3.en"`
/// (see [`crate::etag`]).
pub fn tagged(tag: &str, lang: Lang) -> String {
    match tag.strip_suffix('"') {
        Some(open) => format!("{open}.{}\"", lang.tag()),
        None => tag.to_owned(),
    }
}

/// Every bilingual member of `value` as a string in `lang`, Vietnamese where English is missing:
/// an object `{"vi": ..., "en": ...}` becomes its text, and a pair of members `x_vi`, `x_en`
/// becomes one member `x`.
pub fn localize(value: &mut Value, lang: Lang) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|item| localize(item, lang)),
        Value::Object(members) => {
            if let Some(text) = text_in(members, lang) {
                *value = Value::String(text);
                return;
            }
            let pairs: Vec<String> = members
                .keys()
                .filter_map(|name| name.strip_suffix("_vi"))
                .filter(|base| members.contains_key(&format!("{base}_en")))
                .map(str::to_owned)
                .collect();
            for base in pairs {
                let vi = members.remove(&format!("{base}_vi"));
                let en = members.remove(&format!("{base}_en"));
                let chosen = match (lang, en) {
                    (Lang::En, Some(Value::String(en))) if !en.is_empty() => Value::String(en),
                    _ => vi.unwrap_or(Value::Null),
                };
                members.insert(base, chosen);
            }
            members.values_mut().for_each(|member| localize(member, lang));
        }
        _ => {}
    }
}

/// The text of a bilingual object (`vi` required, `en` optional, nothing else) in `lang`.
fn text_in(members: &Map<String, Value>, lang: Lang) -> Option<String> {
    if members.keys().any(|name| name != "vi" && name != "en") {
        return None;
    }
    let vi = members.get("vi")?.as_str()?;
    let en = members.get("en").and_then(Value::as_str).filter(|en| !en.is_empty());
    Some(match (lang, en) {
        (Lang::En, Some(en)) => en.to_owned(),
        _ => vi.to_owned(),
    })
}

/// The bilingual schemas and what a read answers in their place: the text in the language picked,
/// or the object.
const ANSWERS: [(&str, &str); 4] = [
    ("LocalizedText", "LocalizedTextAnswer"),
    ("LocalizedSummary", "LocalizedSummaryAnswer"),
    ("LocalizedDescription", "LocalizedDescriptionAnswer"),
    ("FacetLabel", "FacetLabelAnswer"),
];

/// The schemas of reads whose `x_vi`, `x_en` pairs become one `x` with a language picked.
const PAIRED: [&str; 5] = ["EnumValue", "Province", "ProvinceName", "Field", "TrlLevel"];

/// Writes the language rule into the document: each bilingual member of a response becomes one
/// shared component per kind of text, `oneOf` its text in the language picked and the bilingual
/// object; each labelled pair of a reference schema gains the member a language picks. Run after
/// the limits are written: the strings take the limits of the objects' `vi`.
pub fn document(components: &mut Components) {
    let mut renamed = BTreeMap::new();
    for (object, answer) in ANSWERS {
        let Some(RefOr::T(Schema::Object(bilingual))) = components.schemas.get(object) else { continue };
        let max = match bilingual.properties.get("vi") {
            Some(RefOr::T(Schema::Object(vi))) => vi.max_length,
            _ => None,
        };
        let text = ObjectBuilder::new().schema_type(Type::String).max_length(max).description(Some(
            "The text in the language picked (`lang` or `Accept-Language`), Vietnamese where no English was written",
        ));
        let schema = OneOfBuilder::new().item(text).item(Ref::from_schema_name(object)).description(Some(format!(
            "A `{object}` as a read answers it: a string in the language picked with `lang` or \
                 `Accept-Language` (`Content-Language` names it), or, when none is picked, the \
                 object with both languages"
        )));
        components.schemas.insert(answer.to_owned(), schema.into());
        renamed.insert(format!("#/components/schemas/{object}"), format!("#/components/schemas/{answer}"));
    }
    for (name, schema) in components.schemas.iter_mut() {
        // A facet's label is read like the texts of a response.
        if (name.ends_with("Response") || name == "FacetCount")
            && let RefOr::T(Schema::Object(response)) = schema
        {
            for property in response.properties.values_mut() {
                rename_refs(property, &renamed);
            }
        }
    }
    for name in PAIRED {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) else {
            panic!("no schema {name} to document the languages of");
        };
        let bases: Vec<String> = object
            .properties
            .keys()
            .filter_map(|p| p.strip_suffix("_vi"))
            .filter(|base| object.properties.contains_key(&format!("{base}_en")))
            .map(str::to_owned)
            .collect();
        for base in bases {
            let max = match object.properties.get(&format!("{base}_vi")) {
                Some(RefOr::T(Schema::Object(vi))) => vi.max_length,
                _ => None,
            };
            object.required.retain(|r| *r != format!("{base}_vi") && *r != format!("{base}_en"));
            let single = ObjectBuilder::new().schema_type(Type::String).max_length(max).description(Some(format!(
                "With a language picked (`lang` or `Accept-Language`): the {base} in it, in place of \
                 `{base}_vi` and `{base}_en`, which come when none is picked"
            )));
            object.properties.insert(base, single.into());
        }
    }
}

fn rename_refs(schema: &mut RefOr<Schema>, renamed: &BTreeMap<String, String>) {
    match schema {
        RefOr::Ref(reference) => {
            if let Some(answer) = renamed.get(&reference.ref_location) {
                reference.ref_location = answer.clone();
            }
        }
        RefOr::T(Schema::OneOf(one_of)) => one_of.items.iter_mut().for_each(|item| rename_refs(item, renamed)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use serde_json::json;

    fn accepting(header: &str) -> actix_web::HttpRequest {
        TestRequest::default().insert_header(("accept-language", header)).to_http_request()
    }

    #[test]
    fn one_parser_serves_errors_and_reads_each_by_its_rule() {
        for (header, errors, reads) in [
            ("vi-VN", Lang::Vi, Some(Lang::Vi)),
            ("en-US,en;q=0.9", Lang::En, Some(Lang::En)),
            ("fr, en;q=0.5", Lang::En, Some(Lang::En)),
            ("fr, vi;q=0.5, en;q=0.4", Lang::Vi, Some(Lang::Vi)),
            ("fr", Lang::En, None),
            ("*", Lang::En, None),
            ("*, vi;q=0.8", Lang::En, Some(Lang::Vi)),
            ("en;q=0, vi;q=0.1", Lang::Vi, Some(Lang::Vi)),
            ("vi;q=oops", Lang::En, None),
        ] {
            let req = accepting(header);
            assert_eq!((negotiate(&req), preferred(&req)), (errors, reads), "{header}");
        }
        let none = TestRequest::default().to_http_request();
        assert_eq!((negotiate(&none), preferred(&none)), (Lang::En, None));
    }

    #[test]
    fn bilingual_members_become_strings_with_vietnamese_where_english_is_missing() {
        let mut value = json!({
            "title": {"vi": "Máy sấy", "en": "Dryer"},
            "summary": {"vi": "Tóm tắt"},
            "description": null,
            "owner": {"name": "Viện A", "organization_id": null},
            "items": [{"value": "offer", "label_vi": "Chào bán", "label_en": "Offer"}],
            "price": {"amount": 5, "vi": "not text alone"}
        });
        localize(&mut value, Lang::En);
        assert_eq!(value["title"], "Dryer");
        assert_eq!(value["summary"], "Tóm tắt", "no English: Vietnamese");
        assert_eq!(value["description"], Value::Null);
        assert_eq!(value["owner"], json!({"name": "Viện A", "organization_id": null}));
        assert_eq!(value["items"][0], json!({"value": "offer", "label": "Offer"}));
        assert_eq!(value["price"], json!({"amount": 5, "vi": "not text alone"}), "an object with other members stays");
        let mut value = json!({"title": {"vi": "Máy sấy", "en": "Dryer"}, "name_vi": "Tỉnh", "name_en": "Province"});
        localize(&mut value, Lang::Vi);
        assert_eq!(value, json!({"title": "Máy sấy", "name": "Tỉnh"}));
    }

    #[test]
    fn a_tag_per_language() {
        assert_eq!(tagged("\"v3\"", Lang::En), "\"v3.en\"");
        assert_eq!(tagged("\"v3.f0a1b2c3d4e\"", Lang::Vi), "\"v3.f0a1b2c3d4e.vi\"");
    }
}
