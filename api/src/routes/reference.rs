//! `/v1/reference`: the code lists every record is checked against, with Vietnamese and English
//! labels, so portals can fill their pick lists from the hub.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpResponse, get};
use serde::{Deserialize, Serialize};
use techex_domain::contract;
use techex_domain::listing::{DevelopmentStage, MediaKind, PriceType};
use techex_domain::organization::OrganizationKind;
use techex_domain::refdata::{self, ProvinceKind};
use techex_domain::{IpStatus, LifecycleAction, ListingKind, ListingStatus, Right, TransferForm, TransferMethod};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::error::{ApiError, QueryRefused};
use crate::language::LanguageQuery;
use crate::query::{NoParameters, Query};
use crate::routes::reference_dto::{Field, Province, TrlLevel};

/// Reference lists change only with a new release: let clients and proxies keep them a day.
const CACHE: &str = "public, max-age=86400";

#[derive(Serialize, ToSchema)]
pub struct ProvinceList {
    pub items: Vec<Province>,
}

#[derive(Serialize, ToSchema)]
pub struct FieldList {
    pub items: Vec<Field>,
}

#[derive(Serialize, ToSchema)]
pub struct TrlList {
    pub items: Vec<TrlLevel>,
}

/// One value of an enumeration with its labels.
#[derive(Serialize, ToSchema)]
pub struct EnumValue {
    #[schema(example = "utility_solution")]
    pub value: &'static str,
    #[schema(example = "Bằng độc quyền giải pháp hữu ích")]
    pub label_vi: &'static str,
    #[schema(example = "Utility solution patent")]
    pub label_en: &'static str,
}

/// Which provinces to list.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ProvinceSet {
    Current,
    Old,
    All,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProvinceQuery {
    /// `current` (the 34 units since 2025-07-01), `old` (the 63 before), or `all` (the default);
    /// several sets give their union.
    #[param(value_type = Vec<ProvinceSet>, inline, style = Form, explode, max_items = 3, example = json!(["current"]))]
    #[serde(default)]
    kind: Vec<String>,
}

/// Provinces, current and pre-2025, each old one with its successor.
///
/// Each is named by the name in force today (in Vietnam); a unit renamed while in force also
/// lists every name it bore with its dates (`names`), so a report for another day can show the
/// name of that day. `kind` narrows the list to current or old units.
#[utoipa::path(
    tag = "reference",
    operation_id = "list_provinces",
    params(ProvinceQuery, LanguageQuery),
    responses(
        (status = 200, description = "Provinces", body = ProvinceList),
        QueryRefused,
    )
)]
#[get("/reference/provinces")]
pub async fn list_provinces(query: Query<ProvinceQuery>) -> Result<HttpResponse, ApiError> {
    let mut wanted = Vec::new();
    for kind in &query.0.kind {
        match kind.as_str() {
            "all" => wanted.extend([ProvinceKind::Current, ProvinceKind::Old]),
            "current" => wanted.push(ProvinceKind::Current),
            "old" => wanted.push(ProvinceKind::Old),
            _ => {
                return Err(ApiError::InvalidQuery(techex_domain::ValidationErrors::single(
                    "kind",
                    techex_domain::Message::new(techex_domain::Text::OneOf).with("allowed", "current, old, all"),
                )));
            }
        }
    }
    let today = refdata::vietnam_date(techex_domain::now());
    let items = refdata::provinces()
        .iter()
        .filter(|p| wanted.is_empty() || wanted.contains(&p.kind))
        .map(|p| p.as_of(today).into())
        .collect();
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, CACHE)).json(ProvinceList { items }))
}

/// S&T fields (MOST classification): six broad fields and their three-digit fields.
///
/// The codes a listing's `field_codes` take, with their names in Vietnamese and English. The list
/// changes only with a new release of the server, and may be cached.
#[utoipa::path(tag = "reference", operation_id = "list_fields", params(LanguageQuery), responses((status = 200, description = "Fields", body = FieldList), QueryRefused))]
#[get("/reference/fields")]
pub async fn list_fields(_: Query<NoParameters>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE))
        .json(FieldList { items: refdata::fields().iter().map(Field::from).collect() })
}

