//! A JSON value deserializer that is strict where serde is lenient, and says what went wrong in
//! a form a person can be told about.
//!
//! Strict: serde's derived structs also accept an array of field values by position (`["offer",
//! {...}]` for a listing), which no client means and the API does not document. Here a struct
//! must come as a JSON object, at any depth, and a key the struct does not have is refused.
//!
//! Telling: failures are [`Misfit`]s that keep what was expected (a whole number, one of some
//! words, a field that is missing) rather than serde's English sentence about Rust types.
//!
//! All at once: serde stops at the first failure. Read again with [`Holes`] at the places
//! already reported, where a missing or wrong value reads as a harmless stand-in and an unknown
//! key is skipped, the next failure shows, and so on: [`crate::extract::from_value`] collects
//! every problem this way.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Expected, IntoDeserializer, Unexpected, Visitor};
use serde_json::{Map, Value};

/// Why a JSON value does not fit the type read from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misfit {
    /// A required field of the object is absent.
    Missing(&'static str),
    /// The value is of the wrong kind (text for a number); `expected` as serde describes it.
    Type { expected: String },
    /// The value is of the right kind but not accepted (a number out of range, a malformed id).
    Value { expected: String },
    /// A word that is not one of `allowed`.
    Variant { allowed: &'static [&'static str] },
    /// A key the object does not have; `key` is set when the object (not the key) is at fault.
    Unknown { key: Option<String>, known: &'static [&'static str] },
    /// Anything else a type refused, with what the type expects when known.
    Other { expected: Option<String>, reason: String },
}

impl fmt::Display for Misfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misfit::Missing(field) => write!(f, "missing field `{field}`"),
            Misfit::Type { expected } => write!(f, "invalid type, expected {expected}"),
            Misfit::Value { expected } => write!(f, "invalid value, expected {expected}"),
            Misfit::Variant { allowed } => write!(f, "unknown word, expected one of {}", allowed.join(", ")),
            Misfit::Unknown { key, known } => {
                write!(f, "unknown field {}, expected one of {}", key.as_deref().unwrap_or("here"), known.join(", "))
            }
            Misfit::Other { reason, .. } => f.write_str(reason),
        }
    }
}

impl std::error::Error for Misfit {}

impl de::Error for Misfit {
    fn custom<T: fmt::Display>(reason: T) -> Self {
        Misfit::Other { expected: None, reason: reason.to_string() }
    }

    fn invalid_type(_: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Misfit::Type { expected: expected.to_string() }
    }

    fn invalid_value(_: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Misfit::Value { expected: expected.to_string() }
    }

    fn invalid_length(_: usize, expected: &dyn Expected) -> Self {
        Misfit::Value { expected: expected.to_string() }
    }

    fn unknown_variant(_: &str, allowed: &'static [&'static str]) -> Self {
        Misfit::Variant { allowed }
    }

    fn unknown_field(key: &str, known: &'static [&'static str]) -> Self {
        Misfit::Unknown { key: Some(key.to_owned()), known }
    }

    fn missing_field(field: &'static str) -> Self {
        Misfit::Missing(field)
    }
}

impl Misfit {
    /// Notes what the type expected, for a refusal that does not say.
    fn expecting(self, expected: String) -> Self {
        match self {
            Misfit::Other { expected: None, reason } => Misfit::Other { expected: Some(expected), reason },
            other => other,
        }
    }
}

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// The places of a document whose problems were reported already.
#[derive(Debug, Default)]
pub struct Holes {
    here: bool,
    below: BTreeMap<Step, Holes>,
}

impl Holes {
    /// Marks the place at `path`; false when it was marked already.
    pub fn insert(&mut self, path: &[Step]) -> bool {
        let node = path.iter().fold(self, |node, step| node.below.entry(step.clone()).or_default());
        !std::mem::replace(&mut node.here, true)
    }

    pub fn contains(&self, path: &[Step]) -> bool {
        let mut node = self;
        for step in path {
            match node.below.get(step) {
                Some(next) => node = next,
                None => return false,
            }
        }
        node.here
    }

    fn key(&self, key: &str) -> Option<&Holes> {
        self.below.get(&Step::Key(key.to_owned()))
    }
}

/// Reads a JSON value; with holes, reads over the places they mark.
#[derive(Clone, Copy)]
pub struct Strict<'a> {
    value: &'a Value,
    holes: Option<&'a Holes>,
}

