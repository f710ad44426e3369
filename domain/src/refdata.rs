//! Reference data compiled into the binary (see `domain/refdata/README.md` for sources):
//! provinces before and after the 2025 reorganization, with the names each bore and when, S&T
//! fields and TRL levels.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvinceKind {
    /// One of the 63 units that existed until 2025-06-30.
    Old,
    /// One of the 34 units in force since 2025-07-01.
    Current,
}

/// A name a province bore and the days it was in force, both inclusive; an absent date is open
/// (or, for the start of a pre-2025 name, not researched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvinceName {
    pub name_vi: String,
    pub name_en: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

impl ProvinceName {
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= date) && self.valid_to.is_none_or(|to| date <= to)
    }
}

#[derive(Debug, Clone)]
pub struct Province {
    pub code: String,
    /// The name in force today; for a unit no longer in force, its last name.
    pub name_vi: String,
    pub name_en: String,
    pub kind: ProvinceKind,
    /// First day the unit was in force (absent for pre-2025 units: not researched).
    pub valid_from: Option<NaiveDate>,
    /// Last day the unit was in force; absent while it is.
    pub valid_to: Option<NaiveDate>,
    /// For an old unit, the current unit it became part of.
    pub successor_code: Option<String>,
    pub region: String,
    /// Every name the unit bore, oldest first, with its dates (one for a unit never renamed): a
    /// report for a given day shows the name in force that day.
    pub names: Vec<ProvinceName>,
}

impl Province {
    /// The name in force on `date`, or `None` when the unit itself was not in force that day.
    pub fn name_on(&self, date: NaiveDate) -> Option<&ProvinceName> {
        self.names.iter().find(|n| n.in_force_on(date))
    }

    /// The province as a list made on `date` shows it: named with the name in force that day, or,
    /// for a unit not in force that day, the name nearest in time (its first before it began,
    /// its last after it ended).
    pub fn as_of(&self, date: NaiveDate) -> Province {
        let nearest = self.name_on(date).or_else(|| {
            let began_later = self.names.first().and_then(|n| n.valid_from).is_some_and(|from| date < from);
            if began_later { self.names.first() } else { self.names.last() }
        });
        let mut shown = self.clone();
        if let Some(name) = nearest {
            shown.name_vi.clone_from(&name.name_vi);
            shown.name_en.clone_from(&name.name_en);
        }
        shown
    }
}

