//! The contract as OpenAPI 3.0.3, for the client generators of .NET and Java teams (NSwag,
//! AutoRest, older openapi-generator versions) that read 3.1 poorly. The same document as the
//! 3.1 one, each 3.1-only construct written the 3.0 way:
//!
//! - `type: [T, "null"]` becomes `type: T` with `nullable: true`;
//! - `oneOf: [X, {type: null}]` becomes `allOf: [X]` with `nullable: true` and the `type` of X
//!   (3.0 ignores `nullable` beside a bare `$ref`, and without a `type` beside it);
//! - `examples: [..]` in a schema becomes `example`, `const` a one-value `enum`, a numeric
//!   `exclusiveMinimum`/`exclusiveMaximum` the boolean form beside `minimum`/`maximum`;
//! - keywords 3.0 lacks (`propertyNames`, `$schema`, ...) are left out: they only narrow what a
//!   validator accepts, never what the server sends; the license's SPDX `identifier` becomes the
//!   `url` of its SPDX page.

use serde_json::{Map, Value, json};

/// The 3.0.3 rendering of a 3.1 document.
pub fn downgrade(document: &utoipa::openapi::OpenApi) -> Value {
    let mut value = serde_json::to_value(document).expect("the OpenAPI document serializes");
    let root = value.as_object_mut().expect("an OpenAPI document is an object");
    root.insert("openapi".into(), Value::from("3.0.3"));
    root.remove("jsonSchemaDialect");
    root.remove("webhooks");
    if let Some(license) = root.get_mut("info").and_then(|info| info.get_mut("license")).and_then(Value::as_object_mut)
        && let Some(Value::String(identifier)) = license.remove("identifier")
    {
        license.insert("url".into(), Value::from(format!("https://spdx.org/licenses/{identifier}.html")));
    }
    if let Some(paths) = root.get_mut("paths") {
        rewrite_schemas_in(paths);
    }
    if let Some(components) = root.get_mut("components").and_then(Value::as_object_mut) {
        components.remove("pathItems");
        if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
            for schema in schemas.values_mut() {
                rewrite_schema(schema);
            }
        }
        for section in ["responses", "parameters", "requestBodies", "headers"] {
            if let Some(part) = components.get_mut(section) {
                rewrite_schemas_in(part);
            }
        }
    }
    let types: Map<String, Value> = value["components"]["schemas"]
        .as_object()
        .map(|schemas| {
            schemas.iter().filter_map(|(name, schema)| Some((name.clone(), schema.get("type")?.clone()))).collect()
        })
        .unwrap_or_default();
    let choices: Map<String, Value> = value["components"]["schemas"]
        .as_object()
        .map(|schemas| {
            schemas
                .iter()
                .filter(|(_, schema)| schema.get("type").is_none())
                .filter_map(|(name, schema)| Some((name.clone(), schema.get("oneOf")?.clone())))
                .collect()
        })
        .unwrap_or_default();
    type_nullable_references(&mut value, &types, &choices);
    value
}

/// Gives each nullable `allOf: [{$ref}]` the `type` of the schema it names: 3.0 reads
/// `nullable` only beside a `type`. A schema named that has no type but `oneOf` choices (a text
/// in one language or in both, see [`crate::language`]) is one choice, null the other.
fn type_nullable_references(value: &mut Value, types: &Map<String, Value>, choices: &Map<String, Value>) {
    match value {
        Value::Object(object) => {
            let named = || {
                let [only] = object.get("allOf")?.as_array()?.as_slice() else { return None };
                only.get("$ref")?.as_str()?.strip_prefix("#/components/schemas/").map(str::to_owned)
            };
            if object.get("nullable") == Some(&Value::Bool(true))
                && !object.contains_key("type")
                && let Some(name) = named()
            {
                if let Some(named) = types.get(&name) {
                    object.insert("type".into(), named.clone());
                } else if choices.contains_key(&name) {
                    // 3.0 has no null type: null is the one value of a nullable enumeration.
                    let nothing = json!({"type": "string", "nullable": true, "enum": [null]});
                    let choice = json!({"$ref": format!("#/components/schemas/{name}")});
                    object.remove("allOf");
                    object.remove("nullable");
                    object.insert("oneOf".into(), json!([choice, nothing]));
                }
            }
            object.values_mut().for_each(|child| type_nullable_references(child, types, choices));
        }
        Value::Array(items) => items.iter_mut().for_each(|child| type_nullable_references(child, types, choices)),
        _ => {}
    }
}

/// Rewrites every `schema` found below `value` (parameters, bodies, responses, headers).
fn rewrite_schemas_in(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                if key == "schema" {
                    rewrite_schema(child);
                } else {
                    rewrite_schemas_in(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_schemas_in),
        _ => {}
    }
}

