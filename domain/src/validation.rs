//! Validation failures that name the offending field, so a client can show each next to its input.

use crate::messages::{Message, Text};

/// One rejected input: `field` is a path such as `title.vi` or `field_codes[1]`, `code` a stable
/// snake_case word clients may branch on, `message` a sentence for people, rendered in the
/// caller's language when it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: Message,
}

/// The most problems one input reports: enough to fix a form, bounded however bad the input.
pub const MAX_ERRORS: usize = 50;

/// Every problem found in one input, reported together rather than one per round trip, up to
/// [`MAX_ERRORS`]; a last entry with the code `too_many_errors` says when more were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_slice() {
            [only] if only.field.is_empty() => write!(f, "{}", only.message),
            [only] => write!(f, "{}: {}", only.field, only.message),
            many => {
                let fields: Vec<&str> = many.iter().map(|e| e.field.as_str()).collect();
                write!(f, "{} invalid fields: {}", many.len(), fields.join(", "))
            }
        }
    }
}

impl std::error::Error for ValidationErrors {}

impl ValidationErrors {
    pub fn single(field: impl Into<String>, message: impl Into<Message>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    /// Records a problem under the code of its sentence in the catalog.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<Message>) {
        let message = message.into();
        self.add_as(field, message.text().code(), message);
    }

    /// Records a problem under `code` where one sentence explains several codes.
    pub fn add_as(&mut self, field: impl Into<String>, code: &str, message: impl Into<Message>) {
        match self.0.len() {
            n if n < MAX_ERRORS => {
                self.0.push(FieldError { field: field.into(), code: code.to_owned(), message: message.into() })
            }
            MAX_ERRORS => self.0.push(FieldError {
                field: String::new(),
                code: Text::TooManyErrors.code().to_owned(),
                message: Message::new(Text::TooManyErrors).with("max", MAX_ERRORS),
            }),
            _ => {}
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether no more problems would be reported.
    pub fn is_full(&self) -> bool {
        self.0.len() > MAX_ERRORS
    }

    /// `Ok(value)` when nothing was recorded, the collected errors otherwise.
    pub fn finish<T>(self, value: T) -> Result<T, Self> {
        if self.is_empty() { Ok(value) } else { Err(self) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_at_most_the_first_problems_and_says_so() {
        let mut errors = ValidationErrors::default();
        for i in 0..10_000 {
            errors.add(format!("field_codes[{i}]"), Message::new(Text::UnknownFieldCode).with("value", i));
        }
        assert_eq!(errors.0.len(), MAX_ERRORS + 1);
        assert!(errors.is_full());
        assert_eq!(errors.0[MAX_ERRORS - 1].field, format!("field_codes[{}]", MAX_ERRORS - 1));
        assert_eq!(errors.0[MAX_ERRORS].code, "too_many_errors");
        let mut few = ValidationErrors::default();
        few.add("trl", Message::new(Text::TrlOutOfRange).with("value", 12));
        assert_eq!((few.0.len(), few.0[0].code.as_str()), (1, "out_of_range"));
        assert!(!few.is_full());
        let mut at_limit = ValidationErrors::default();
        for i in 0..MAX_ERRORS {
            at_limit.add(format!("keywords[{i}]"), Text::NotEmpty);
        }
        assert!(!at_limit.is_full(), "room is left to say that more were found");
    }
}
