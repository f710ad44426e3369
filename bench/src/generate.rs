//! Realistic, reproducible records: Vietnamese (and English) titles and descriptions built from a
//! technology vocabulary, spread over every current province, field, TRL and kind. The same seed
//! gives the same data set, so two runs of the suite measure the same thing.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use techex_domain::center::{CenterKind, CenterService};
use techex_domain::contract::{ContractStatus, PaymentMode, RightKind, RoyaltyBase, TransferObject};
use techex_domain::organization::OrganizationKind;
use techex_domain::refdata::{self, ProvinceKind};
use techex_domain::{IpStatus, ListingKind, Right, TransferForm, TransferMethod};
use uuid::Uuid;

/// xorshift64*: enough spread for test data, and no dependency to build.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // A zero state would stay zero.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// One to `most` distinct items, in the order drawn.
    pub fn some<T: Copy + PartialEq>(&mut self, items: &[T], most: usize) -> Vec<T> {
        let count = 1 + self.below(most);
        let mut chosen = Vec::with_capacity(count);
        while chosen.len() < count.min(items.len()) {
            let item = *self.pick(items);
            if !chosen.contains(&item) {
                chosen.push(item);
            }
        }
        chosen
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// (Vietnamese, English) pairs.
type Words = &'static [(&'static str, &'static str)];

const TECHNOLOGIES: Words = &[
    ("Máy sấy nông sản bơm nhiệt", "Heat pump produce dryer"),
    ("Hệ thống tưới nhỏ giọt thông minh", "Smart drip irrigation system"),
    ("Chế phẩm vi sinh xử lý phụ phẩm", "Microbial product for crop residues"),
    ("Quy trình nhân giống lan cấy mô", "Orchid tissue-culture propagation process"),
    ("Thiết bị lọc nước nhiễm mặn", "Brackish water purifier"),
    ("Phần mềm quản lý chuỗi cung ứng", "Supply chain management software"),
    ("Cảm biến đo độ ẩm đất không dây", "Wireless soil moisture sensor"),
    ("Vật liệu composite từ xơ dừa", "Coconut fibre composite material"),
    ("Dây chuyền chế biến hạt điều", "Cashew processing line"),
    ("Công nghệ ủ phân hữu cơ nhanh", "Rapid organic composting technology"),
    ("Hệ thống điện mặt trời áp mái", "Rooftop solar power system"),
    ("Robot hàn tự động", "Automatic welding robot"),
    ("Vắc-xin phòng bệnh cho tôm", "Shrimp disease vaccine"),
    ("Bộ kit chẩn đoán nhanh sốt xuất huyết", "Dengue rapid diagnostic kit"),
    ("Gạch không nung từ tro bay", "Unfired bricks from fly ash"),
    ("Màng bao sinh học bảo quản trái cây", "Edible fruit coating"),
    ("Hệ thống xử lý nước thải cao su", "Rubber latex wastewater treatment"),
    ("Nền tảng truy xuất nguồn gốc", "Traceability platform"),
    ("Lò đốt rác phát điện", "Waste-to-energy incinerator"),
    ("Giống lúa chịu mặn", "Salt-tolerant rice variety"),
    ("Thiết bị bay không người lái phun thuốc", "Crop-spraying drone"),
    ("Công nghệ chiết xuất tinh dầu", "Essential oil extraction technology"),
    ("Hệ thống giám sát chất lượng không khí", "Air quality monitoring system"),
    ("Pin lưu trữ năng lượng", "Energy storage battery"),
    ("Máy bóc vỏ hạt tiêu", "Pepper hulling machine"),
    ("Thuốc thảo dược hỗ trợ tiêu hóa", "Herbal digestive remedy"),
    ("Phần mềm nhận dạng ảnh y khoa", "Medical image recognition software"),
    ("Bê tông tự lèn cường độ cao", "High-strength self-compacting concrete"),
    ("Quy trình nuôi cá tra tuần hoàn", "Recirculating pangasius farming process"),
    ("Bao bì phân hủy sinh học", "Biodegradable packaging"),
];

const QUALIFIERS: Words = &[
    ("tiết kiệm năng lượng", "energy-saving"),
    ("chi phí thấp", "low-cost"),
    ("thân thiện môi trường", "environmentally friendly"),
    ("công suất lớn", "high-capacity"),
    ("điều khiển qua điện thoại", "phone-controlled"),
    ("quy mô hộ gia đình", "household-scale"),
    ("đạt chuẩn xuất khẩu", "export-grade"),
    ("ứng dụng trí tuệ nhân tạo", "AI-assisted"),
    ("vận hành tự động", "fully automatic"),
    ("sản xuất trong nước", "made in Vietnam"),
];

const USES: Words = &[
    ("cho hợp tác xã nông nghiệp", "for farming cooperatives"),
    ("cho khu công nghiệp", "for industrial parks"),
    ("cho bệnh viện tuyến tỉnh", "for provincial hospitals"),
    ("cho vùng nuôi trồng thủy sản", "for aquaculture areas"),
    ("cho doanh nghiệp vừa và nhỏ", "for small and medium enterprises"),
    ("cho đô thị thông minh", "for smart cities"),
    ("cho làng nghề truyền thống", "for craft villages"),
    ("cho trường học", "for schools"),
    ("cho vùng trồng cây ăn quả", "for fruit-growing areas"),
    ("cho nhà máy chế biến thực phẩm", "for food processing plants"),
];

const SENTENCES: Words = &[
    (
        "Công nghệ đã được thử nghiệm tại {place} và cho kết quả ổn định trong hai mùa vụ.",
        "The technology was trialled in {place} with stable results over two seasons.",
    ),
    (
        "Bên nhận chuyển giao được cung cấp bản vẽ, quy trình vận hành và hướng dẫn lắp đặt tại chỗ.",
        "The transferee receives drawings, operating procedures and on-site installation guidance.",
    ),
    (
        "Giải pháp giúp giảm từ 20 đến 40% chi phí vận hành so với phương pháp truyền thống.",
        "The solution cuts operating costs by 20 to 40% compared with traditional methods.",
    ),
    (
        "Nhóm nghiên cứu sẵn sàng hỗ trợ kỹ thuật trong sáu tháng đầu sau khi chuyển giao.",
        "The research team offers technical support for the first six months after transfer.",
    ),
    (
        "Sản phẩm đáp ứng tiêu chuẩn Việt Nam hiện hành về an toàn và chất lượng.",
        "The product meets current Vietnamese safety and quality standards.",
    ),
    (
        "Thiết bị dễ bảo trì, linh kiện thay thế có sẵn trên thị trường trong nước.",
        "The equipment is easy to maintain, with spare parts available in Vietnam.",
    ),
];

const OWNERS: &[&str] = &[
    "Viện Nghiên cứu Công nghệ",
    "Trường Đại học Bách khoa",
    "Công ty TNHH Kỹ thuật",
    "Trung tâm Ứng dụng Tiến bộ KH&CN",
    "Hợp tác xã Nông nghiệp Công nghệ cao",
    "Công ty Cổ phần Giải pháp Xanh",
];

/// The organizations that sign transfer contracts: (kind, Vietnamese name prefix, English).
const PARTIES: &[(OrganizationKind, &str, &str)] = &[
    (OrganizationKind::Enterprise, "Công ty Cổ phần Công nghệ", "Technology JSC"),
    (OrganizationKind::Enterprise, "Công ty TNHH Chế biến Nông sản", "Agricultural Processing Co., Ltd."),
    (OrganizationKind::Enterprise, "Hợp tác xã Dịch vụ Nông nghiệp", "Agricultural Services Cooperative"),
    (OrganizationKind::University, "Trường Đại học Kỹ thuật", "University of Engineering"),
    (OrganizationKind::ResearchInstitute, "Viện Nghiên cứu Ứng dụng", "Applied Research Institute"),
];

/// The objects of a transfer under the 2017 text, all of them still listed today; equipment
/// alone is not a transfer of technology.
const OBJECTS: &[TransferObject] = &[
    TransferObject::KnowHow,
    TransferObject::TechnologyPlan,
    TransferObject::TechnicalSolution,
    TransferObject::Formula,
    TransferObject::Software,
    TransferObject::Data,
    TransferObject::Rationalization,
];

const SURNAMES: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Huỳnh"];
const GIVEN_NAMES: &[&str] = &["Minh Khoa", "Thu Hà", "Quốc Bảo", "Ngọc Ánh", "Văn Đức", "Thảo Vy", "Hữu Phước"];

/// The current provinces (the 34 units in force since 2025-07-01) with a few pre-2025 codes that
/// portals still send, so the data set exercises code resolution as real traffic does.
pub fn province_codes() -> Vec<&'static str> {
    let provinces = refdata::provinces();
    let mut codes: Vec<&str> =
        provinces.iter().filter(|p| p.kind == ProvinceKind::Current).map(|p| p.code.as_str()).collect();
    let old = provinces.iter().filter(|p| p.kind == ProvinceKind::Old && !codes.contains(&p.code.as_str()));
    let old: Vec<&str> = old.take(6).map(|p| p.code.as_str()).collect();
    codes.extend(old);
    codes
}

