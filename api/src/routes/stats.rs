//! `/v1/stats`: public statistics of transfer contracts and listings, as JSON or as CSV for the
//! yearly report spreadsheets. Contract values marked confidential count in a group's totals only
//! when the group holds at least three contracts.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::{NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};
use techex_domain::contract::{TransferForm, TransferObject};
use techex_domain::stats::{self, ContractFact, ContractGrouping, ListingGrouping, SMALL_GROUP};
use techex_domain::{ListingKind, ListingStatus, Message, Text, ValidationErrors, refdata};
use techex_persistence::Db;
use techex_persistence::contracts::{self, ContractFilter};
use techex_persistence::stats::{ListingFactFilter, listing_facts};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, QueryRefused};
use crate::kit::{Limit, Limits};
use crate::query::Query;
use crate::routes::contracts::provinces;
use crate::routes::vocabulary_dto as words;
use crate::routes::with_conn;

/// `json` (the default) or `csv`.
#[derive(ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "snake_case")]
enum StatsFormat {
    Json,
    Csv,
}

/// A CSV document: a header line, then one line per group (and currency).
pub struct CsvText;

impl utoipa::PartialSchema for CsvText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(CSV_MAX))
            .description(Some("Comma-separated values (RFC 4180), UTF-8, with a header line"))
            .into()
    }
}

impl ToSchema for CsvText {}

/// The longest CSV answer: a few hundred groups of short lines.
const CSV_MAX: usize = 1_000_000;
/// The most groups of an answer: provinces, years, quarters, forms, objects or fields.
const GROUPS_MAX: usize = 1_000;
/// The most currencies of a group's totals (ISO 4217 has fewer).
const CURRENCIES_MAX: usize = 300;

/// Filters of every statistic.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractStatsQuery {
    /// What to group by (`province` by default): the province the contract counts under (the
    /// transferee's, or the transferor's when the transferee is abroad), the year or quarter of
    /// signing, the form (Art. 5), the object (Art. 4) or the S&T field. A contract with several
    /// forms, objects or fields counts in each.
    #[param(value_type = Option<words::ContractGrouping>)]
    group: Option<String>,
    /// Signed on or after this day.
    #[param(value_type = Option<NaiveDate>, example = "2026-01-01")]
    from: Option<String>,
    /// Signed on or before this day.
    #[param(value_type = Option<NaiveDate>, example = "2026-12-31")]
    to: Option<String>,
    /// Province codes, current or pre-2025 (`74` counts as Ho Chi Minh City `79`).
    #[param(style = Form, explode, max_items = 20, example = json!(["79"]))]
    #[serde(default)]
    province: Vec<String>,
    #[param(inline, value_type = Option<StatsFormat>)]
    format: Option<String>,
}

/// Filters of the listing statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListingStatsQuery {
    /// What to group by (`province` by default): province, S&T field (a listing with several
    /// counts in each), kind, status, or month of creation.
    #[param(value_type = Option<words::ListingGrouping>)]
    group: Option<String>,
    /// Created on or after this day (in Vietnam).
    #[param(value_type = Option<NaiveDate>, example = "2026-01-01")]
    from: Option<String>,
    /// Created on or before this day (in Vietnam).
    #[param(value_type = Option<NaiveDate>, example = "2026-12-31")]
    to: Option<String>,
    /// Province codes, current or pre-2025.
    #[param(style = Form, explode, max_items = 20, example = json!(["79"]))]
    #[serde(default)]
    province: Vec<String>,
    #[param(inline, value_type = Option<StatsFormat>)]
    format: Option<String>,
}

struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    provinces: Vec<String>,
    csv: bool,
}

fn day(raw: Option<&str>, name: &str, errors: &mut ValidationErrors) -> Option<NaiveDate> {
    let raw = raw?;
    match raw.parse::<NaiveDate>() {
        Ok(day) if raw.len() == 10 => Some(day),
        _ => {
            errors.add(name, Text::DayValue);
            None
        }
    }
}

fn period(
    from: Option<&str>,
    to: Option<&str>,
    codes: &[String],
    format: Option<&str>,
    errors: &mut ValidationErrors,
) -> Period {
    let (from, to) = (day(from, "from", errors), day(to, "to", errors));
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        errors.add("from", Text::PeriodOrder);
    }
    let csv = match format {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            errors.add("format", Message::new(Text::OneOf).with("allowed", "json, csv"));
            false
        }
    };
    Period { from, to, provinces: provinces(codes, errors), csv }
}

