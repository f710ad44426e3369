//! Who may do what, cell by cell: every write endpoint against every kind of caller, each cell
//! on fresh data, each refusal checked to have changed nothing.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{TestApp, TestClient, backend_tests, listing_with};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    /// Another organization, with listings:write and listings:publish.
    OtherTenant,
    /// The owner's organization, without the scopes the endpoint needs.
    OwnWithoutScope,
    /// The owner's organization with listings:write and listings:publish (the publisher).
    OwnWithScope,
    /// Another organization, with listings:moderate only.
    Moderator,
    Admin,
}

const ROLES: [Role; 6] =
    [Role::Anonymous, Role::OtherTenant, Role::OwnWithoutScope, Role::OwnWithScope, Role::Moderator, Role::Admin];

struct Callers {
    other_tenant: TestClient,
    own_without_scope: TestClient,
    moderator: TestClient,
    admin: TestClient,
}

impl Callers {
    async fn new(app: &TestApp) -> Callers {
        Callers {
            other_tenant: app.new_client(&["listings:write", "listings:publish"]).await,
            own_without_scope: app.client_in(&app.publisher.organization_id, &["changes:read"]).await,
            moderator: app.new_client(&["listings:moderate"]).await,
            admin: app.new_client(&["admin"]).await,
        }
    }

    async fn send(&self, app: &TestApp, role: Role, req: TestRequest) -> techex_tests::Reply {
        let client = match role {
            Role::Anonymous => return app.anonymous().send(req).await,
            Role::OtherTenant => &self.other_tenant,
            Role::OwnWithoutScope => &self.own_without_scope,
            Role::OwnWithScope => &app.publisher,
            Role::Moderator => &self.moderator,
            Role::Admin => &self.admin,
        };
        app.as_client(client).send(req).await
    }
}

/// A fresh listing of the publisher in `status`.
async fn listing_in(app: &TestApp, status: &str) -> String {
    let id = app.create_listing(&listing_with(json!({"source": null}))).await;
    let moves: &[&str] = match status {
        "draft" => &[],
        "pending_review" => &["submit"],
        "published" => &["publish"],
        other => panic!("no setup for {other}"),
    };
    for action in moves {
        app.post(&format!("/v1/listings/{id}/{action}"), &Value::Null).await;
    }
    id
}

/// Expected statuses in the order of `ROLES`.
type Row = [u16; 6];

async fn check_listing_endpoint(app: &TestApp, callers: &Callers, name: &str, status: &str, expected: Row) {
    for (role, want) in ROLES.into_iter().zip(expected) {
        let id = listing_in(app, status).await;
        let before = app.get(&format!("/v1/listings/{id}")).await.body;
        // Every write names the version it read, as an approval must.
        let req = match name {
            "update" => TestRequest::patch().uri(&format!("/v1/listings/{id}")).set_json(json!({"trl": 9})),
            "delete" => TestRequest::delete().uri(&format!("/v1/listings/{id}")),
            action => TestRequest::post().uri(&format!("/v1/listings/{id}/{action}")),
        }
        .insert_header(("if-match", format!("\"v{}\"", before["version"])));
        let reply = callers.send(app, role, req).await;
        assert_eq!(reply.status.as_u16(), want, "{name} on a {status} listing as {role:?}: {:#}", reply.body);
        if want >= 400 {
            let after = app.get(&format!("/v1/listings/{id}")).await.body;
            assert_eq!(after, before, "a refused {name} as {role:?} changed the listing");
        }
    }
}