/// Level-2 field codes, the ones listings are filed under.
pub fn field_codes() -> Vec<&'static str> {
    refdata::fields().iter().filter(|f| f.level() == 2).map(|f| f.code.as_str()).collect()
}

/// Draws listings, organizations and centers from the vocabulary.
pub struct Generator {
    rng: Rng,
    provinces: Vec<&'static str>,
    fields: Vec<&'static str>,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator { rng: Rng::new(seed), provinces: province_codes(), fields: field_codes() }
    }

    fn province_name(code: &str) -> &'static str {
        refdata::provinces().iter().find(|p| p.code == code).map_or("Việt Nam", |p| p.name_vi.as_str())
    }

    /// The body a portal would send to `POST /v1/listings` for listing number `n`, expiring (if
    /// at all) after `now`.
    pub fn listing(&mut self, n: u64, now: DateTime<Utc>) -> Value {
        let r = &mut self.rng;
        let (tech_vi, tech_en) = *r.pick(TECHNOLOGIES);
        let (qual_vi, qual_en) = *r.pick(QUALIFIERS);
        let (use_vi, use_en) = *r.pick(USES);
        let province = *r.pick(&self.provinces);
        let place = Self::province_name(province);
        let kind = *r.pick(ListingKind::ALL);
        let ip_status = *r.pick(IpStatus::ALL);
        let mut description_vi = Vec::new();
        let mut description_en = Vec::new();
        for (vi, en) in (0..3).map(|_| *r.pick(SENTENCES)) {
            description_vi.push(vi.replace("{place}", place));
            description_en.push(en.replace("{place}", place));
        }
        let fields = r.some(&self.fields, 3);
        let transfer_forms: Vec<&str> = r.some(TransferForm::ALL, 2).into_iter().map(TransferForm::as_str).collect();
        let transfer_methods: Vec<&str> =
            r.some(TransferMethod::ALL, 3).into_iter().map(TransferMethod::as_str).collect();
        let rights: Vec<&str> = r.some(Right::ALL, 1).into_iter().map(Right::as_str).collect();
        let contact_name = format!("{} {}", r.pick(SURNAMES), r.pick(GIVEN_NAMES));
        let amount = r.chance(60).then(|| (1 + r.below(200)) as i64 * 10_000_000);
        let expires_at = r.chance(50).then(|| now + Duration::days(30 + r.below(700) as i64));
        json!({
            "kind": kind.as_str(),
            "title": {
                "vi": format!("{tech_vi} {qual_vi} {use_vi} (mã {n})"),
                "en": format!("{tech_en}, {qual_en}, {use_en} (no. {n})"),
            },
            "summary": {
                "vi": format!("{tech_vi} {qual_vi}, phát triển tại {place}."),
                "en": format!("{tech_en}, {qual_en}, developed in Vietnam."),
            },
            "description": { "vi": description_vi.join(" "), "en": description_en.join(" ") },
            "keywords": [tech_vi.to_lowercase(), qual_vi],
            "field_codes": fields,
            "trl": 1 + r.below(9),
            "ip_status": ip_status.as_str(),
            "transfer_forms": transfer_forms,
            "transfer_methods": transfer_methods,
            "rights": rights,
            "price": { "amount": amount, "currency": "VND", "negotiable": amount.is_none() || r.chance(70) },
            "province": province,
            "owner": { "organization_id": null, "name": format!("{} {place}", r.pick(OWNERS)) },
            "contact": { "name": contact_name, "email": format!("lienhe{}@example.vn", n % 1000) },
            "expires_at": expires_at,
        })
    }

    /// A version 7 id for a record made at `at`: ordered as the records were made (`newest` pages
    /// sort by id) and, drawn from the seed, the same in every run.
    pub fn id(&mut self, at: DateTime<Utc>) -> Uuid {
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        random[8..].copy_from_slice(&self.rng.next_u64().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis() as u64, &random).into_uuid()
    }

    /// A company, university or institute that signs contracts: (kind, Vietnamese name,
    /// province, English name).
    pub fn party(&mut self, n: usize) -> (OrganizationKind, String, &'static str, String) {
        let (kind, vi, en) = *self.rng.pick(PARTIES);
        let province = *self.rng.pick(&self.provinces);
        let place = Self::province_name(province);
        (kind, format!("{vi} {place} số {}", n + 1), province, format!("{en} no. {}", n + 1))
    }

    /// A transfer contract of the technology of `listing` (the body it was made from), between
    /// organizations `transferor` and `transferee`, brokered by `broker`, written on `day`: the
    /// body of `POST /v1/contracts` and the status its lifecycle reaches. Registration is not
    /// mandatory for these (domestic parties, no state money), so a signed contract may take
    /// effect without one.
    pub fn contract(
        &mut self,
        listing: &Value,
        listing_id: Uuid,
        (transferor, transferee, broker): (Uuid, Uuid, Uuid),
        day: NaiveDate,
    ) -> (Value, ContractStatus) {
        let r = &mut self.rng;
        let status = *r.pick(&[
            ContractStatus::Draft,
            ContractStatus::Signed,
            ContractStatus::Signed,
            ContractStatus::InEffect,
            ContractStatus::InEffect,
            ContractStatus::InEffect,
            ContractStatus::Completed,
            ContractStatus::Terminated,
            ContractStatus::Cancelled,
        ]);
        let signed = !matches!(status, ContractStatus::Draft | ContractStatus::Cancelled);
        let objects: Vec<&str> = r.some(OBJECTS, 3).into_iter().map(TransferObject::as_str).collect();
        let forms: Vec<&str> = r.some(TransferForm::ALL, 2).into_iter().map(TransferForm::as_str).collect();
        let mut methods = r.some(TransferMethod::ALL, 3);
        // Machinery goes only with documents, training or experts (Art. 6).
        if methods == [TransferMethod::EquipmentWithKnowhow] {
            methods.insert(0, TransferMethod::Documents);
        }
        let methods: Vec<&str> = methods.into_iter().map(TransferMethod::as_str).collect();
        let mode = *r.pick(PaymentMode::ALL);
        let royalty = (mode != PaymentMode::LumpSum).then(|| (100 + r.below(900) as i64, *r.pick(RoyaltyBase::ALL)));
        let kind = *r.pick(RightKind::ALL);
        let exclusive = kind == RightKind::Ownership || r.chance(30);
        let amount = (5 + r.below(500)) as i64 * 10_000_000;
        let confidential = r.chance(25);
        let term_months = 12 * (1 + r.below(10)) as i64;
        (
            json!({
                "transferor": { "organization_id": transferor },
                "transferee": { "organization_id": transferee },
                "technology": {
                    "name": listing["title"],
                    "listing_id": listing_id,
                    "field_codes": listing["field_codes"],
                },
                "objects": objects,
                "forms": forms,
                "methods": methods,
                "rights": { "kind": kind.as_str(), "exclusive": exclusive, "sublicensing": !exclusive && r.chance(20), "territory": ["VN"] },
                "value": { "amount": amount, "currency": "VND", "confidential": confidential },
                "payment": {
                    "mode": mode.as_str(),
                    "royalty_rate_bp": royalty.map(|(rate, _)| rate),
                    "royalty_base": royalty.map(|(_, base)| base.as_str()),
                },
                "signed_on": signed.then_some(day),
                "effective_from": signed.then_some(day),
                "term_months": term_months,
                "brokered_by": broker,
            }),
            status,
        )
    }

    /// An exchange of a province, as the operator registers one.
    pub fn exchange(&mut self, n: usize) -> (String, &'static str, String) {
        let province = self.provinces[n % self.provinces.len()];
        let name = format!("Sàn giao dịch công nghệ {} số {}", Self::province_name(province), n + 1);
        (name, province, format!("Technology exchange no. {}", n + 1))
    }

    /// The body of `POST /v1/centers` for center number `n`, somewhere in the south of Vietnam.
    pub fn center(&mut self, n: usize) -> Value {
        let r = &mut self.rng;
        let province = *r.pick(&self.provinces);
        let place = Self::province_name(province);
        let kind = *r.pick(CenterKind::ALL);
        let services: Vec<&str> = r.some(CenterService::ALL, 3).into_iter().map(CenterService::as_str).collect();
        let fields = r.some(&self.fields, 2);
        json!({
            "kind": kind.as_str(),
            "name": {
                "vi": format!("Trung tâm Ứng dụng KH&CN {place} số {}", n + 1),
                "en": format!("S&T Application Center no. {}", n + 1),
            },
            "province": province,
            "address": format!("Số {} đường Lê Lợi, {place}", 1 + r.below(300)),
            "latitude": 9.0 + r.below(1_300) as f64 / 1_000.0 * 2.0,
            "longitude": 104.5 + r.below(1_000) as f64 / 1_000.0 * 3.0,
            "services": services,
            "field_codes": fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_listings() {
        let now = Utc::now();
        let (mut a, mut b, mut c) = (Generator::new(7), Generator::new(7), Generator::new(8));
        let first: Vec<Value> = (0..20).map(|n| a.listing(n, now)).collect();
        let again: Vec<Value> = (0..20).map(|n| b.listing(n, now)).collect();
        let other: Vec<Value> = (0..20).map(|n| c.listing(n, now)).collect();
        assert_eq!(first, again);
        assert_ne!(first, other);
    }

    #[test]
    fn listings_spread_over_provinces_kinds_and_trls() {
        let now = Utc::now();
        let mut generator = Generator::new(1);
        let listings: Vec<Value> = (0..3_000).map(|n| generator.listing(n, now)).collect();
        let distinct = |key: &str| {
            let mut values: Vec<String> = listings.iter().map(|l| l[key].to_string()).collect();
            values.sort();
            values.dedup();
            values.len()
        };
        assert_eq!(distinct("province"), province_codes().len());
        assert_eq!(distinct("kind"), ListingKind::ALL.len());
        assert_eq!(distinct("trl"), 9);
        assert_eq!(distinct("ip_status"), IpStatus::ALL.len());
        assert!(listings.iter().all(|l| !l["title"]["vi"].as_str().unwrap().is_ascii()));
    }
}