fn grouping<G: std::str::FromStr<Err = techex_domain::listing::UnknownWord>>(
    raw: Option<&str>,
    default: G,
    errors: &mut ValidationErrors,
) -> G {
    match raw.map(str::parse::<G>) {
        None => default,
        Some(Ok(group)) => group,
        Some(Err(e)) => {
            errors.add("group", Message::new(Text::OneOf).with("allowed", e.expected.join(", ")));
            default
        }
    }
}

/// A total of one currency.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CurrencyTotal {
    #[schema(example = "VND")]
    pub currency: String,
    /// In the smallest unit of the currency.
    pub amount: i64,
}

/// One group of contracts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContractStatsGroup {
    /// A province code, `2026`, `2026-Q2`, a form or object word, a field code, or `unknown`.
    #[schema(example = "79")]
    pub key: String,
    pub label_vi: Option<String>,
    pub label_en: Option<String>,
    pub count: i64,
    /// Value totals per currency; confidential values only in groups of at least `small_group`.
    pub totals: Vec<CurrencyTotal>,
    /// How many confidential values the totals leave out because the group is small.
    pub withheld: i64,
}

/// Transfer contracts grouped for a report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "group": "province", "from": "2026-01-01", "to": "2026-12-31", "provinces": [], "small_group": 3, "contracts": 5,
    "groups": [
        {"key": "75", "label_vi": "Thành phố Đồng Nai", "label_en": "Dong Nai City", "count": 2,
         "totals": [{"currency": "VND", "amount": 650000000}], "withheld": 1},
        {"key": "79", "label_vi": "Thành phố Hồ Chí Minh", "label_en": "Ho Chi Minh City", "count": 3,
         "totals": [{"currency": "USD", "amount": 4500000}, {"currency": "VND", "amount": 1200000000}], "withheld": 0}
    ]
}))]
pub struct ContractStats {
    #[schema(value_type = words::ContractGrouping)]
    pub group: ContractGrouping,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The current province codes asked for; empty for all.
    pub provinces: Vec<String>,
    /// The fewest contracts a group holds for confidential values to count in its totals.
    pub small_group: i64,
    /// The contracts counted (signed, whatever came after; not drafts or cancelled ones).
    pub contracts: i64,
    pub groups: Vec<ContractStatsGroup>,
}

/// One group of listings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListingStatsGroup {
    #[schema(example = "79")]
    pub key: String,
    pub label_vi: Option<String>,
    pub label_en: Option<String>,
    pub count: i64,
}

/// Listings grouped for a report (deleted ones left out).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "group": "kind", "from": null, "to": null, "provinces": ["79"], "listings": 31,
    "groups": [
        {"key": "demand", "label_vi": "Nhu cầu công nghệ", "label_en": "Technology demand", "count": 9},
        {"key": "offer", "label_vi": "Chào bán công nghệ", "label_en": "Technology offer", "count": 22}
    ]
}))]
pub struct ListingStats {
    #[schema(value_type = words::ListingGrouping)]
    pub group: ListingGrouping,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub provinces: Vec<String>,
    pub listings: i64,
    pub groups: Vec<ListingStatsGroup>,
}

fn province_label(code: &str) -> Option<(String, String)> {
    refdata::current_province(code).map(|p| (p.name_vi.clone(), p.name_en.clone()))
}

fn field_label(code: &str) -> Option<(String, String)> {
    refdata::field(code).map(|f| (f.name_vi.clone(), f.name_en.clone()))
}

fn word_label<W: std::str::FromStr>(
    key: &str,
    labels: impl Fn(W) -> (&'static str, &'static str),
) -> Option<(String, String)> {
    key.parse::<W>().ok().map(|w| {
        let (vi, en) = labels(w);
        (vi.to_owned(), en.to_owned())
    })
}

fn contract_label(by: ContractGrouping, key: &str) -> Option<(String, String)> {
    match by {
        ContractGrouping::Province => province_label(key),
        ContractGrouping::Field => field_label(key),
        ContractGrouping::Form => word_label(key, |w: TransferForm| (w.label_vi(), w.label_en())),
        ContractGrouping::Object => word_label(key, |w: TransferObject| (w.label_vi(), w.label_en())),
        ContractGrouping::Year | ContractGrouping::Quarter => None,
    }
}

fn listing_label(by: ListingGrouping, key: &str) -> Option<(String, String)> {
    match by {
        ListingGrouping::Province => province_label(key),
        ListingGrouping::Field => field_label(key),
        ListingGrouping::Kind => word_label(key, |w: ListingKind| (w.label_vi(), w.label_en())),
        ListingGrouping::Status => word_label(key, |w: ListingStatus| (w.label_vi(), w.label_en())),
        ListingGrouping::Month => None,
    }
}

