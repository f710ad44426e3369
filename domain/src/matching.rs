//! How well a technology offer meets a demand: a score from 0 to 100 and the reasons behind it,
//! so a person can judge a proposed match. The score depends on the two listings only (never on
//! the rest of the collection), so both database backends rank alike.
//!
//! | points | part | when |
//! |---|---|---|
//! | up to 35 | text | terms the two share (see [`syllable_pairs`]: pairs of Vietnamese syllables, English words): 3 per term in both titles, 2 per term in one title and the other's text, 1 per term in both texts only, and 1 per significant word both titles hold that no shared term names; 20 or more such points give the full 35 |
//! | 25 / 15 | S&T field | a field code in both / two codes under the same broad field (`206` and `205`, or `2` and `206`) |
//! | 10 / 4 | TRL | the offer reaches the level the demand asks for / falls one level short; a side without a TRL gets 4 |
//! | 5 + 5 | transfer | a transfer form in both / a right in both |
//! | 10 | price | the offer's amount is within the demand's budget, same currency |
//! | 10 / 5 | region | same province / same region |
//!
//! A listing is a match only when it is about the same thing: it shares at least
//! [`MIN_TEXT_POINTS`] points of terms, and its score reaches [`MIN_SCORE`]. Two listings alike
//! in everything but their subject (a field code, the province, a transfer form) are no match:
//! field codes are broad (`211` holds every food technology), so a durian freeze-dryer and a
//! cashew-shelling line share one without meeting each other's need.

use std::collections::{BTreeSet, HashSet};
use std::sync::LazyLock;

use crate::listing::Listing;
use crate::messages::{Message, Text};
use crate::refdata;
use crate::text::fold;
use crate::{ListingKind, Right, TransferForm};

/// The least score a match must reach to be proposed.
pub const MIN_SCORE: u8 = 30;
/// The least text points (see the table) that make two listings without a field code in common
/// a match.
pub const MIN_TEXT_POINTS: u32 = 3;
/// Text points at which the text part is full.
const FULL_TEXT_POINTS: u32 = 20;
/// The most shared words a reason names.
pub const MAX_REASON_WORDS: usize = 8;
/// The most significant words of a listing a candidate search uses.
pub const MAX_QUERY_WORDS: usize = 16;

/// Vietnamese function words, folded: they say nothing of a subject, alone or in a pair.
const FUNCTION_WORDS: &[&str] = &[
    "va", "cua", "cho", "cac", "nhung", "mot", "la", "trong", "voi", "tu", "den", "de", "duoc", "co", "khong", "nay",
    "do", "theo", "tai", "ve", "tren", "duoi", "nhu", "khi", "thi", "ma", "bang", "hoac", "hay", "cung", "da", "dang",
    "se", "rat", "nhieu", "it", "moi", "ra", "vao", "len", "nen", "vi", "neu", "the", "tung", "cai", "con", "nguoi",
    "hon", "qua", "sau", "truoc", "giua", "them", "viec", "nhat", "dung", "can", "tim", "muon",
];

/// Folded words every listing uses ("công nghệ", "giải pháp", "technology"), and English
/// function words: no subject alone; in a Vietnamese pair beside a subject word they may be.
const COMMON_WORDS: &[&str] = &[
    "cong",
    "nghe",
    "he",
    "thong",
    "giai",
    "phap",
    "san",
    "pham",
    "ung",
    "nghien",
    "cuu",
    "ky",
    "thuat",
    "quy",
    "trinh",
    "chuyen",
    "giao",
    "nhu",
    "cau",
    "doanh",
    "nghiep",
    "thiet",
    "bi",
    "hien",
    "dai",
    "moi",
    // English function words and words every listing uses.
    "a",
    "an",
    "and",
    "or",
    "of",
    "for",
    "with",
    "to",
    "in",
    "on",
    "by",
    "from",
    "at",
    "as",
    "is",
    "are",
    "be",
    "into",
    "using",
    "based",
    "new",
    "technology",
    "technologies",
    "system",
    "systems",
    "solution",
    "solutions",
    "process",
    "product",
    "products",
    "demand",
    "offer",
    "need",
    "needs",
    "transfer",
    "equipment",
    "device",
];

