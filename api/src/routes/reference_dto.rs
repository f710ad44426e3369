//! The wire shapes of the reference data: provinces, S&T fields and TRL levels as
//! `/v1/reference` answers them, built from the domain's compiled-in lists.

use chrono::NaiveDate;
use serde::Serialize;
use techex_domain::listing::{TRL_MAX, TRL_MIN};
use techex_domain::refdata;
use utoipa::ToSchema;

use crate::kit::Limit;

/// The most characters of a name or label in the reference data (the longest is 71).
pub const NAME_MAX: usize = 100;
/// The most characters of a TRL level's description (the longest is 107).
pub const DESCRIPTION_MAX: usize = 200;

/// The bounds of the reference data as the hub serves it. The lists' lengths are those of the
/// compiled-in data; the lengths of texts are round bounds its test checks every value against.
pub fn limits() -> Vec<(&'static str, &'static str, Limit)> {
    let most_names = refdata::provinces().iter().map(|p| p.names.len()).max().unwrap_or_default();
    let mut limits = vec![
        ("ProvinceList", "items", Limit::MaxItems(refdata::provinces().len())),
        ("FieldList", "items", Limit::MaxItems(refdata::fields().len())),
        ("TrlList", "items", Limit::MaxItems(refdata::trl_levels().len())),
        ("Province", "names", Limit::MaxItems(most_names)),
        ("Province", "code", Limit::MaxLength(2)),
        ("Province", "successor_code", Limit::MaxLength(2)),
        ("Field", "code", Limit::MaxLength(3)),
        ("Field", "parent", Limit::MaxLength(3)),
        ("TrlLevel", "level", Limit::Minimum(TRL_MIN)),
        ("TrlLevel", "level", Limit::Maximum(TRL_MAX)),
        ("TrlLevel", "code", Limit::MaxLength(4)),
        ("TrlLevel", "description_vi", Limit::MaxLength(DESCRIPTION_MAX)),
        ("TrlLevel", "description_en", Limit::MaxLength(DESCRIPTION_MAX)),
    ];
    let names = [
        ("Province", "name_vi"),
        ("Province", "name_en"),
        ("Province", "region"),
        ("ProvinceName", "name_vi"),
        ("ProvinceName", "name_en"),
        ("Field", "name_vi"),
        ("Field", "name_en"),
        ("TrlLevel", "name_vi"),
        ("TrlLevel", "name_en"),
        ("EnumValue", "value"),
        ("EnumValue", "label_vi"),
        ("EnumValue", "label_en"),
    ];
    limits.extend(names.into_iter().map(|(schema, property)| (schema, property, Limit::MaxLength(NAME_MAX))));
    limits
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProvinceKind {
    /// One of the 63 units that existed until 2025-06-30.
    Old,
    /// One of the 34 units in force since 2025-07-01.
    Current,
}

impl From<refdata::ProvinceKind> for ProvinceKind {
    fn from(kind: refdata::ProvinceKind) -> Self {
        match kind {
            refdata::ProvinceKind::Old => ProvinceKind::Old,
            refdata::ProvinceKind::Current => ProvinceKind::Current,
        }
    }
}

/// A name a province bore and the days it was in force, both inclusive; an absent date is open
/// (or, for the start of a pre-2025 name, not researched).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvinceName {
    #[schema(example = "Tỉnh Đồng Nai")]
    pub name_vi: String,
    #[schema(example = "Dong Nai Province")]
    pub name_en: String,
    #[schema(example = "2025-07-01")]
    pub valid_from: Option<NaiveDate>,
    #[schema(example = "2026-04-29")]
    pub valid_to: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Province {
    #[schema(example = "79")]
    pub code: String,
    /// The name in force today; for a unit no longer in force, its last name.
    #[schema(example = "Thành phố Hồ Chí Minh")]
    pub name_vi: String,
    #[schema(example = "Ho Chi Minh City")]
    pub name_en: String,
    pub kind: ProvinceKind,
    /// First day the unit was in force (absent for pre-2025 units: not researched).
    pub valid_from: Option<NaiveDate>,
    /// Last day the unit was in force; absent while it is.
    pub valid_to: Option<NaiveDate>,
    /// For an old unit, the current unit it became part of.
    pub successor_code: Option<String>,
    pub region: String,
    /// Every name of a unit renamed while in force, oldest first, with its dates: a report for a
    /// given day shows the name in force that day. Absent for a unit that kept one name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<ProvinceName>,
}

impl From<refdata::Province> for Province {
    fn from(p: refdata::Province) -> Self {
        // One name is the province's own: listed only when there were several.
        let names = if p.names.len() > 1 { p.names } else { Vec::new() };
        Province {
            code: p.code,
            name_vi: p.name_vi,
            name_en: p.name_en,
            kind: p.kind.into(),
            valid_from: p.valid_from,
            valid_to: p.valid_to,
            successor_code: p.successor_code,
            region: p.region,
            names: names
                .into_iter()
                .map(|n| ProvinceName {
                    name_vi: n.name_vi,
                    name_en: n.name_en,
                    valid_from: n.valid_from,
                    valid_to: n.valid_to,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Field {
    #[schema(example = "206")]
    pub code: String,
    /// The level-1 field a level-2 field belongs to; absent on level 1.
    pub parent: Option<String>,
    pub name_vi: String,
    pub name_en: String,
}

impl From<&refdata::Field> for Field {
    fn from(f: &refdata::Field) -> Self {
        Field { code: f.code.clone(), parent: f.parent.clone(), name_vi: f.name_vi.clone(), name_en: f.name_en.clone() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrlLevel {
    #[schema(example = 7)]
    pub level: u8,
    #[schema(example = "TRL7")]
    pub code: String,
    pub name_en: String,
    pub description_en: String,
    pub name_vi: String,
    pub description_vi: String,
}

impl From<&refdata::TrlLevel> for TrlLevel {
    fn from(t: &refdata::TrlLevel) -> Self {
        TrlLevel {
            level: t.level,
            code: t.code.clone(),
            name_en: t.name_en.clone(),
            description_en: t.description_en.clone(),
            name_vi: t.name_vi.clone(),
            description_vi: t.description_vi.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text the reference endpoints serve, with the most characters its schema allows.
    #[test]
    fn the_reference_data_fits_its_documented_limits() {
        let spec = serde_json::to_value(crate::openapi()).unwrap();
        let schemas = &spec["components"]["schemas"];
        let mut served = Vec::new();
        for province in refdata::provinces() {
            served.push(("Province", serde_json::to_value(Province::from(province.clone())).unwrap()));
            for name in &province.names {
                let name = ProvinceName {
                    name_vi: name.name_vi.clone(),
                    name_en: name.name_en.clone(),
                    valid_from: name.valid_from,
                    valid_to: name.valid_to,
                };
                served.push(("ProvinceName", serde_json::to_value(name).unwrap()));
            }
        }
        served.extend(refdata::fields().iter().map(|f| ("Field", serde_json::to_value(Field::from(f)).unwrap())));
        served.extend(
            refdata::trl_levels().iter().map(|t| ("TrlLevel", serde_json::to_value(TrlLevel::from(t)).unwrap())),
        );
        for values in crate::routes::reference::enumerations().into_values() {
            served.extend(values.into_iter().map(|v| ("EnumValue", serde_json::to_value(v).unwrap())));
        }
        let mut checked = 0;
        for (schema, value) in served {
            for (property, value) in value.as_object().unwrap() {
                let Some(text) = value.as_str() else { continue };
                let declared = &schemas[schema]["properties"][property];
                if declared.get("$ref").is_some() {
                    continue; // an enumeration, bounded by its values
                }
                let max =
                    declared["maxLength"].as_u64().unwrap_or_else(|| panic!("{schema}.{property} has no maxLength"));
                assert!(text.chars().count() as u64 <= max, "{schema}.{property} {text:?} is longer than {max}");
                checked += 1;
            }
        }
        assert!(checked > 1000, "{checked} texts checked");
    }

    #[test]
    fn only_renamed_provinces_list_their_names() {
        let provinces = refdata::provinces();
        let renamed = provinces.iter().find(|p| p.names.len() > 1).expect("a unit renamed while in force");
        let shown = serde_json::to_value(Province::from(renamed.clone())).unwrap();
        assert!(shown["names"].as_array().is_some_and(|n| n.len() > 1));
        let unrenamed = provinces.iter().find(|p| p.names.len() == 1).expect("a unit that kept its name");
        assert!(serde_json::to_value(Province::from(unrenamed.clone())).unwrap().get("names").is_none());
    }
}
