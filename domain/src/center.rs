//! Application centers: the places that apply and transfer S&T progress in the provinces
//! (application and transfer centers, information centers, exchanges, incubators, laboratories,
//! intermediaries), found by province, service, field and distance. A center belongs to one
//! organization, whose clients with `centers:write` keep it up to date.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::access::{Actor, Caller, Denied, Scope};
use crate::messages::{Message, Text};
use crate::refdata;
use crate::text::{Lines, fold};
use crate::validation::ValidationErrors;
use crate::values::{
    LocalizedText, check_contact_fields, check_localized, check_localized_lines, check_url, optional_text,
    trim_required,
};

word_enum!(
    /// What kind of place a center is.
    CenterKind {
        ApplicationTransferCenter => "application_transfer_center", "Trung tâm Ứng dụng và chuyển giao tiến bộ KH&CN", "S&T application and transfer center",
        InformationCenter => "information_center", "Trung tâm Thông tin KH&CN", "S&T information center",
        Exchange => "exchange", "Sàn giao dịch công nghệ", "Technology exchange",
        Incubator => "incubator", "Cơ sở ươm tạo công nghệ, doanh nghiệp", "Technology and business incubator",
        Laboratory => "laboratory", "Phòng thí nghiệm, thử nghiệm", "Laboratory",
        Intermediary => "intermediary", "Tổ chức trung gian của thị trường KH&CN", "S&T market intermediary",
    }
);

word_enum!(
    /// A service a center offers (the intermediary services of Law 07/2017/QH14 Art. 47 among them).
    CenterService {
        TechnologyTransferConsulting => "technology_transfer_consulting", "Tư vấn chuyển giao công nghệ", "Technology transfer consulting",
        TechnologyBrokerage => "technology_brokerage", "Môi giới chuyển giao công nghệ", "Technology brokerage",
        TestingMeasurement => "testing_measurement", "Thử nghiệm, đo lường, kiểm định", "Testing and measurement",
        Incubation => "incubation", "Ươm tạo công nghệ, doanh nghiệp", "Incubation",
        Training => "training", "Đào tạo, tập huấn", "Training",
        IpConsulting => "ip_consulting", "Tư vấn sở hữu trí tuệ", "Intellectual property consulting",
        EquipmentSharing => "equipment_sharing", "Chia sẻ trang thiết bị", "Equipment sharing",
        TechnologyAppraisalValuation => "technology_appraisal_valuation", "Thẩm định, định giá công nghệ", "Technology appraisal and valuation",
        TechnologyAssessment => "technology_assessment", "Đánh giá, giám định công nghệ", "Technology assessment and inspection",
        TechnologyPromotion => "technology_promotion", "Xúc tiến chuyển giao công nghệ", "Technology transfer promotion",
    }
);

/// The longest name, in either language.
pub const NAME_MAX: usize = crate::listing::TITLE_MAX;
/// The longest postal address.
pub const ADDRESS_MAX: usize = 300;
/// The longest description, in either language.
pub const DESCRIPTION_MAX: usize = crate::listing::DESCRIPTION_MAX;
/// The longest statement of opening hours.
pub const OPENING_HOURS_MAX: usize = 200;
/// The most S&T fields of expertise.
pub const FIELD_CODES_MAX: usize = 10;
/// The most services: every one there is.
pub const SERVICES_MAX: usize = 10;

/// Where a center may stand: Vietnam's extent, its islands included (Hoàng Sa and Trường Sa), in
/// decimal degrees. Vietnam lies far from the antimeridian and the poles.
pub const LATITUDE_RANGE: (f64, f64) = (6.0, 24.0);
pub const LONGITUDE_RANGE: (f64, f64) = (102.0, 118.0);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CenterContact {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
}

/// What a center's organization writes about it.
#[derive(Debug, Clone, PartialEq)]
pub struct CenterContent {
    pub kind: CenterKind,
    pub name: LocalizedText,
    /// The organization the center belongs to.
    pub organization_id: Uuid,
    /// Province code, current or pre-2025.
    pub province: String,
    pub address: String,
    pub position: Position,
    pub contact: CenterContact,
    pub services: Vec<CenterService>,
    /// S&T field codes (three digits), as listings use them.
    pub field_codes: Vec<String>,
    pub description: Option<LocalizedText>,
    pub opening_hours: Option<String>,
}