/// Function words that hold no subject syllable once folded: a pair beside one of them is no
/// term ("và giảm", "được áp").
const PHRASE_BREAKS: &[&str] =
    &["va", "cua", "cac", "nhung", "voi", "duoc", "khong", "nay", "hoac", "neu", "viec", "muon", "giua"];

/// Folded two-syllable words any listing may use, whatever its subject.
const GENERIC_PAIRS: &[&str] = &[
    "ap dung",
    "bao gom",
    "chat luong",
    "chi phi",
    "cong suat",
    "dam bao",
    "dau ra",
    "dau tu",
    "dau vao",
    "dich vu",
    "dia phuong",
    "don vi",
    "gia thanh",
    "hieu qua",
    "hien nay",
    "hop tac",
    "ket hop",
    "khu vuc",
    "lien he",
    "nang cao",
    "nang luc",
    "nang suat",
    "phat trien",
    "quy mo",
    "san xuat",
    "su dung",
    "tac xa",
    "thi truong",
    "thiet ke",
    "thong tin",
    "thuc hien",
    "thuong mai",
    "tich hop",
    "tiet kiem",
    "toi uu",
    "trien khai",
    "van hanh",
    "yeu cau",
];

/// The lists above as sets: a candidate search scores hundreds of listings, each of hundreds of
/// syllables, and the lists' linear search was a quarter of the server's time for it.
static STOP_WORDS: LazyLock<HashSet<&str>> =
    LazyLock::new(|| FUNCTION_WORDS.iter().chain(COMMON_WORDS).copied().collect());
static BREAKS: LazyLock<HashSet<&str>> = LazyLock::new(|| PHRASE_BREAKS.iter().copied().collect());
static GENERIC: LazyLock<HashSet<&str>> = LazyLock::new(|| GENERIC_PAIRS.iter().copied().collect());

/// The words of `text` that may tell what a listing is about: folded, at least two characters,
/// not only digits, not a stop word.
pub fn significant_words(text: &str) -> BTreeSet<String> {
    fold(text).split(' ').filter(|w| is_significant(w)).map(str::to_owned).collect()
}

fn is_significant(word: &str) -> bool {
    word.len() >= 2 && !is_number(word) && !STOP_WORDS.contains(word)
}

fn is_number(word: &str) -> bool {
    word.chars().all(|c| c.is_ascii_digit())
}

/// The terms of a Vietnamese text: pairs of syllables side by side within a phrase ("năng
/// lượng", "mặt trời", "sầu riêng"), since most Vietnamese words are two syllables and a single
/// syllable ("hóa", "biến", "động") names no subject. A pair counts unless a syllable is a
/// number, both are function words or words every listing uses ("công nghệ"), one is a
/// function word that ends a phrase ("và", "được"), or the pair is a word any listing may use
/// ("công suất", "hợp tác", "thiết kế").
/// One function word does not break a pair: folded, many are also subject syllables ("sầu
/// riêng" folds to the "sau" of "after", "vi sinh" to the "vi" of "because").
pub fn syllable_pairs(text: &str) -> BTreeSet<String> {
    let mut pairs = BTreeSet::new();
    for phrase in text.split(|c: char| c.is_ascii_punctuation() || matches!(c, '–' | '—' | '…' | '“' | '”')) {
        let folded = fold(phrase);
        let syllables: Vec<&str> = folded.split(' ').filter(|s| !s.is_empty()).collect();
        for pair in syllables.windows(2) {
            let [a, b] = [pair[0], pair[1]];
            let noise = is_number(a) || is_number(b) || (STOP_WORDS.contains(a) && STOP_WORDS.contains(b));
            let pair = format!("{a} {b}");
            let breaks = BREAKS.contains(a) || BREAKS.contains(b);
            if !noise && !breaks && !GENERIC.contains(pair.as_str()) {
                pairs.insert(pair);
            }
        }
    }
    pairs
}

/// The terms two listings are compared by: syllable pairs of the Vietnamese text, significant
/// words of the English text and of the keywords.
fn terms<'a>(
    vietnamese: impl IntoIterator<Item = &'a str>,
    english: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<String> {
    let mut terms: BTreeSet<String> = vietnamese.into_iter().flat_map(syllable_pairs).collect();
    for text in english {
        terms.extend(significant_words(text));
    }
    terms
}

