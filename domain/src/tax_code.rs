//! Vietnamese tax codes (mã số thuế) of the parties to a deal.
//!
//! An organization has a ten-digit code whose last digit is a check digit, and each of its
//! dependent units (branches) that code followed by `-` and a three-digit number. Since
//! 2025-07-01 a household business or an individual uses its 12-digit personal identification
//! number (số định danh cá nhân) as its tax code (Circular 86/2024/TT-BTC); that number carries no
//! check digit. Organizations in techex are never individuals, so they take the first form;
//! parties to a contract may be either, and are checked with [`check_tax_code_of`].

use crate::messages::Text;

word_enum!(
    /// Who a tax code belongs to, which decides the form it takes.
    TaxpayerKind {
        Organization => "organization", "Tổ chức", "Organization",
        HouseholdBusiness => "household_business", "Hộ kinh doanh", "Household business",
        Individual => "individual", "Cá nhân", "Individual",
    }
);

/// Checks the tax code of a party of this kind: an organization's with its check digit
/// ([`check_tax_code`]), a household business's or an individual's as a personal identification
/// number ([`check_personal_id_number`]).
pub fn check_tax_code_of(kind: TaxpayerKind, code: &str) -> Result<(), Text> {
    match kind {
        TaxpayerKind::Organization => check_tax_code(code),
        TaxpayerKind::HouseholdBusiness | TaxpayerKind::Individual => check_personal_id_number(code),
    }
}

/// Checks an organization's tax code: ten digits whose last is the check digit (weights 31, 29,
/// 23, 19, 17, 13, 7, 5, 3 over the first nine; the check is 10 minus the weighted sum modulo 11),
/// optionally followed by `-` and a three-digit branch number other than `000`.
pub fn check_tax_code(code: &str) -> Result<(), Text> {
    let (main, branch) = match code.split_once('-') {
        Some((main, branch)) => (main, Some(branch)),
        None => (code, None),
    };
    if main.len() != 10 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Text::TaxCodeForm);
    }
    if let Some(branch) = branch
        && (branch.len() != 3 || !branch.bytes().all(|b| b.is_ascii_digit()) || branch == "000")
    {
        return Err(Text::TaxBranch);
    }
    const WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];
    let digits: Vec<u32> = main.bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    let check = 10 - sum % 11;
    if check == digits[9] { Ok(()) } else { Err(Text::TaxCheckDigit) }
}

/// Checks the tax code of a household business or an individual: its personal identification
/// number, 12 digits. The number has no check digit, so only its form can be checked.
pub fn check_personal_id_number(code: &str) -> Result<(), Text> {
    if code.len() == 12 && code.bytes().all(|b| b.is_ascii_digit()) { Ok(()) } else { Err(Text::PersonalIdNumber) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fictitious codes with a correct check digit (no company's).
    const ORGANIZATION: &str = "0123456787";
    const OTHER_ORGANIZATION: &str = "1234567893";
    /// A fictitious personal identification number.
    const PERSON: &str = "079201000123";

    #[test]
    fn organization_tax_codes_pass_their_check_digit() {
        for code in [ORGANIZATION, OTHER_ORGANIZATION, "0123456787-001"] {
            assert_eq!(check_tax_code(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn malformed_organization_tax_codes_fail() {
        for code in ["0123456788", "012345678", "01234567870", "01234567a7", "0123456787-000", "0123456787-01", ""] {
            assert!(check_tax_code(code).is_err(), "{code}");
        }
        assert_eq!(check_tax_code("0123456788"), Err(Text::TaxCheckDigit));
    }

    #[test]
    fn individuals_and_household_businesses_use_their_12_digit_personal_number() {
        for kind in [TaxpayerKind::Individual, TaxpayerKind::HouseholdBusiness] {
            assert_eq!(check_tax_code_of(kind, PERSON), Ok(()), "{kind}");
            for code in [ORGANIZATION, "07920100012", "0792010001234", "07920100012x", "079 201 000 123", ""] {
                assert!(check_tax_code_of(kind, code).is_err(), "{kind} {code}");
            }
        }
    }

    #[test]
    fn organizations_keep_the_10_or_13_digit_form() {
        assert_eq!(check_tax_code_of(TaxpayerKind::Organization, ORGANIZATION), Ok(()));
        assert_eq!(check_tax_code_of(TaxpayerKind::Organization, "0123456787-002"), Ok(()));
        assert!(check_tax_code_of(TaxpayerKind::Organization, PERSON).is_err());
    }

    #[test]
    fn taxpayer_kinds_have_words_and_labels() {
        assert_eq!("household_business".parse::<TaxpayerKind>(), Ok(TaxpayerKind::HouseholdBusiness));
        assert_eq!(TaxpayerKind::HouseholdBusiness.label_vi(), "Hộ kinh doanh");
        assert_eq!(TaxpayerKind::Individual.label_vi(), "Cá nhân");
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        const WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

        /// Nine digits and the check digit they call for, where one exists (not when the weighted
        /// sum is 0 modulo 11).
        fn valid_code() -> impl Strategy<Value = String> {
            proptest::collection::vec(0u32..10, 9).prop_filter_map("no check digit", |digits| {
                let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
                let check = 10 - sum % 11;
                (check < 10).then(|| digits.iter().chain([&check]).map(|d| char::from(b'0' + *d as u8)).collect())
            })
        }

        proptest! {
            #[test]
            fn no_input_makes_a_tax_code_check_panic(code in ".{0,40}") {
                let _ = check_tax_code(&code);
                let _ = check_personal_id_number(&code);
            }

            #[test]
            fn a_code_with_its_check_digit_passes_with_or_without_a_branch(code in valid_code(), branch in 1u32..1000) {
                prop_assert_eq!(check_tax_code(&code), Ok(()));
                prop_assert_eq!(check_tax_code(&format!("{code}-{branch:03}")), Ok(()));
            }

            /// Every weight is prime to 11, so one mistyped digit always shows.
            #[test]
            fn one_mistyped_digit_is_always_caught(code in valid_code(), at in 0usize..10, shift in 1u8..10) {
                let mut bytes = code.into_bytes();
                bytes[at] = b'0' + (bytes[at] - b'0' + shift) % 10;
                prop_assert!(check_tax_code(&String::from_utf8(bytes).unwrap()).is_err());
            }
        }
    }
}
