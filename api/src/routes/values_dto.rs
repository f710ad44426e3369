//! The wire shapes of values several resources write: text in two languages, each kind with its
//! own length so that the documents state it.

use serde::{Deserialize, Serialize};
use techex_domain::values::LocalizedText as Text;
use utoipa::ToSchema;

/// Declares text in Vietnamese (required) and English (optional), as one JSON object.
macro_rules! localized {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        pub struct $name {
            #[schema(example = "Máy sấy nông sản dùng năng lượng mặt trời")]
            pub vi: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(example = "Solar crop dryer")]
            pub en: Option<String>,
        }

        impl From<$name> for Text {
            fn from(text: $name) -> Self {
                Text { vi: text.vi, en: text.en }
            }
        }

        impl From<Text> for $name {
            fn from(text: Text) -> Self {
                $name { vi: text.vi, en: text.en }
            }
        }
    };
}

localized!(
    /// Text in Vietnamese, the language of record, and optionally in English: one line, a title
    /// or a name.
    LocalizedText
);
localized!(
    /// A summary in Vietnamese and optionally in English; may run over several lines.
    LocalizedSummary
);
localized!(
    /// A description in Vietnamese and optionally in English; may run over several lines.
    LocalizedDescription
);
