//! `/v1/clients`: versions and ETags of API clients, as of every versioned resource.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::json;
use techex_tests::backend_tests;

backend_tests! {
    async fn client_updates_are_guarded_by_if_match(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let operator = app.as_client(&admin);
        let path = format!("/v1/clients/{}", app.publisher.id);
        let read = operator.get(&path).await;
        assert_eq!((read.status, read.header("etag")), (StatusCode::OK, Some("\"v1\"")));
        let rename = |tag: &str, name: &str| {
            TestRequest::patch().uri(&path).insert_header(("if-match", tag.to_owned())).set_json(json!({"name": name}))
        };
        operator.send(rename("\"v0\"", "Cổng cũ")).await.problem(412, "precondition_failed");
        operator.send(rename("v1", "Cổng cũ")).await.problem(400, "invalid_header");
        let renamed = operator.send(rename("\"v1\"", "Cổng mới")).await;
        assert_eq!((renamed.status, renamed.header("etag")), (StatusCode::OK, Some("\"v2\"")), "{:#}", renamed.body);
        assert_eq!(operator.get(&path).await.body["name"], "Cổng mới");
    }
}