/// One row of `provinces.csv`: one name of one unit. A unit renamed while in force has one row
/// per name, consecutive and oldest first.
#[derive(Deserialize)]
struct ProvinceRow {
    code: String,
    name_vi: String,
    name_en: String,
    kind: ProvinceKind,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    successor_code: Option<String>,
    region: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Field {
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

#[derive(Debug, Clone, Deserialize)]
pub struct TrlLevel {
    pub level: u8,
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
    let rows: Vec<ProvinceRow> = parse_csv("provinces.csv", include_str!("../refdata/provinces.csv"));
    let mut provinces: Vec<Province> = Vec::new();
    for row in rows {
        let name = ProvinceName {
            name_vi: row.name_vi,
            name_en: row.name_en,
            valid_from: row.valid_from,
            valid_to: row.valid_to,
        };
        match provinces.last_mut() {
            // A later name of the unit on the previous row: the unit lasts until this name ends,
            // and is shown by its latest name.
            Some(unit) if unit.code == row.code && unit.kind == row.kind => {
                unit.valid_to = name.valid_to;
                unit.name_vi.clone_from(&name.name_vi);
                unit.name_en.clone_from(&name.name_en);
                unit.names.push(name);
            }
            _ => provinces.push(Province {
                code: row.code,
                name_vi: name.name_vi.clone(),
                name_en: name.name_en.clone(),
                kind: row.kind,
                valid_from: name.valid_from,
                valid_to: name.valid_to,
                successor_code: empty_as_none(row.successor_code),
                region: row.region,
                names: vec![name],
            }),
        }
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

/// All provinces, old ones first as in the source file, each named by its latest name.
pub fn provinces() -> &'static [Province] {
    &PROVINCES
}

/// The name in force on `date` of the unit that bore `code` that day: a pre-2025 unit up to
/// 2025-06-30, a current one from 2025-07-01. `None` when no unit had the code that day (Bình
/// Dương `74` after 2025-06-30, for one).
pub fn province_name_on(code: &str, date: NaiveDate) -> Option<&'static ProvinceName> {
    PROVINCES.iter().filter(|p| p.code == code).find_map(|p| p.name_on(date))
}

/// The calendar day in Vietnam (UTC+7) at `at`: the day whose names are in force.
pub fn vietnam_date(at: DateTime<Utc>) -> NaiveDate {
    let offset = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    at.with_timezone(&offset).date_naive()
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
    use chrono::TimeZone;

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

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn name_vi_on(code: &str, date: NaiveDate) -> Option<&'static str> {
        province_name_on(code, date).map(|n| n.name_vi.as_str())
    }

    #[test]
    fn dong_nai_is_a_province_until_it_becomes_a_city_on_2026_04_30() {
        assert_eq!(name_vi_on("75", day(2025, 6, 30)), Some("Tỉnh Đồng Nai"), "the pre-2025 unit");
        assert_eq!(name_vi_on("75", day(2025, 7, 1)), Some("Tỉnh Đồng Nai"));
        assert_eq!(name_vi_on("75", day(2026, 4, 29)), Some("Tỉnh Đồng Nai"));
        assert_eq!(name_vi_on("75", day(2026, 4, 30)), Some("Thành phố Đồng Nai"));
        assert_eq!(name_vi_on("75", day(2031, 1, 1)), Some("Thành phố Đồng Nai"));
        let city = province_name_on("75", day(2026, 4, 30)).unwrap();
        assert_eq!(
            (city.name_en.as_str(), city.valid_from, city.valid_to),
            ("Dong Nai City", Some(day(2026, 4, 30)), None)
        );
        assert_eq!(province_name_on("75", day(2026, 4, 29)).unwrap().name_en, "Dong Nai Province");
    }

    #[test]
    fn hue_is_thua_thien_hue_province_until_2024_12_31() {
        assert_eq!(name_vi_on("46", day(2024, 12, 31)), Some("Tỉnh Thừa Thiên Huế"));
        assert_eq!(name_vi_on("46", day(2025, 1, 1)), Some("Thành phố Huế"));
        assert_eq!(name_vi_on("46", day(2025, 6, 30)), Some("Thành phố Huế"));
        assert_eq!(name_vi_on("46", day(2025, 7, 1)), Some("Thành phố Huế"), "the current unit");
        assert_eq!(province_name_on("46", day(2024, 12, 31)).unwrap().name_en, "Thua Thien Hue Province");
    }

    #[test]
    fn a_code_names_nothing_on_a_day_no_unit_bore_it() {
        assert_eq!(name_vi_on("74", day(2025, 6, 30)), Some("Tỉnh Bình Dương"));
        assert_eq!(name_vi_on("74", day(2025, 7, 1)), None);
        assert_eq!(name_vi_on("80", day(2025, 6, 30)), Some("Tỉnh Long An"));
        assert_eq!(name_vi_on("80", day(2025, 7, 1)), Some("Tỉnh Tây Ninh"));
    }

    #[test]
    fn a_renamed_unit_is_one_unit_with_its_names_in_order() {
        let dong_nai = current_province("75").unwrap();
        let names: Vec<&str> = dong_nai.names.iter().map(|n| n.name_vi.as_str()).collect();
        assert_eq!(names, ["Tỉnh Đồng Nai", "Thành phố Đồng Nai"]);
        assert_eq!((dong_nai.valid_from, dong_nai.valid_to), (Some(day(2025, 7, 1)), None));
        assert_eq!(dong_nai.name_vi, "Thành phố Đồng Nai", "listed by its latest name");
        let old_hue = provinces().iter().find(|p| p.kind == ProvinceKind::Old && p.code == "46").unwrap();
        assert_eq!((old_hue.valid_from, old_hue.valid_to), (None, Some(day(2025, 6, 30))));
        assert_eq!(old_hue.names.len(), 2);
    }

    #[test]
    fn a_list_made_on_a_day_shows_the_names_of_that_day() {
        let dong_nai = current_province("75").unwrap();
        assert_eq!(dong_nai.as_of(day(2026, 4, 29)).name_vi, "Tỉnh Đồng Nai");
        assert_eq!(dong_nai.as_of(day(2026, 4, 29)).name_en, "Dong Nai Province");
        assert_eq!(dong_nai.as_of(day(2026, 4, 30)).name_vi, "Thành phố Đồng Nai");
        assert_eq!(dong_nai.as_of(day(2025, 1, 1)).name_vi, "Tỉnh Đồng Nai", "before the unit began: its first name");
        let old_hue = provinces().iter().find(|p| p.kind == ProvinceKind::Old && p.code == "46").unwrap();
        assert_eq!(old_hue.as_of(day(2024, 6, 1)).name_vi, "Tỉnh Thừa Thiên Huế");
        assert_eq!(old_hue.as_of(day(2026, 11, 28)).name_vi, "Thành phố Huế", "after it ended: its last name");
    }

    #[test]
    fn the_names_of_a_unit_follow_each_other_without_gap_or_overlap() {
        for p in provinces() {
            for pair in p.names.windows(2) {
                let (end, next) = (pair[0].valid_to.unwrap(), pair[1].valid_from.unwrap());
                assert_eq!(end.succ_opt(), Some(next), "{} {:?}", p.code, p.kind);
            }
        }
    }

    #[test]
    fn the_day_in_vietnam_turns_at_17_00_utc() {
        let at = |h| Utc.with_ymd_and_hms(2026, 4, 29, h, 0, 0).unwrap();
        assert_eq!(vietnam_date(at(16)), day(2026, 4, 29));
        assert_eq!(vietnam_date(at(17)), day(2026, 4, 30));
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
    fn trl_8_is_confirmed_not_certified() {
        let trl8 = trl_levels().iter().find(|t| t.level == 8).unwrap();
        assert_eq!(trl8.name_vi, "Hệ thống hoàn chỉnh và được xác nhận đạt yêu cầu");
        assert!(trl8.description_vi.contains("xác nhận đạt yêu cầu"), "{}", trl8.description_vi);
    }

    #[test]
    fn trl_levels_run_from_one_to_nine() {
        let levels: Vec<u8> = trl_levels().iter().map(|t| t.level).collect();
        assert_eq!(levels, (1..=9).collect::<Vec<_>>());
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            /// Province and field codes come from clients: any text is looked up without a panic,
            /// and what is found carries the code asked for (or, for a pre-2025 province, its successor's).
            #[test]
            fn any_code_is_looked_up_safely(code in ".{0,12}") {
                if let Some(field) = field(&code) {
                    prop_assert_eq!(&field.code, &code);
                }
                if let Some(province) = current_province(&code) {
                    prop_assert_eq!(province.kind, ProvinceKind::Current);
                }
                let _ = province_name_on(&code, chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
            }
        }

        #[test]
        fn every_listed_code_resolves_to_itself() {
            for field_entry in fields() {
                assert_eq!(field(&field_entry.code).map(|f| &f.code), Some(&field_entry.code));
            }
            for province in provinces().iter().filter(|p| p.kind == ProvinceKind::Current) {
                assert_eq!(current_province(&province.code).map(|p| &p.code), Some(&province.code));
            }
        }
    }
}
