use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::json;
use techex_tests::backend_tests;

backend_tests! {
    async fn health_and_readiness_answer(app: TestApp) {
        let health = app.get("/healthz").await;
        assert_eq!((health.status, health.body.clone()), (StatusCode::OK, json!({"status": "ok"})));
        let ready = app.get("/readyz").await;
        assert_eq!(ready.status, StatusCode::OK);
        let expected = match app.db.backend() {
            techex_persistence::Backend::Sqlite => "sqlite",
            techex_persistence::Backend::Postgres => "postgres",
        };
        assert_eq!(ready.body, json!({"status": "ready", "database": expected}));
    }

    async fn every_response_carries_a_request_id(app: TestApp) {
        let first = app.get("/healthz").await;
        let second = app.get("/v1/nowhere").await;
        let (a, b) = (first.header("x-request-id").unwrap(), second.header("x-request-id").unwrap());
        assert!(uuid::Uuid::parse_str(a).is_ok() && uuid::Uuid::parse_str(b).is_ok());
        assert_ne!(a, b);
        let echoed = app.send(TestRequest::get().uri("/healthz").insert_header(("x-request-id", "portal-binhduong-42"))).await;
        assert_eq!(echoed.header("x-request-id"), Some("portal-binhduong-42"));
        let unsafe_id = app.send(TestRequest::get().uri("/healthz").insert_header(("x-request-id", "a b\"c"))).await;
        assert_ne!(unsafe_id.header("x-request-id"), Some("a b\"c"), "odd ids are replaced, not echoed");
    }

    async fn swagger_ui_and_the_spec_are_served(app: TestApp) {
        let spec = app.get("/openapi.json").await;
        assert_eq!(spec.status, StatusCode::OK);
        assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"));
        let ui = app.get("/docs/").await;
        assert_eq!(ui.status, StatusCode::OK);
        assert!(ui.body.as_str().unwrap().contains("swagger-ui"), "Swagger UI page");
    }

    async fn every_documented_operation_is_served(app: TestApp) {
        let spec = app.get("/openapi.json").await.body;
        let id = uuid::Uuid::now_v7().to_string();
        let mut checked = 0;
        for (path, item) in spec["paths"].as_object().unwrap() {
            let uri = path.replace("{id}", &id);
            for method in ["get", "post", "patch", "delete", "put"] {
                if item.get(method).is_none() {
                    continue;
                }
                let request = TestRequest::default().method(method.to_uppercase().parse().unwrap()).uri(&uri);
                let reply = app.send(request).await;
                assert!(!reply.status.is_server_error(), "{method} {path} fails: {:#}", reply.body);
                assert!(
                    !matches!(reply.body["code"].as_str(), Some("not_found" | "method_not_allowed")),
                    "{method} {path} is documented but not served: {:#}",
                    reply.body
                );
                checked += 1;
            }
        }
        assert!(checked >= 17, "only {checked} operations documented");
    }
}
