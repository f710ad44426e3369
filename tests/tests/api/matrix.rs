//! Who may do what, cell by cell: every write endpoint against every kind of caller, each cell
//! on fresh data. Each refusal is checked for its problem code and to have changed nothing;
//! each success to have had its effect.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_tests::{Reply, TestApp, TestClient, backend_tests, listing_with};

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

/// What one caller gets from one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// Done, with this status.
    Done(u16),
    /// Refused with this status and problem code.
    Refused(u16, &'static str),
}

const OK: Cell = Cell::Done(200);
const CREATED: Cell = Cell::Done(201);
const GONE: Cell = Cell::Done(204);
/// No token.
const ANON: Cell = Cell::Refused(401, "unauthorized");
/// The token lacks a scope the operation needs.
const SCOPE: Cell = Cell::Refused(403, "insufficient_scope");
/// The listing belongs to another organization.
const NOT_OWNER: Cell = Cell::Refused(403, "forbidden");
/// The listing belongs to another organization, which keeps it out of this caller's sight.
const HIDDEN: Cell = Cell::Refused(404, "listing_not_found");

/// Expected cells in the order of `ROLES`.
type Row = [Cell; 6];

impl Cell {
    /// Asserts the reply is this cell: the status, and for a refusal its problem code.
    #[track_caller]
    fn check(self, reply: &Reply, what: &str) {
        match self {
            Cell::Done(status) => assert_eq!(reply.status.as_u16(), status, "{what}: {:#}", reply.body),
            Cell::Refused(status, code) => {
                assert_eq!(reply.status.as_u16(), status, "{what}: {:#}", reply.body);
                reply.problem(status, code);
            }
        }
    }

    fn refused(self) -> bool {
        matches!(self, Cell::Refused(..))
    }
}

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

    fn client(&self, app: &TestApp, role: Role) -> Option<TestClient> {
        match role {
            Role::Anonymous => None,
            Role::OtherTenant => Some(self.other_tenant.clone()),
            Role::OwnWithoutScope => Some(self.own_without_scope.clone()),
            Role::OwnWithScope => Some(app.publisher.clone()),
            Role::Moderator => Some(self.moderator.clone()),
            Role::Admin => Some(self.admin.clone()),
        }
    }

    async fn send(&self, app: &TestApp, role: Role, req: TestRequest) -> Reply {
        match self.client(app, role) {
            None => app.anonymous().send(req).await,
            Some(client) => app.as_client(&client).send(req).await,
        }
    }

    /// Reads as the operator, who sees everything.
    async fn read(&self, app: &TestApp, path: &str) -> Reply {
        app.as_client(&self.admin).get(path).await
    }
}

/// A fresh listing of the publisher in `status` (`deleted`: a published listing deleted).
async fn listing_in(app: &TestApp, status: &str) -> String {
    let id = app.create_listing(&listing_with(json!({"source": null}))).await;
    let (moves, reached): (&[&str], &str) = match status {
        "draft" => (&[], "draft"),
        "pending_review" => (&["submit"], "pending_review"),
        "published" | "deleted" => (&["publish"], "published"),
        "withdrawn" => (&["publish", "withdraw"], "withdrawn"),
        other => panic!("no setup for {other}"),
    };
    for action in moves {
        let reply = app.post(&format!("/v1/listings/{id}/{action}"), &Value::Null).await;
        assert_eq!(reply.status.as_u16(), 200, "setting up a {status} listing: {:#}", reply.body);
    }
    assert_eq!(app.get(&format!("/v1/listings/{id}")).await.body["status"], reached, "setting up a {status} listing");
    if status == "deleted" {
        assert_eq!(app.delete(&format!("/v1/listings/{id}")).await.status.as_u16(), 204);
    }
    id
}

