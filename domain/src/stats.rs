//! Statistics of contracts and listings, as the Departments of Science and Technology report
//! them: counts and value totals per group. A confidential contract value counts in the total of
//! a group only when the group holds at least [`SMALL_GROUP`] contracts, so no total reveals it.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::contract::{ContractValue, TransferForm, TransferObject};
use crate::vocabulary::{ListingKind, ListingStatus};

/// The fewest contracts a group must hold for confidential values to count in its totals.
pub const SMALL_GROUP: u64 = 3;

word_enum!(
    /// What contract statistics are grouped by. A contract with several forms, objects or fields
    /// counts once in each of its groups.
    ContractGrouping {
        Province => "province", "Tỉnh, thành phố", "Province",
        Year => "year", "Năm", "Year",
        Quarter => "quarter", "Quý", "Quarter",
        Form => "form", "Hình thức chuyển giao", "Form of transfer",
        Object => "object", "Đối tượng chuyển giao", "Object of transfer",
        Field => "field", "Lĩnh vực KH&CN", "S&T field",
    }
);

word_enum!(
    /// What listing statistics are grouped by; a listing with several fields counts in each.
    ListingGrouping {
        Province => "province", "Tỉnh, thành phố", "Province",
        Field => "field", "Lĩnh vực KH&CN", "S&T field",
        Kind => "kind", "Loại tin", "Kind",
        Status => "status", "Trạng thái", "Status",
        Month => "month", "Tháng", "Month",
    }
);

/// What statistics read of one concluded contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractFact {
    /// Current code; `None` when neither party is in Vietnam.
    pub province: Option<String>,
    pub signed_on: NaiveDate,
    pub forms: Vec<TransferForm>,
    pub objects: Vec<TransferObject>,
    pub fields: Vec<String>,
    pub value: Option<ContractValue>,
}

/// One group of contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractGroup {
    /// The province code, `2026`, `2026-Q2`, a form or object word, or a field code; `unknown`
    /// for contracts without a province or field.
    pub key: String,
    pub count: u64,
    /// The sum of the values counted, per currency.
    pub totals: BTreeMap<String, i64>,
    /// How many confidential values the totals leave out (the group is too small).
    pub withheld: u64,
}

/// The key for contracts without a value of the grouping (no province, no field).
pub const UNKNOWN: &str = "unknown";

fn contract_keys(fact: &ContractFact, by: ContractGrouping) -> Vec<String> {
    let keys: Vec<String> = match by {
        ContractGrouping::Province => fact.province.iter().cloned().collect(),
        ContractGrouping::Year => vec![fact.signed_on.year().to_string()],
        ContractGrouping::Quarter => vec![format!("{}-Q{}", fact.signed_on.year(), fact.signed_on.month0() / 3 + 1)],
        ContractGrouping::Form => fact.forms.iter().map(|f| f.as_str().to_owned()).collect(),
        ContractGrouping::Object => fact.objects.iter().map(|o| o.as_str().to_owned()).collect(),
        ContractGrouping::Field => fact.fields.clone(),
    };
    let mut keys = if keys.is_empty() { vec![UNKNOWN.to_owned()] } else { keys };
    keys.sort();
    keys.dedup();
    keys
}

/// Contracts grouped `by`, in the order of their keys.
pub fn contract_stats(facts: &[ContractFact], by: ContractGrouping) -> Vec<ContractGroup> {
    let mut members: BTreeMap<String, Vec<&ContractFact>> = BTreeMap::new();
    for fact in facts {
        for key in contract_keys(fact, by) {
            members.entry(key).or_default().push(fact);
        }
    }
    members
        .into_iter()
        .map(|(key, facts)| {
            let count = facts.len() as u64;
            let large = count >= SMALL_GROUP;
            let mut totals: BTreeMap<String, i64> = BTreeMap::new();
            let mut withheld = 0;
            for value in facts.iter().filter_map(|f| f.value.as_ref()) {
                if value.confidential && !large {
                    withheld += 1;
                    continue;
                }
                let total = totals.entry(value.currency.clone()).or_default();
                *total = total.saturating_add(value.amount);
            }
            ContractGroup { key, count, totals, withheld }
        })
        .collect()
}

/// What statistics read of one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingFact {
    pub kind: ListingKind,
    pub status: ListingStatus,
    pub province: String,
    /// The day (in Vietnam) it was created.
    pub created_on: NaiveDate,
    pub fields: Vec<String>,
}

/// One group of listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingGroup {
    pub key: String,
    pub count: u64,
}

