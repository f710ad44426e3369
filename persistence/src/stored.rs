//! The JSON a row keeps of a record's content, owned here rather than by the API: written with
//! the number of its shape, read tolerantly. A field this build does not know is ignored, a field
//! it expects and the row lacks takes its default, and a row of an older shape is brought up to
//! the current one before it is read, so rows written before a field was added, renamed or
//! removed still read.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use techex_domain::values::LocalizedText;

/// The shape this build writes. Rows written before shapes were numbered read as shape 0.
pub const SHAPE: u64 = 1;

/// The key that carries the shape; no content field may be named so.
const SHAPE_KEY: &str = "_shape";

/// The stored text of `content`, stamped with the current shape.
pub fn write<T: Serialize>(content: &T) -> String {
    let mut value = serde_json::to_value(content).expect("stored content serializes");
    if let Value::Object(fields) = &mut value {
        fields.insert(SHAPE_KEY.to_owned(), SHAPE.into());
    }
    value.to_string()
}

/// The shape of stored content, read while every other field is skipped.
#[derive(Deserialize)]
struct Shape {
    #[serde(rename = "_shape", default)]
    shape: u64,
}

/// Reads stored content of any shape up to the current one.
pub fn read<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    // The shape first, then the content straight into `T` (which skips `_shape` as a field it
    // does not know): twice through the text costs less than once into a tree of values and
    // again out of it, on every read of a record.
    let shape = match leading_shape(text) {
        Some(shape) => shape,
        None => serde_json::from_str::<Shape>(text).map_err(|e| e.to_string())?.shape,
    };
    if shape > SHAPE {
        return Err(format!("written in shape {shape}, newer than this build's {SHAPE}"));
    }
    // Shapes 0 and 1 hold the same fields: nothing to bring up to date yet. A later shape that
    // renames or moves a field reads older rows through a tree again, upgrading them one shape
    // at a time.
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// The shape as [`write`] puts it, first (`{"_shape":1,...`: serde_json writes an object's keys
/// sorted, and `_` sorts before the lowercase letters fields start with), read without a pass
/// through the rest of the text. `None` for text laid out otherwise, which the full read decides.
fn leading_shape(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("{\"")?.strip_prefix(SHAPE_KEY)?.strip_prefix("\":")?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    matches!(rest.as_bytes()[end], b',' | b'}').then(|| rest[..end].parse().ok()).flatten()
}

/// Text in two languages as rows keep it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Text {
    pub vi: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl From<LocalizedText> for Text {
    fn from(text: LocalizedText) -> Self {
        Text { vi: text.vi, en: text.en }
    }
}

impl From<Text> for LocalizedText {
    fn from(text: Text) -> Self {
        LocalizedText { vi: text.vi, en: text.en }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Content {
        name: String,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn content_round_trips_with_its_shape() {
        let content = Content { name: "Máy sấy".into(), tags: vec!["sấy".into()] };
        let text = write(&content);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["_shape"], SHAPE);
        assert_eq!(read::<Content>(&text).unwrap(), content);
    }

    #[test]
    fn older_rows_with_unknown_or_missing_fields_still_read() {
        let unnumbered = json!({"name": "Máy sấy", "retired_field": 3}).to_string();
        assert_eq!(read::<Content>(&unnumbered).unwrap(), Content { name: "Máy sấy".into(), tags: vec![] });
    }

    #[test]
    fn rows_of_a_newer_shape_are_not_guessed_at() {
        let newer = json!({"name": "x", "_shape": SHAPE + 1}).to_string();
        assert!(read::<Content>(&newer).unwrap_err().contains("newer"));
    }

    #[test]
    fn the_shape_written_first_is_read_without_the_rest_and_any_other_layout_in_full() {
        let content = Content { name: "Máy sấy".into(), tags: vec![] };
        assert_eq!(leading_shape(&write(&content)), Some(SHAPE));
        assert_eq!(leading_shape(r#"{"_shape":7}"#), Some(7));
        for text in [r#"{ "_shape": 7, "name": "x"}"#, r#"{"name":"x","_shape":7}"#, r#"{"_shape":7 ,"name":"x"}"#] {
            assert_eq!(leading_shape(text), None, "{text}");
            assert!(read::<Content>(text).unwrap_err().contains("newer"), "{text}");
        }
        for malformed in [r#"{"_shape":1"#, r#"{"_shape":1x}"#, r#"{"_shape":,"name":"x"}"#] {
            assert_eq!(leading_shape(malformed), None, "{malformed}");
            assert!(read::<Content>(malformed).is_err(), "{malformed}");
        }
    }
}