fn cache(response: &mut actix_web::HttpResponseBuilder) {
    response.insert_header((header::CACHE_CONTROL, "public, max-age=300"));
}

/// One CSV field, quoted when it must be (RFC 4180).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn csv_line(fields: &[String]) -> String {
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

fn csv_response(body: String, name: &str) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    cache(&mut response);
    response
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")))
        .body(body)
}

/// Statistics of transfer contracts.
///
/// Public and cacheable: counts and value totals per currency of the contracts signed (drafts and
/// cancelled ones are not counted), grouped by province, year, quarter, form, object or field. A
/// value marked confidential counts in a group's totals only when the group holds at least three
/// contracts (`withheld` says how many were left out). `format=csv` answers a spreadsheet.
#[utoipa::path(
    tag = "stats",
    operation_id = "contract_stats",
    security((), ("oauth2" = [])),
    params(ContractStatsQuery),
    responses(
        (status = 200, description = "The groups, in the order of their keys",
         content((ContractStats = "application/json"), (CsvText = "text/csv"))),
        QueryRefused,
    )
)]
#[get("/stats/contracts")]
pub async fn contract_stats(db: web::Data<Db>, query: Query<ContractStatsQuery>) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let mut errors = ValidationErrors::default();
    let by = grouping(q.group.as_deref(), ContractGrouping::Province, &mut errors);
    let period = period(q.from.as_deref(), q.to.as_deref(), &q.province, q.format.as_deref(), &mut errors);
    errors.finish(()).map_err(ApiError::InvalidQuery)?;
    let filter = ContractFilter {
        provinces: period.provinces.clone(),
        signed_from: period.from,
        signed_to: period.to,
        ..ContractFilter::default()
    };
    let concluded = with_conn(&db, move |conn| Ok(contracts::concluded(conn, &filter)?)).await?;
    let facts: Vec<ContractFact> = concluded
        .into_iter()
        .filter_map(|c| {
            let content = c.content;
            Some(ContractFact {
                province: content.province(),
                signed_on: content.signed_on?,
                forms: content.forms,
                objects: content.objects,
                fields: content.technology.field_codes,
                value: content.value,
            })
        })
        .collect();
    let groups: Vec<ContractStatsGroup> = stats::contract_stats(&facts, by)
        .into_iter()
        .map(|g| {
            let label = contract_label(by, &g.key);
            ContractStatsGroup {
                label_vi: label.as_ref().map(|l| l.0.clone()),
                label_en: label.map(|l| l.1),
                key: g.key,
                count: g.count as i64,
                totals: g.totals.into_iter().map(|(currency, amount)| CurrencyTotal { currency, amount }).collect(),
                withheld: g.withheld as i64,
            }
        })
        .collect();
    if period.csv {
        let mut body = csv_line(
            &["group", "key", "label_vi", "label_en", "count", "currency", "total", "withheld"].map(String::from),
        );
        for g in &groups {
            let row = |currency: &str, total: String| {
                csv_line(&[
                    by.as_str().to_owned(),
                    g.key.clone(),
                    g.label_vi.clone().unwrap_or_default(),
                    g.label_en.clone().unwrap_or_default(),
                    g.count.to_string(),
                    currency.to_owned(),
                    total,
                    g.withheld.to_string(),
                ])
            };
            if g.totals.is_empty() {
                body.push_str(&row("", String::new()));
            }
            for t in &g.totals {
                body.push_str(&row(&t.currency, t.amount.to_string()));
            }
        }
        return Ok(csv_response(body, "contract-stats"));
    }
    let mut response = HttpResponse::Ok();
    cache(&mut response);
    Ok(response.json(ContractStats {
        group: by,
        from: period.from,
        to: period.to,
        provinces: period.provinces,
        small_group: SMALL_GROUP as i64,
        contracts: facts.len() as i64,
        groups,
    }))
}

/// The start of a day in Vietnam, as an instant.
fn start_of(day: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    let offset = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7");
    offset
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("UTC+7 has no gaps")
        .with_timezone(&chrono::Utc)
}

