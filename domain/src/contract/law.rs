//! The law a technology transfer contract follows, as dated data: each text with the day it came
//! into force, the transfer objects it lists (Art. 4) and its registration rule (Art. 31). A
//! contract follows the text in force on the day it was signed. When a decree or an amendment
//! changes a rule, a new entry goes at the end of [`TEXTS`]; no code branches on dates.
//!
//! Sources (see `/work/shared/refdata/tech_transfer_law.md` and `tech_transfer_amendment.md`):
//! - Law 07/2017/QH14 on Technology Transfer, in force from 2018-07-01.
//! - Law 115/2025/QH15 amending it, in force from 2026-04-01: Art. 4 now names models and
//!   algorithms among the objects. Public summaries list the amended articles as 2, 3, 4, 7, 8, 9
//!   and 44 (new 35a; 14-19 and 36 repealed): Art. 31 is not among them, so the 2017 registration
//!   rule is assumed to stand unchanged. That assumption is data here, one entry to edit.

use chrono::NaiveDate;

word_enum!(
    /// What is transferred (Law 07/2017/QH14 Art. 4 cl. 1; models and algorithms added by Law
    /// 115/2025/QH15 from 2026-04-01). Machinery and equipment count only with one of the others.
    TransferObject {
        KnowHow => "know_how", "Bí quyết kỹ thuật, bí quyết công nghệ", "Technical or technological know-how",
        TechnologyPlan => "technology_plan", "Phương án, quy trình công nghệ", "Technology plans and processes",
        TechnicalSolution => "technical_solution", "Giải pháp, thông số, bản vẽ, sơ đồ kỹ thuật", "Technical solutions, parameters, drawings and diagrams",
        Formula => "formula", "Công thức", "Formulas",
        Software => "software", "Phần mềm máy tính", "Computer software",
        Data => "data", "Thông tin, dữ liệu", "Data and information",
        Rationalization => "rationalization", "Giải pháp hợp lý hóa sản xuất, đổi mới công nghệ", "Solutions that rationalise production or renew technology",
        Equipment => "equipment", "Máy móc, thiết bị đi kèm đối tượng công nghệ", "Machinery and equipment accompanying the technology",
        Model => "model", "Mô hình", "Models",
        Algorithm => "algorithm", "Thuật toán", "Algorithms",
    }
);

word_enum!(
    /// Why Art. 31 cl. 1 makes registration mandatory.
    Ground {
        Inbound => "inbound", "Chuyển giao công nghệ từ nước ngoài vào Việt Nam", "Transfer from abroad into Vietnam",
        Outbound => "outbound", "Chuyển giao công nghệ từ Việt Nam ra nước ngoài", "Transfer from Vietnam abroad",
        StateCapital => "state_capital", "Chuyển giao công nghệ trong nước có sử dụng vốn nhà nước", "Domestic transfer using state capital",
        StateBudget => "state_budget", "Chuyển giao công nghệ trong nước có sử dụng ngân sách nhà nước", "Domestic transfer using the state budget",
    }
);

word_enum!(
    /// Why a contract that meets a ground of Art. 31 cl. 1 need not be registered.
    Exemption {
        RestrictedLicensed => "restricted_licensed", "Công nghệ hạn chế chuyển giao đã được cấp phép", "Restricted technology already licensed",
        StResultCertified => "st_result_certified", "Đã có Giấy chứng nhận đăng ký kết quả thực hiện nhiệm vụ KH&CN", "Holds an S&T task result registration certificate",
    }
);

/// A ground of mandatory registration and the clause that states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MandatoryClause {
    pub ground: Ground,
    /// `31.1.a`: article, clause, point.
    pub clause: &'static str,
}

/// An exemption, the grounds it lifts and where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExemptionClause {
    pub exemption: Exemption,
    pub lifts: &'static [Ground],
    pub clause: &'static str,
}

/// The registration rule of a text (Art. 31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationRule {
    pub mandatory: &'static [MandatoryClause],
    pub exemptions: &'static [ExemptionClause],
    /// Any other transfer may be registered on request (cl. 2).
    pub voluntary_clause: &'static str,
    /// The dossier is due within this many days of signing (cl. 3).
    pub filing_days: u64,
    /// The authority answers a valid dossier within this many working days (cl. 5).
    pub answer_working_days: u32,
}

/// One text of the law, in force from a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LawText {
    pub in_force_from: NaiveDate,
    pub name: &'static str,
    /// Art. 4 cl. 1: what may be transferred.
    pub objects: &'static [TransferObject],
    pub registration: RegistrationRule,
}

const OBJECTS_2017: &[TransferObject] = &[
    TransferObject::KnowHow,
    TransferObject::TechnologyPlan,
    TransferObject::TechnicalSolution,
    TransferObject::Formula,
    TransferObject::Software,
    TransferObject::Data,
    TransferObject::Rationalization,
    TransferObject::Equipment,
];