fn listing_keys(fact: &ListingFact, by: ListingGrouping) -> Vec<String> {
    let mut keys: Vec<String> = match by {
        ListingGrouping::Province => vec![fact.province.clone()],
        ListingGrouping::Field => fact.fields.clone(),
        ListingGrouping::Kind => vec![fact.kind.as_str().to_owned()],
        ListingGrouping::Status => vec![fact.status.as_str().to_owned()],
        ListingGrouping::Month => vec![fact.created_on.format("%Y-%m").to_string()],
    };
    if keys.is_empty() {
        keys.push(UNKNOWN.to_owned());
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Listings grouped `by`, in the order of their keys.
pub fn listing_stats(facts: &[ListingFact], by: ListingGrouping) -> Vec<ListingGroup> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for fact in facts {
        for key in listing_keys(fact, by) {
            *counts.entry(key).or_default() += 1;
        }
    }
    counts.into_iter().map(|(key, count)| ListingGroup { key, count }).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn fact() -> impl Strategy<Value = ContractFact> {
        (
            proptest::option::of(prop::sample::select(vec!["79", "75", "77"])),
            0i64..2_000,
            prop::sample::subsequence(TransferForm::ALL.to_vec(), 0..3),
            prop::sample::subsequence(TransferObject::ALL.to_vec(), 0..3),
            prop::sample::subsequence(vec!["211", "401", "106"], 0..3),
            proptest::option::of((0i64..1_000_000_000, prop::sample::select(vec!["VND", "USD"]), any::<bool>())),
        )
            .prop_map(|(province, day, forms, objects, fields, value)| ContractFact {
                province: province.map(str::to_owned),
                signed_on: NaiveDate::from_ymd_opt(2022, 1, 1).unwrap() + chrono::Days::new(day as u64),
                forms,
                objects,
                fields: fields.into_iter().map(str::to_owned).collect(),
                value: value.map(|(amount, currency, confidential)| ContractValue {
                    amount,
                    currency: currency.to_owned(),
                    confidential,
                }),
            })
    }

    proptest! {
        /// Every group's count and totals are the sums over the records that carry its key; a
        /// confidential value counts only in groups of three or more, and is otherwise withheld.
        #[test]
        fn groups_are_the_sums_of_their_records(facts in prop::collection::vec(fact(), 0..40)) {
            for by in ContractGrouping::ALL {
                let groups = contract_stats(&facts, *by);
                let mut seen = 0;
                for group in &groups {
                    let members: Vec<&ContractFact> =
                        facts.iter().filter(|f| contract_keys(f, *by).contains(&group.key)).collect();
                    prop_assert_eq!(group.count, members.len() as u64);
                    seen += members.len();
                    let large = members.len() as u64 >= SMALL_GROUP;
                    for currency in ["VND", "USD"] {
                        let expected: i64 = members
                            .iter()
                            .filter_map(|f| f.value.as_ref())
                            .filter(|v| v.currency == currency && (large || !v.confidential))
                            .map(|v| v.amount)
                            .sum();
                        prop_assert_eq!(group.totals.get(currency).copied().unwrap_or(0), expected);
                    }
                    let withheld = members.iter().filter_map(|f| f.value.as_ref()).filter(|v| v.confidential && !large).count();
                    prop_assert_eq!(group.withheld, withheld as u64);
                }
                let memberships: usize = facts.iter().map(|f| contract_keys(f, *by).len()).sum();
                prop_assert_eq!(seen, memberships, "every record is in each of its groups, once");
                if matches!(by, ContractGrouping::Province | ContractGrouping::Year | ContractGrouping::Quarter) {
                    prop_assert_eq!(groups.iter().map(|g| g.count).sum::<u64>(), facts.len() as u64);
                }
            }
        }
    }

    #[test]
    fn a_confidential_value_counts_only_in_a_group_of_three() {
        let value = |amount, confidential| Some(ContractValue { amount, currency: "VND".into(), confidential });
        let on = |province: &str, v| ContractFact {
            province: Some(province.into()),
            signed_on: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
            forms: vec![TransferForm::Independent],
            objects: vec![TransferObject::KnowHow],
            fields: vec![],
            value: v,
        };
        let facts = [
            on("79", value(100, false)),
            on("79", value(1_000, true)),
            on("75", value(10, true)),
            on("75", value(20, false)),
            on("75", None),
        ];
        let groups = contract_stats(&facts, ContractGrouping::Province);
        assert_eq!(
            (groups[0].key.as_str(), groups[0].count, groups[0].totals["VND"], groups[0].withheld),
            ("75", 3, 30, 0)
        );
        assert_eq!(
            (groups[1].key.as_str(), groups[1].count, groups[1].totals["VND"], groups[1].withheld),
            ("79", 2, 100, 1)
        );
        let fields = contract_stats(&facts, ContractGrouping::Field);
        assert_eq!((fields[0].key.as_str(), fields[0].count), (UNKNOWN, 5));
        assert_eq!(contract_stats(&facts, ContractGrouping::Quarter)[0].key, "2026-Q2");
    }

    #[test]
    fn listings_count_in_each_of_their_fields() {
        let fact = ListingFact {
            kind: ListingKind::Offer,
            status: ListingStatus::Published,
            province: "79".into(),
            created_on: NaiveDate::from_ymd_opt(2026, 4, 30).unwrap(),
            fields: vec!["211".into(), "401".into()],
        };
        let by_field = listing_stats(std::slice::from_ref(&fact), ListingGrouping::Field);
        assert_eq!(by_field.iter().map(|g| (g.key.as_str(), g.count)).collect::<Vec<_>>(), [("211", 1), ("401", 1)]);
        assert_eq!(
            listing_stats(&[fact.clone(), fact], ListingGrouping::Month)[0],
            ListingGroup { key: "2026-04".into(), count: 2 }
        );
    }
}