/// What the matching reads of one listing, its words computed once.
#[derive(Debug, Clone)]
pub struct Profile {
    pub kind: ListingKind,
    /// Significant words of the title (Vietnamese and English).
    pub title_words: BTreeSet<String>,
    /// Significant words of the title, summary, description and keywords.
    pub words: BTreeSet<String>,
    /// The terms (see [`syllable_pairs`]) of the title.
    pub title_terms: BTreeSet<String>,
    /// The terms of the title, summary, description and keywords.
    pub terms: BTreeSet<String>,
    pub field_codes: Vec<String>,
    pub trl: Option<i64>,
    pub transfer_forms: Vec<TransferForm>,
    pub rights: Vec<Right>,
    pub amount: Option<i64>,
    pub currency: String,
    pub province: String,
}

impl Profile {
    pub fn of(listing: &Listing) -> Profile {
        let c = &listing.content;
        let title = [Some(c.title.vi.as_str()), c.title.en.as_deref()].into_iter().flatten().collect::<Vec<_>>();
        let mut text = title.clone();
        for part in [c.summary.as_ref(), c.description.as_ref()].into_iter().flatten() {
            text.push(&part.vi);
            text.extend(part.en.as_deref());
        }
        text.extend(c.keywords.iter().map(String::as_str));
        let vi_title = [c.title.vi.as_str()];
        let en_title: Vec<&str> = c.title.en.iter().map(String::as_str).collect();
        let mut vi_text: Vec<&str> = vi_title.to_vec();
        let mut en_text = en_title.clone();
        for part in [c.summary.as_ref(), c.description.as_ref()].into_iter().flatten() {
            vi_text.push(&part.vi);
            en_text.extend(part.en.as_deref());
        }
        // A keyword of one word is a term as it is; a longer one, by its pairs.
        let (single, phrases): (Vec<&str>, Vec<&str>) =
            c.keywords.iter().map(String::as_str).partition(|k| !fold(k).contains(' '));
        vi_text.extend(phrases);
        en_text.extend(single);
        Profile {
            kind: c.kind,
            title_words: significant_words(&title.join(" ")),
            words: significant_words(&text.join(" ")),
            title_terms: terms(vi_title, en_title),
            terms: terms(vi_text, en_text),
            field_codes: c.field_codes.clone(),
            trl: c.trl,
            transfer_forms: c.transfer_forms.clone(),
            rights: c.rights.clone(),
            amount: c.price.amount,
            currency: c.price.currency.clone(),
            province: listing.province.clone(),
        }
    }

    /// The words a search for candidates uses: title words first, at most [`MAX_QUERY_WORDS`].
    pub fn query_words(&self) -> Vec<String> {
        let rest = self.words.iter().filter(|w| !self.title_words.contains(*w));
        self.title_words.iter().chain(rest).take(MAX_QUERY_WORDS).cloned().collect()
    }

    /// The broad fields (first digit) of its field codes.
    pub fn field_families(&self) -> BTreeSet<String> {
        self.field_codes.iter().filter_map(|c| c.get(..1)).map(str::to_owned).collect()
    }
}

/// One thing the two listings agree on, with what it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Significant words both hold, title words first.
    SharedWords(Vec<String>),
    /// A field code both hold.
    SameField(String),
    /// Two field codes under this broad field.
    FieldParent(String),
    /// The offer's TRL reaches the demand's.
    TrlMeets {
        offer: i64,
        demand: i64,
    },
    /// The offer's TRL is one level below the demand's.
    TrlNear {
        offer: i64,
        demand: i64,
    },
    /// Transfer forms both accept.
    TransferForms(Vec<TransferForm>),
    /// Rights both accept.
    Rights(Vec<Right>),
    /// The offer's amount is within the demand's budget.
    PriceWithinBudget {
        price: i64,
        budget: i64,
        currency: String,
    },
    SameProvince(String),
    SameRegion(String),
}