const OBJECTS_2026: &[TransferObject] = &[
    TransferObject::KnowHow,
    TransferObject::TechnologyPlan,
    TransferObject::TechnicalSolution,
    TransferObject::Formula,
    TransferObject::Software,
    TransferObject::Data,
    TransferObject::Rationalization,
    TransferObject::Equipment,
    TransferObject::Model,
    TransferObject::Algorithm,
];

/// Art. 31 as Law 07/2017/QH14 wrote it; assumed unchanged by Law 115/2025/QH15.
const REGISTRATION_2017: RegistrationRule = RegistrationRule {
    mandatory: &[
        MandatoryClause { ground: Ground::Inbound, clause: "31.1.a" },
        MandatoryClause { ground: Ground::Outbound, clause: "31.1.b" },
        MandatoryClause { ground: Ground::StateCapital, clause: "31.1.c" },
        MandatoryClause { ground: Ground::StateBudget, clause: "31.1.c" },
    ],
    exemptions: &[
        ExemptionClause {
            exemption: Exemption::RestrictedLicensed,
            lifts: &[Ground::Inbound, Ground::Outbound, Ground::StateCapital, Ground::StateBudget],
            clause: "31.1",
        },
        ExemptionClause {
            exemption: Exemption::StResultCertified,
            lifts: &[Ground::StateCapital, Ground::StateBudget],
            clause: "31.1.c",
        },
    ],
    voluntary_clause: "31.2",
    filing_days: 90,
    answer_working_days: 5,
};

/// Every text, oldest first. A contract signed before the first one's day follows the first
/// (the hub keeps no rules of Law 80/2006/QH11).
pub const TEXTS: &[LawText] = &[
    LawText {
        in_force_from: date(2018, 7, 1),
        name: "Law 07/2017/QH14",
        objects: OBJECTS_2017,
        registration: REGISTRATION_2017,
    },
    LawText {
        in_force_from: date(2026, 4, 1),
        name: "Law 07/2017/QH14 as amended by Law 115/2025/QH15",
        objects: OBJECTS_2026,
        registration: REGISTRATION_2017,
    },
];

const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(day) => day,
        None => panic!("a valid date"),
    }
}

/// The text a contract signed on `day` follows.
pub fn in_force_on(day: NaiveDate) -> &'static LawText {
    TEXTS.iter().rev().find(|t| t.in_force_from <= day).unwrap_or(&TEXTS[0])
}

/// The first day from which `object` may be transferred, if any text lists it.
pub fn object_listed_from(object: TransferObject) -> Option<NaiveDate> {
    TEXTS.iter().find(|t| t.objects.contains(&object)).map(|t| t.in_force_from)
}

/// What decides the registration duty of a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationFacts {
    pub transferor_in_vietnam: bool,
    pub transferee_in_vietnam: bool,
    pub state_capital: bool,
    pub state_budget: bool,
    pub restricted_licensed: bool,
    pub st_result_certified: bool,
}

/// Whether a contract must be registered, and why (or why not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationDuty {
    pub mandatory: bool,
    /// The ground of Art. 31 cl. 1 the contract meets, if any.
    pub ground: Option<Ground>,
    /// What lifts that ground, if anything does.
    pub exemption: Option<Exemption>,
    /// The clause that decides: `31.1.a`, ..., or `31.2` (voluntary) when no ground applies.
    pub clause: &'static str,
    pub law: &'static str,
    /// The last day the dossier may be filed on time: `filing_days` after signing.
    pub deadline: Option<NaiveDate>,
    pub answer_working_days: u32,
}

impl RegistrationRule {
    fn meets(ground: Ground, facts: &RegistrationFacts) -> bool {
        let domestic = facts.transferor_in_vietnam && facts.transferee_in_vietnam;
        match ground {
            Ground::Inbound => !facts.transferor_in_vietnam && facts.transferee_in_vietnam,
            Ground::Outbound => facts.transferor_in_vietnam && !facts.transferee_in_vietnam,
            Ground::StateCapital => domestic && facts.state_capital,
            Ground::StateBudget => domestic && facts.state_budget,
        }
    }

    fn holds(exemption: Exemption, facts: &RegistrationFacts) -> bool {
        match exemption {
            Exemption::RestrictedLicensed => facts.restricted_licensed,
            Exemption::StResultCertified => facts.st_result_certified,
        }
    }
}

