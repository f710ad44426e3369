//! Values every resource writes the same way: text in two languages, contact details, URLs,
//! the short names of source exchanges, and the rules that clean and check them.

use crate::messages::{Message, Text};
use crate::text::{Lines, clean};
use crate::validation::ValidationErrors;

/// The longest URL kept.
pub const URL_MAX: usize = 2_000;
/// The longest short text (a name, an e-mail address).
pub const SHORT_TEXT_MAX: usize = 200;
/// The longest phone number.
pub const PHONE_MAX: usize = 30;

/// Text in Vietnamese, the language of record, and optionally in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalizedText {
    pub vi: String,
    pub en: Option<String>,
}

impl LocalizedText {
    /// Text in Vietnamese only.
    pub fn vi(text: &str) -> Self {
        LocalizedText { vi: text.to_owned(), en: None }
    }
}

pub(crate) fn check_localized(
    errors: &mut ValidationErrors,
    field: &str,
    text: Option<&mut LocalizedText>,
    max: usize,
    required: bool,
) {
    let Some(text) = text else {
        if required {
            errors.add(format!("{field}.vi"), Text::VietnameseRequired);
        }
        return;
    };
    check_localized_lines(errors, field, text, max, Lines::One);
}

pub(crate) fn check_localized_lines(
    errors: &mut ValidationErrors,
    field: &str,
    text: &mut LocalizedText,
    max: usize,
    lines: Lines,
) {
    required_text(errors, &format!("{field}.vi"), &mut text.vi, max, lines);
    optional_text(errors, &format!("{field}.en"), &mut text.en, max, lines);
}

/// Cleans `value` (see [`clean`]); `None` when it holds a control character, recorded against
/// `field`.
pub(crate) fn cleaned(errors: &mut ValidationErrors, field: &str, value: &str, lines: Lines) -> Option<String> {
    match clean(value, lines) {
        Ok(text) => Some(text),
        Err(refused) => {
            errors.add(field, refused.message());
            None
        }
    }
}

pub(crate) fn trim_required(errors: &mut ValidationErrors, field: &str, value: &mut String, max: usize) {
    required_text(errors, field, value, max, Lines::One);
}

pub(crate) fn required_text(errors: &mut ValidationErrors, field: &str, value: &mut String, max: usize, lines: Lines) {
    let Some(text) = cleaned(errors, field, value, lines) else { return };
    *value = text;
    if value.is_empty() {
        errors.add(field, Text::NotEmpty);
    } else {
        check_length(errors, field, value, max);
    }
}

/// Blank optional text is stored as absent.
pub(crate) fn trim_optional(errors: &mut ValidationErrors, field: &str, value: &mut Option<String>, max: usize) {
    optional_text(errors, field, value, max, Lines::One);
}

pub(crate) fn optional_text(
    errors: &mut ValidationErrors,
    field: &str,
    value: &mut Option<String>,
    max: usize,
    lines: Lines,
) {
    let Some(text) = value.as_deref() else { return };
    let Some(text) = cleaned(errors, field, text, lines) else { return };
    if text.is_empty() {
        *value = None;
    } else {
        check_length(errors, field, &text, max);
        *value = Some(text);
    }
}

pub(crate) fn check_length(errors: &mut ValidationErrors, field: &str, value: &str, max: usize) {
    let length = value.chars().count();
    if length > max {
        errors.add(field, Message::new(Text::TooLong).with("max", max).with("length", length));
    }
}

/// Checks the e-mail address and phone number of a contact at `prefix`.
pub(crate) fn check_contact_fields(
    errors: &mut ValidationErrors,
    prefix: &str,
    email: &mut Option<String>,
    phone: &mut Option<String>,
) {
    trim_optional(errors, &format!("{prefix}.email"), email, SHORT_TEXT_MAX);
    trim_optional(errors, &format!("{prefix}.phone"), phone, PHONE_MAX);
    if let Some(email) = email.as_deref()
        && !looks_like_email(email)
    {
        errors.add(format!("{prefix}.email"), Message::new(Text::InvalidEmail).with("value", email));
    }
    if let Some(phone) = phone.as_deref()
        && !phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        errors.add(format!("{prefix}.phone"), Text::InvalidPhone);
    }
}

pub(crate) fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

pub(crate) fn check_url(errors: &mut ValidationErrors, field: &str, url: &mut String) {
    let Some(text) = cleaned(errors, field, url, Lines::One) else { return };
    *url = text;
    let has_host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !has_host || url.chars().any(char::is_whitespace) {
        errors.add(field, Text::InvalidUrl);
    } else {
        check_length(errors, field, url, URL_MAX);
    }
}

/// How the short name of a source exchange is written (1-40 characters of a-z, 0-9, - and _), as
/// a regular expression for the API's documents.
pub const EXCHANGE_CODE_PATTERN: &str = "^[a-z0-9_-]{1,40}$";
pub const EXCHANGE_CODE_MAX: usize = 40;

pub fn is_exchange_code(code: &str) -> bool {
    (1..=EXCHANGE_CODE_MAX).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}
