//! `/v1/contracts`: technology transfer contracts, their lifecycle and their registration.
//!
//! A contract is seen only by the organizations that are parties to it or brokered it (with
//! `contracts:read`) and by the operator; to everyone else it does not exist (404), so that no
//! answer reveals that a contract exists.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, get, patch, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use techex_domain::access::{Actor, Denied, Scope};
use techex_domain::contract::{
    self as domain, Certificate, Contract, ContractAction, ContractContent, ContractStatus, Role, role_of, seeing,
};
use techex_domain::listing::{LifecycleAction, ListingStatus};
use techex_domain::organization::Organization;
use techex_domain::tax_code::TaxpayerKind;
use techex_domain::{ListingId, Message, Text, ValidationErrors, refdata};
use techex_persistence::change_log::Author;
use techex_persistence::contracts::{self, Chase, ContractFilter};
use techex_persistence::listings::{self, ListingWrite};
use techex_persistence::{Db, DbConn, Entity, organizations};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::CallerOf;
use crate::clock::Clock;
use crate::error::{ApiError, BodyRefused, Problem, QueryRefused, StaleVersion};
use crate::extract::JsonBody;
use crate::kit::{self, CachePolicy, Listed, PageQuery, Resource, Target};
use crate::query::FieldsQuery;
pub use crate::routes::contracts_dto::ContractResponse;
use crate::routes::contracts_dto::{self as dto};
use crate::routes::vocabulary_dto as words;
use crate::routes::{merge_patch_body, patched, with_conn};

impl Resource for Contract {
    type Public = ContractResponse;
}

/// A contract the caller may not see is answered as one that does not exist.
fn unseen(denied: Denied) -> ApiError {
    match denied {
        Denied::Hidden => ApiError::NotFound { entity: Entity::Contract },
        other => other.into(),
    }
}

fn author(actor: &Actor) -> Author {
    Author::client(actor.client_id, actor.organization_id)
}

fn answer(mut response: HttpResponseBuilder, contract: &Contract, role: Role, today: NaiveDate) -> HttpResponse {
    CachePolicy::Private.apply(&mut response);
    kit::with_etag(response, contract, ContractResponse::seen_by(contract, role, today))
}

/// A party that names organization `org` of the hub, as its record describes it.
pub fn fill_party(party: &mut domain::Party, org: &Organization) {
    party.name = org.content.name.vi.clone();
    party.taxpayer_kind = TaxpayerKind::Organization;
    party.tax_code = org.content.tax_code.clone();
    party.country = domain::VIETNAM.to_owned();
    party.province = Some(org.province.clone());
}

/// Fills the parties that name an organization of the hub from its record, and checks that the
/// organizations and the listing named exist.
fn resolve(conn: &mut DbConn, content: &mut ContractContent) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::default();
    for (field, party) in [("transferor", &mut content.transferor), ("transferee", &mut content.transferee)] {
        let Some(id) = party.organization_id else { continue };
        match organizations::find(conn, id)? {
            Some(org) => fill_party(party, &org),
            None => {
                errors.add(format!("{field}.organization_id"), Message::new(Text::UnknownOrganization).with("id", id))
            }
        }
    }
    if let Some(id) = content.brokered_by
        && organizations::find(conn, id)?.is_none()
    {
        errors.add("brokered_by", Message::new(Text::UnknownOrganization).with("id", id));
    }
    if let Some(id) = content.technology.listing_id
        && listings::find(conn, ListingId(id))?.is_none_or(|l| l.is_deleted())
    {
        errors.add("technology.listing_id", Message::new(Text::UnknownListing).with("id", id));
    }
    errors.finish(()).map_err(ApiError::Validation)
}

/// Resolves and validates content written by `actor`, whose organization must stay involved.
fn checked(
    conn: &mut DbConn,
    actor: &Actor,
    mut content: ContractContent,
    today: NaiveDate,
) -> Result<domain::ValidContract, ApiError> {
    resolve(conn, &mut content)?;
    let valid = content.validate(today).map_err(ApiError::Validation)?;
    if !domain::may_record(actor, &valid.content) {
        return Err(ApiError::Validation(ValidationErrors::single("", Text::NotAParty)));
    }
    Ok(valid)
}