impl<'a> Strict<'a> {
    pub fn new(value: &'a Value) -> Self {
        Strict { value, holes: None }
    }

    pub fn over_holes(value: &'a Value, holes: &'a Holes) -> Self {
        Strict { value, holes: Some(holes) }
    }

    fn fields(self, map: &'a Map<String, Value>, known: Option<&'static [&'static str]>) -> Fields<'a> {
        let mut entries = Vec::with_capacity(map.len());
        for (key, value) in map {
            let below = self.holes.and_then(|h| h.key(key));
            match below {
                // Reported already: an unknown key is skipped, a known one reads as a stand-in.
                Some(hole) if hole.here => {
                    if known.is_none_or(|fields| fields.contains(&key.as_str())) {
                        entries.push((key.as_str(), Slot::Hole));
                    }
                }
                _ => entries.push((key.as_str(), Slot::Value(Strict { value, holes: below }))),
            }
        }
        if let Some(holes) = self.holes {
            for (step, hole) in &holes.below {
                if let Step::Key(key) = step
                    && hole.here
                    && !map.contains_key(key)
                {
                    entries.push((key.as_str(), Slot::Hole));
                }
            }
        }
        Fields { entries: entries.into_iter(), pending: None, known }
    }
}

/// What serde says a visitor expects, kept for refusals that do not say it themselves.
fn expected_by<'de, V: Visitor<'de>>(visitor: &V) -> String {
    (visitor as &dyn Expected).to_string()
}

impl<'de> de::Deserializer<'de> for Strict<'_> {
    type Error = Misfit;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (_, Some(i), _) => visitor.visit_i64(i),
                (_, _, Some(f)) => visitor.visit_f64(f),
                _ => Err(de::Error::invalid_type(Unexpected::Other("number"), &visitor)),
            },
            Value::String(s) => {
                let expected = expected_by(&visitor);
                visitor.visit_str::<Misfit>(s).map_err(|e| e.expecting(expected))
            }
            Value::Array(items) => visitor.visit_seq(Seq { items: items.iter().enumerate(), holes: self.holes }),
            Value::Object(map) => visitor.visit_map(self.fields(map, None)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Object(map) => visitor.visit_map(self.fields(map, Some(fields))),
            _ => Err(Misfit::Type { expected: "a map".to_owned() }),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::String(word) => visitor.visit_enum(IntoDeserializer::<Misfit>::into_deserializer(word.as_str())),
            // `{"variant": value}`, the form serde gives an enum with data.
            Value::Object(map) if map.len() == 1 => {
                visitor.visit_enum(de::value::MapAccessDeserializer::new(self.fields(map, None)))
            }
            _ => Err(Misfit::Variant { allowed: variants }),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct Seq<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
    holes: Option<&'a Holes>,
}

impl<'de> de::SeqAccess<'de> for Seq<'_> {
    type Error = Misfit;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        let Some((index, value)) = self.items.next() else { return Ok(None) };
        let below = self.holes.and_then(|h| h.below.get(&Step::Index(index)));
        match below {
            Some(hole) if hole.here => seed.deserialize(Hole).map(Some),
            _ => seed.deserialize(Strict { value, holes: below }).map(Some),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

enum Slot<'a> {
    Value(Strict<'a>),
    Hole,
}

/// The entries of an object. Read as a struct (`known` names its fields), a key the struct does
/// not have is refused when its value is asked for, so the error's path ends at that key: the
/// API refuses what it does not understand, while the types themselves (and what is stored of
/// them) stay tolerant.
struct Fields<'a> {
    entries: std::vec::IntoIter<(&'a str, Slot<'a>)>,
    pending: Option<(bool, Slot<'a>)>,
    known: Option<&'static [&'static str]>,
}

impl<'de> de::MapAccess<'de> for Fields<'_> {
    type Error = Misfit;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, slot)) => {
                let unknown = self.known.is_some_and(|fields| !fields.contains(&key));
                self.pending = Some((unknown, slot));
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        match self.pending.take() {
            Some((true, _)) => seed.deserialize(Unknown(self.known.unwrap_or_default())),
            Some((false, Slot::Value(value))) => seed.deserialize(value),
            Some((false, Slot::Hole)) => seed.deserialize(Hole),
            None => Err(de::Error::custom("a value was asked for before its key")),
        }
    }
}

