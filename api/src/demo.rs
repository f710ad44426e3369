//! The demo data set: a demo exchange with its API client, and Vietnamese listings across the
//! Southeast provinces, so a fresh `cargo run` shows real-looking data at once and the README's
//! walk-through has credentials to use. Loaded through the same domain rules and repositories as
//! any client's write.
//!
//! The demo file carries no calendar dates: an expiry is a number of days after the load
//! (`expires_in_days`), so the demo loads on any day, years from now as well as today.

use std::collections::BTreeSet;

use chrono::{DateTime, Days, NaiveTime, Utc};
use serde::Deserialize;
use techex_domain::access::{Actor, Scope};
use techex_domain::center::Center;
use techex_domain::client::ApiClient;
use techex_domain::organization::{Organization, OrganizationContact, OrganizationContent, OrganizationKind};
use techex_domain::values::LocalizedText;
use techex_domain::{LifecycleAction, Listing, ListingContent, ListingStatus};
use techex_persistence::change_log::Author;
use techex_persistence::listings::{self, ListingWrite};
use techex_persistence::{Db, centers, db, organizations};

use crate::error::ApiError;
use crate::kit;
use crate::routes::{centers_dto, listings_dto};
use crate::usecases::register_client;

mod contracts;

const DEMO_LISTINGS: &str = include_str!("../demo/listings.json");
/// Sample application centers across the Southeast, each named and described as sample data.
const DEMO_CENTERS: &str = include_str!("../demo/centers.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoItem {
    status: ListingStatus,
    /// The listing expires at midnight UTC this many days after the day it is loaded; absent for
    /// a listing without expiry.
    #[serde(default)]
    expires_in_days: Option<u32>,
    /// The content as a client would write it, without `expires_at`: a fixed date would one day
    /// lie in the past.
    listing: listings_dto::ListingContent,
}

impl DemoItem {
    /// The listing's content as loaded at `now`, its expiry resolved against that moment.
    fn content_at(self, now: DateTime<Utc>) -> Result<ListingContent, String> {
        if self.listing.expires_at.is_some() {
            return Err("a demo listing gives expires_in_days, not a fixed expires_at".into());
        }
        let mut content = ListingContent::from(self.listing);
        content.expires_at = match self.expires_in_days {
            None => None,
            Some(0) => return Err("expires_in_days must be at least 1".into()),
            Some(days) => {
                let day = now.date_naive().checked_add_days(Days::new(days.into())).ok_or("expiry out of range")?;
                Some(day.and_time(NaiveTime::MIN).and_utc())
            }
        };
        Ok(content)
    }
}

/// What the demo load created: the client to try the API with (its secret shown this once).
pub struct DemoLoad {
    pub listings: usize,
    /// Sample transfer contracts brokered by the demo exchange.
    pub contracts: usize,
    /// Sample application centers.
    pub centers: usize,
    pub client: ApiClient,
    pub client_secret: String,
}

/// The moves that bring a new draft to `status`.
fn path_to(status: ListingStatus) -> Result<&'static [LifecycleAction], String> {
    match status {
        ListingStatus::Draft => Ok(&[]),
        ListingStatus::PendingReview => Ok(&[LifecycleAction::Submit]),
        ListingStatus::Published => Ok(&[LifecycleAction::Submit, LifecycleAction::Publish]),
        other => Err(format!("demo listings cannot start as {other}")),
    }
}

fn demo_exchange() -> OrganizationContent {
    let name = LocalizedText {
        vi: "Sàn giao dịch công nghệ mẫu (demo)".to_owned(),
        en: Some("Demo technology exchange".to_owned()),
    };
    OrganizationContent {
        contact: OrganizationContact {
            email: Some("demo@example.vn".to_owned()),
            website: Some("https://example.vn".to_owned()),
            ..OrganizationContact::default()
        },
        ..OrganizationContent::new(OrganizationKind::Exchange, name, "79")
    }
}