/// Records a contract as a draft, for `actor`'s organization; the routes and the demo loader
/// call it alike.
pub fn record_contract(
    conn: &mut DbConn,
    actor: &Actor,
    content: ContractContent,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Contract, ApiError> {
    let valid = checked(conn, actor, content, refdata::vietnam_date(now))?;
    let contract = Contract::draft(valid, actor.organization_id, now);
    kit::create(conn, &contract, &author(actor), |conn| contracts::insert(conn, &contract))?;
    Ok(contract)
}

/// The listing of a contract that takes effect is closed, the deal being done, in the same
/// transaction, when it is published and its publisher is involved in the contract (or the
/// operator moves it). The listing lifecycle has no "transferred" status: `closed` is it.
fn close_listing(
    conn: &mut DbConn,
    actor: &Actor,
    contract: &Contract,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let Some(id) = contract.content.technology.listing_id.map(ListingId) else { return Ok(()) };
    let Some(listing) = listings::find(conn, id)? else { return Ok(()) };
    let involved = listing.publisher.is_some_and(|p| contract.content.organizations().any(|o| o == p));
    if listing.is_deleted() || listing.status != ListingStatus::Published || !(involved || actor.is_admin()) {
        return Ok(());
    }
    kit::modify(conn, id, &author(actor), |_, listing: &mut techex_domain::Listing| {
        listing.apply(LifecycleAction::Close, now)?;
        Ok::<_, ApiError>(ListingWrite::Moved(LifecycleAction::Close))
    })?;
    Ok(())
}

/// `overdue`: registrations past their deadline.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(as = RegistrationChase)]
#[serde(rename_all = "snake_case")]
enum RegistrationChase {
    Overdue,
}

/// Filters of the contract list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractQuery {
    /// Only contracts in this status.
    #[param(value_type = Option<words::ContractStatus>)]
    status: Option<String>,
    /// `overdue`: contracts that must be registered, signed but not registered, past the 90 days
    /// after signing: what a Department of Science and Technology must chase.
    #[param(inline, value_type = Option<RegistrationChase>)]
    registration: Option<String>,
    /// Contracts that must be registered, signed but not registered, whose deadline falls within
    /// this many days from today (today included; not yet overdue).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 366, example = 30)]
    due_within: Option<String>,
    /// Province codes (current or pre-2025) the contracts count under.
    #[param(style = Form, explode, max_items = 20, example = json!(["79"]))]
    #[serde(default)]
    province: Vec<String>,
}

/// The longest look ahead of `due_within`: a year.
const DUE_WITHIN_MAX: i64 = 366;

impl ContractQuery {
    fn filter(&self, actor: &Actor, today: NaiveDate) -> Result<ContractFilter, ApiError> {
        let mut errors = ValidationErrors::default();
        let statuses = match self.status.as_deref().map(str::parse::<ContractStatus>) {
            None => vec![],
            Some(Ok(status)) => vec![status],
            Some(Err(e)) => {
                errors.add("status", Message::new(Text::OneOf).with("allowed", e.expected.join(", ")));
                vec![]
            }
        };
        let mut chase = match self.registration.as_deref() {
            None => None,
            Some("overdue") => Some(Chase::Overdue { today }),
            Some(_) => {
                errors.add("registration", Message::new(Text::OneOf).with("allowed", "overdue"));
                None
            }
        };
        if let Some(raw) = self.due_within.as_deref() {
            match raw.parse::<i64>() {
                Ok(days) if (0..=DUE_WITHIN_MAX).contains(&days) && chase.is_none() => {
                    chase = Some(Chase::DueBy { today, until: today + chrono::Days::new(days as u64) });
                }
                Ok(days) if (0..=DUE_WITHIN_MAX).contains(&days) => {
                    errors.add("due_within", Text::GivenTwice);
                }
                _ => errors.add(
                    "due_within",
                    Message::new(Text::WholeNumberBetween).with("min", 0).with("max", DUE_WITHIN_MAX),
                ),
            }
        }
        let provinces = provinces(&self.province, &mut errors);
        errors.finish(()).map_err(ApiError::InvalidQuery)?;
        Ok(ContractFilter {
            involving: (!actor.is_admin()).then_some(actor.organization_id),
            statuses,
            chase,
            provinces,
            ..ContractFilter::default()
        })
    }
}

