//! Query strings as web forms and JavaScript libraries write them, read alike by every endpoint
//! from the parameters it documents (its `IntoParams` type), so the contract and the reading
//! cannot drift apart:
//!
//! - an empty value means the parameter was not given (`kind=` from an "All" choice);
//! - `_` (jQuery's cache-buster) and `utm_*` (campaign tags) are ignored;
//! - a parameter documented as an array takes several values, repeated (`province=79&province=74`),
//!   comma-separated (`province=79,74`) or PHP-style (`field[]=2&field[]=3`), up to its `maxItems`;
//! - a single-valued parameter given twice with different values is refused, as is any other
//!   parameter (which names the known ones, so a typo does not pass as "no filter").

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::{Ready, ready};
use std::sync::{OnceLock, PoisonError, RwLock};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use techex_domain::{Message, Text, ValidationErrors};
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::extract::field_error_from_message;

/// At most this many parameters in one query string (ignored ones included): bounds the work of
/// reading one.
pub const MAX_PARAMETERS: usize = 50;

/// The most characters of one value of a query parameter, by name, wherever it appears: the
/// contract declares them (see [`crate::contract`]) and [`read`] refuses a longer value.
pub const VALUE_MAX_LENGTH: [(&str, usize); 13] = [
    ("cursor", crate::kit::CURSOR_MAX),
    // The audit trail's `client:<id>`.
    ("actor", "client:".len() + crate::kit::ID_MAX_LENGTH),
    ("after", crate::routes::changes::FEED_CURSOR_MAX),
    // Listing search: the query, a sort word, a currency code, RFC 3339 instants, facet names.
    ("q", techex_domain::search::Q_MAX_CHARS),
    ("sort", 9),
    ("currency", 3),
    ("updated_since", crate::kit::TIMESTAMP_MAX_LENGTH),
    ("published_since", crate::kit::TIMESTAMP_MAX_LENGTH),
    // Two-digit province codes; one to three leading digits of a field code.
    ("province", 2),
    ("field", 3),
    ("fields", FIELD_NAME_MAX),
    ("facets", 13),
    // Centers: `lat,lon` in decimal degrees (their `q` is bounded as the listings' is).
    ("near", crate::routes::centers::NEAR_MAX),
];

/// The most characters of a member of a representation that `fields` may name.
pub const FIELD_NAME_MAX: usize = 40;

pub(crate) fn value_max_length(name: &str) -> Option<usize> {
    VALUE_MAX_LENGTH.iter().find(|(known, _)| *known == name).map(|(_, max)| *max)
}

/// A parameter an endpoint accepts: its name, and for an array its most values.
#[derive(Debug, Clone)]
pub struct Accepted {
    name: String,
    max_values: Option<usize>,
}

/// The parameters `P` documents. An array without `maxItems` takes one value only, so an
/// undocumented bound cannot slip in. Made once per type: building utoipa's descriptions of a
/// type's parameters on every request took some 5% of the server's time on a page of listings.
pub fn accepted<P: IntoParams + 'static>() -> &'static [Accepted] {
    static MADE: OnceLock<RwLock<HashMap<TypeId, &'static [Accepted]>>> = OnceLock::new();
    let made = MADE.get_or_init(Default::default);
    if let Some(found) = made.read().unwrap_or_else(PoisonError::into_inner).get(&TypeId::of::<P>()) {
        return found;
    }
    let documented: Vec<Accepted> = P::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|p| {
            let max_values = match &p.schema {
                Some(RefOr::T(Schema::Array(array))) => Some(array.max_items.unwrap_or(1)),
                _ => None,
            };
            Accepted { name: p.name, max_values }
        })
        .collect();
    // Leaked once for each of the program's few query types, as a `static` of each would be.
    made.write().unwrap_or_else(PoisonError::into_inner).entry(TypeId::of::<P>()).or_insert_with(|| documented.leak())
}

/// Whether a parameter is one the API ignores wherever it appears.
fn is_ignored(name: &str) -> bool {
    name == "_" || name.starts_with("utm_")
}