async fn check_listing_endpoint(app: &TestApp, callers: &Callers, name: &str, status: &str, expected: Row) {
    for (role, cell) in ROLES.into_iter().zip(expected) {
        let id = listing_in(app, status).await;
        let path = format!("/v1/listings/{id}");
        let before = callers.read(app, &path).await.body;
        let logged_before = app.history(&id).len();
        let req = match name {
            "update" => TestRequest::patch().uri(&path).set_json(json!({"trl": 9})),
            "delete" => TestRequest::delete().uri(&path),
            action => TestRequest::post().uri(&format!("{path}/{action}")),
        }
        // Every write names the version it read, as an approval must.
        .insert_header(("if-match", format!("\"v{}\"", before["version"])));
        let reply = callers.send(app, role, req).await;
        let what = format!("{name} on a {status} listing as {role:?}");
        cell.check(&reply, &what);
        let after = callers.read(app, &path).await;
        let history = app.history(&id);
        if cell.refused() {
            assert_eq!(after.body, before, "a refused {what} changed the listing");
            assert_eq!(history.len(), logged_before, "a refused {what} logged a change");
            continue;
        }
        assert_eq!(history.len(), logged_before + 1, "{what} logged one change");
        let last = history.last().unwrap();
        let actor = format!("client:{}", callers.client(app, role).unwrap().id);
        assert_eq!(last.actor.as_deref(), Some(actor.as_str()), "{what} is recorded as its caller's");
        match name {
            "update" => {
                assert_eq!((after.body["trl"].as_i64(), after.body["version"].as_i64()), (Some(9), Some(2)), "{what}");
                assert_eq!(last.op, "update");
            }
            "delete" => {
                // Gone to others; the operator, like the owner, still reads it.
                app.anonymous().get(&path).await.problem(404, "listing_not_found");
                assert!(after.body["deleted_at"].is_string(), "{what}: {:#}", after.body);
                assert_eq!((last.op.as_str(), last.data["status"].as_str()), ("delete", Some("withdrawn")), "{what}");
            }
            action => {
                let moved_to = match action {
                    "submit" => "pending_review",
                    "publish" => "published",
                    "reject" => "rejected",
                    "withdraw" => "withdrawn",
                    "close" => "closed",
                    "restore" => "draft",
                    other => panic!("no expected status for {other}"),
                };
                assert_eq!(after.body["status"], moved_to, "{what}");
                assert_eq!(reply.body["status"], moved_to, "{what} answers the listing as moved");
                assert_eq!(last.op, action, "{what}");
            }
        }
    }
}

