//! The closed sets of words as the contract documents them. Each schema lists the words of its
//! domain type (`ALL`, spelled by `as_str`), so the document and the rules cannot drift apart;
//! the descriptions are written here, for the API's readers. Request and response types name
//! them with `#[schema(value_type = …)]` on fields of the domain's own types.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Declares a string schema named as the type, listing the words of a domain enumeration.
macro_rules! word_schema {
    ($(#[doc = $doc:literal])* $name:ident => $words:ty) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let words = <$words>::ALL.iter().map(|w| w.as_str());
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(description(&[$($doc),*]))
                    .enum_values(Some(words))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

/// The doc comment of a schema as its description: one line each, without the space after `///`.
fn description(lines: &[&str]) -> Option<String> {
    (!lines.is_empty()).then(|| lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join("\n"))
}

word_schema!(
    /// An offer of technology (supply) or a demand for one (request).
    ListingKind => techex_domain::ListingKind
);
word_schema!(ListingStatus => techex_domain::ListingStatus);
word_schema!(
    /// A move a client asks for through `POST /v1/listings/{id}/{action}`.
    LifecycleAction => techex_domain::LifecycleAction
);
word_schema!(
    /// Intellectual property protection of the technology, named by the title of protection granted
    /// (Law on Intellectual Property Art. 92); `pending` is an application filed and not yet granted.
    IpStatus => techex_domain::IpStatus
);
word_schema!(
    /// Forms of technology transfer, Law 07/2017/QH14 Art. 5. A sale of machinery alone is no
    /// technology transfer: `equipment_sale` is machinery and equipment sold with the technology.
    TransferForm => techex_domain::TransferForm
);
word_schema!(
    /// Methods of technology transfer, Law 07/2017/QH14 Art. 6.
    TransferMethod => techex_domain::TransferMethod
);
word_schema!(
    /// Rights offered or sought: ownership, or the right to use, exclusive or not.
    Right => techex_domain::Right
);
word_schema!(MediaKind => techex_domain::listing::MediaKind);
word_schema!(
    /// What a price's amount means: a guide (`indicative`), the least the seller takes (`floor`),
    /// the price itself (`firm`), or no amount published (`on_request`).
    PriceType => techex_domain::listing::PriceType
);
word_schema!(
    /// How far the technology has come from the bench to the market.
    DevelopmentStage => techex_domain::listing::DevelopmentStage
);
word_schema!(OrganizationKind => techex_domain::organization::OrganizationKind);
word_schema!(
    /// What kind of place an application center is.
    CenterKind => techex_domain::center::CenterKind
);
word_schema!(
    /// A service an application center offers.
    CenterService => techex_domain::center::CenterService
);
word_schema!(
    /// A permission an API client may hold and a token may carry.
    Scope => techex_domain::access::Scope
);

// Transfer contracts (see `techex_domain::contract`).
word_schema!(
    /// What is transferred, Law 07/2017/QH14 Art. 4; `model` and `algorithm` only in contracts
    /// signed from 2026-04-01 (Law 115/2025/QH15).
    TransferObject => techex_domain::contract::TransferObject
);
word_schema!(ContractStatus => techex_domain::contract::ContractStatus);
word_schema!(
    /// A move asked for through `POST /v1/contracts/{id}/{action}` (`take-effect` in the path).
    ContractAction => techex_domain::contract::ContractAction
);
word_schema!(
    /// Transfer of ownership, or of the right to use.
    RightKind => techex_domain::contract::RightKind
);
word_schema!(PaymentMode => techex_domain::contract::PaymentMode);
word_schema!(RoyaltyBase => techex_domain::contract::RoyaltyBase);
word_schema!(
    /// Whether the transfer uses state capital or the state budget (Art. 31 cl. 1 point c).
    StateFunding => techex_domain::contract::StateFunding
);
word_schema!(
    /// Who issued a registration certificate: the Ministry of Science and Technology or a
    /// provincial Department of Science and Technology.
    Authority => techex_domain::contract::Authority
);
word_schema!(
    /// Why registration is mandatory (Art. 31 cl. 1).
    RegistrationGround => techex_domain::contract::Ground
);
word_schema!(
    /// Why a contract that meets a ground need not be registered.
    RegistrationExemption => techex_domain::contract::Exemption
);
word_schema!(
    /// Who a tax code belongs to, which decides its form.
    TaxpayerKind => techex_domain::tax_code::TaxpayerKind
);
word_schema!(ContractGrouping => techex_domain::stats::ContractGrouping);
word_schema!(ListingGrouping => techex_domain::stats::ListingGrouping);
