//! Folding of Vietnamese text for search: users type without diacritics, so "cong nghe sinh hoc"
//! must find "Công nghệ sinh học" and "da nang" must find "Đà Nẵng".

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Folds text to lower-case ASCII-like words: marks are stripped, `đ`/`Đ` become `d` (đ is a letter
/// of its own, not a d with a mark, so Unicode decomposition leaves it alone), and every run of
/// characters that are neither letters nor digits becomes one space.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut pending_space = false;
    let mut push = |c: char| {
        let c = match c {
            'đ' | 'Đ' => 'd',
            other => other,
        };
        if c.is_alphanumeric() {
            if pending_space && !folded.is_empty() {
                folded.push(' ');
            }
            pending_space = false;
            if c.is_ascii() {
                folded.push(c.to_ascii_lowercase());
            } else {
                folded.extend(c.to_lowercase());
            }
        } else {
            pending_space = true;
        }
    };
    // Each character decomposed on its own rather than through `nfd()`: every mark is dropped,
    // so NFD's reordering of marks changes nothing, and its buffering was most of the cost of
    // folding the texts of the hundreds of listings a match search scores.
    for c in text.chars() {
        if c.is_ascii() {
            push(c);
        } else {
            decompose_canonical(c, |d| {
                if !is_combining_mark(d) {
                    push(d)
                }
            });
        }
    }
    folded
}

/// Whether a text may span several lines (a description) or must stay on one (a title, a name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// A character that no stored text may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("contains the control character U+{:04X}; remove it", u32::from(*.0))]
pub struct ControlCharacter(pub char);

impl ControlCharacter {
    /// What a client is told, the character named by its code point since it shows nothing.
    pub fn message(self) -> crate::messages::Message {
        crate::messages::Message::new(crate::messages::Text::ControlCharacter)
            .with("character", format!("U+{:04X}", u32::from(self.0)))
    }
}

/// Characters that show nothing: text made only of them is empty, and they are trimmed from
/// both ends like spaces (zero-width space, joiners, word joiner, byte-order mark, soft hyphen).
const INVISIBLE: &[char] = &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{180E}'];

/// Bidirectional embeddings, overrides and isolates: they let text display in another order
/// than it is stored, a known way to disguise names and links.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text as it is stored: Unicode NFC (so "ệ" typed either way is one character, and both
/// databases compare it alike), trimmed of spaces and invisible characters at both ends, with
/// line breaks as `\n`. Control characters are refused (NUL breaks PostgreSQL, ESC drives
/// terminals, CR/LF forge log lines), except line breaks and tabs in multi-line text.
pub fn clean(text: &str, lines: Lines) -> Result<String, ControlCharacter> {
    let unified = text.replace("\r\n", "\n");
    let mut cleaned = String::with_capacity(unified.len());
    for c in unified.nfc() {
        let allowed_break = lines == Lines::Many && matches!(c, '\n' | '\t');
        if (c.is_control() && !allowed_break) || is_bidi_control(c) {
            return Err(ControlCharacter(c));
        }
        cleaned.push(c);
    }
    Ok(cleaned.trim_matches(|c: char| c.is_whitespace() || INVISIBLE.contains(&c)).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cleaning_composes_trims_and_empties_invisible_only_text() {
        let decomposed: String = "Công nghệ".nfd().collect();
        assert_eq!(clean(&format!("  {decomposed}\u{200B} "), Lines::One).unwrap(), "Công nghệ");
        assert_eq!(clean(&format!("  {decomposed} "), Lines::One).unwrap().chars().count(), 9);
        assert_eq!(clean("\u{200B}", Lines::One).unwrap(), "");
        assert_eq!(clean("\u{FEFF} \u{2060}\u{00A0}", Lines::One).unwrap(), "");
    }

    #[test]
    fn cleaning_refuses_control_and_bidi_characters() {
        for bad in ["a\u{0}b", "a\u{1B}[31mb", "a\rb", "a\nb", "a\tb", "a\u{7F}", "a\u{202E}b", "\u{2066}a"] {
            let refused = clean(bad, Lines::One).unwrap_err();
            assert!(refused.0.is_control() || is_bidi_control(refused.0), "{bad:?}");
        }
        assert_eq!(
            clean("a\u{0}", Lines::One).unwrap_err().to_string(),
            "contains the control character U+0000; remove it"
        );
    }

    #[test]
    fn multi_line_text_keeps_line_breaks_and_tabs_but_not_other_controls() {
        assert_eq!(clean("Dòng 1\r\nDòng 2\n\tmục", Lines::Many).unwrap(), "Dòng 1\nDòng 2\n\tmục");
        assert_eq!(clean("a\u{0}b", Lines::Many).unwrap_err(), ControlCharacter('\u{0}'));
        assert_eq!(clean("a\rb", Lines::Many).unwrap_err(), ControlCharacter('\r'));
    }

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
        fn folding_decomposes_as_nfd_does(s in "\\PC{0,60}", v in "[a-zA-ZàáảãạăằắẳẵặâầấẩẫậđĐèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ \u{300}-\u{36f},.-]{0,60}") {
            // The whole text's NFD, marks dropped: what `fold` must give, one character at a time.
            let reference = |text: &str| {
                let mut folded = String::new();
                let mut pending_space = false;
                for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
                    let c = if matches!(c, 'đ' | 'Đ') { 'd' } else { c };
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
            };
            prop_assert_eq!(fold(&s), reference(&s));
            prop_assert_eq!(fold(&v), reference(&v));
        }

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