/// The demo listings as loaded at `now`, each with the moves that bring it to its status; every
/// one validated. They have no publisher yet.
fn plan(now: DateTime<Utc>) -> Result<Vec<(Listing, &'static [LifecycleAction])>, String> {
    // As strict as a client's request: a misspelt key in the file is an error, not ignored.
    let items: Vec<DemoItem> =
        crate::extract::parse_json(DEMO_LISTINGS.as_bytes()).map_err(|e| format!("demo data: {e}"))?;
    let mut planned = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let moves = path_to(item.status)?;
        let content = item.content_at(now).map_err(|e| format!("demo listing {i}: {e}"))?;
        let valid = content.validate(now).map_err(|e| format!("demo listing {i}: {e}"))?;
        planned.push((Listing::draft(valid, None, now), moves));
    }
    Ok(planned)
}

/// The sample centers, validated, belonging to `organization`.
fn plan_centers(organization: uuid::Uuid, now: DateTime<Utc>) -> Result<Vec<Center>, String> {
    let items: Vec<centers_dto::CenterContent> =
        crate::extract::parse_json(DEMO_CENTERS.as_bytes()).map_err(|e| format!("demo centers: {e}"))?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let valid = item.into_domain(organization).validate().map_err(|e| format!("demo center {i}: {e}"))?;
            Ok(Center::new(valid, now))
        })
        .collect()
}