/// The values of each accepted parameter given, read from a raw query string; `accepted` lists
/// the parameters of each type the endpoint reads.
pub fn read(raw: &str, accepted: &[&[Accepted]]) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    let mut errors = ValidationErrors::default();
    let mut refused = BTreeSet::new();
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (n, (key, value)) in form_urlencoded::parse(raw.as_bytes()).enumerate() {
        if n == MAX_PARAMETERS {
            return Err(ApiError::InvalidQuery(ValidationErrors::single(
                "",
                Message::new(Text::TooManyParameters).with("max", MAX_PARAMETERS),
            )));
        }
        let name = key.strip_suffix("[]").unwrap_or(&key);
        if is_ignored(name) || refused.contains(name) {
            continue;
        }
        let Some(parameter) = accepted.iter().copied().flatten().find(|a| a.name == name) else {
            let known: Vec<&str> = accepted.iter().copied().flatten().map(|a| a.name.as_str()).collect();
            errors.add(name, Message::new(Text::UnknownParameter).with("known", known.join(", ")));
            refused.insert(name.to_owned());
            continue;
        };
        let too_long = value_max_length(name).and_then(|max| {
            let length = match parameter.max_values {
                Some(_) => value.split(',').map(|one| one.trim().chars().count()).max().unwrap_or_default(),
                None => value.chars().count(),
            };
            (length > max).then(|| Message::new(Text::TooLong).with("max", max).with("length", length))
        });
        let given = values.entry(parameter.name.clone()).or_default();
        let problem = match parameter.max_values {
            _ if too_long.is_some() => too_long,
            Some(max) => {
                for one in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                    if !given.iter().any(|v| v == one) {
                        given.push(one.to_owned());
                    }
                }
                (given.len() > max).then(|| Message::new(Text::TooManyValues).with("max", max))
            }
            None if value.is_empty() => None,
            None => match given.first() {
                Some(first) if *first != value => {
                    Some(Message::new(Text::RepeatedParameter).with("first", first).with("value", &value))
                }
                Some(_) => None,
                None => {
                    given.push(value.into_owned());
                    None
                }
            },
        };
        if let Some(message) = problem {
            errors.add(name, message);
            refused.insert(name.to_owned());
        }
    }
    errors.finish(()).map_err(ApiError::InvalidQuery)?;
    values.retain(|_, v| !v.is_empty());
    Ok(values)
}

/// Reads the parameters `P` documents out of `values` (see [`read`]) into `P`: arrays as lists,
/// the others as single strings.
pub fn take<P: IntoParams + DeserializeOwned + 'static>(values: &BTreeMap<String, Vec<String>>) -> Result<P, ApiError> {
    let object = accepted::<P>()
        .iter()
        .filter_map(|a| {
            let given = values.get(&a.name)?;
            let value = match a.max_values {
                Some(_) => Value::from(given.clone()),
                None => Value::from(given[0].clone()),
            };
            Some((a.name.clone(), value))
        })
        .collect();
    serde_json::from_value(Value::Object(object))
        .map_err(|e| ApiError::InvalidQuery(field_error_from_message(&e.to_string())))
}

/// The query string of a request read as `P` documents it: `P` declares each parameter as an
/// `Option<String>` or, for several values, a `Vec<String>` with `max_items`, `style = Form` and
/// `explode`.
pub struct Query<P>(pub P);

impl<P: IntoParams + DeserializeOwned + 'static> FromRequest for Query<P> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let accepted = [accepted::<P>(), accepted::<crate::language::LanguageQuery>()];
        ready(read(req.query_string(), &accepted).and_then(|values| take(&values)).map(Query))
    }
}

/// Which top-level members of a representation to send (`fields=id,title`); all when none
/// are named. `id` is always sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Option<BTreeSet<String>>);

impl Fields {
    /// The members named in `names`, each a property of `T`'s schema.
    pub fn of<T: ToSchema>(names: &[String], errors: &mut ValidationErrors) -> Fields {
        if names.is_empty() {
            return Fields(None);
        }
        let properties: Vec<String> = match T::schema() {
            RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let unknown: Vec<&str> =
            names.iter().map(String::as_str).filter(|n| !properties.iter().any(|p| p == n)).collect();
        if !unknown.is_empty() {
            errors.add(
                "fields",
                Message::new(Text::UnknownFieldNames)
                    .with("unknown", unknown.join(", "))
                    .with("known", properties.join(", ")),
            );
            return Fields(None);
        }
        let mut chosen: BTreeSet<String> = names.iter().cloned().collect();
        chosen.insert("id".to_owned());
        Fields(Some(chosen))
    }

    /// Answers with `record`'s representation, the chosen members only. Without a choice (most
    /// reads) it is serialized straight from the record, in its declared order, instead of
    /// through a `Value` tree (a page of listings spent about a tenth of its CPU building one).
    pub fn answer(&self, mut response: HttpResponseBuilder, record: impl serde::Serialize) -> HttpResponse {
        let Some(chosen) = &self.0 else { return response.json(record) };
        let mut value = serde_json::to_value(record).expect("representations serialize");
        if let Some(object) = value.as_object_mut() {
            object.retain(|name, _| chosen.contains(name));
        }
        response.json(value)
    }

    /// Answers with a page (`{"items": [...], ...}`), the chosen members of each item only.
    pub fn answer_page(&self, mut response: HttpResponseBuilder, page: impl serde::Serialize) -> HttpResponse {
        let Some(chosen) = &self.0 else { return response.json(page) };
        let mut value = serde_json::to_value(page).expect("pages serialize");
        if let Some(items) = value.get_mut("items").and_then(Value::as_array_mut) {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                item.retain(|name, _| chosen.contains(name));
            }
        }
        response.json(value)
    }

    /// Whether `name` was asked for by name (not merely sent because no choice was made).
    pub fn names(&self, name: &str) -> bool {
        self.0.as_ref().is_some_and(|chosen| chosen.contains(name))
    }