impl Reason {
    /// The machine code of the reason.
    pub fn code(&self) -> &'static str {
        self.message().text().code()
    }

    /// The reason as a person reads it, in either language.
    pub fn message(&self) -> Message {
        match self {
            Reason::SharedWords(words) => Message::new(Text::MatchSharedWords).with("words", words.join(", ")),
            Reason::SameField(code) => field_message(Text::MatchSameField, code),
            Reason::FieldParent(code) => field_message(Text::MatchFieldParent, code),
            Reason::TrlMeets { offer, demand } => {
                Message::new(Text::MatchTrlMeets).with("offer", offer).with("demand", demand)
            }
            Reason::TrlNear { offer, demand } => {
                Message::new(Text::MatchTrlNear).with("offer", offer).with("demand", demand)
            }
            Reason::TransferForms(forms) => Message::new(Text::MatchTransferForm)
                .with("forms", forms.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")),
            Reason::Rights(rights) => Message::new(Text::MatchRights)
                .with("rights", rights.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")),
            Reason::PriceWithinBudget { price, budget, currency } => Message::new(Text::MatchPriceWithinBudget)
                .with("price", price)
                .with("budget", budget)
                .with("currency", currency),
            Reason::SameProvince(code) => {
                let message = Message::new(Text::MatchSameProvince);
                match refdata::current_province(code) {
                    Some(p) => message.with_words("province", &p.name_en, &p.name_vi),
                    None => message.with("province", code),
                }
            }
            Reason::SameRegion(region) => Message::new(Text::MatchSameRegion).with("region", region),
        }
    }

    /// The words of a `shared_words` reason, the field code of a field reason.
    pub fn values(&self) -> Vec<String> {
        match self {
            Reason::SharedWords(words) => words.clone(),
            Reason::SameField(code) | Reason::FieldParent(code) | Reason::SameProvince(code) => vec![code.clone()],
            Reason::SameRegion(region) => vec![region.clone()],
            Reason::TransferForms(forms) => forms.iter().map(|f| f.as_str().to_owned()).collect(),
            Reason::Rights(rights) => rights.iter().map(|r| r.as_str().to_owned()).collect(),
            Reason::TrlMeets { offer, demand } | Reason::TrlNear { offer, demand } => {
                vec![offer.to_string(), demand.to_string()]
            }
            Reason::PriceWithinBudget { price, budget, .. } => vec![price.to_string(), budget.to_string()],
        }
    }
}

fn field_message(text: Text, code: &str) -> Message {
    let message = Message::new(text).with("code", code);
    match refdata::field(code) {
        Some(f) => message.with_words("field", &f.name_en, &f.name_vi),
        None => message.with("field", ""),
    }
}

/// A scored match: 0 to 100 and what made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub score: u8,
    pub reasons: Vec<Reason>,
}

/// The text points of the table and the shared terms, terms in both titles first, then the
/// single words both titles hold that no shared term already names.
pub fn text_points(demand: &Profile, offer: &Profile) -> (u32, Vec<String>) {
    let mut weighted: Vec<(u32, &String)> = demand
        .terms
        .intersection(&offer.terms)
        .map(|t| {
            let titles = u32::from(demand.title_terms.contains(t)) + u32::from(offer.title_terms.contains(t));
            (1 + titles, t)
        })
        .collect();
    let named: BTreeSet<&str> = weighted.iter().flat_map(|(_, t)| t.split(' ')).collect();
    let title_words =
        demand.title_words.intersection(&offer.title_words).filter(|w| !named.contains(w.as_str())).map(|w| (1, w));
    weighted.extend(title_words.collect::<Vec<_>>());
    weighted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let points = weighted.iter().map(|(p, _)| p).sum();
    (points, weighted.into_iter().map(|(_, w)| w.clone()).collect())
}

/// The field part: 25 and the code for a code in both, 15 and the broad field for codes under
/// one broad field, else nothing.
pub fn field_points(demand: &Profile, offer: &Profile) -> Option<(u32, Reason)> {
    if let Some(code) = demand.field_codes.iter().find(|c| offer.field_codes.contains(c)) {
        return Some((25, Reason::SameField(code.clone())));
    }
    let shared = demand.field_families().intersection(&offer.field_families()).next().cloned();
    shared.map(|family| (15, Reason::FieldParent(family)))
}

/// The TRL part: 10 when the offer reaches the demand's level, 4 when it is one short or either
/// side gives none, else 0.
pub fn trl_points(demand: &Profile, offer: &Profile) -> (u32, Option<Reason>) {
    match (demand.trl, offer.trl) {
        (Some(wanted), Some(reached)) if reached >= wanted => {
            (10, Some(Reason::TrlMeets { offer: reached, demand: wanted }))
        }
        (Some(wanted), Some(reached)) if reached + 1 == wanted => {
            (4, Some(Reason::TrlNear { offer: reached, demand: wanted }))
        }
        (Some(_), Some(_)) => (0, None),
        _ => (4, None),
    }
}