/// Technology readiness levels 1 to 9.
///
/// The values of a listing's `trl`, each with its name and description in Vietnamese and
/// English. The list changes only with a new release of the server, and may be cached.
#[utoipa::path(tag = "reference", operation_id = "list_trl_levels", params(LanguageQuery), responses((status = 200, description = "TRL levels", body = TrlList), QueryRefused))]
#[get("/reference/trl")]
pub async fn list_trl_levels(_: Query<NoParameters>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CACHE))
        .json(TrlList { items: refdata::trl_levels().iter().map(TrlLevel::from).collect() })
}

macro_rules! values_of {
    ($t:ty) => {
        <$t>::ALL
            .iter()
            .map(|v| EnumValue { value: v.as_str(), label_vi: v.label_vi(), label_en: v.label_en() })
            .collect::<Vec<_>>()
    };
}

/// Every enumeration the API uses, by name: the body of `/v1/reference/enums`.
pub(crate) fn enumerations() -> BTreeMap<&'static str, Vec<EnumValue>> {
    BTreeMap::from([
        ("listing_kind", values_of!(ListingKind)),
        ("listing_status", values_of!(ListingStatus)),
        ("lifecycle_action", values_of!(LifecycleAction)),
        ("ip_status", values_of!(IpStatus)),
        ("transfer_form", values_of!(TransferForm)),
        ("transfer_method", values_of!(TransferMethod)),
        ("right", values_of!(Right)),
        ("media_kind", values_of!(MediaKind)),
        ("organization_kind", values_of!(OrganizationKind)),
        ("transfer_object", values_of!(contract::TransferObject)),
        ("contract_status", values_of!(contract::ContractStatus)),
        ("contract_action", values_of!(contract::ContractAction)),
        ("right_kind", values_of!(contract::RightKind)),
        ("payment_mode", values_of!(contract::PaymentMode)),
        ("royalty_base", values_of!(contract::RoyaltyBase)),
        ("state_funding", values_of!(contract::StateFunding)),
        ("registration_authority", values_of!(contract::Authority)),
        ("registration_ground", values_of!(contract::Ground)),
        ("registration_exemption", values_of!(contract::Exemption)),
        ("taxpayer_kind", values_of!(techex_domain::tax_code::TaxpayerKind)),
        ("price_type", values_of!(PriceType)),
        ("development_stage", values_of!(DevelopmentStage)),
        ("center_kind", values_of!(techex_domain::center::CenterKind)),
        ("center_service", values_of!(techex_domain::center::CenterService)),
    ])
}

/// The schema of [`enumerations`], from the enumerations themselves: the names it holds, and no
/// more values in one than the longest has.
pub struct Enumerations;

impl PartialSchema for Enumerations {
    fn schema() -> RefOr<Schema> {
        let enums = enumerations();
        let longest = enums.values().map(Vec::len).max().unwrap_or_default();
        let name_max = enums.keys().map(|name| name.len()).max().unwrap_or_default();
        let names = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(enums.keys().copied()))
            .max_length(Some(name_max));
        let values = ArrayBuilder::new().items(Ref::from_schema_name(EnumValue::name())).max_items(Some(longest));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property_names(Some(names))
            .additional_properties(Some(values))
            .into()
    }
}

impl ToSchema for Enumerations {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((EnumValue::name().into(), EnumValue::schema()));
    }
}

/// Every enumeration the API uses, by name, with labels.
///
/// Each value with its label in Vietnamese and English, so a portal can show a listing's kind,
/// status or transfer form in words without keeping its own table.
#[utoipa::path(
    tag = "reference",
    operation_id = "list_enums",
    params(LanguageQuery),
    responses((status = 200, description = "Enumerations by name: `listing_kind`, `listing_status`, `lifecycle_action`, `ip_status`, `transfer_form`, `transfer_method`, `right`, `media_kind`, `organization_kind`, `center_kind`, `center_service`, `price_type`, `development_stage`, and for contracts `transfer_object`, `contract_status`, `contract_action`, `right_kind`, `payment_mode`, `royalty_base`, `state_funding`, `registration_authority`, `registration_ground`, `registration_exemption`, `taxpayer_kind`",
               body = inline(Enumerations)), QueryRefused)
)]
#[get("/reference/enums")]
pub async fn list_enums(_: Query<NoParameters>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, CACHE)).json(enumerations())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_provinces).service(list_fields).service(list_trl_levels).service(list_enums);
}