/// The value of a key the struct does not have: refused as soon as it is read, from inside the
/// value's deserializer so that the path of the error ends at the key.
struct Unknown(&'static [&'static str]);

impl<'de> de::Deserializer<'de> for Unknown {
    type Error = Misfit;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(Misfit::Unknown { key: None, known: self.0 })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// Reads the stand-in of each listed type as that of its nearest kind.
macro_rules! stand_in {
    ($($($method:ident)+ => $as:ident),+ $(,)?) => {
        $($(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Misfit> {
            self.$as(visitor)
        })+)+
    };
}

/// A stand-in for a value reported already: reads as the emptiest value of whatever type asks
/// (0, "", false, none, an empty list, an object of stand-ins, the first word of a closed set).
/// A type that refuses even that stops the collection of further problems.
struct Hole;

impl<'de> de::Deserializer<'de> for Hole {
    type Error = Misfit;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_bool(false)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_i64(0)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_u64(0)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_f64(0.0)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_str("")
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_none()
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(de::value::SeqDeserializer::new(std::iter::empty::<Hole>()))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(de::value::MapDeserializer::new(std::iter::empty::<(Hole, Hole)>()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_map(de::value::MapDeserializer::new(fields.iter().map(|&field| (field, Hole))))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(IntoDeserializer::<Misfit>::into_deserializer(variants.first().copied().unwrap_or_default()))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    stand_in! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i128 => deserialize_i64,
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u128 => deserialize_u64,
        deserialize_f32 => deserialize_f64,
        deserialize_char deserialize_string deserialize_bytes deserialize_byte_buf deserialize_identifier => deserialize_str,
        deserialize_unit deserialize_ignored_any => deserialize_any,
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Misfit> {
        visitor.visit_unit()
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Misfit> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Misfit> {
        self.deserialize_seq(visitor)
    }
}

impl IntoDeserializer<'_, Misfit> for Hole {
    type Deserializer = Hole;

    fn into_deserializer(self) -> Hole {
        self
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::{Misfit, Strict};

    /// Tolerant by itself: the strictness is the reader's.
    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        vi: String,
        en: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "snake_case")]
    enum Kind {
        Offer,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        kind: Kind,
        title: Inner,
        codes: Vec<String>,
        trl: Option<i64>,
    }

    fn read(value: serde_json::Value) -> Result<Outer, Misfit> {
        Outer::deserialize(Strict::new(&value))
    }

    #[test]
    fn objects_read_as_serde_json_reads_them() {
        let outer = read(json!({"kind": "offer", "title": {"vi": "Máy"}, "codes": ["211"], "trl": 7})).unwrap();
        assert_eq!(outer.title, Inner { vi: "Máy".into(), en: None });
        assert_eq!((outer.kind, outer.trl), (Kind::Offer, Some(7)));
    }

    #[test]
    fn arrays_in_place_of_objects_are_refused_at_any_depth() {
        assert!(matches!(read(json!(["offer", {"vi": "Máy"}, [], null])), Err(Misfit::Type { .. })));
        let nested = read(json!({"kind": "offer", "title": ["Máy", null], "codes": []})).unwrap_err();
        assert!(matches!(nested, Misfit::Type { .. }), "{nested}");
    }

    #[test]
    fn wrong_scalars_and_unknown_words_are_refused_with_what_fits() {
        assert_eq!(
            read(json!({"kind": "sale", "title": {"vi": "x"}, "codes": []})).unwrap_err(),
            Misfit::Variant { allowed: &["offer"] }
        );
        assert_eq!(
            read(json!({"kind": "offer", "title": {"vi": "x"}, "codes": [], "trl": 1.5})).unwrap_err(),
            Misfit::Type { expected: "i64".into() }
        );
        assert_eq!(
            read(json!({"kind": "offer", "title": {"vi": "x", "fr": "y"}, "codes": []})).unwrap_err(),
            Misfit::Unknown { key: None, known: &["vi", "en"] }
        );
    }

    #[test]
    fn unknown_fields_are_refused_at_their_path_though_the_type_tolerates_them() {
        let value = json!({"kind": "offer", "title": {"vi": "x", "fr": "y"}, "codes": []});
        let error = serde_path_to_error::deserialize::<_, Outer>(Strict::new(&value)).unwrap_err();
        assert_eq!(error.path().to_string(), "title.fr");
        assert!(serde_json::from_value::<Inner>(value["title"].clone()).is_ok());
    }
}