/// Loads the demo exchange, its client and the demo listings as of `now` (the current time, but
/// for tests): records are stamped with it and expiries lie the demo's number of days after it.
/// Every listing is validated before the first write.
pub fn load(db: &Db, now: DateTime<Utc>) -> Result<DemoLoad, String> {
    let mut planned = plan(now)?;
    let mut exchange = demo_exchange();
    // The demo exchange holds the source exchanges its listings came from, as the operator would
    // register them for a real one.
    let held: BTreeSet<String> =
        planned.iter().filter_map(|(listing, _)| listing.content.source.as_ref().map(|s| s.exchange.clone())).collect();
    exchange.source_exchanges = held.into_iter().collect();
    let exchange = Organization::new(exchange.validate().map_err(|e| e.to_string())?, now);
    for (listing, _) in &mut planned {
        listing.publisher = Some(exchange.id);
    }
    let sample_centers = plan_centers(exchange.id, now)?;

    let mut conn = db.conn().map_err(|e| e.to_string())?;
    // All of it or nothing: a failure leaves the database empty, ready for another try.
    let (client, client_secret, contracts) = db::write(&mut conn, |conn| {
        let operator = Author::command_line();
        kit::create(conn, &exchange, &operator, |conn| organizations::insert(conn, &exchange))?;
        let scopes = BTreeSet::from([
            Scope::ListingsWrite,
            Scope::ListingsPublish,
            Scope::ContractsRead,
            Scope::ContractsWrite,
            Scope::CentersWrite,
            Scope::ChangesRead,
        ]);
        let (client, client_secret) = register_client(conn, exchange.id, "Demo portal", scopes.clone(), &operator)?;
        let author = Author::client(client.id, exchange.id);
        for (listing, moves) in &planned {
            kit::create(conn, listing, &author, |conn| listings::insert(conn, listing))?;
            for action in moves.iter().copied() {
                kit::modify(conn, listing.id, &author, |_, l: &mut Listing| {
                    l.apply(action, now)?;
                    Ok::<_, ApiError>(ListingWrite::Moved(action))
                })?;
            }
        }
        for center in &sample_centers {
            kit::create(conn, center, &author, |conn| centers::insert(conn, center))?;
        }
        let broker = Actor { client_id: client.id, organization_id: exchange.id, scopes };
        let contracts = contracts::load(conn, &broker, now)?;
        Ok::<_, ApiError>((client, client_secret, contracts))
    })
    .map_err(|e| e.to_string())?;
    Ok(DemoLoad { listings: planned.len(), contracts, centers: sample_centers.len(), client, client_secret })
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use techex_domain::{IpStatus, ListingStatus, Right, TransferForm, TransferMethod};

    #[test]
    fn demo_data_passes_every_rule_today_and_years_from_now() {
        let today = techex_domain::now();
        for now in [today, today + Duration::days(365 * 7), Utc.with_ymd_and_hms(2041, 2, 28, 23, 59, 59).unwrap()] {
            let planned = super::plan(now).unwrap_or_else(|e| panic!("at {now}: {e}"));
            assert_eq!(planned.len(), 40, "the README promises 40 demo listings");
        }
        assert!(super::demo_exchange().validate().is_ok());
    }

    #[test]
    fn sample_centers_lie_in_the_southeast_and_say_they_are_samples() {
        let centers = super::plan_centers(uuid::Uuid::now_v7(), techex_domain::now()).unwrap();
        assert_eq!(centers.len(), 10);
        let mut old_codes = 0;
        for center in &centers {
            let c = &center.content;
            let province = techex_domain::refdata::current_province(&c.province).unwrap();
            assert_eq!(province.region, "Southeast", "{}", c.name.vi);
            old_codes += usize::from(c.province != center.province);
            assert!(c.name.vi.ends_with("(dữ liệu mẫu)") && c.name.en.as_deref().unwrap().ends_with("(sample data)"));
            assert!(c.description.as_ref().unwrap().vi.starts_with("Dữ liệu mẫu"), "{}", c.name.vi);
        }
        assert!(old_codes >= 4, "some samples are filed under pre-2025 codes");
    }

    #[test]
    fn demo_expiries_are_days_after_the_load() {
        let now = Utc.with_ymd_and_hms(2040, 12, 30, 18, 45, 0).unwrap();
        let planned = super::plan(now).unwrap();
        let items: Vec<super::DemoItem> = serde_json::from_str(super::DEMO_LISTINGS).unwrap();
        for ((listing, _), item) in planned.iter().zip(&items) {
            let expected = item
                .expires_in_days
                .map(|days| Utc.with_ymd_and_hms(2040, 12, 30, 0, 0, 0).unwrap() + Duration::days(days.into()));
            assert_eq!(listing.content.expires_at, expected, "{}", listing.content.title.vi);
        }
        assert!(items.iter().any(|i| i.expires_in_days.is_none()), "some demo listings do not expire");
        let published_expiring =
            items.iter().filter(|i| i.status == ListingStatus::Published && i.expires_in_days.is_some());
        assert!(published_expiring.count() >= 20);
    }

    fn demo_contents() -> Vec<techex_domain::Listing> {
        super::plan(techex_domain::now()).unwrap().into_iter().map(|(listing, _)| listing).collect()
    }

    /// Every Vietnamese and English text of a listing, keywords included.
    fn all_text(content: &techex_domain::ListingContent) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for text in [Some(&content.title), content.summary.as_ref(), content.description.as_ref()].into_iter().flatten()
        {
            parts.push(&text.vi);
            parts.extend(text.en.as_deref());
        }
        parts.extend(content.keywords.iter().map(String::as_str));
        parts.join("\n")
    }

    fn by_title<'a>(listings: &'a [techex_domain::Listing], start: &str) -> &'a techex_domain::ListingContent {
        let found: Vec<_> = listings.iter().filter(|l| l.content.title.vi.starts_with(start)).collect();
        assert_eq!(found.len(), 1, "one demo listing titled {start}…");
        &found[0].content
    }

    #[test]
    fn demo_listings_show_the_fields_exchanges_use() {
        let listings = demo_contents();
        let count =
            |has: fn(&techex_domain::ListingContent) -> bool| listings.iter().filter(|l| has(&l.content)).count();
        assert!(count(|c| c.price.kind.is_some()) >= 4);
        assert!(count(|c| c.development_stage.is_some()) >= 4);
        assert!(count(|c| !c.ip_territory.is_empty()) >= 2);
        assert!(count(|c| !c.co_owners.is_empty()) >= 2);
        assert!(count(|c| c.confidential.is_some()) >= 2);
    }

    #[test]
    fn demo_listings_all_lie_in_the_southeast() {
        for listing in demo_contents() {
            let province = techex_domain::refdata::current_province(&listing.province).unwrap();
            assert_eq!(province.region, "Southeast", "{}: {}", listing.content.title.vi, province.name_vi);
        }
    }

    #[test]
    fn demo_listings_moved_from_the_mekong_delta_name_southeast_places() {
        let listings = demo_contents();
        let rice = by_title(&listings, "Giống lúa thơm chịu mặn");
        assert_eq!(rice.title.vi, "Giống lúa thơm chịu mặn cho vùng lúa ven sông Vàm Cỏ");
        assert_eq!((rice.province.as_str(), rice.owner.name.as_str()), ("80", "Viện Nghiên cứu Giống lúa Tân An"));
        let mango = by_title(&listings, "Màng bao chitosan");
        assert_eq!(
            (mango.province.as_str(), mango.owner.name.as_str()),
            ("75", "Trung tâm Nghiên cứu Cây ăn quả Xuân Lộc")
        );
        let kiln = by_title(&listings, "Cần công nghệ lò nung gốm");
        assert_eq!(kiln.title.vi, "Cần công nghệ lò nung gốm tiết kiệm năng lượng, giảm khí thải");
        assert_eq!((kiln.province.as_str(), kiln.owner.name.as_str()), ("74", "Hợp tác xã Gốm Tân Phước Khánh"));
        let shrimp = by_title(&listings, "Cần giải pháp quản lý môi trường ao nuôi");
        assert_eq!(
            (shrimp.province.as_str(), shrimp.owner.name.as_str()),
            ("79", "Công ty TNHH Thủy sản Sinh thái Cần Giờ")
        );
        for moved in [rice, mango, kiln, shrimp] {
            let text = all_text(moved);
            for place in ["Đồng bằng sông Cửu Long", "Mekong", "Mang Thít", "Năm Căn", "Ngọc Hiển", "Cờ Đỏ", "Cái Bè"]
            {
                assert!(!text.contains(place) && !moved.owner.name.contains(place), "{place} in {}", moved.title.vi);
            }
        }
    }

    #[test]
    fn demo_wastewater_listings_cite_qcvn_40_2025() {
        let listings = demo_contents();
        for listing in &listings {
            let text = all_text(&listing.content);
            assert!(!text.contains("13-MT:2015") && !text.contains("01-MT:2015"), "{}", listing.content.title.vi);
        }
        let dyeing = by_title(&listings, "Cần công nghệ xử lý nước thải dệt nhuộm");
        assert_eq!(dyeing.title.vi, "Cần công nghệ xử lý nước thải dệt nhuộm đạt QCVN 40:2025/BTNMT");
        assert_eq!(
            dyeing.title.en.as_deref(),
            Some("Seeking textile dyeing wastewater treatment meeting QCVN 40:2025/BTNMT")
        );
        let rubber = by_title(&listings, "Công nghệ xử lý nước thải chế biến mủ cao su");
        assert_eq!(
            rubber.summary.as_ref().unwrap().vi,
            "Dây chuyền xử lý nước thải sơ chế mủ cao su đạt QCVN 40:2025/BTNMT, thu hồi khí biogas làm nhiên liệu cho lò sấy mủ."
        );
    }

    #[test]
    fn demo_industrial_designs_name_the_title_granted_once() {
        let listings = demo_contents();
        let designs: Vec<_> = listings.iter().filter(|l| l.content.ip_status == IpStatus::IndustrialDesign).collect();
        assert_eq!(designs.len(), 2);
        let endings: Vec<&str> =
            designs.iter().map(|l| l.content.description.as_ref().unwrap().vi.rsplit(". ").next().unwrap()).collect();
        assert_eq!(
            endings,
            [
                "Sản phẩm đã được cấp Bằng độc quyền kiểu dáng công nghiệp.",
                "Máy đã được cấp Bằng độc quyền kiểu dáng công nghiệp."
            ]
        );
        for listing in &listings {
            assert!(!all_text(&listing.content).contains("bằng bảo hộ kiểu dáng"), "{}", listing.content.title.vi);
        }
    }

    #[test]
    fn demo_equipment_purchases_seek_a_right_to_use_not_ownership() {
        let listings = demo_contents();
        for start in ["Cần công nghệ sấy thăng hoa", "Cần hệ thống xử lý khí thải lò hơi"] {
            let purchase = by_title(&listings, start);
            assert_eq!(purchase.transfer_forms, [TransferForm::EquipmentSale], "{start}");
            assert_eq!(purchase.rights, [Right::NonExclusiveUse], "{start}");
        }
        for listing in &listings {
            let c = &listing.content;
            if c.transfer_forms == [TransferForm::EquipmentSale] {
                assert!(!c.rights.contains(&Right::Ownership), "{}", c.title.vi);
            }
        }
    }

    #[test]
    fn demo_listings_promising_installation_guidance_send_experts() {
        let listings = demo_contents();
        let dryer = by_title(&listings, "Máy sấy nông sản dùng năng lượng mặt trời");
        assert_eq!(
            dryer.transfer_methods,
            [TransferMethod::Documents, TransferMethod::Training, TransferMethod::ExpertAssistance]
        );
        for listing in &listings {
            let c = &listing.content;
            if c.description.as_ref().is_some_and(|d| d.vi.contains("hướng dẫn lắp đặt")) {
                assert!(c.transfer_methods.contains(&TransferMethod::ExpertAssistance), "{}", c.title.vi);
            }
        }
    }

    #[test]
    fn demo_listings_speak_of_today_s_administrative_units() {
        let listings = demo_contents();
        let monitor = by_title(&listings, "Máy theo dõi bệnh nhân đa thông số");
        assert!(
            monitor
                .description
                .as_ref()
                .unwrap()
                .vi
                .contains("Sản phẩm đã được thử nghiệm tại hai bệnh viện tuyến cơ sở"),
            "{:?}",
            monitor.description
        );
        for listing in &listings {
            assert!(!all_text(&listing.content).contains("bệnh viện quận"), "{}", listing.content.title.vi);
        }
    }

    #[test]
    fn demo_keywords_are_not_unaccented_copies_of_the_listing_s_words() {
        use techex_domain::text::fold;
        for listing in demo_contents() {
            let c = &listing.content;
            let text = all_text(c);
            // How often a keyword occurs as whole words in `text`, spelled as it is or folded.
            let occurrences = |text: &str, keyword: &str| {
                let words = |t: &str| -> Vec<String> {
                    t.split(|ch: char| !ch.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
                };
                let (text, keyword) = (words(text), words(keyword));
                text.windows(keyword.len()).filter(|w| *w == keyword.as_slice()).count()
            };
            for keyword in c.keywords.iter().filter(|k| k.is_ascii()) {
                let literal = occurrences(&text.to_lowercase(), &keyword.to_lowercase());
                let folded = occurrences(&fold(&text), &fold(keyword));
                assert_eq!(folded, literal, "'{keyword}' copies accented words of {}", c.title.vi);
            }
        }
    }

    #[test]
    fn demo_listings_carry_no_fixed_dates() {
        let items: Vec<serde_json::Value> = serde_json::from_str(super::DEMO_LISTINGS).unwrap();
        for (i, item) in items.iter().enumerate() {
            assert!(item["listing"].get("expires_at").is_none(), "demo listing {i} has a fixed expires_at");
        }
        let fixed: super::DemoItem = serde_json::from_value(serde_json::json!({
            "status": "draft",
            "listing": {"kind": "offer", "title": {"vi": "Thử"}, "field_codes": ["211"], "province": "79",
                        "owner": {"name": "Viện thử"}, "expires_at": "2040-01-01T00:00:00Z"}
        }))
        .unwrap();
        assert_eq!(
            fixed.content_at(Utc::now()).unwrap_err(),
            "a demo listing gives expires_in_days, not a fixed expires_at"
        );
    }
}