/// The transfer part: 5 for a transfer form in both, 5 for a right in both.
pub fn transfer_points(demand: &Profile, offer: &Profile) -> (u32, Vec<Reason>) {
    let forms: Vec<TransferForm> =
        demand.transfer_forms.iter().filter(|f| offer.transfer_forms.contains(f)).copied().collect();
    let rights: Vec<Right> = demand.rights.iter().filter(|r| offer.rights.contains(r)).copied().collect();
    let mut points = 0;
    let mut reasons = Vec::new();
    if !forms.is_empty() {
        points += 5;
        reasons.push(Reason::TransferForms(forms));
    }
    if !rights.is_empty() {
        points += 5;
        reasons.push(Reason::Rights(rights));
    }
    (points, reasons)
}

/// The price part: 10 when the offer gives an amount within the demand's budget in the same
/// currency.
pub fn price_points(demand: &Profile, offer: &Profile) -> Option<(u32, Reason)> {
    match (demand.amount, offer.amount) {
        (Some(budget), Some(price)) if price <= budget && demand.currency == offer.currency => {
            Some((10, Reason::PriceWithinBudget { price, budget, currency: offer.currency.clone() }))
        }
        _ => None,
    }
}

/// The region part: 10 for the same province, 5 for the same region (of the current provinces).
pub fn region_points(demand: &Profile, offer: &Profile) -> Option<(u32, Reason)> {
    if demand.province == offer.province {
        return Some((10, Reason::SameProvince(demand.province.clone())));
    }
    let region = |code: &str| refdata::current_province(code).map(|p| p.region.clone());
    match (region(&demand.province), region(&offer.province)) {
        (Some(a), Some(b)) if a == b => Some((5, Reason::SameRegion(a))),
        _ => None,
    }
}

/// How well `offer` meets `demand` (see the module's table), or `None` when they are no match:
/// not about the same thing, or below [`MIN_SCORE`].
pub fn score(demand: &Profile, offer: &Profile) -> Option<Score> {
    if demand.kind != ListingKind::Demand || offer.kind != ListingKind::Offer {
        return None;
    }
    let (text, words) = text_points(demand, offer);
    if text < MIN_TEXT_POINTS {
        return None;
    }
    let field = field_points(demand, offer);
    let mut total = FULL_TEXT_POINTS.min(text) * 35 / FULL_TEXT_POINTS;
    let mut reasons = Vec::new();
    if !words.is_empty() {
        reasons.push(Reason::SharedWords(words.into_iter().take(MAX_REASON_WORDS).collect()));
    }
    if let Some((points, reason)) = field {
        total += points;
        reasons.push(reason);
    }
    let (trl, trl_reason) = trl_points(demand, offer);
    total += trl;
    reasons.extend(trl_reason);
    let (transfer, transfer_reasons) = transfer_points(demand, offer);
    total += transfer;
    reasons.extend(transfer_reasons);
    for (points, reason) in [price_points(demand, offer), region_points(demand, offer)].into_iter().flatten() {
        total += points;
        reasons.push(reason);
    }
    let score = u8::try_from(total.min(100)).unwrap_or(100);
    (score >= MIN_SCORE).then_some(Score { score, reasons })
}

