//! Withdrawn and deleted listings are not dead ends: their organization reads them and restores
//! them as drafts within the restore period; to everyone else a deleted listing stays gone.

use actix_web::http::StatusCode;
use serde_json::{Value, json};
use techex_domain::RestorePeriod;
use techex_tests::{Options, backend_tests, listing_body};

fn actions(reply: &techex_tests::Reply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    reply.body["allowed_actions"].clone()
}

backend_tests! {
    /// Owner, another organization, anonymous callers and a moderator of another organization,
    /// on a deleted listing.
    async fn the_owner_reads_and_restores_its_deleted_listing_and_nobody_else_sees_it(app: TestApp) {
        let id = app.publish_listing(&listing_body()).await;
        let path = format!("/v1/listings/{id}");
        let deleted = app.delete(&path).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);

        let own = app.get(&path).await;
        assert_eq!((own.body["status"].as_str(), actions(&own)), (Some("withdrawn"), json!(["restore"])));
        assert!(own.body["deleted_at"].is_string(), "{:#}", own.body);
        let other = app.new_client(&["listings:write", "listings:publish"]).await;
        let moderator = app.new_client(&["listings:moderate"]).await;
        for (who, reply) in [
            ("anonymous", app.anonymous().get(&path).await),
            ("another organization", app.as_client(&other).get(&path).await),
            ("a moderator", app.as_client(&moderator).get(&path).await),
        ] {
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{who}");
        }
        let restore = format!("{path}/restore");
        app.anonymous().post(&restore, &Value::Null).await.problem(401, "unauthorized");
        app.as_client(&other).post(&restore, &Value::Null).await.problem(404, "listing_not_found");
        app.as_client(&moderator).post(&restore, &Value::Null).await.problem(404, "listing_not_found");
        // Read-only until restored: other writes find nothing, as before.
        app.patch(&path, &json!({"trl": 8})).await.problem(404, "listing_not_found");
        app.delete(&path).await.problem(404, "listing_not_found");
        app.post(&format!("{path}/withdraw"), &Value::Null).await.problem(409, "illegal_transition");
        assert!(app.get("/v1/listings?status=withdrawn").await.body["items"].as_array().unwrap().is_empty(), "lists leave deleted listings out");
        // deleted=true lists them, to the owner's organization (and the operator) only.
        let own_deleted = app.get("/v1/listings?deleted=true&total=true").await;
        assert_eq!((own_deleted.body["items"][0]["id"].as_str(), own_deleted.body["total"].as_i64()), (Some(id.as_str()), Some(1)));
        assert_eq!(own_deleted.body["items"][0]["allowed_actions"], json!(["restore"]));
        let theirs = format!("/v1/listings?deleted=true&publisher={}", app.publisher.organization_id);
        assert!(app.as_client(&other).get("/v1/listings?deleted=true").await.body["items"].as_array().unwrap().is_empty());
        app.as_client(&other).get(&theirs).await.problem(403, "forbidden");
        app.as_client(&moderator).get(&theirs).await.problem(403, "forbidden");
        app.anonymous().get("/v1/listings?deleted=true").await.problem(401, "unauthorized");
        let admin = app.new_client(&["admin"]).await;
        assert_eq!(app.as_client(&admin).get(&theirs).await.body["items"][0]["id"], id.as_str());
        let mixed = app.get("/v1/listings?deleted=true&status=draft").await;
        mixed.problem(400, "invalid_query");
        assert_eq!(mixed.field_errors(), [("status".to_owned(), "invalid_value".to_owned())]);

        let restored = app.post(&restore, &Value::Null).await;
        assert_eq!(restored.status, StatusCode::OK, "{:#}", restored.body);
        assert_eq!(restored.body["status"], "draft");
        assert!(restored.body["deleted_at"].is_null());
        assert_eq!(restored.body["allowed_actions"], json!(["submit", "publish"]));
        let history = app.history(&id);
        let last = history.last().unwrap();
        assert_eq!((last.op.as_str(), last.version), ("restore", restored.body["version"].as_i64().unwrap()));
        assert_eq!(last.data["status"], "draft", "the change log keeps the restored listing");
        assert_eq!(app.as_client(&other).get(&path).await.status, StatusCode::NOT_FOUND, "a draft is its owner's");
        assert!(app.get("/v1/listings?deleted=true").await.body["items"].as_array().unwrap().is_empty(), "no longer deleted");
        let drafts = app.get("/v1/listings?status=draft").await;
        assert_eq!(drafts.body["items"][0]["id"], id.as_str());
        let republished = app.post(&format!("{path}/publish"), &Value::Null).await;
        assert_eq!(republished.body["status"], "published");
        assert_eq!(app.anonymous().get(&path).await.status, StatusCode::OK);
    }

    /// A withdrawn listing is visible to moderators, but only its organization restores it.
    async fn a_withdrawn_listing_is_restored_by_its_organization_only(app: TestApp) {
        let id = app.publish_listing(&listing_body()).await;
        let path = format!("/v1/listings/{id}");
        let withdrawn = app.post(&format!("{path}/withdraw"), &Value::Null).await;
        assert_eq!((withdrawn.body["status"].as_str(), actions(&withdrawn)), (Some("withdrawn"), json!(["restore"])));
        let other = app.new_client(&["listings:write"]).await;
        let moderator = app.new_client(&["listings:moderate"]).await;
        assert_eq!(actions(&app.as_client(&moderator).get(&path).await), json!([]));
        assert_eq!(app.as_client(&other).get(&path).await.status, StatusCode::NOT_FOUND);
        let restore = format!("{path}/restore");
        app.as_client(&moderator).post(&restore, &Value::Null).await.problem(403, "forbidden");
        app.as_client(&other).post(&restore, &Value::Null).await.problem(404, "listing_not_found");
        app.anonymous().post(&restore, &Value::Null).await.problem(401, "unauthorized");
        let reader = app.client_in(&app.publisher.organization_id, &["listings:publish"]).await;
        app.as_client(&reader).post(&restore, &Value::Null).await.problem(403, "insufficient_scope");
        let own = app.get("/v1/listings?status=withdrawn&total=true").await;
        assert_eq!((own.body["total"].as_i64(), actions(&app.get(&path).await)), (Some(1), json!(["restore"])));

        let restored = app.post(&restore, &Value::Null).await;
        assert_eq!(restored.body["status"], "draft", "{:#}", restored.body);
        app.post(&restore, &Value::Null).await.problem(409, "illegal_transition");
    }

    /// Past the restore period the listing stays readable to its owner, but `restore` is no
    /// longer offered and is refused with its own code.
    async fn past_the_restore_period_a_restore_is_refused(app: TestApp) {
        let withdrawn = app.publish_listing(&listing_body()).await;
        app.post(&format!("/v1/listings/{withdrawn}/withdraw"), &Value::Null).await;
        let deleted = app.create_listing(&techex_tests::listing_with(json!({"source": null}))).await;
        app.delete(&format!("/v1/listings/{deleted}")).await;
        app.clock.advance(chrono::Duration::days(30) - chrono::Duration::minutes(1));
        for id in [&withdrawn, &deleted] {
            assert_eq!(actions(&app.get(&format!("/v1/listings/{id}")).await), json!(["restore"]), "still within 30 days");
        }
        app.clock.advance(chrono::Duration::minutes(2));
        let before = app.change_count();
        for id in [&withdrawn, &deleted] {
            let path = format!("/v1/listings/{id}");
            let seen = app.get(&path).await;
            assert_eq!((seen.body["status"].as_str(), actions(&seen)), (Some("withdrawn"), json!([])));
            let refused = app.post(&format!("{path}/restore"), &Value::Null).await;
            refused.problem(409, "restore_period_over");
            assert!(refused.body["detail"].as_str().unwrap().contains("30 days"), "{:#}", refused.body);
        }
        assert_eq!(app.change_count(), before, "nothing written");
        let listed = app.get("/v1/listings?status=withdrawn").await;
        assert_eq!(listed.body["items"][0]["allowed_actions"], json!([]));
    }

    /// The period is the operator's to set (`TECHEX_RESTORE_DAYS`).
    #[options(Options { restore_period: RestorePeriod(chrono::Duration::days(90)), ..Options::default() })]
    async fn the_restore_period_is_configurable(app: TestApp) {
        let id = app.publish_listing(&listing_body()).await;
        app.delete(&format!("/v1/listings/{id}")).await;
        app.clock.advance(chrono::Duration::days(60));
        let restored = app.post(&format!("/v1/listings/{id}/restore"), &Value::Null).await;
        assert_eq!(restored.body["status"], "draft", "{:#}", restored.body);
    }

    /// A deleted listing gives its source back; if another listing took it meanwhile, the
    /// restore is refused whole.
    async fn a_restore_whose_source_was_taken_meanwhile_is_refused_whole(app: TestApp) {
        let id = app.publish_listing(&listing_body()).await;
        let path = format!("/v1/listings/{id}");
        app.delete(&path).await;
        let successor = app.create_listing(&listing_body()).await;
        let refused = app.post(&format!("{path}/restore"), &Value::Null).await;
        refused.problem(409, "duplicate_source");
        let still = app.get(&path).await;
        assert_eq!((still.body["status"].as_str(), still.body["deleted_at"].is_string()), (Some("withdrawn"), true));
        app.delete(&format!("/v1/listings/{successor}")).await;
        let restored = app.post(&format!("{path}/restore"), &Value::Null).await;
        assert_eq!(restored.body["source"], listing_body()["source"], "{:#}", restored.body);
    }
}
