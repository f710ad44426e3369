//! The HTTP resources, one module each.

pub mod auth;
pub mod centers;
pub mod centers_dto;
pub mod changes;
pub mod clients;
pub mod clients_dto;
pub mod contracts;
pub mod contracts_dto;
pub mod export;
pub mod interests;
pub mod interests_dto;
pub mod listings;
pub mod listings_dto;
pub mod listings_sync;
pub mod listings_sync_dto;
pub mod matches;
pub mod matches_dto;
pub mod ops;
pub mod organizations;
pub mod organizations_dto;
pub mod reference;
pub mod reference_dto;
pub mod search_dto;
pub mod searches;
pub mod stats;
pub mod values_dto;
pub mod vocabulary_dto;
pub mod webhooks;

use techex_persistence::{Db, DbConn};

use serde::Serialize;
use serde::de::DeserializeOwned;
use techex_domain::ValidationErrors;

use crate::error::ApiError;
use crate::extract::{JsonBody, from_value};

/// Runs blocking database work on the thread pool with a pooled connection.
pub async fn with_conn<T, F>(db: &Db, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
{
    let db = db.clone();
    crate::idempotency::block(move || {
        let mut conn = db.conn()?;
        work(&mut conn)
    })
    .await?
}

/// Everything under `/v1`.
pub fn configure_v1(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    auth::configure(cfg);
    listings_sync::configure(cfg);
    listings::configure(cfg);
    matches::configure(cfg);
    interests::configure(cfg);
    organizations::configure(cfg);
    clients::configure(cfg);
    centers::configure(cfg);
    reference::configure(cfg);
    changes::configure(cfg);
    export::configure(cfg);
    contracts::configure(cfg);
    stats::configure(cfg);
    webhooks::configure(cfg);
    searches::configure(cfg);
}

/// Reads a JSON merge-patch body (RFC 7386), which must be an object.
pub fn merge_patch_body(body: JsonBody) -> Result<serde_json::Value, ApiError> {
    let patch: serde_json::Value = body.parse()?;
    if !patch.is_object() {
        return Err(ApiError::Validation(ValidationErrors::single("", techex_domain::Text::PatchObject)));
    }
    Ok(patch)
}

/// `current` with `patch` merged in, read back as its type; a misfit names its path.
pub fn patched<T: Serialize + DeserializeOwned>(current: &T, patch: &serde_json::Value) -> Result<T, ApiError> {
    let mut value = serde_json::to_value(current).map_err(ApiError::internal)?;
    merge_patch(&mut value, patch);
    from_value(value)
}

/// RFC 7386 JSON merge patch: keys present replace, `null` removes, absent keys stay.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let Some(patch) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(Default::default());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(serde_json::Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use proptest::prelude::*;
    use serde_json::Value;

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z]{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-c]", inner, 0..4)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// RFC 7386: a patch applied twice changes nothing more, `null` members are gone, and
        /// members the patch does not name stay as they were.
        #[test]
        fn merge_patches_follow_rfc_7386(target in json(), patch in json()) {
            let mut once = target.clone();
            merge_patch(&mut once, &patch);
            let mut twice = once.clone();
            merge_patch(&mut twice, &patch);
            prop_assert_eq!(&once, &twice);
            match (patch.as_object(), target.as_object()) {
                (Some(members), original) => {
                    let result = once.as_object().expect("an object patch makes an object");
                    for (name, value) in members {
                        prop_assert_eq!(result.contains_key(name), !value.is_null());
                    }
                    for (name, value) in original.into_iter().flatten().filter(|(n, _)| !members.contains_key(*n)) {
                        prop_assert_eq!(result.get(name), Some(value));
                    }
                }
                (None, _) => prop_assert_eq!(&once, &patch),
            }
        }
    }
}