impl LawText {
    /// The duty of a contract signed under this text on `signed_on` (unknown while unsigned).
    pub fn registration_duty(&self, facts: &RegistrationFacts, signed_on: Option<NaiveDate>) -> RegistrationDuty {
        let rule = &self.registration;
        let met = rule.mandatory.iter().find(|c| RegistrationRule::meets(c.ground, facts));
        let lifted = met.and_then(|m| {
            rule.exemptions.iter().find(|e| e.lifts.contains(&m.ground) && RegistrationRule::holds(e.exemption, facts))
        });
        let mandatory = met.is_some() && lifted.is_none();
        RegistrationDuty {
            mandatory,
            ground: met.map(|m| m.ground),
            exemption: lifted.map(|e| e.exemption),
            clause: match (met, lifted) {
                (Some(_), Some(e)) => e.clause,
                (Some(m), None) => m.clause,
                (None, _) => rule.voluntary_clause,
            },
            law: self.name,
            deadline: signed_on.map(|day| day + chrono::Days::new(rule.filing_days)),
            answer_working_days: rule.answer_working_days,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(from_vn: bool, to_vn: bool) -> RegistrationFacts {
        RegistrationFacts {
            transferor_in_vietnam: from_vn,
            transferee_in_vietnam: to_vn,
            state_capital: false,
            state_budget: false,
            restricted_licensed: false,
            st_result_certified: false,
        }
    }

    #[test]
    fn texts_are_in_order_and_each_day_finds_the_one_in_force() {
        assert!(TEXTS.windows(2).all(|w| w[0].in_force_from < w[1].in_force_from));
        assert_eq!(in_force_on(date(2026, 3, 31)).name, "Law 07/2017/QH14");
        assert_eq!(in_force_on(date(2026, 4, 1)).name, "Law 07/2017/QH14 as amended by Law 115/2025/QH15");
        assert_eq!(in_force_on(date(2017, 1, 1)).name, "Law 07/2017/QH14", "older contracts: the first text");
    }

    #[test]
    fn models_and_algorithms_are_objects_from_april_2026() {
        for object in [TransferObject::Model, TransferObject::Algorithm] {
            assert!(!in_force_on(date(2026, 3, 31)).objects.contains(&object));
            assert!(in_force_on(date(2026, 4, 1)).objects.contains(&object));
            assert_eq!(object_listed_from(object), Some(date(2026, 4, 1)));
        }
        assert_eq!(object_listed_from(TransferObject::Software), Some(date(2018, 7, 1)));
    }

    #[test]
    fn each_ground_names_its_clause() {
        let text = in_force_on(date(2025, 1, 1));
        let duty = |f: RegistrationFacts| text.registration_duty(&f, None);
        let inbound = duty(facts(false, true));
        assert_eq!((inbound.mandatory, inbound.ground, inbound.clause), (true, Some(Ground::Inbound), "31.1.a"));
        let outbound = duty(facts(true, false));
        assert_eq!((outbound.mandatory, outbound.ground, outbound.clause), (true, Some(Ground::Outbound), "31.1.b"));
        let capital = duty(RegistrationFacts { state_capital: true, ..facts(true, true) });
        assert_eq!((capital.mandatory, capital.ground, capital.clause), (true, Some(Ground::StateCapital), "31.1.c"));
        let budget = duty(RegistrationFacts { state_budget: true, ..facts(true, true) });
        assert_eq!((budget.mandatory, budget.ground), (true, Some(Ground::StateBudget)));
        let private = duty(facts(true, true));
        assert_eq!((private.mandatory, private.ground, private.clause), (false, None, "31.2"));
        let abroad = duty(facts(false, false));
        assert!(!abroad.mandatory, "neither party in Vietnam: not the hub's law");
    }

    #[test]
    fn exemptions_lift_only_their_grounds() {
        let text = in_force_on(date(2026, 5, 1));
        let certified = text.registration_duty(
            &RegistrationFacts { state_budget: true, st_result_certified: true, ..facts(true, true) },
            None,
        );
        assert_eq!((certified.mandatory, certified.exemption), (false, Some(Exemption::StResultCertified)));
        let certified_inbound =
            text.registration_duty(&RegistrationFacts { st_result_certified: true, ..facts(false, true) }, None);
        assert!(certified_inbound.mandatory, "an S&T result certificate does not lift a cross-border transfer");
        let licensed =
            text.registration_duty(&RegistrationFacts { restricted_licensed: true, ..facts(false, true) }, None);
        assert_eq!(
            (licensed.mandatory, licensed.exemption, licensed.clause),
            (false, Some(Exemption::RestrictedLicensed), "31.1")
        );
    }

    #[test]
    fn the_deadline_is_ninety_days_after_signing() {
        let duty = in_force_on(date(2026, 1, 15)).registration_duty(&facts(false, true), Some(date(2026, 1, 15)));
        assert_eq!(duty.deadline, Some(date(2026, 4, 15)));
        let leap = in_force_on(date(2028, 1, 1)).registration_duty(&facts(false, true), Some(date(2028, 1, 1)));
        assert_eq!(leap.deadline, Some(date(2028, 3, 31)), "29 February counts");
        assert_eq!(duty.answer_working_days, 5);
    }
}