/// Statistics of listings.
///
/// Public and cacheable: how many listings (deleted ones left out) by province, S&T field, kind,
/// status or month of creation, within a period and provinces. `format=csv` answers a spreadsheet.
#[utoipa::path(
    tag = "stats",
    operation_id = "listing_stats",
    security((), ("oauth2" = [])),
    params(ListingStatsQuery),
    responses(
        (status = 200, description = "The groups, in the order of their keys",
         content((ListingStats = "application/json"), (CsvText = "text/csv"))),
        QueryRefused,
    )
)]
#[get("/stats/listings")]
pub async fn listing_stats(db: web::Data<Db>, query: Query<ListingStatsQuery>) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let mut errors = ValidationErrors::default();
    let by = grouping(q.group.as_deref(), ListingGrouping::Province, &mut errors);
    let period = period(q.from.as_deref(), q.to.as_deref(), &q.province, q.format.as_deref(), &mut errors);
    errors.finish(()).map_err(ApiError::InvalidQuery)?;
    let filter = ListingFactFilter {
        created_from: period.from.map(start_of),
        created_before: period.to.and_then(|to| to.succ_opt()).map(start_of),
        provinces: period.provinces.clone(),
        with_fields: by == ListingGrouping::Field,
    };
    let facts = with_conn(&db, move |conn| Ok(listing_facts(conn, &filter)?)).await?;
    let groups: Vec<ListingStatsGroup> = stats::listing_stats(&facts, by)
        .into_iter()
        .map(|g| {
            let label = listing_label(by, &g.key);
            ListingStatsGroup {
                label_vi: label.as_ref().map(|l| l.0.clone()),
                label_en: label.map(|l| l.1),
                key: g.key,
                count: g.count as i64,
            }
        })
        .collect();
    if period.csv {
        let mut body = csv_line(&["group", "key", "label_vi", "label_en", "count"].map(String::from));
        for g in &groups {
            body.push_str(&csv_line(&[
                by.as_str().to_owned(),
                g.key.clone(),
                g.label_vi.clone().unwrap_or_default(),
                g.label_en.clone().unwrap_or_default(),
                g.count.to_string(),
            ]));
        }
        return Ok(csv_response(body, "listing-stats"));
    }
    let mut response = HttpResponse::Ok();
    cache(&mut response);
    Ok(response.json(ListingStats {
        group: by,
        from: period.from,
        to: period.to,
        provinces: period.provinces,
        listings: facts.len() as i64,
        groups,
    }))
}

/// The bounds of the statistics' answers.
pub const LIMITS: Limits = &[
    ("CurrencyTotal", "currency", Limit::MaxLength(3)),
    ("CurrencyTotal", "amount", Limit::Minimum(0)),
    ("CurrencyTotal", "amount", Limit::Maximum(i64::MAX)),
    ("ContractStatsGroup", "key", Limit::MaxLength(20)),
    ("ContractStatsGroup", "label_vi", Limit::MaxLength(300)),
    ("ContractStatsGroup", "label_en", Limit::MaxLength(300)),
    ("ContractStatsGroup", "count", Limit::Minimum(1)),
    ("ContractStatsGroup", "count", Limit::Maximum(i64::MAX)),
    ("ContractStatsGroup", "totals", Limit::MaxItems(CURRENCIES_MAX)),
    ("ContractStatsGroup", "withheld", Limit::Minimum(0)),
    ("ContractStatsGroup", "withheld", Limit::Maximum(i64::MAX)),
    ("ContractStats", "provinces", Limit::MaxItems(20)),
    ("ContractStats", "provinces[]", Limit::MaxLength(2)),
    ("ContractStats", "small_group", Limit::Minimum(1)),
    ("ContractStats", "small_group", Limit::Maximum(100)),
    ("ContractStats", "contracts", Limit::Minimum(0)),
    ("ContractStats", "contracts", Limit::Maximum(i64::MAX)),
    ("ContractStats", "groups", Limit::MaxItems(GROUPS_MAX)),
    ("ListingStatsGroup", "key", Limit::MaxLength(20)),
    ("ListingStatsGroup", "label_vi", Limit::MaxLength(300)),
    ("ListingStatsGroup", "label_en", Limit::MaxLength(300)),
    ("ListingStatsGroup", "count", Limit::Minimum(1)),
    ("ListingStatsGroup", "count", Limit::Maximum(i64::MAX)),
    ("ListingStats", "provinces", Limit::MaxItems(20)),
    ("ListingStats", "provinces[]", Limit::MaxLength(2)),
    ("ListingStats", "listings", Limit::Minimum(0)),
    ("ListingStats", "listings", Limit::Maximum(i64::MAX)),
    ("ListingStats", "groups", Limit::MaxItems(GROUPS_MAX)),
];

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(contract_stats).service(listing_stats);
}