/// Content that passed every rule, with the province resolved to today's code.
#[derive(Debug, Clone)]
pub struct ValidCenter {
    pub content: CenterContent,
    pub province: &'static refdata::Province,
}

impl CenterContent {
    pub fn validate(mut self) -> Result<ValidCenter, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        check_localized(&mut errors, "name", Some(&mut self.name), NAME_MAX, true);
        self.province = self.province.trim().to_owned();
        let province = refdata::current_province(&self.province);
        if province.is_none() {
            errors.add("province", Message::new(Text::UnknownProvince).with("value", &self.province));
        }
        trim_required(&mut errors, "address", &mut self.address, ADDRESS_MAX);
        check_coordinate(&mut errors, "latitude", self.position.latitude, LATITUDE_RANGE);
        check_coordinate(&mut errors, "longitude", self.position.longitude, LONGITUDE_RANGE);
        let c = &mut self.contact;
        check_contact_fields(&mut errors, "contact", &mut c.email, &mut c.phone);
        if let Some(website) = c.website.as_mut() {
            check_url(&mut errors, "contact.website", website);
        }
        check_services(&mut errors, &self.services);
        check_field_codes(&mut errors, &mut self.field_codes);
        if let Some(description) = self.description.as_mut() {
            check_localized_lines(&mut errors, "description", description, DESCRIPTION_MAX, Lines::Many);
        }
        optional_text(&mut errors, "opening_hours", &mut self.opening_hours, OPENING_HOURS_MAX, Lines::One);
        match province {
            Some(province) if errors.is_empty() => Ok(ValidCenter { content: self, province }),
            _ => Err(errors),
        }
    }
}

fn check_coordinate(errors: &mut ValidationErrors, field: &str, value: f64, (min, max): (f64, f64)) {
    if !(min..=max).contains(&value) {
        errors.add(
            field,
            Message::new(Text::CoordinateOutsideVietnam).with("min", min).with("max", max).with("value", value),
        );
    }
}

fn check_services(errors: &mut ValidationErrors, services: &[CenterService]) {
    if services.len() > SERVICES_MAX {
        errors.add("services", Message::new(Text::TooMany).with("max", SERVICES_MAX));
        return;
    }
    for (i, service) in services.iter().enumerate() {
        if services[..i].contains(service) {
            errors.add(format!("services[{i}]"), Message::new(Text::ListedTwice).with("value", service));
        }
    }
}