fn rewrite_schema(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else { return };
    for key in ["propertyNames", "$schema", "$id", "contentEncoding", "contentMediaType", "unevaluatedProperties"] {
        object.remove(key);
    }
    if let Some(Value::Array(types)) = object.get("type").cloned() {
        let nullable = types.iter().any(|t| t == "null");
        let rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
        match rest.as_slice() {
            [only] => {
                object.insert("type".into(), only.clone());
            }
            _ => {
                object.remove("type");
                let alternatives = rest.into_iter().map(|t| Value::Object(Map::from_iter([("type".into(), t)])));
                object.insert("oneOf".into(), Value::Array(alternatives.collect()));
            }
        }
        if nullable {
            object.insert("nullable".into(), Value::Bool(true));
        }
    }
    for combinator in ["oneOf", "anyOf"] {
        let Some(Value::Array(alternatives)) = object.get(combinator).cloned() else { continue };
        let is_null = |s: &Value| s.get("type") == Some(&Value::from("null"));
        if !alternatives.iter().any(is_null) {
            continue;
        }
        let rest: Vec<Value> = alternatives.into_iter().filter(|s| !is_null(s)).collect();
        object.remove(combinator);
        object.insert("nullable".into(), Value::Bool(true));
        if let [only] = rest.as_slice() {
            // A description beside the $ref moves up, where 3.0 reads it.
            let mut only = only.clone();
            if let Some(description) = only.as_object_mut().and_then(|o| o.remove("description")) {
                object.entry("description").or_insert(description);
            }
            object.insert("allOf".into(), Value::Array(vec![only]));
        } else {
            object.insert(combinator.into(), Value::Array(rest));
        }
    }
    if let Some(Value::Array(examples)) = object.remove("examples")
        && let Some(first) = examples.into_iter().next()
    {
        object.entry("example").or_insert(first);
    }
    if let Some(constant) = object.remove("const") {
        object.insert("enum".into(), Value::Array(vec![constant]));
    }
    for (exclusive, inclusive) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(bound) = object.get(exclusive).filter(|b| b.is_number()).cloned() {
            object.insert(inclusive.into(), bound);
            object.insert(exclusive.into(), Value::Bool(true));
        }
    }
    for key in ["properties", "patternProperties", "$defs", "definitions"] {
        if let Some(Value::Object(children)) = object.get_mut(key) {
            children.values_mut().for_each(rewrite_schema);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = object.get_mut(key) {
            rewrite_schema(child);
        }
    }
    for key in ["allOf", "oneOf", "anyOf", "prefixItems"] {
        if let Some(Value::Array(children)) = object.get_mut(key) {
            children.iter_mut().for_each(rewrite_schema);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema_of(value: Value) -> Value {
        let mut schema = value;
        rewrite_schema(&mut schema);
        schema
    }

    #[test]
    fn nullable_types_and_references_are_written_the_3_0_way() {
        assert_eq!(schema_of(json!({"type": ["string", "null"]})), json!({"type": "string", "nullable": true}));
        assert_eq!(
            schema_of(
                json!({"oneOf": [{"$ref": "#/components/schemas/Source", "description": "Where from"}, {"type": "null"}]})
            ),
            json!({"allOf": [{"$ref": "#/components/schemas/Source"}], "nullable": true, "description": "Where from"})
        );
        assert_eq!(
            schema_of(json!({"type": ["string", "integer"]})),
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}]})
        );
    }

    #[test]
    fn other_3_1_keywords_are_rewritten_or_left_out_at_any_depth() {
        let rewritten = schema_of(json!({
            "type": "object",
            "propertyNames": {"type": "string"},
            "properties": {
                "a": {"type": "array", "items": {"type": ["integer", "null"], "exclusiveMinimum": 0, "examples": [7]}},
                "b": {"const": "offer"}
            },
            "additionalProperties": {"type": ["array", "null"], "items": {"$ref": "#/x"}}
        }));
        assert_eq!(
            rewritten,
            json!({
                "type": "object",
                "properties": {
                    "a": {"type": "array", "items": {"type": "integer", "nullable": true, "minimum": 0, "exclusiveMinimum": true, "example": 7}},
                    "b": {"enum": ["offer"]}
                },
                "additionalProperties": {"type": "array", "nullable": true, "items": {"$ref": "#/x"}}
            })
        );
    }

    #[test]
    fn a_nullable_reference_takes_the_type_of_the_schema_it_names() {
        let mut document = json!({
            "components": {"schemas": {
                "Source": {"type": "object", "properties": {}},
                "Kind": {"type": "string", "enum": ["offer"]},
                "Listing": {"type": "object", "properties": {
                    "source": {"oneOf": [{"$ref": "#/components/schemas/Source"}, {"type": "null"}]},
                    "kind": {"oneOf": [{"$ref": "#/components/schemas/Kind"}, {"type": "null"}]}
                }}
            }}
        });
        for schema in document["components"]["schemas"].as_object_mut().unwrap().values_mut() {
            rewrite_schema(schema);
        }
        let types = Map::from_iter([("Source".into(), json!("object")), ("Kind".into(), json!("string"))]);
        type_nullable_references(&mut document, &types, &Map::new());
        let properties = &document["components"]["schemas"]["Listing"]["properties"];
        assert_eq!(
            properties["source"],
            json!({"type": "object", "nullable": true, "allOf": [{"$ref": "#/components/schemas/Source"}]})
        );
        assert_eq!(properties["kind"]["type"], "string");
    }

    #[test]
    fn a_nullable_choice_of_text_is_the_choice_or_null() {
        let mut document = json!({
            "summary": {"allOf": [{"$ref": "#/components/schemas/Answer"}], "nullable": true}
        });
        let choices = Map::from_iter([(
            "Answer".into(),
            json!([{"type": "string", "maxLength": 9}, {"$ref": "#/components/schemas/Both"}]),
        )]);
        type_nullable_references(&mut document, &Map::new(), &choices);
        assert_eq!(
            document["summary"],
            json!({"oneOf": [
                {"$ref": "#/components/schemas/Answer"},
                {"type": "string", "nullable": true, "enum": [null]}
            ]})
        );
    }

    #[test]
    fn the_whole_contract_has_no_3_1_construct_left() {
        let document = downgrade(&crate::openapi());
        assert_eq!(document["openapi"], "3.0.3");
        let text = document.to_string();
        for construct in [r#""null""#, "propertyNames", "\"identifier\"", "\"examples\""] {
            assert!(!text.contains(construct), "{construct} is left");
        }
    }
}
