//! A JSON value deserializer that is strict where serde is lenient: serde's derived structs also
//! accept an array of field values by position (`["offer", {...}]` for a listing), which no
//! client means and the API does not document. Here a struct must come as a JSON object, at any
//! depth; everything else reads as serde_json reads it.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};
use serde_json::{Map, Value};

pub struct Strict(pub Value);

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de> de::Deserializer<'de> for Strict {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Seq(items.into_iter())),
            Value::Object(map) => {
                visitor.visit_map(Fields { entries: map.into_iter(), pending: None, known: None, unknown: None })
            }
            // Scalars have no structure to be lenient about.
            scalar => scalar.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            value => visitor.visit_some(Strict(value)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Fields {
                entries: map.into_iter(),
                pending: None,
                known: Some(fields),
                unknown: None,
            }),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::String(word) => visitor.visit_enum(word.into_deserializer()),
            other => other.deserialize_enum(name, variants, visitor),
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

struct Seq(std::vec::IntoIter<Value>);

impl<'de> de::SeqAccess<'de> for Seq {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        self.0.next().map(|value| seed.deserialize(Strict(value))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// The entries of an object. Read as a struct (`known` names its fields), a key the struct does
/// not have is refused when its value is asked for, so the error's path ends at that key: the
/// API refuses what it does not understand, while the types themselves (and what is stored of
/// them) stay tolerant.
struct Fields {
    entries: <Map<String, Value> as IntoIterator>::IntoIter,
    pending: Option<Value>,
    known: Option<&'static [&'static str]>,
    unknown: Option<String>,
}

impl<'de> de::MapAccess<'de> for Fields {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.pending = Some(value);
                self.unknown = self.known.filter(|fields| !fields.contains(&key.as_str())).map(|_| key.clone());
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        let value = self.pending.take().ok_or_else(|| de::Error::custom("a value was asked for before its key"))?;
        match (self.unknown.take(), self.known) {
            (Some(key), Some(fields)) => seed.deserialize(Unknown { key, fields }),
            _ => seed.deserialize(Strict(value)),
        }
    }
}

/// The value of a key the struct does not have: refused as soon as it is read, from inside the
/// value's deserializer so that the path of the error ends at the key.
struct Unknown {
    key: String,
    fields: &'static [&'static str],
}

impl<'de> de::Deserializer<'de> for Unknown {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::unknown_field(&self.key, self.fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::Strict;

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

    fn read(value: serde_json::Value) -> Result<Outer, String> {
        Outer::deserialize(Strict(value)).map_err(|e| e.to_string())
    }

    #[test]
    fn objects_read_as_serde_json_reads_them() {
        let outer = read(json!({"kind": "offer", "title": {"vi": "Máy"}, "codes": ["211"], "trl": 7})).unwrap();
        assert_eq!(outer.title, Inner { vi: "Máy".into(), en: None });
        assert_eq!((outer.kind, outer.trl), (Kind::Offer, Some(7)));
    }

    #[test]
    fn arrays_in_place_of_objects_are_refused_at_any_depth() {
        assert!(read(json!(["offer", {"vi": "Máy"}, [], null])).unwrap_err().contains("invalid type: sequence"));
        let nested = read(json!({"kind": "offer", "title": ["Máy", null], "codes": []})).unwrap_err();
        assert!(nested.contains("invalid type: sequence"), "{nested}");
    }

    #[test]
    fn wrong_scalars_and_unknown_words_are_refused() {
        assert!(
            read(json!({"kind": "sale", "title": {"vi": "x"}, "codes": []})).unwrap_err().contains("unknown variant")
        );
        assert!(
            read(json!({"kind": "offer", "title": {"vi": "x"}, "codes": [], "trl": 1.5}))
                .unwrap_err()
                .contains("invalid type")
        );
        assert!(
            read(json!({"kind": "offer", "title": {"vi": "x", "fr": "y"}, "codes": []}))
                .unwrap_err()
                .contains("unknown field `fr`")
        );
    }

    #[test]
    fn unknown_fields_are_refused_at_their_path_though_the_type_tolerates_them() {
        let value = json!({"kind": "offer", "title": {"vi": "x", "fr": "y"}, "codes": []});
        let error = serde_path_to_error::deserialize::<_, Outer>(Strict(value.clone())).unwrap_err();
        assert_eq!(error.path().to_string(), "title.fr");
        assert!(serde_json::from_value::<Inner>(value["title"].clone()).is_ok());
    }
}