backend_tests! {
    async fn listing_writes_follow_the_matrix(app: TestApp) {
        let callers = Callers::new(&app).await;
        //                                  anon other own-  own+ mod  admin
        let create: Row =                  [401, 201, 403, 201, 403, 201];
        for (role, want) in ROLES.into_iter().zip(create) {
            let reply = callers.send(&app, role, TestRequest::post().uri("/v1/listings").set_json(listing_with(json!({"source": null})))).await;
            assert_eq!(reply.status.as_u16(), want, "create as {role:?}: {:#}", reply.body);
        }
        // Another organization cannot see drafts or listings under review: its writes are 404
        // like its reads, never a 403 that would tell the listing exists.
        check_listing_endpoint(&app, &callers, "update", "draft",            [401, 404, 403, 200, 403, 200]).await;
        check_listing_endpoint(&app, &callers, "delete", "draft",            [401, 404, 403, 204, 403, 204]).await;
        check_listing_endpoint(&app, &callers, "submit", "draft",            [401, 404, 403, 200, 403, 200]).await;
        check_listing_endpoint(&app, &callers, "publish", "pending_review",  [401, 404, 403, 200, 200, 200]).await;
        check_listing_endpoint(&app, &callers, "reject", "pending_review",   [401, 404, 403, 403, 200, 200]).await;
        check_listing_endpoint(&app, &callers, "withdraw", "published",      [401, 403, 403, 200, 200, 200]).await;
        check_listing_endpoint(&app, &callers, "close", "published",         [401, 403, 403, 200, 403, 200]).await;
    }

    async fn organization_and_client_writes_are_the_operators(app: TestApp) {
        let callers = Callers::new(&app).await;
        let organization = json!({"kind": "enterprise", "name": {"vi": "Công ty TNHH Cơ khí Biên Hòa"}, "province": "75"});
        for (role, want) in ROLES.into_iter().zip([401, 403, 403, 403, 403, 201]) {
            let reply = callers.send(&app, role, TestRequest::post().uri("/v1/organizations").set_json(&organization)).await;
            assert_eq!(reply.status.as_u16(), want, "create organization as {role:?}: {:#}", reply.body);
        }
        let org = &app.publisher.organization_id;
        for (role, want) in ROLES.into_iter().zip([401, 403, 403, 403, 403, 200]) {
            let reply = callers.send(&app, role, TestRequest::patch().uri(&format!("/v1/organizations/{org}")).set_json(json!({"province": "79"}))).await;
            assert_eq!(reply.status.as_u16(), want, "update organization as {role:?}: {:#}", reply.body);
        }

        let create_client = json!({"organization_id": org, "name": "Cổng Sở KH&CN", "scopes": ["listings:write"]});
        for (role, want) in ROLES.into_iter().zip([401, 403, 403, 403, 403, 201]) {
            let reply = callers.send(&app, role, TestRequest::post().uri("/v1/clients").set_json(&create_client)).await;
            assert_eq!(reply.status.as_u16(), want, "create client as {role:?}: {:#}", reply.body);
        }
        let cells: [(&str, Method, Option<Value>, u16); 5] = [
            ("", Method::GET, None, 200),
            ("", Method::PATCH, Some(json!({"name": "Cổng mới"})), 200),
            ("/rotate-secret", Method::POST, None, 200),
            ("/revoke", Method::POST, None, 200),
            ("list", Method::GET, None, 200),
        ];
        for (suffix, method, body, admin_status) in cells {
            for (role, want) in ROLES.into_iter().zip([401, 403, 403, 403, 403, admin_status]) {
                let target = app.client_in(org, &["changes:read"]).await;
                let uri = if suffix == "list" { "/v1/clients".to_owned() } else { format!("/v1/clients/{}{suffix}", target.id) };
                let mut req = TestRequest::default().method(method.clone()).uri(&uri);
                if let Some(body) = &body {
                    req = req.set_json(body);
                }
                let reply = callers.send(&app, role, req).await;
                assert_eq!(reply.status.as_u16(), want, "{method} {uri} as {role:?}: {:#}", reply.body);
                if want >= 400 {
                    let still = app.token_for(&target.id, &target.secret).await;
                    assert!(!still.is_empty(), "a refused {method} {uri} changed the client");
                }
            }
        }
    }
}