/// Province codes of a query, current or pre-2025, as the current codes they stand for.
pub(crate) fn provinces(codes: &[String], errors: &mut ValidationErrors) -> Vec<String> {
    let mut current: Vec<String> = Vec::new();
    for code in codes {
        match refdata::current_province(code) {
            Some(p) if !current.contains(&p.code) => current.push(p.code.clone()),
            Some(_) => {}
            None => errors.add("province", Message::new(Text::UnknownProvince).with("value", code)),
        }
    }
    current
}

/// List the contracts the caller's organization is a party to or brokered.
///
/// The operator sees all of them. `registration=overdue` (or `due_within=30`) lists the
/// registrations to chase: contracts that must be registered (Law 07/2017/QH14 Art. 31), signed,
/// not registered, past (or near) the 90th day after signing.
#[utoipa::path(
    tag = "contracts",
    operation_id = "list_contracts",
    security(("oauth2" = ["contracts:read"])),
    params(ContractQuery, PageQuery, FieldsQuery),
    responses(
        (status = 200, description = "A page of contracts in the order they were recorded", body = dto::ContractPage),
        QueryRefused,
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `contracts:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/contracts")]
pub async fn list_contracts(
    caller: CallerOf,
    asked: Listed<Contract, ContractQuery>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let actor = domain::may_use(&caller.0, Scope::ContractsRead)?.clone();
    let today = refdata::vietnam_date(clock.now());
    let filter = asked.filters.filter(&actor, today)?;
    asked
        .respond(
            CachePolicy::Private,
            move |conn, slice| {
                let total = slice.total(|| contracts::count(conn, &filter))?;
                let probe = ContractFilter { after: slice.after, limit: slice.probe, ..filter };
                Ok((contracts::list(conn, &probe)?, total))
            },
            |c| c.id,
            |c| ContractResponse::seen_by(&c, role_of(&actor, &c).unwrap_or(Role::Broker), today),
        )
        .await
}

/// Read one contract.
///
/// For its parties and its broker (with `contracts:read`) and the operator; a confidential value
/// is left out for the broker. To anyone else the contract does not exist (404).
#[utoipa::path(
    tag = "contracts",
    operation_id = "get_contract",
    security(("oauth2" = ["contracts:read"])),
    params(("id" = Uuid, Path, description = "Contract id")),
    responses(
        (status = 200, description = "The contract, with its registration duty", body = ContractResponse, headers(("ETag" = String))),
        (status = 400, description = "The id is not a UUID (`invalid_path`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `contracts:read` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract, or not one this caller may see (`contract_not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/contracts/{id}")]
pub async fn get_contract(
    db: web::Data<Db>,
    caller: CallerOf,
    id: web::Path<String>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let actor = domain::may_use(&caller.0, Scope::ContractsRead)?.clone();
    let id: Uuid = kit::id_param(Entity::Contract, &id)?;
    let contract = with_conn(&db, move |conn| kit::find::<Contract>(conn, id)).await?;
    let role = seeing(&actor, &contract).map_err(unseen)?;
    Ok(answer(HttpResponse::Ok(), &contract, role, refdata::vietnam_date(clock.now())))
}

/// Record a transfer contract as a draft.
///
/// The caller's organization must be a party (transferor or transferee) or the brokering
/// exchange; the operator may record any. A party that names an `organization_id` takes its
/// name, tax code and province from the organization's record.
#[utoipa::path(
    tag = "contracts",
    operation_id = "create_contract",
    security(("oauth2" = ["contracts:write"])),
    request_body(content = dto::ContractContent),
    responses(
        (status = 201, description = "Recorded as a draft; `Location` names it", body = ContractResponse, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token (`unauthorized`, `invalid_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `contracts:write` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        (status = 422, description = "A field is invalid (`validation_failed`), or the caller's organization is neither a party nor the broker (`not_a_party`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contracts")]
pub async fn create_contract(
    db: web::Data<Db>,
    caller: CallerOf,
    body: JsonBody,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let actor = domain::may_use(&caller.0, Scope::ContractsWrite)?.clone();
    let content: ContractContent = body.parse::<dto::ContractContent>()?.into();
    let now = clock.now();
    let recorder = actor.clone();
    let contract = with_conn(&db, move |conn| record_contract(conn, &recorder, content, now)).await?;
    let role = role_of(&actor, &contract).unwrap_or(Role::Broker);
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/contracts/{}", contract.id)));
    Ok(answer(response, &contract, role, refdata::vietnam_date(now)))
}

/// Change a draft or signed contract with a JSON merge patch.
///
/// RFC 7386; the result is checked whole, as on creation. Registered contracts, and those in
/// effect or over, are no longer edited (409 `contract_locked`).
#[utoipa::path(
    tag = "contracts",
    operation_id = "update_contract",
    security(("oauth2" = ["contracts:write"])),
    params(("id" = Uuid, Path, description = "Contract id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|"v[0-9]+"( *, *"v[0-9]+")*)$"#, description = "The ETag last read")),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The updated contract", body = ContractResponse, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, id or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `contracts:write` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract, or not one this caller may see (`contract_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The contract is no longer edited (`contract_locked`), or a concurrent edit (`edit_conflict`)", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        BodyRefused,
        (status = 422, description = "The patched contract is invalid (`validation_failed`, `not_a_party`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/contracts/{id}")]
pub async fn update_contract(
    target: Target<Contract>,
    body: JsonBody,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let Target { db, caller, id, if_match: expected } = target;
    let actor = domain::may_use(&caller, Scope::ContractsWrite)?.clone();
    let patch = merge_patch_body(body)?;
    let now = clock.now();
    let today = refdata::vietnam_date(now);
    let writer = actor.clone();
    let (contract, role) = with_conn(&db, move |conn| {
        let mut role = Role::Broker;
        let contract = kit::modify(conn, id, &author(&writer), |conn, contract: &mut Contract| {
            role = seeing(&writer, contract).map_err(unseen)?;
            kit::check_version(contract, expected.as_deref())?;
            if !contract.status.is_editable() {
                return Err(ApiError::ContractMove(domain::MoveRefused::Locked(contract.status)));
            }
            let mut content: ContractContent =
                patched(&dto::ContractContent::from(contract.content.clone()), &patch)?.into();
            if role == Role::Broker && contract.content.value.as_ref().is_some_and(|v| v.confidential) {
                // The broker never read the confidential value: what it sends back keeps it.
                content.value.clone_from(&contract.content.value);
            }
            if contract.status != ContractStatus::Draft && content.signed_on.is_none() {
                // A signed contract keeps its signing day: its registration deadline runs from it.
                return Err(ApiError::Validation(ValidationErrors::single("signed_on", Text::Required)));
            }
            let valid = checked(conn, &writer, content, today)?;
            if valid.content == contract.content {
                return Ok(false);
            }
            contract.revise(valid, now)?;
            Ok(true)
        })?;
        Ok((contract, role))
    })
    .await?;
    Ok(answer(HttpResponse::Ok(), &contract, role, today))
}

async fn move_contract(
    target: Target<Contract>,
    clock: web::Data<Clock>,
    action: ContractAction,
    certificate: Option<Certificate>,
) -> Result<HttpResponse, ApiError> {
    let Target { db, caller, id, if_match: expected } = target;
    let actor = domain::may_use(&caller, Scope::ContractsWrite)?.clone();
    let now = clock.now();
    let today = refdata::vietnam_date(now);
    let mover = actor.clone();
    let (contract, role) = with_conn(&db, move |conn| {
        techex_persistence::db::write(conn, |conn| {
            let mut role = Role::Broker;
            let contract = kit::modify(conn, id, &author(&mover), |_, contract: &mut Contract| {
                role = seeing(&mover, contract).map_err(unseen)?;
                kit::check_version(contract, expected.as_deref())?;
                if action == ContractAction::Sign && contract.content.signed_on.is_none() {
                    return Err(ApiError::Validation(ValidationErrors::single("signed_on", Text::Required)));
                }
                let certificate = match certificate {
                    Some(c) => Some(
                        Certificate::validate(c, contract.content.signed_on, today).map_err(ApiError::Validation)?,
                    ),
                    None => None,
                };
                contract.apply(action, certificate, now)?;
                Ok::<_, ApiError>(true)
            })?;
            if action == ContractAction::TakeEffect {
                close_listing(conn, &mover, &contract, now)?;
            }
            Ok((contract, role))
        })
    })
    .await?;
    Ok(answer(HttpResponse::Ok(), &contract, role, today))
}

/// Declares one lifecycle endpoint without a body.
macro_rules! contract_move {
    ($name:ident, $path:literal, $action:expr, $summary:literal, $rules:literal) => {
        #[doc = $summary]
        #[utoipa::path(
            tag = "contracts",
            operation_id = stringify!($name),
            description = $rules,
            security(("oauth2" = ["contracts:write"])),
            params(("id" = Uuid, Path, description = "Contract id"),
                   ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|"v[0-9]+"( *, *"v[0-9]+")*)$"#, description = "The ETag last read")),
            responses(
                (status = 200, description = "The contract in its new status", body = ContractResponse, headers(("ETag" = String))),
                (status = 400, description = "Malformed id or If-Match", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "No or an invalid access token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "The token lacks `contracts:write` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "No such contract, or not one this caller may see (`contract_not_found`)", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "The status does not allow this move (`illegal_transition`), the contract must be registered first (`registration_required`), or a concurrent edit (`edit_conflict`)", body = Problem, content_type = "application/problem+json"),
                StaleVersion,
                (status = 422, description = "Signing a contract without `signed_on` (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[post($path)]
        pub async fn $name(target: Target<Contract>, clock: web::Data<Clock>) -> Result<HttpResponse, ApiError> {
            move_contract(target, clock, $action, None).await
        }
    };
}

contract_move!(
    sign_contract,
    "/contracts/{id}/sign",
    ContractAction::Sign,
    "Mark a draft contract signed.",
    "Allowed from `draft`; needs `signed_on`. Leads to `signed`; when registration is mandatory, its 90 days start on `signed_on`."
);
contract_move!(
    take_effect_contract,
    "/contracts/{id}/take-effect",
    ContractAction::TakeEffect,
    "Put a contract in effect.",
    "Allowed from `registered`, or from `signed` when registration is not mandatory (otherwise 409 `registration_required`). Leads to `in_effect`. A linked listing that is published, of an organization involved in the contract, is closed in the same transaction (the deal is done)."
);
contract_move!(
    complete_contract,
    "/contracts/{id}/complete",
    ContractAction::Complete,
    "Mark a contract in effect completed.",
    "Allowed from `in_effect`; leads to `completed`."
);
contract_move!(
    terminate_contract,
    "/contracts/{id}/terminate",
    ContractAction::Terminate,
    "Terminate a contract in effect before its term.",
    "Allowed from `in_effect`; leads to `terminated`."
);
contract_move!(
    cancel_contract,
    "/contracts/{id}/cancel",
    ContractAction::Cancel,
    "Cancel a contract that has not taken effect.",
    "Allowed from `draft` and `signed`; leads to `cancelled`."
);

/// Record the registration certificate of a signed contract.
///
/// The Technology Transfer Registration Certificate (Law 07/2017/QH14 Art. 31), issued by the
/// Ministry of Science and Technology or a provincial Department. Allowed from `signed`, whether
/// registration was mandatory or asked for (Art. 31 cl. 2); leads to `registered`.
#[utoipa::path(
    tag = "contracts",
    operation_id = "register_contract",
    security(("oauth2" = ["contracts:write"])),
    params(("id" = Uuid, Path, description = "Contract id"),
           ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|"v[0-9]+"( *, *"v[0-9]+")*)$"#, description = "The ETag last read")),
    request_body(content = dto::RegistrationCertificate),
    responses(
        (status = 200, description = "The contract, registered", body = ContractResponse, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON, id or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or an invalid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks `contracts:write` (`insufficient_scope`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such contract, or not one this caller may see (`contract_not_found`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The contract is not signed (`illegal_transition`), or a concurrent edit (`edit_conflict`)", body = Problem, content_type = "application/problem+json"),
        StaleVersion,
        BodyRefused,
        (status = 422, description = "The certificate is invalid (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/contracts/{id}/register")]
pub async fn register_contract(
    target: Target<Contract>,
    body: JsonBody,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    domain::may_use(&target.caller, Scope::ContractsWrite)?;
    let certificate: Certificate = body.parse::<dto::RegistrationCertificate>()?.into();
    move_contract(target, clock, ContractAction::Register, Some(certificate)).await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_contracts)
        .service(create_contract)
        .service(get_contract)
        .service(update_contract)
        .service(sign_contract)
        .service(register_contract)
        .service(take_effect_contract)
        .service(complete_contract)
        .service(terminate_contract)
        .service(cancel_contract);
}