/// S&T fields of expertise: three-digit codes of the classification, each once; none is fine.
fn check_field_codes(errors: &mut ValidationErrors, codes: &mut [String]) {
    if codes.len() > FIELD_CODES_MAX {
        errors.add("field_codes", Message::new(Text::TooMany).with("max", FIELD_CODES_MAX));
        return;
    }
    for i in 0..codes.len() {
        codes[i] = codes[i].trim().to_owned();
        let code = &codes[i];
        match refdata::field(code) {
            Some(field) if field.level() == 2 => {
                if codes[..i].contains(code) {
                    errors.add(format!("field_codes[{i}]"), Message::new(Text::ListedTwice).with("value", code));
                }
            }
            Some(_) => errors.add(format!("field_codes[{i}]"), Message::new(Text::FieldTooBroad).with("value", code)),
            None => errors.add(format!("field_codes[{i}]"), Message::new(Text::UnknownFieldCode).with("value", code)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Center {
    pub id: Uuid,
    /// The current province code; `content.province` keeps the code as sent.
    pub province: String,
    pub content: CenterContent,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Center {
    pub fn new(valid: ValidCenter, now: DateTime<Utc>) -> Self {
        Center {
            id: Uuid::now_v7(),
            province: valid.province.code.clone(),
            content: valid.content,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn revise(&mut self, valid: ValidCenter, now: DateTime<Utc>) {
        self.province = valid.province.code.clone();
        self.content = valid.content;
        self.version += 1;
        self.updated_at = now;
    }

    /// The last version of a center being deleted, as its tombstone records it.
    pub fn delete(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }

    pub fn organization_id(&self) -> Uuid {
        self.content.organization_id
    }

    /// The folded text search runs on, with a space before every word and after the last, so
    /// that `LIKE '% word%'` finds words by their beginning: names, address, description and
    /// the province's current name ("dong nai" finds every center of Đồng Nai).
    pub fn search_text(&self) -> String {
        let c = &self.content;
        let mut parts: Vec<&str> = vec![&c.name.vi];
        parts.extend(c.name.en.as_deref());
        parts.push(&c.address);
        if let Some(description) = &c.description {
            parts.push(&description.vi);
            parts.extend(description.en.as_deref());
        }
        if let Some(province) = refdata::current_province(&self.province) {
            parts.push(&province.name_vi);
        }
        format!(" {} ", fold(&parts.join(" ")))
    }
}

/// The words of a search as they are matched: folded like the stored text, at most
/// [`SEARCH_WORDS_MAX`]; the last is matched as the beginning of a word, the others whole.
pub fn search_words(query: &str, errors: &mut ValidationErrors) -> Vec<String> {
    let words: Vec<String> = fold(query).split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect();
    if words.len() > SEARCH_WORDS_MAX {
        errors.add("q", Message::new(Text::TooManyWords).with("max", SEARCH_WORDS_MAX));
    }
    words
}

/// The most words a search may hold.
pub const SEARCH_WORDS_MAX: usize = 10;

/// The `LIKE` patterns of [`search_words`] over [`Center::search_text`]: each word whole, the
/// last as a prefix. Folded words hold only letters and digits, so no pattern character needs
/// escaping.
pub fn like_patterns(words: &[String]) -> Vec<String> {
    let last = words.len().saturating_sub(1);
    words.iter().enumerate().map(|(i, w)| if i == last { format!("% {w}%") } else { format!("% {w} %") }).collect()
}

// ---- Where: positions, distances and the box around a circle ----

/// A point on the Earth in decimal degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub latitude: f64,
    pub longitude: f64,
}

/// The mean radius of the Earth (IUGG), in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6_371.008_8;
/// The widest circle a nearby search takes, in kilometres: Vietnam's Southeast and its
/// neighbours, not the whole country at once.
pub const RADIUS_MAX_KM: f64 = 500.0;
/// The circle of a nearby search without `radius_km`.
pub const RADIUS_DEFAULT_KM: f64 = 50.0;

impl Position {
    /// A position in the ranges of any point on Earth; `None` otherwise (NaN included).
    pub fn new(latitude: f64, longitude: f64) -> Option<Position> {
        ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude))
            .then_some(Position { latitude, longitude })
    }

    /// Reads `lat,lon` in decimal degrees, as `near=10.7769,106.7009` gives it.
    pub fn parse(text: &str) -> Result<Position, Text> {
        let (lat, lon) = text.split_once(',').ok_or(Text::NearFormat)?;
        // Plain decimals only (`-10.5`), as the contract's pattern says: no exponent, sign `+`,
        // `inf` or `NaN`.
        let number = |s: &str| {
            let s = s.trim();
            let (whole, fraction) =
                s.strip_prefix('-').unwrap_or(s).split_once('.').unwrap_or((s.trim_start_matches('-'), "0"));
            let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
            (digits(whole) && digits(fraction)).then(|| s.parse::<f64>().ok()).flatten()
        };
        let (lat, lon) = number(lat).zip(number(lon)).ok_or(Text::NearFormat)?;
        Position::new(lat, lon).ok_or(Text::NearOutOfRange)
    }

    /// The great-circle distance to `other`, in kilometres (haversine formula).
    pub fn distance_km(self, other: Position) -> f64 {
        let (phi1, phi2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let d_phi = phi2 - phi1;
        let d_lambda = (other.longitude - self.longitude).to_radians();
        let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }

    /// A box of latitudes and longitudes holding every point within `radius_km`, for an index to
    /// narrow the candidates before the exact distance is computed. Near a pole it takes every
    /// longitude; across the antimeridian it is two ranges of longitude.
    pub fn bounding_box(self, radius_km: f64) -> BoundingBox {
        let d_lat = (radius_km / EARTH_RADIUS_KM).to_degrees();
        let lat_min = (self.latitude - d_lat).max(-90.0);
        let lat_max = (self.latitude + d_lat).min(90.0);
        let widest = self.latitude.abs().max(lat_min.abs()).max(lat_max.abs());
        let whole = [(-180.0, 180.0)].to_vec();
        if widest >= 89.9 {
            return BoundingBox { lat_min, lat_max, longitudes: whole };
        }
        // The widest span of longitude is at the box's latitude farthest from the equator.
        let ratio = (radius_km / EARTH_RADIUS_KM).sin() / widest.to_radians().cos();
        if ratio >= 1.0 {
            return BoundingBox { lat_min, lat_max, longitudes: whole };
        }
        let d_lon = ratio.asin().to_degrees();
        let (west, east) = (self.longitude - d_lon, self.longitude + d_lon);
        let longitudes = if west < -180.0 {
            vec![(west + 360.0, 180.0), (-180.0, east)]
        } else if east > 180.0 {
            vec![(west, 180.0), (-180.0, east - 360.0)]
        } else {
            vec![(west, east)]
        };
        BoundingBox { lat_min, lat_max, longitudes }
    }
}

/// Latitudes from `lat_min` to `lat_max` and one or two ranges of longitude (two across the
/// antimeridian), all inclusive.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundingBox {
    pub lat_min: f64,
    pub lat_max: f64,
    pub longitudes: Vec<(f64, f64)>,
}

impl BoundingBox {
    pub fn contains(&self, p: Position) -> bool {
        (self.lat_min..=self.lat_max).contains(&p.latitude)
            && self.longitudes.iter().any(|(w, e)| (*w..=*e).contains(&p.longitude))
    }
}

/// A distance as answered: to the metre's ten (0.01 km); coordinates of a center are rarely more
/// precise than that.
pub fn rounded_km(km: f64) -> f64 {
    (km * 100.0).round() / 100.0
}

// ---- Who may write ----

/// Who may register a center: a client with `centers:write` (for its own organization, or the
/// operator for any).
pub fn may_create_center(caller: &Caller) -> Result<&Actor, Denied> {
    let actor = caller.as_ref().ok_or(Denied::Unauthenticated)?;
    actor.require(Scope::CentersWrite)?;
    Ok(actor)
}

/// Who may change a center: the owning organization's clients with `centers:write`, and the
/// operator. Centers are public, so another organization's client is told it is not the owner.
pub fn may_edit_center<'a>(caller: &'a Caller, center: &Center) -> Result<&'a Actor, Denied> {
    let actor = may_create_center(caller)?;
    if actor.organization_id == center.organization_id() || actor.is_admin() {
        Ok(actor)
    } else {
        Err(Denied::NotCenterOwner)
    }
}

/// Whether `actor` may name `organization` as a center's owner: its own; the operator any
/// (which must exist, checked by the caller).
pub fn may_claim_center(actor: &Actor, organization: Uuid) -> bool {
    organization == actor.organization_id || actor.is_admin()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HCMC: Position = Position { latitude: 10.7769, longitude: 106.7009 };
    const BIEN_HOA: Position = Position { latitude: 10.9574, longitude: 106.8427 };
    const TAY_NINH: Position = Position { latitude: 11.3100, longitude: 106.0983 };
    const VUNG_TAU: Position = Position { latitude: 10.3460, longitude: 107.0843 };

    fn content() -> CenterContent {
        CenterContent {
            kind: CenterKind::ApplicationTransferCenter,
            name: LocalizedText::vi("Trung tâm Ứng dụng tiến bộ KH&CN Đồng Nai"),
            organization_id: Uuid::now_v7(),
            province: "75".into(),
            address: "Biên Hòa".into(),
            position: BIEN_HOA,
            contact: CenterContact::default(),
            services: vec![CenterService::Training],
            field_codes: vec!["211".into()],
            description: None,
            opening_hours: None,
        }
    }

    fn fields(result: Result<ValidCenter, ValidationErrors>) -> Vec<(String, String)> {
        result.unwrap_err().0.into_iter().map(|e| (e.field, e.code)).collect()
    }

    fn pair(f: &str, c: &str) -> (String, String) {
        (f.to_owned(), c.to_owned())
    }

    #[test]
    fn distances_between_southeast_cities_match_the_map() {
        // Computed apart with the spherical law of cosines (to the metre).
        for (to, km) in [(BIEN_HOA, 25.350), (TAY_NINH, 88.538), (VUNG_TAU, 63.657)] {
            let d = HCMC.distance_km(to);
            assert!((d - km).abs() < 0.001, "{to:?}: {d}");
            assert!((to.distance_km(HCMC) - d).abs() < 1e-9, "symmetric");
        }
        assert_eq!(HCMC.distance_km(HCMC), 0.0);
        let quarter =
            Position { latitude: 0.0, longitude: 0.0 }.distance_km(Position { latitude: 0.0, longitude: 90.0 });
        assert!((quarter - EARTH_RADIUS_KM * std::f64::consts::FRAC_PI_2).abs() < 1e-6);
        let across =
            Position { latitude: 0.0, longitude: 179.5 }.distance_km(Position { latitude: 0.0, longitude: -179.5 });
        assert!((across - 111.2).abs() < 0.1, "{across}");
    }

    #[test]
    fn the_box_holds_the_whole_circle_and_little_more() {
        for radius in [1.0, 25.0, 90.0, 500.0] {
            let b = HCMC.bounding_box(radius);
            assert_eq!(b.longitudes.len(), 1);
            for bearing in 0..360 {
                let t = (bearing as f64).to_radians();
                // A point at `radius` (less a metre) in direction `t`, by the spherical destination formula.
                let delta = (radius - 0.001) / EARTH_RADIUS_KM;
                let (phi, lambda) = (HCMC.latitude.to_radians(), HCMC.longitude.to_radians());
                let phi2 = (phi.sin() * delta.cos() + phi.cos() * delta.sin() * t.cos()).asin();
                let lambda2 = lambda + (t.sin() * delta.sin() * phi.cos()).atan2(delta.cos() - phi.sin() * phi2.sin());
                let p = Position { latitude: phi2.to_degrees(), longitude: lambda2.to_degrees() };
                assert!(HCMC.distance_km(p) <= radius);
                assert!(b.contains(p), "{radius} km at {bearing}°: {p:?} outside {b:?}");
            }
            let outside = Position { latitude: HCMC.latitude, longitude: b.longitudes[0].1 + 0.01 };
            assert!(!b.contains(outside));
            assert!(b.lat_max - b.lat_min < 2.0 * radius / 110.0, "{b:?}");
        }
    }

    #[test]
    fn the_box_splits_at_the_antimeridian_and_opens_at_the_poles() {
        let b = Position { latitude: 10.0, longitude: 179.9 }.bounding_box(100.0);
        assert_eq!(b.longitudes.len(), 2);
        assert!(b.contains(Position { latitude: 10.0, longitude: -179.9 }));
        assert!(!b.contains(Position { latitude: 10.0, longitude: 0.0 }));
        let west = Position { latitude: 10.0, longitude: -179.9 }.bounding_box(100.0);
        assert!(west.contains(Position { latitude: 10.0, longitude: 179.9 }));
        let pole = Position { latitude: 89.5, longitude: 0.0 }.bounding_box(100.0);
        assert_eq!(pole.longitudes, [(-180.0, 180.0)]);
        assert_eq!(pole.lat_max, 90.0);
    }

    #[test]
    fn near_reads_a_latitude_and_a_longitude() {
        assert_eq!(Position::parse(" 10.7769 , 106.7009 "), Ok(HCMC));
        assert_eq!(Position::parse("-90,180"), Ok(Position { latitude: -90.0, longitude: 180.0 }));
        for bad in [
            "10.7769", "", "a,b", "NaN,106", "10,inf", "10;106", "10,106,1", "1e1,106", "+10,106", ".5,106", "10.,106",
            "--1,106",
        ] {
            assert_eq!(Position::parse(bad), Err(Text::NearFormat), "{bad}");
        }
        for far in ["90.01,0", "-91,0", "0,180.5", "0,-181"] {
            assert_eq!(Position::parse(far), Err(Text::NearOutOfRange), "{far}");
        }
    }

    #[test]
    fn distances_are_answered_to_ten_metres() {
        assert_eq!(rounded_km(25.4349), 25.43);
        assert_eq!(rounded_km(25.435001), 25.44);
        assert_eq!(rounded_km(0.004), 0.0);
    }

    #[test]
    fn a_center_stands_in_vietnam() {
        let mut c = content();
        c.position = Position { latitude: 5.99, longitude: 118.01 };
        assert_eq!(fields(c.validate()), [pair("latitude", "out_of_range"), pair("longitude", "out_of_range")]);
        let mut islands = content();
        islands.position = Position { latitude: 8.64, longitude: 111.92 };
        islands.province = "56".into();
        assert!(islands.validate().is_ok(), "Trường Sa");
        let mut nan = content();
        nan.position.latitude = f64::NAN;
        assert_eq!(fields(nan.validate()), [pair("latitude", "out_of_range")]);
    }

    #[test]
    fn centers_are_validated_field_by_field() {
        let mut c = content();
        c.name = LocalizedText::vi(" ");
        c.province = "99".into();
        c.address = String::new();
        c.contact =
            CenterContact { email: Some("x".into()), phone: Some("abc".into()), website: Some("ftp://x".into()) };
        c.services = vec![CenterService::Training, CenterService::Incubation, CenterService::Training];
        c.field_codes = vec!["211".into(), "2".into(), "999".into(), " 211 ".into()];
        c.opening_hours = Some("x".repeat(OPENING_HOURS_MAX + 1));
        assert_eq!(
            fields(c.validate()),
            [
                pair("name.vi", "required"),
                pair("province", "unknown_province"),
                pair("address", "required"),
                pair("contact.email", "invalid_email"),
                pair("contact.phone", "invalid_phone"),
                pair("contact.website", "invalid_url"),
                pair("services[2]", "duplicate"),
                pair("field_codes[1]", "field_too_broad"),
                pair("field_codes[2]", "unknown_field_code"),
                pair("field_codes[3]", "duplicate"),
                pair("opening_hours", "too_long"),
            ]
        );
        let mut many = content();
        many.field_codes = vec!["211".into(); FIELD_CODES_MAX + 1];
        assert_eq!(fields(many.validate()), [pair("field_codes", "too_many")]);
    }

    #[test]
    fn old_province_codes_resolve_and_their_names_are_searched() {
        let mut c = content();
        c.province = "74".into();
        c.field_codes.clear();
        c.services.clear();
        let valid = c.validate().unwrap();
        assert_eq!(valid.province.code, "79");
        let center = Center::new(valid, crate::now());
        assert_eq!(center.content.province, "74");
        let text = center.search_text();
        assert!(text.starts_with(" trung tam ung dung ") && text.ends_with(' '), "{text}");
        assert!(text.contains(" bien hoa ") && text.contains(" ho chi minh "), "{text}");
    }

    #[test]
    fn search_words_are_folded_and_the_last_is_a_prefix() {
        let mut errors = ValidationErrors::default();
        let words = search_words("  Trung TÂM  ứng-dụng ", &mut errors);
        assert_eq!(words, ["trung", "tam", "ung", "dung"]);
        assert_eq!(like_patterns(&words), ["% trung %", "% tam %", "% ung %", "% dung%"]);
        assert!(errors.is_empty());
        search_words(&"a ".repeat(SEARCH_WORDS_MAX + 1), &mut errors);
        assert_eq!(errors.0[0].code, "too_many");
        assert!(like_patterns(&[]).is_empty());
    }

    #[test]
    fn writes_need_the_scope_and_the_owning_organization() {
        let org = Uuid::now_v7();
        let actor = |org: Uuid, scopes: &[Scope]| {
            Some(Actor { client_id: Uuid::now_v7(), organization_id: org, scopes: scopes.iter().copied().collect() })
        };
        let mut c = content();
        c.organization_id = org;
        let center = Center::new(c.validate().unwrap(), crate::now());
        assert_eq!(may_edit_center(&None, &center).unwrap_err(), Denied::Unauthenticated);
        let own_without = actor(org, &[Scope::ListingsWrite]);
        assert_eq!(may_edit_center(&own_without, &center).unwrap_err(), Denied::MissingScope(Scope::CentersWrite));
        let other = actor(Uuid::now_v7(), &[Scope::CentersWrite]);
        assert_eq!(may_edit_center(&other, &center).unwrap_err(), Denied::NotCenterOwner);
        assert!(may_edit_center(&actor(org, &[Scope::CentersWrite]), &center).is_ok());
        let operator = actor(Uuid::now_v7(), &[Scope::Admin]);
        assert!(may_edit_center(&operator, &center).is_ok());
        assert!(may_claim_center(operator.as_ref().unwrap(), org));
        assert!(!may_claim_center(other.as_ref().unwrap(), org));
        assert!(may_claim_center(other.as_ref().unwrap(), other.as_ref().unwrap().organization_id));
    }
}
