//! Reference data compiled into the binary (see `domain/refdata/README.md` for sources):
//! provinces before and after the 2025 reorganization, S&T fields and TRL levels.

use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProvinceKind {
    /// One of the 63 units that existed until 2025-06-30.
    Old,
    /// One of the 34 units in force since 2025-07-01.
    Current,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Province {
    #[cfg_attr(feature = "openapi", schema(example = "79"))]
    pub code: String,
    #[cfg_attr(feature = "openapi", schema(example = "Thành phố Hồ Chí Minh"))]
    pub name_vi: String,
    #[cfg_attr(feature = "openapi", schema(example = "Ho Chi Minh City"))]
    pub name_en: String,
    pub kind: ProvinceKind,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// For an old unit, the current unit it became part of.
    pub successor_code: Option<String>,
    pub region: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Field {
    #[cfg_attr(feature = "openapi", schema(example = "206"))]
    pub code: String,
    /// The level-1 field a level-2 field belongs to; absent on level 1.
    pub parent: Option<String>,
    pub name_vi: String,
    pub name_en: String,
}

impl Field {
    /// 1 for the six broad fields (`1`..`6`), 2 for the three-digit fields.
    pub fn level(&self) -> u8 {
        if self.parent.is_none() { 1 } else { 2 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrlLevel {
    #[cfg_attr(feature = "openapi", schema(example = 7))]
    pub level: u8,
    #[cfg_attr(feature = "openapi", schema(example = "TRL7"))]
    pub code: String,
    pub name_en: String,
    pub description_en: String,
    pub name_vi: String,
    pub description_vi: String,
}

fn parse_csv<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> Vec<T> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .unwrap_or_else(|e| panic!("compiled-in reference file {name} is malformed: {e}"))
}

fn empty_as_none(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

static PROVINCES: LazyLock<Vec<Province>> = LazyLock::new(|| {
    let mut provinces: Vec<Province> = parse_csv("provinces.csv", include_str!("../refdata/provinces.csv"));
    for p in &mut provinces {
        p.successor_code = empty_as_none(p.successor_code.take());
    }
    provinces
});

static FIELDS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    let mut fields: Vec<Field> = parse_csv("fields.csv", include_str!("../refdata/fields.csv"));
    for f in &mut fields {
        f.parent = empty_as_none(f.parent.take());
    }
    fields
});

static TRL_LEVELS: LazyLock<Vec<TrlLevel>> = LazyLock::new(|| parse_csv("trl.csv", include_str!("../refdata/trl.csv")));

/// All provinces, old ones first as in the source file.
pub fn provinces() -> &'static [Province] {
    &PROVINCES
}

pub fn fields() -> &'static [Field] {
    &FIELDS
}

pub fn field(code: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.code == code)
}

pub fn trl_levels() -> &'static [TrlLevel] {
    &TRL_LEVELS
}

/// The current province a code stands for today. Portals still send pre-2025 codes: those
/// resolve to their successor (Bình Dương `74` to Ho Chi Minh City `79`).
pub fn current_province(code: &str) -> Option<&'static Province> {
    let current = |c: &str| PROVINCES.iter().find(|p| p.kind == ProvinceKind::Current && p.code == c);
    current(code).or_else(|| {
        PROVINCES
            .iter()
            .find(|p| p.kind == ProvinceKind::Old && p.code == code)
            .and_then(|old| old.successor_code.as_deref())
            .and_then(current)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_2025_reorganization() {
        let current = provinces().iter().filter(|p| p.kind == ProvinceKind::Current).count();
        let old = provinces().iter().filter(|p| p.kind == ProvinceKind::Old).count();
        assert_eq!((old, current), (63, 34));
    }

    #[test]
    fn every_old_province_has_a_current_successor() {
        for old in provinces().iter().filter(|p| p.kind == ProvinceKind::Old) {
            let successor = current_province(&old.code).expect(&old.code);
            assert_eq!(Some(successor.code.as_str()), old.successor_code.as_deref(), "{}", old.code);
        }
    }

    #[test]
    fn old_codes_resolve_to_their_successor() {
        assert_eq!(current_province("74").unwrap().code, "79"); // Bình Dương
        assert_eq!(current_province("77").unwrap().code, "79"); // Bà Rịa - Vũng Tàu
        assert_eq!(current_province("70").unwrap().code, "75"); // Bình Phước
        assert_eq!(current_province("72").unwrap().code, "80"); // Tây Ninh keeps the name, new code
        assert_eq!(current_province("79").unwrap().name_en, "Ho Chi Minh City");
    }

    #[test]
    fn unknown_province_codes_do_not_resolve() {
        for code in ["00", "99", "7", "079", ""] {
            assert!(current_province(code).is_none(), "{code}");
        }
    }

    #[test]
    fn fields_have_six_broad_groups_and_level_two_children() {
        assert_eq!(fields().iter().filter(|f| f.level() == 1).count(), 6);
        for f in fields().iter().filter(|f| f.level() == 2) {
            assert_eq!(f.code.len(), 3, "{}", f.code);
            assert!(f.code.starts_with(f.parent.as_deref().unwrap()), "{}", f.code);
        }
        assert_eq!(field("206").unwrap().parent.as_deref(), Some("2"));
    }

    #[test]
    fn trl_levels_run_from_one_to_nine() {
        let levels: Vec<u8> = trl_levels().iter().map(|t| t.level).collect();
        assert_eq!(levels, (1..=9).collect::<Vec<_>>());
    }
}
