//! Sample transfer contracts for the demo: two sample parties and three contracts brokered by the
//! demo exchange, dated from the day of the load, so that the chase list and the statistics show
//! something at once. Every name says it is a sample.

use chrono::{DateTime, Days, Utc};
use techex_domain::access::Actor;
use techex_domain::contract::{
    Authority, Certificate, Contract, ContractAction, ContractContent, ContractValue, Party, Payment, PaymentMode,
    RightKind, Rights, RoyaltyBase, StateFunding, Technology, TransferForm, TransferMethod, TransferObject, VIETNAM,
};
use techex_domain::organization::{Organization, OrganizationContent, OrganizationKind};
use techex_domain::refdata::vietnam_date;
use techex_domain::tax_code::TaxpayerKind;
use techex_domain::values::LocalizedText;
use techex_persistence::change_log::Author;
use techex_persistence::{DbConn, organizations};

use crate::error::ApiError;
use crate::kit;
use crate::routes::contracts::record_contract;

fn organization(kind: OrganizationKind, vi: &str, en: &str, province: &str, tax_code: &str) -> OrganizationContent {
    let name = LocalizedText { vi: vi.to_owned(), en: Some(en.to_owned()) };
    OrganizationContent { tax_code: Some(tax_code.to_owned()), ..OrganizationContent::new(kind, name, province) }
}

fn member(id: uuid::Uuid) -> Party {
    Party {
        organization_id: Some(id),
        name: String::new(),
        taxpayer_kind: TaxpayerKind::Organization,
        tax_code: None,
        country: VIETNAM.to_owned(),
        province: None,
    }
}

/// Records the sample parties and contracts for the demo exchange's client; how many contracts.
pub(super) fn load(conn: &mut DbConn, broker: &Actor, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let operator = Author::command_line();
    let university = Organization::new(
        organization(
            OrganizationKind::University,
            "Trường Đại học mẫu (demo)",
            "Sample university (demo)",
            "79",
            "0309876547",
        )
        .validate()
        .map_err(ApiError::Validation)?,
        now,
    );
    let enterprise = Organization::new(
        organization(
            OrganizationKind::Enterprise,
            "Công ty TNHH Cơ khí mẫu (demo)",
            "Sample engineering company (demo)",
            "75",
            "3601234569",
        )
        .validate()
        .map_err(ApiError::Validation)?,
        now,
    );
    for org in [&university, &enterprise] {
        kit::create(conn, org, &operator, |conn| organizations::insert(conn, org))?;
    }
    let today = vietnam_date(now);
    let days_ago = |days: u64| Some(today - Days::new(days));
    let sample = |name: &str, signed: u64| ContractContent {
        transferor: member(university.id),
        transferee: member(enterprise.id),
        technology: Technology {
            name: LocalizedText { vi: format!("{name} (hợp đồng mẫu)"), en: None },
            listing_id: None,
            field_codes: vec!["211".to_owned()],
        },
        objects: vec![TransferObject::KnowHow, TransferObject::TechnologyPlan],
        forms: vec![TransferForm::Independent],
        methods: vec![TransferMethod::Documents, TransferMethod::Training],
        rights: Rights { kind: RightKind::Use, exclusive: false, sublicensing: false, territory: vec!["VN".into()] },
        value: Some(ContractValue { amount: 650_000_000, currency: "VND".into(), confidential: false }),
        payment: Some(Payment { mode: PaymentMode::LumpSum, royalty_rate_bp: None, royalty_base: None }),
        state_funding: StateFunding::None,
        st_result_certificate: None,
        restricted_licence: None,
        signed_on: days_ago(signed),
        effective_from: None,
        term_months: Some(36),
        brokered_by: Some(broker.organization_id),
        notes: Some("Dữ liệu mẫu để thử API, không phải hợp đồng thật.".into()),
        attachments: vec![],
    };
    // A private domestic transfer, in effect: no registration needed.
    let private = sample("Quy trình sấy nông sản bằng năng lượng mặt trời", 200);
    // A transfer from abroad, signed 100 days ago and not registered: overdue.
    let inbound = ContractContent {
        transferor: Party {
            organization_id: None,
            name: "Sample Machinery Co., Ltd. (demo)".into(),
            taxpayer_kind: TaxpayerKind::Organization,
            tax_code: None,
            country: "JP".into(),
            province: None,
        },
        transferee: member(enterprise.id),
        value: Some(ContractValue { amount: 4_500_000, currency: "USD".into(), confidential: true }),
        payment: Some(Payment {
            mode: PaymentMode::Mixed,
            royalty_rate_bp: Some(300),
            royalty_base: Some(RoyaltyBase::NetSales),
        }),
        ..sample("Dây chuyền ép nhựa chính xác", 100)
    };
    // A state-budget transfer, registered with the Department of Ho Chi Minh City.
    let funded = ContractContent {
        state_funding: StateFunding::StateBudget,
        ..sample("Chế phẩm vi sinh xử lý phụ phẩm", 30)
    };
    let certificate = Certificate {
        number: "001/GCN-SKHCN (mẫu)".into(),
        authority: Authority::ProvinceDepartment,
        province: Some("79".into()),
        issued_on: today - Days::new(20),
    };
    let plans: [(ContractContent, &[ContractAction]); 3] = [
        (private, &[ContractAction::Sign, ContractAction::TakeEffect]),
        (inbound, &[ContractAction::Sign]),
        (funded, &[ContractAction::Sign, ContractAction::Register, ContractAction::TakeEffect]),
    ];
    let author = Author::client(broker.client_id, broker.organization_id);
    let count = plans.len();
    for (content, moves) in plans {
        let contract = record_contract(conn, broker, content, now)?;
        for action in moves.iter().copied() {
            let certificate = (action == ContractAction::Register).then(|| certificate.clone());
            kit::modify(conn, contract.id, &author, |_, c: &mut Contract| {
                c.apply(action, certificate, now)?;
                Ok::<_, ApiError>(true)
            })?;
        }
    }
    Ok(count)
}
