//! Validation failures that name the offending field, so a client can show each next to its input.

use serde::Serialize;

/// One rejected input: `field` is a path such as `title.vi` or `field_codes[1]`, `code` a stable
/// snake_case word clients may branch on, `message` a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    #[cfg_attr(feature = "openapi", schema(example = "trl"))]
    pub field: String,
    #[cfg_attr(feature = "openapi", schema(example = "out_of_range"))]
    pub code: String,
    #[cfg_attr(feature = "openapi", schema(example = "TRL must be between 1 and 9"))]
    pub message: String,
}

/// Every problem found in one input, reported together rather than one per round trip.
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
        self.0.push(FieldError { field: field.into(), code: code.to_owned(), message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, the collected errors otherwise.
    pub fn finish<T>(self, value: T) -> Result<T, Self> {
        if self.is_empty() { Ok(value) } else { Err(self) }
    }
}