/// How well two listings of opposite kinds match, whichever is the demand.
pub fn score_pair(a: &Profile, b: &Profile) -> Option<Score> {
    match (a.kind, b.kind) {
        (ListingKind::Demand, ListingKind::Offer) => score(a, b),
        (ListingKind::Offer, ListingKind::Demand) => score(b, a),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(kind: ListingKind, title: &str, text: &str, field: &str, trl: Option<i64>) -> Profile {
        Profile {
            kind,
            title_words: significant_words(title),
            words: significant_words(&format!("{title} {text}")),
            title_terms: terms([title], []),
            terms: terms([title, text], []),
            field_codes: vec![field.to_owned()],
            trl,
            transfer_forms: vec![],
            rights: vec![],
            amount: None,
            currency: "VND".into(),
            province: "79".into(),
        }
    }

    fn demand() -> Profile {
        profile(ListingKind::Demand, "Cần máy sấy nông sản", "sấy cà phê bằng năng lượng mặt trời", "211", Some(6))
    }

    fn offer() -> Profile {
        profile(ListingKind::Offer, "Máy sấy nông sản năng lượng mặt trời", "sấy cà phê, hạt điều", "211", Some(7))
    }

    #[test]
    fn significant_words_are_folded_and_leave_out_stop_words_digits_and_single_letters() {
        let words = significant_words("Công nghệ sấy Nông sản và cà phê 4.0 của Đồng Nai, a solar dryer for rice");
        let expected = ["ca", "dong", "dryer", "nai", "nong", "phe", "rice", "say", "solar"];
        assert_eq!(words.into_iter().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn vietnamese_text_is_compared_by_pairs_of_syllables_within_a_phrase() {
        let pairs = syllable_pairs("Cần công nghệ sấy thăng hoa, cho sầu riêng 4.0 (tự động hóa) và công suất");
        // "cần công", "công nghệ", "cho sầu": stop words both; the comma and the parenthesis end
        // a phrase; "4" is a number; "và" ends a phrase; "công suất" is any listing's word.
        let expected = ["dong hoa", "nghe say", "sau rieng", "say thang", "thang hoa", "tu dong"];
        assert_eq!(pairs.into_iter().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn terms_in_both_titles_weigh_most_and_come_first() {
        let (points, terms) = text_points(&demand(), &offer());
        // may say, say nong, nong san in both titles (3 each); nang luong, luong mat, mat troi in
        // the demand's text and the offer's title (2 each); say ca, ca phe in both texts only (1 each).
        assert_eq!(points, 3 * 3 + 3 * 2 + 2);
        assert_eq!(terms[..3], ["may say", "nong san", "say nong"]);
        assert_eq!(terms[6..], ["ca phe", "say ca"]);
    }

    #[test]
    fn a_single_syllable_counts_only_in_both_titles() {
        let d =
            profile(ListingKind::Demand, "Cần công nghệ sấy thăng hoa sầu riêng", "chế biến, tự động hóa", "211", None);
        let o = profile(ListingKind::Offer, "Dây chuyền sấy bánh tráng", "chế biến tự động", "211", None);
        // "sấy" in both titles, "chế biến" and "tự động" in both texts: 1 each; "thăng hoa" and
        // "tự động hóa" share the syllable "hóa", which alone is no term.
        assert_eq!(text_points(&d, &o), (3, vec!["che bien".to_owned(), "say".to_owned(), "tu dong".to_owned()]));
    }

    #[test]
    fn field_proximity_prefers_the_same_code_to_the_same_broad_field() {
        let (d, mut o) = (demand(), offer());
        assert_eq!(field_points(&d, &o), Some((25, Reason::SameField("211".into()))));
        o.field_codes = vec!["205".into()];
        assert_eq!(field_points(&d, &o), Some((15, Reason::FieldParent("2".into()))));
        o.field_codes = vec!["2".into()];
        assert_eq!(field_points(&d, &o), Some((15, Reason::FieldParent("2".into()))));
        o.field_codes = vec!["401".into()];
        assert_eq!(field_points(&d, &o), None);
    }

    #[test]
    fn trl_meets_when_the_offer_reaches_the_level_asked_for() {
        let (d, mut o) = (demand(), offer());
        assert_eq!(trl_points(&d, &o), (10, Some(Reason::TrlMeets { offer: 7, demand: 6 })));
        o.trl = Some(6);
        assert_eq!(trl_points(&d, &o).0, 10);
        o.trl = Some(5);
        assert_eq!(trl_points(&d, &o), (4, Some(Reason::TrlNear { offer: 5, demand: 6 })));
        o.trl = Some(3);
        assert_eq!(trl_points(&d, &o), (0, None));
        o.trl = None;
        assert_eq!(trl_points(&d, &o), (4, None));
    }

    #[test]
    fn transfer_forms_and_rights_score_only_when_shared() {
        let (mut d, mut o) = (demand(), offer());
        d.transfer_forms = vec![TransferForm::Independent, TransferForm::Franchise];
        o.transfer_forms = vec![TransferForm::Franchise];
        d.rights = vec![Right::Ownership];
        o.rights = vec![Right::NonExclusiveUse];
        assert_eq!(transfer_points(&d, &o), (5, vec![Reason::TransferForms(vec![TransferForm::Franchise])]));
        o.rights.push(Right::Ownership);
        assert_eq!(transfer_points(&d, &o).0, 10);
    }

    #[test]
    fn price_scores_within_the_budget_in_the_same_currency_only() {
        let (mut d, mut o) = (demand(), offer());
        d.amount = Some(500_000_000);
        o.amount = Some(450_000_000);
        assert_eq!(price_points(&d, &o).map(|p| p.0), Some(10));
        o.amount = Some(500_000_001);
        assert_eq!(price_points(&d, &o), None);
        o.amount = Some(1_000);
        o.currency = "USD".into();
        assert_eq!(price_points(&d, &o), None);
        o.amount = None;
        assert_eq!(price_points(&d, &o), None);
    }

    #[test]
    fn region_prefers_the_province_then_the_region() {
        let (d, mut o) = (demand(), offer());
        assert_eq!(region_points(&d, &o), Some((10, Reason::SameProvince("79".into()))));
        // Đồng Nai (75) is in the Southeast like Ho Chi Minh City; Hà Nội (01) is not.
        o.province = "75".into();
        assert_eq!(region_points(&d, &o).map(|p| p.0), Some(5));
        o.province = "01".into();
        assert_eq!(region_points(&d, &o), None);
    }

    #[test]
    fn the_obvious_match_scores_high_and_lists_its_reasons_in_order() {
        let scored = score(&demand(), &offer()).unwrap();
        // text 17 of 20 points (29 of 35), same field 25, TRL 10, same province 10.
        assert_eq!(scored.score, 29 + 25 + 10 + 10);
        let codes: Vec<&str> = scored.reasons.iter().map(Reason::code).collect();
        assert_eq!(codes, ["shared_words", "same_field", "trl_meets", "same_province"]);
        assert_eq!(score_pair(&offer(), &demand()), Some(scored));
    }

    #[test]
    fn listings_about_other_things_are_no_match_however_alike_otherwise() {
        let mut unrelated = profile(ListingKind::Offer, "Phần mềm quản lý bệnh viện", "hồ sơ bệnh án", "302", Some(9));
        unrelated.transfer_forms = vec![TransferForm::Independent];
        let mut d = demand();
        d.transfer_forms = vec![TransferForm::Independent];
        assert_eq!(score(&d, &unrelated), None);
        let mut same_broad_field = unrelated.clone();
        same_broad_field.field_codes = vec!["205".into()];
        assert_eq!(score(&d, &same_broad_field), None, "a broad field alone");
        let mut same_code = unrelated.clone();
        same_code.field_codes = d.field_codes.clone();
        assert_eq!(score(&d, &same_code), None, "a field code alone");
        assert_eq!(score(&demand(), &demand()), None, "two demands");
    }

    #[test]
    fn near_misses_rank_below_the_right_match() {
        let right = score(&demand(), &offer()).unwrap().score;
        let mut low_trl = offer();
        low_trl.trl = Some(3);
        let mut other_field = offer();
        other_field.field_codes = vec!["401".into()];
        for near in [low_trl, other_field] {
            let scored = score(&demand(), &near).unwrap().score;
            assert!(scored < right, "{scored} < {right}");
        }
    }

    #[test]
    fn every_reason_renders_in_both_languages() {
        let reasons = [
            Reason::SharedWords(vec!["say".into()]),
            Reason::SameField("211".into()),
            Reason::FieldParent("2".into()),
            Reason::TrlMeets { offer: 7, demand: 6 },
            Reason::TrlNear { offer: 5, demand: 6 },
            Reason::TransferForms(vec![TransferForm::Independent]),
            Reason::Rights(vec![Right::Ownership]),
            Reason::PriceWithinBudget { price: 1, budget: 2, currency: "VND".into() },
            Reason::SameProvince("79".into()),
            Reason::SameRegion("Southeast".into()),
        ];
        for reason in reasons {
            for lang in [crate::Lang::En, crate::Lang::Vi] {
                let text = reason.message().render(lang);
                assert!(!text.contains('{'), "{text}");
            }
        }
        assert_eq!(
            Reason::SameProvince("79".into()).message().render(crate::Lang::En),
            "same province: Ho Chi Minh City"
        );
    }
}
