//! Validation failures that name the offending field, so a client can show each next to its input.

/// One rejected input: `field` is a path such as `title.vi` or `field_codes[1]`, `code` a stable
/// snake_case word clients may branch on, `message` a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
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
            [only] if only.field.is_empty() => f.write_str(&only.message),
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
    pub fn single(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, code, message);
        errors
    }

    pub fn add(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        match self.0.len() {
            n if n < MAX_ERRORS => {
                self.0.push(FieldError { field: field.into(), code: code.to_owned(), message: message.into() })
            }
            MAX_ERRORS => self.0.push(FieldError {
                field: String::new(),
                code: "too_many_errors".to_owned(),
                message: format!("only the first {MAX_ERRORS} problems are reported; fix these and send again"),
            }),
            _ => {}
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
            errors.add(format!("field_codes[{i}]"), "unknown_field_code", "no such code");
        }
        assert_eq!(errors.0.len(), MAX_ERRORS + 1);
        assert_eq!(errors.0[MAX_ERRORS - 1].field, format!("field_codes[{}]", MAX_ERRORS - 1));
        assert_eq!(errors.0[MAX_ERRORS].code, "too_many_errors");
        let mut few = ValidationErrors::default();
        few.add("trl", "out_of_range", "1 to 9");
        assert_eq!(few.0.len(), 1);
    }
}