    /// What tells this choice apart in an entity tag (`None` for the whole representation):
    /// each field set is its own representation, with its own tag.
    pub fn tag(&self) -> Option<String> {
        let chosen = self.0.as_ref()?;
        let names: Vec<&str> = chosen.iter().map(String::as_str).collect();
        Some(Sha256::digest(names.join(",").as_bytes())[..5].iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// A yes-or-no parameter: `true`, or `false` and absent alike.
pub fn flag(raw: Option<&str>, name: &str, errors: &mut ValidationErrors) -> bool {
    match raw {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            errors.add(name, Message::new(Text::NotTrueOrFalse).with("value", other));
            false
        }
    }
}

/// The parameters of a read that takes none of its own (a list without filters, a reference
/// list): only the ignored ones pass.
#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoParameters {}

/// `fields` of a read of one record.
#[derive(Debug, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FieldsQuery {
    /// Only these top-level members of the representation (`id` always comes too), e.g.
    /// `fields=id,title,province,kind`; an unknown name is refused (`invalid_query`) with the list
    /// of known ones.
    #[param(style = Form, explode, max_items = 40, example = json!(["id", "title", "province", "kind"]))]
    #[serde(default)]
    pub fields: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_fields_may_name_fits_its_documented_length() {
        let spec = serde_json::to_value(crate::openapi()).unwrap();
        for schema in ["ListingResponse", "OrganizationResponse", "ClientResponse"] {
            let properties = spec["components"]["schemas"][schema]["properties"].as_object().unwrap();
            assert!(!properties.is_empty());
            for name in properties.keys() {
                assert!(name.len() <= FIELD_NAME_MAX, "{schema}.{name}");
            }
        }
    }

    #[derive(Debug, serde::Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[allow(dead_code)]
    struct Example {
        kind: Option<String>,
        #[param(style = Form, explode, max_items = 3)]
        #[serde(default)]
        province: Vec<String>,
    }

    fn example(raw: &str) -> Result<Example, Vec<(String, String)>> {
        read(raw, &[accepted::<Example>()])
            .and_then(|values| take(&values))
            .map_err(|e| e.problem(techex_domain::Lang::En).errors.into_iter().map(|e| (e.field, e.code)).collect())
    }

    #[test]
    fn several_values_come_repeated_comma_separated_or_in_brackets() {
        for raw in ["province=79&province=74", "province=79,74", "province[]=79&province[]=74", "province%5B%5D=79,74"]
        {
            assert_eq!(example(raw).unwrap().province, ["79", "74"], "{raw}");
        }
        assert_eq!(example("province=79&province=79,%2074").unwrap().province, ["79", "74"]);
        assert_eq!(example("province=1,2,3,4").unwrap_err(), [("province".into(), "too_many_values".into())]);
    }

    #[test]
    fn empty_values_cache_busters_and_campaign_tags_are_nothing() {
        let read = example("kind=&province=&_=1700000000&utm_source=fb&utm_medium=").unwrap();
        assert_eq!((read.kind, read.province), (None, Vec::<String>::new()));
    }

    #[test]
    fn unknown_and_repeated_single_parameters_are_refused() {
        assert_eq!(example("knd=offer").unwrap_err(), [("knd".into(), "unknown_field".into())]);
        assert_eq!(example("kind=offer&kind=demand").unwrap_err(), [("kind".into(), "repeated_parameter".into())]);
        assert_eq!(example("kind=offer&kind=offer").unwrap().kind.as_deref(), Some("offer"));
        let many = vec!["_=1"; MAX_PARAMETERS + 1].join("&");
        assert_eq!(example(&many).unwrap_err(), [(String::new(), "too_many_parameters".into())]);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Query strings built from the pieces that matter (known and unknown names, brackets,
        /// commas, escapes, empty values) as well as arbitrary text.
        fn query_string() -> impl Strategy<Value = String> {
            let known = prop::sample::select(vec!["kind", "province", "province[]", "province%5B%5D", "_", "utm_x"]);
            let name = prop_oneof![known.prop_map(str::to_owned), "[a-z%]{0,6}"];
            let value = prop_oneof!["[0-9,]{0,12}", "[a-z%20 ,]{0,12}", ".{0,8}"];
            prop_oneof![
                proptest::collection::vec((name, value), 0..60).prop_map(|pairs| pairs
                    .iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")),
                ".{0,300}",
            ]
        }

        proptest! {
            /// Any query string reads or is refused as the caller's mistake, never a panic; what
            /// reads keeps each value once and within the documented count.
            #[test]
            fn any_query_string_reads_or_is_refused(raw in query_string()) {
                match read(&raw, &[accepted::<Example>()]) {
                    Ok(values) => {
                        let provinces = values.get("province").cloned().unwrap_or_default();
                        prop_assert!(provinces.len() <= 3);
                        let unique: BTreeSet<&String> = provinces.iter().collect();
                        prop_assert_eq!(unique.len(), provinces.len());
                        prop_assert!(values.values().all(|v| !v.is_empty()));
                        let _ = take::<Example>(&values);
                    }
                    Err(error) => prop_assert!(matches!(error, ApiError::InvalidQuery(_)), "{error}"),
                }
            }
        }
    }
}
