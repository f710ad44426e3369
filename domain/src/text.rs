//! Folding of Vietnamese text for search: users type without diacritics, so "cong nghe sinh hoc"
//! must find "Công nghệ sinh học" and "da nang" must find "Đà Nẵng".

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// Folds text to lower-case ASCII-like words: marks are stripped, `đ`/`Đ` become `d` (đ is a letter
/// of its own, not a d with a mark, so Unicode decomposition leaves it alone), and every run of
/// characters that are neither letters nor digits becomes one space.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        let c = match c {
            'đ' | 'Đ' => 'd',
            other => other,
        };
        if c.is_alphanumeric() {
            if pending_space && !folded.is_empty() {
                folded.push(' ');
            }
            pending_space = false;
            folded.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::fold;
    use proptest::prelude::*;

    #[test]
    fn strips_vietnamese_marks_and_case() {
        assert_eq!(fold("Công nghệ Sinh học"), "cong nghe sinh hoc");
        assert_eq!(fold("Máy sấy nông sản dùng năng lượng mặt trời"), "may say nong san dung nang luong mat troi");
    }

    #[test]
    fn folds_d_with_stroke_in_both_cases() {
        assert_eq!(fold("Đà Nẵng"), "da nang");
        assert_eq!(fold("ĐỒNG NAI"), "dong nai");
    }

    #[test]
    fn precomposed_and_decomposed_input_fold_alike() {
        let precomposed = "Bà Rịa - Vũng Tàu";
        let decomposed: String = unicode_normalization::UnicodeNormalization::nfd(precomposed).collect();
        assert_eq!(fold(precomposed), fold(&decomposed));
        assert_eq!(fold(precomposed), "ba ria vung tau");
    }

    #[test]
    fn punctuation_and_spacing_collapse_to_single_spaces() {
        assert_eq!(fold("  IoT,   nông-nghiệp!! 4.0 "), "iot nong nghiep 4 0");
        assert_eq!(fold("...!"), "");
    }

    proptest! {
        #[test]
        fn folding_is_idempotent(s in "\\PC{0,40}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
        }

        #[test]
        fn folded_text_has_no_marks_no_uppercase_no_double_spaces(s in "[a-zA-ZàáảãạăằắẳẵặâầấẩẫậđĐèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ ,.-]{0,40}") {
            let folded = fold(&s);
            prop_assert!(folded.chars().all(|c| c.is_ascii_lowercase() || c == ' '));
            prop_assert!(!folded.contains("  "));
            prop_assert!(!folded.starts_with(' ') && !folded.ends_with(' '));
        }
    }
}