/// The clients of the publisher's organization, as the operator lists them.
async fn client_ids(app: &TestApp, callers: &Callers) -> Vec<String> {
    let path = format!("/v1/clients?organization={}&limit=100", app.publisher.organization_id);
    let listed = callers.read(app, &path).await;
    assert_eq!(listed.status.as_u16(), 200, "{:#}", listed.body);
    listed.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

/// Every organization, as anyone lists them.
async fn organization_ids(app: &TestApp) -> Vec<String> {
    let listed = app.anonymous().get("/v1/organizations?limit=100").await;
    assert_eq!(listed.status.as_u16(), 200, "{:#}", listed.body);
    listed.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect()
}

/// One cell of review and ownership: who sends what to a listing in which status, what it
/// hears, and the status the listing is in afterwards.
struct ReviewCell {
    who: &'static str,
    status: &'static str,
    request: &'static str,
    if_match: bool,
    expected: Cell,
    then: &'static str,
}

backend_tests! {
    // Review holds for what is public: edits after approval, approval of the version read,
    // approval by another organization. Each cell on a fresh listing of the publisher.
    async fn review_follows_the_matrix(app: TestApp) {
        let callers = Callers::new(&app).await;
        let org = app.publisher.organization_id.clone();
        let writer = app.client_in(&org, &["listings:write"]).await;
        let own_moderator = app.client_in(&org, &["listings:write", "listings:moderate"]).await;
        let cells = [
            // An edit by a writer without listings:publish takes a published listing back to review.
            ReviewCell { who: "writer", status: "published", request: "edit", if_match: false, expected: OK, then: "pending_review" },
            ReviewCell { who: "publisher", status: "published", request: "edit", if_match: false, expected: OK, then: "published" },
            ReviewCell { who: "admin", status: "published", request: "edit", if_match: false, expected: OK, then: "published" },
            ReviewCell { who: "writer", status: "pending_review", request: "edit", if_match: false, expected: OK, then: "pending_review" },
            // Approval names the version read, and comes from another organization.
            ReviewCell { who: "moderator", status: "pending_review", request: "publish", if_match: true, expected: OK, then: "published" },
            ReviewCell { who: "moderator", status: "pending_review", request: "publish", if_match: false, expected: Cell::Refused(428, "precondition_required"), then: "pending_review" },
            ReviewCell { who: "admin", status: "pending_review", request: "publish", if_match: false, expected: Cell::Refused(428, "precondition_required"), then: "pending_review" },
            ReviewCell { who: "own_moderator", status: "pending_review", request: "publish", if_match: true, expected: Cell::Refused(403, "self_approval"), then: "pending_review" },
            ReviewCell { who: "publisher", status: "pending_review", request: "publish", if_match: false, expected: OK, then: "published" },
            ReviewCell { who: "own_moderator", status: "pending_review", request: "reject", if_match: false, expected: OK, then: "rejected" },
        ];
        for cell in cells {
            let client = match cell.who {
                "writer" => writer.clone(),
                "own_moderator" => own_moderator.clone(),
                "publisher" => app.publisher.clone(),
                "moderator" => callers.moderator.clone(),
                "admin" => callers.admin.clone(),
                other => panic!("no caller {other}"),
            };
            let id = listing_in(&app, cell.status).await;
            let path = format!("/v1/listings/{id}");
            let before = callers.read(&app, &path).await;
            let mut req = match cell.request {
                "edit" => TestRequest::patch().uri(&path).set_json(json!({"title": {"vi": "Nội dung sửa sau khi duyệt"}})),
                action => TestRequest::post().uri(&format!("{path}/{action}")),
            };
            if cell.if_match {
                req = req.insert_header(("if-match", before.header("etag").unwrap().to_owned()));
            }
            let reply = app.as_client(&client).send(req).await;
            let what = format!("{} {} on a {} listing", cell.who, cell.request, cell.status);
            cell.expected.check(&reply, &what);
            let after = callers.read(&app, &path).await.body;
            assert_eq!(after["status"], cell.then, "{what}");
            if cell.expected.refused() {
                assert_eq!(after, before.body, "a refused {what} changed the listing");
            }
        }
    }

    // A listing's owner: the publisher's own organization, any existing one for the operator.
    async fn owner_claims_follow_the_matrix(app: TestApp) {
        let callers = Callers::new(&app).await;
        let other_org = callers.other_tenant.organization_id.clone();
        let own_org = app.publisher.organization_id.clone();
        let nil = uuid::Uuid::nil().to_string();
        let not_yours = Cell::Refused(422, "validation_failed");
        let cells: [(Role, &str, Cell, Option<&str>); 7] = [
            (Role::OwnWithScope, &own_org, CREATED, None),
            (Role::OwnWithScope, &other_org, not_yours, Some("not_your_organization")),
            (Role::OwnWithScope, &nil, not_yours, Some("not_your_organization")),
            (Role::OtherTenant, &own_org, not_yours, Some("not_your_organization")),
            (Role::Admin, &other_org, CREATED, None),
            (Role::Admin, &nil, not_yours, Some("unknown_organization")),
            (Role::Moderator, &own_org, SCOPE, None),
        ];
        for (role, owner, expected, field_code) in cells {
            let logged_before = app.change_count();
            let body = listing_with(json!({"source": null, "owner": {"organization_id": owner, "name": "Chủ sở hữu"}}));
            let reply = callers.send(&app, role, TestRequest::post().uri("/v1/listings").set_json(body)).await;
            let what = format!("{role:?} naming {owner} as owner");
            expected.check(&reply, &what);
            if let Some(code) = field_code {
                assert_eq!(reply.field_errors(), [("owner.organization_id".to_owned(), code.to_owned())], "{what}");
            }
            let logged = app.change_count() - logged_before;
            assert_eq!(logged, i64::from(!expected.refused()), "{what}");
            if !expected.refused() {
                assert_eq!(reply.body["owner"]["organization_id"], owner, "{what}");
            }
        }
    }

    async fn listing_writes_follow_the_matrix(app: TestApp) {
        let callers = Callers::new(&app).await;
        //                    anon  other      own-   own+     mod        admin
        let create: Row =    [ANON, CREATED,   SCOPE, CREATED, SCOPE,     CREATED];
        for (role, cell) in ROLES.into_iter().zip(create) {
            let listed_before = app.change_count();
            let req = TestRequest::post().uri("/v1/listings").set_json(listing_with(json!({"source": null})));
            let reply = callers.send(&app, role, req).await;
            let what = format!("create as {role:?}");
            cell.check(&reply, &what);
            if cell.refused() {
                assert_eq!(app.change_count(), listed_before, "a refused {what} stored something");
                continue;
            }
            let id = reply.body["id"].as_str().unwrap();
            let stored = callers.read(&app, &format!("/v1/listings/{id}")).await.body;
            let organization = callers.client(&app, role).unwrap().organization_id;
            assert_eq!((stored["status"].as_str(), stored["publisher"].as_str()), (Some("draft"), Some(organization.as_str())), "{what}");
            assert_eq!(app.change_count(), listed_before + 1);
        }
        // Another organization cannot see drafts or listings under review: its writes are 404
        // like its reads, never a 403 that would tell the listing exists.
        check_listing_endpoint(&app, &callers, "update", "draft",           [ANON, HIDDEN,    SCOPE, OK,    SCOPE,     OK]).await;
        check_listing_endpoint(&app, &callers, "delete", "draft",           [ANON, HIDDEN,    SCOPE, GONE,  SCOPE,     GONE]).await;
        check_listing_endpoint(&app, &callers, "submit", "draft",           [ANON, HIDDEN,    SCOPE, OK,    NOT_OWNER, OK]).await;
        check_listing_endpoint(&app, &callers, "publish", "pending_review", [ANON, HIDDEN,    SCOPE, OK,    OK,        OK]).await;
        check_listing_endpoint(&app, &callers, "reject", "pending_review",  [ANON, HIDDEN,    SCOPE, SCOPE, OK,        OK]).await;
        check_listing_endpoint(&app, &callers, "withdraw", "published",     [ANON, NOT_OWNER, SCOPE, OK,    OK,        OK]).await;
        check_listing_endpoint(&app, &callers, "close", "published",        [ANON, NOT_OWNER, SCOPE, OK,    NOT_OWNER, OK]).await;
        // A moderator sees a withdrawn listing but does not restore it; a deleted one only its
        // organization and the operator see.
        check_listing_endpoint(&app, &callers, "restore", "withdrawn",      [ANON, HIDDEN,    SCOPE, OK,    NOT_OWNER, OK]).await;
        check_listing_endpoint(&app, &callers, "restore", "deleted",        [ANON, HIDDEN,    SCOPE, OK,    HIDDEN,    OK]).await;
    }

    async fn organization_and_client_writes_are_the_operators(app: TestApp) {
        let callers = Callers::new(&app).await;
        let operator_only: Row = [ANON, SCOPE, SCOPE, SCOPE, SCOPE, OK];
        let with_admin = |done: Cell| -> Row { [ANON, SCOPE, SCOPE, SCOPE, SCOPE, done] };

        let organization = json!({"kind": "enterprise", "name": {"vi": "Công ty TNHH Cơ khí Biên Hòa"}, "province": "75"});
        for (role, cell) in ROLES.into_iter().zip(with_admin(CREATED)) {
            let before = organization_ids(&app).await;
            let reply = callers.send(&app, role, TestRequest::post().uri("/v1/organizations").set_json(&organization)).await;
            let what = format!("create organization as {role:?}");
            cell.check(&reply, &what);
            let after = organization_ids(&app).await;
            if cell.refused() {
                assert_eq!(after, before, "a refused {what} registered one");
            } else {
                let id = reply.body["id"].as_str().unwrap().to_owned();
                assert_eq!(after.len(), before.len() + 1, "{what}");
                assert!(after.contains(&id), "{what}");
                let stored = app.anonymous().get(&format!("/v1/organizations/{id}")).await.body;
                assert_eq!(stored["name"]["vi"], "Công ty TNHH Cơ khí Biên Hòa");
            }
        }

        let org = app.publisher.organization_id.clone();
        let org_path = format!("/v1/organizations/{org}");
        for (role, cell) in ROLES.into_iter().zip(operator_only) {
            let before = app.anonymous().get(&org_path).await.body;
            let reply = callers.send(&app, role, TestRequest::patch().uri(&org_path).set_json(json!({"province": "79"}))).await;
            let what = format!("update organization as {role:?}");
            cell.check(&reply, &what);
            let after = app.anonymous().get(&org_path).await.body;
            if cell.refused() {
                assert_eq!(after, before, "a refused {what} changed it");
            } else {
                assert_eq!((after["province"].as_str(), after["version"].as_i64()), (Some("79"), Some(2)), "{what}");
            }
        }

        let create_client = json!({"organization_id": org, "name": "Cổng Sở KH&CN", "scopes": ["listings:write"]});
        for (role, cell) in ROLES.into_iter().zip(with_admin(CREATED)) {
            let before = client_ids(&app, &callers).await;
            let reply = callers.send(&app, role, TestRequest::post().uri("/v1/clients").set_json(&create_client)).await;
            let what = format!("create client as {role:?}");
            cell.check(&reply, &what);
            let after = client_ids(&app, &callers).await;
            if cell.refused() {
                assert_eq!(after, before, "a refused {what} registered one");
            } else {
                let (id, secret) = (reply.body["client"]["id"].as_str().unwrap(), reply.body["client_secret"].as_str().unwrap());
                assert_eq!(after.len(), before.len() + 1, "{what}");
                app.token_for(id, secret).await;
            }
        }

        for (suffix, method, body) in [
            ("", Method::GET, None),
            ("", Method::PATCH, Some(json!({"name": "Cổng mới"}))),
            ("/rotate-secret", Method::POST, None),
            ("/revoke", Method::POST, None),
            ("list", Method::GET, None),
        ] {
            for (role, cell) in ROLES.into_iter().zip(operator_only) {
                let target = app.client_in(&org, &["changes:read"]).await;
                let target_path = format!("/v1/clients/{}", target.id);
                let uri = if suffix == "list" { "/v1/clients?limit=100".to_owned() } else { format!("{target_path}{suffix}") };
                let before = callers.read(&app, &target_path).await.body;
                let mut req = TestRequest::default().method(method.clone()).uri(&uri);
                if let Some(body) = &body {
                    req = req.set_json(body);
                }
                let reply = callers.send(&app, role, req).await;
                let what = format!("{method} {uri} as {role:?}");
                cell.check(&reply, &what);
                let after = callers.read(&app, &target_path).await.body;
                let old_secret = app.request_token(&format!("grant_type=client_credentials&client_id={}&client_secret={}", target.id, target.secret), None).await;
                if cell.refused() {
                    assert_eq!(after, before, "a refused {what} changed the client");
                    assert_eq!(old_secret.status.as_u16(), 200, "a refused {what} changed the client's secret");
                    assert!(reply.body.get("client_secret").is_none());
                    continue;
                }
                match (suffix, method.as_str()) {
                    ("", "GET") => {
                        assert_eq!(reply.body["id"], target.id.as_str());
                        assert_eq!(after, before, "{what} is a read");
                    }
                    ("", "PATCH") => {
                        assert_eq!((after["name"].as_str(), after["version"].as_i64()), (Some("Cổng mới"), Some(2)), "{what}");
                    }
                    ("/rotate-secret", _) => {
                        assert_eq!(old_secret.body["error"], "invalid_client", "{what}: the old secret is retired");
                        app.token_for(&target.id, reply.body["client_secret"].as_str().unwrap()).await;
                    }
                    ("/revoke", _) => {
                        assert_eq!(after["active"], false, "{what}");
                        assert_eq!(old_secret.body["error"], "invalid_client", "{what}: a revoked client gets no token");
                    }
                    ("list", _) => {
                        let ids: Vec<&str> = reply.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
                        assert!(ids.contains(&target.id.as_str()), "{what}");
                        assert_eq!(after, before, "{what} is a read");
                    }
                    other => panic!("no effect to check for {other:?}"),
                }
            }
        }
    }
    // Saved searches are kept with changes:read (the matrix's own client without the listing
    // scopes holds it; the publisher does not), for the organization; a refusal changes nothing.
    async fn search_operations_follow_the_matrix(app: TestApp) {
        let callers = Callers::new(&app).await;
        const NOT_FOUND: Cell = Cell::Refused(404, "search_not_found");
        let kept: Row = [ANON, SCOPE, OK, SCOPE, SCOPE, OK];
        let body = json!({"name": "Coffee dryers", "query": "q=sấy cà phê&kind=offer"});
        for (role, cell) in ROLES.into_iter().zip([ANON, SCOPE, CREATED, SCOPE, SCOPE, CREATED]) {
            let before = callers.read(&app, "/v1/searches?total=true").await.body["total"].clone();
            let reply = callers.send(&app, role, TestRequest::post().uri("/v1/searches").set_json(&body)).await;
            let what = format!("create search as {role:?}");
            cell.check(&reply, &what);
            let after = callers.read(&app, "/v1/searches?total=true").await.body["total"].clone();
            let expected = before.as_i64().unwrap() + i64::from(!cell.refused());
            assert_eq!(after.as_i64(), Some(expected), "{what}");
            if !cell.refused() {
                let organization = callers.client(&app, role).unwrap().organization_id;
                assert_eq!(reply.body["organization_id"], organization.as_str(), "{what}");
            }
        }
        let stranger = app.new_client(&["changes:read"]).await;
        for (name, suffix, method, done) in [
            ("read", "", Method::GET, OK),
            ("alerts", "/alerts", Method::GET, OK),
            ("update", "", Method::PATCH, OK),
            ("delete", "", Method::DELETE, GONE),
        ] {
            let row: Row = kept.map(|cell| if cell == OK { done } else { cell });
            for (role, cell) in ROLES.into_iter().zip(row) {
                let owner = callers.client(&app, Role::OwnWithoutScope).unwrap();
                let search = app.as_client(&owner).post("/v1/searches", &body).await;
                let path = format!("/v1/searches/{}", search.body["id"].as_str().unwrap());
                let mut req = TestRequest::default().method(method.clone()).uri(&format!("{path}{suffix}"));
                if method == Method::PATCH {
                    req = req.set_json(json!({"name": "Renamed"}));
                }
                let before = callers.read(&app, &path).await.body;
                let what = format!("{name} search as {role:?}");
                cell.check(&callers.send(&app, role, req).await, &what);
                let after = callers.read(&app, &path).await;
                match (cell.refused(), name) {
                    (true, _) | (false, "read" | "alerts") => assert_eq!(after.body, before, "{what} changed the search"),
                    (false, "update") => assert_eq!((after.body["name"].as_str(), after.body["version"].as_i64()), (Some("Renamed"), Some(2)), "{what}"),
                    (false, _) => {
                        after.problem(404, "search_not_found");
                    }
                }
                // Another organization's client with the scope finds nothing there.
                let req = TestRequest::default().method(method.clone()).uri(&format!("{path}{suffix}"));
                let req = if method == Method::PATCH { req.set_json(json!({"name": "Mine"})) } else { req };
                if name != "delete" || cell.refused() {
                    NOT_FOUND.check(&app.as_client(&stranger).send(req).await, &format!("{name} search as another organization"));
                }
            }
        }
    }
}
