//! Expressions of interest: anyone sends one about a published listing, its publisher (and the
//! operator) reads them and marks them answered, nobody else learns they exist, and the sender
//! never gets the owner's contact.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use techex_api::auth::rate_limit::HourlyQuota;
use techex_persistence::change_log;
use techex_tests::{Options, Reply, TestApp, TestClient, backend_tests, listing_with};

/// The contact of the fixture listing's owner, which no answer to a sender may carry.
const OWNER_CONTACT: [&str; 3] = ["an@example.vn", "3822 111", "Nguyễn Văn An"];

fn anonymous_interest() -> Value {
    json!({
        "sender": {"name": "Trần Thị Bình", "organization": "Công ty TNHH Nông sản Xanh",
                   "email": "binh@nongsanxanh.vn", "phone": "+84 28 3822 1234"},
        "message": "Chúng tôi quan tâm đến máy sấy này.\nXin liên hệ.",
        "website": ""
    })
}

/// `anonymous_interest` with some keys of `sender` (and the top level) replaced.
fn interest_with(sender: Value, top: Value) -> Value {
    let mut body = anonymous_interest();
    for (key, value) in sender.as_object().unwrap() {
        body["sender"][key] = value.clone();
    }
    for (key, value) in top.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

#[track_caller]
fn assert_no_owner_contact(reply: &Reply) {
    let text = reply.body.to_string();
    for secret in OWNER_CONTACT {
        assert!(!text.contains(secret), "the owner's contact reached the sender: {text}");
    }
    assert!(reply.body.get("contact").is_none(), "{text}");
}

fn interests_of(listing: &str) -> String {
    format!("/v1/listings/{listing}/interests")
}

/// The change log of one interest.
fn history(app: &TestApp, id: &str) -> Vec<change_log::Change> {
    change_log::history(&mut app.db.conn().unwrap(), "interest", id).unwrap()
}

fn interest_changes(app: &TestApp) -> i64 {
    change_log::count(&mut app.db.conn().unwrap(), "interest").unwrap()
}

/// A published listing of the app's publisher with the fixture's owner contact, and a second
/// client of the publisher without any scope.
async fn published(app: &TestApp) -> String {
    app.publish_listing(&listing_with(json!({"source": null}))).await
}

async fn send_anonymously(app: &TestApp, listing: &str) -> String {
    let sent = app.anonymous().post(&interests_of(listing), &anonymous_interest()).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:#}", sent.body);
    sent.body["id"].as_str().unwrap().to_owned()
}

/// Compares an interest with the committed snapshot `name`: ids and times that are set are
/// redacted, and a `null` stays visible.
fn assert_snapshot(name: &str, value: &Value) {
    let mut value = value.clone();
    for (path, mark) in [
        ("/id", "[id]"),
        ("/listing_id", "[id]"),
        ("/sender/organization_id", "[id]"),
        ("/created_at", "[time]"),
        ("/updated_at", "[time]"),
        ("/answered_at", "[time]"),
    ] {
        if let Some(set) = value.pointer_mut(path).filter(|v| v.is_string()) {
            *set = json!(mark);
        }
    }
    insta::with_settings!({ prepend_module_to_snapshot => false, snapshot_path => "snapshots" }, {
        insta::assert_json_snapshot!(name, value);
    });
}

backend_tests! {
    /// The interest as its sender gets it back and as the publisher reads it once answered,
    /// kept as committed snapshots: a change of either shows as a diff to review.
    async fn an_interest_as_its_sender_and_its_publisher_see_it(app: TestApp) {
        let listing = published(&app).await;
        let sent = app.anonymous().post(&interests_of(&listing), &anonymous_interest()).await;
        assert_snapshot("interest_as_sender", &sent.body);
        let one = format!("{}/{}", interests_of(&listing), sent.body["id"].as_str().unwrap());
        assert_eq!(app.as_client(&app.publisher).post_empty(&format!("{one}/answer")).await.status, StatusCode::OK);
        assert_snapshot("interest_as_publisher", &app.get(&one).await.body);
    }

    /// An anonymous sender gets its interest back as sent (cleaned), never the owner's contact;
    /// the publisher reads it with the sender's contact; the change log records it without a
    /// person's details.
    async fn an_anonymous_sender_reaches_the_publisher_without_seeing_the_owners_contact(app: TestApp) {
        let listing = published(&app).await;
        let mut body = anonymous_interest();
        body["sender"]["name"] = json!("  Trần Thị Bình\u{200B} ");
        body["message"] = json!("Chúng tôi quan tâm đến máy sấy này.\r\nXin liên hệ.");
        let sent = app.anonymous().post(&interests_of(&listing), &body).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{:#}", sent.body);
        assert_no_owner_contact(&sent);
        assert_eq!(sent.header("cache-control"), Some("no-store"));
        assert_eq!(sent.body["listing_id"], listing.as_str());
        assert_eq!(sent.body["sender"]["name"], "Trần Thị Bình");
        assert_eq!(sent.body["sender"]["organization_id"], Value::Null);
        assert_eq!(sent.body["message"], "Chúng tôi quan tâm đến máy sấy này.\nXin liên hệ.");
        assert_eq!((sent.body["answered"].clone(), sent.body["version"].clone()), (json!(false), json!(1)));
        let id = sent.body["id"].as_str().unwrap();

        let page = app.get(&interests_of(&listing)).await;
        assert_eq!(page.status, StatusCode::OK, "{:#}", page.body);
        assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(page.body["items"][0]["id"], id);
        assert_eq!(page.body["items"][0]["sender"]["email"], "binh@nongsanxanh.vn");
        assert_eq!(page.body["items"][0]["sender"]["phone"], "+84 28 3822 1234");
        assert_eq!(page.header("cache-control"), Some("private, no-cache"));

        let log = history(&app, id);
        assert_eq!(log.len(), 1);
        assert_eq!((log[0].op.as_str(), log[0].actor.as_deref()), ("create", Some("anonymous")));
        assert_eq!(log[0].data["listing_id"], listing.as_str());
        let logged = log[0].data.to_string();
        for personal in ["binh@nongsanxanh.vn", "3822 1234", "Trần Thị Bình", "Nông sản Xanh", "máy sấy"] {
            assert!(!logged.contains(personal), "the change log keeps {personal}: {logged}");
        }
    }

    /// An API client sends as its organization, with a message alone; it too never sees the
    /// owner's contact, though authenticated callers see it on the listing itself.
    async fn an_authenticated_client_sends_as_its_organization(app: TestApp) {
        let listing = published(&app).await;
        let buyer = app.new_client(&[]).await;
        let sent = app.as_client(&buyer).post(&interests_of(&listing), &json!({"message": "Quan tâm"})).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{:#}", sent.body);
        assert_no_owner_contact(&sent);
        assert_eq!(sent.body["sender"]["organization_id"], buyer.organization_id.as_str());
        let id = sent.body["id"].as_str().unwrap();
        let log = history(&app, id);
        assert_eq!(log[0].actor.as_deref(), Some(format!("client:{}", buyer.id).as_str()));
        assert_eq!(log[0].actor_organization.as_deref(), Some(buyer.organization_id.as_str()));
        assert_eq!(log[0].data["sender_organization_id"], buyer.organization_id.as_str());

        // With contact details of its own, checked as for anonymous senders.
        let with_contact = json!({"sender": {"name": "Lê Văn C", "email": "c@buyer.vn"}, "message": "Gọi lại giúp"});
        let sent = app.as_client(&buyer).post(&interests_of(&listing), &with_contact).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{:#}", sent.body);
        assert_eq!(sent.body["sender"]["email"], "c@buyer.vn");
        let bad = json!({"sender": {"email": "c-at-buyer"}, "message": "x"});
        let refused = app.as_client(&buyer).post(&interests_of(&listing), &bad).await;
        refused.problem(422, "validation_failed");
        assert_eq!(refused.field_errors(), [("sender.email".to_owned(), "invalid_email".to_owned())]);
    }

    /// Every refusal names its field; nothing of a refused interest is stored.
    async fn every_invalid_interest_is_refused_with_its_field_named(app: TestApp) {
        let listing = published(&app).await;
        let pair = |field: &str, code: &str| (field.to_owned(), code.to_owned());
        let cases = [
            (interest_with(json!({"email": null, "phone": null}), json!({})), vec![pair("sender.email", "required")]),
            (interest_with(json!({"email": "binh-at-nongsan"}), json!({})), vec![pair("sender.email", "invalid_email")]),
            (interest_with(json!({"phone": "gọi tôi"}), json!({})), vec![pair("sender.phone", "invalid_phone")]),
            (interest_with(json!({"name": null, "organization": " "}), json!({})),
             vec![pair("sender.name", "required"), pair("sender.organization", "required")]),
            (interest_with(json!({}), json!({"message": "ư".repeat(2001)})), vec![pair("message", "too_long")]),
            (interest_with(json!({}), json!({"message": "  "})), vec![pair("message", "required")]),
            (interest_with(json!({}), json!({"message": "a\u{1b}[31m"})), vec![pair("message", "control_character")]),
            (interest_with(json!({"name": "n".repeat(201)}), json!({})), vec![pair("sender.name", "too_long")]),
            (interest_with(json!({}), json!({"website": "h".repeat(2001)})), vec![pair("website", "too_long")]),
            (interest_with(json!({}), json!({"price": 1})), vec![pair("price", "unknown_field")]),
            (json!({"sender": {"name": "A", "organization": "B", "email": "a@b.vn"}}), vec![pair("message", "required")]),
            (json!({"sender": null, "message": "x"}),
             vec![pair("sender.name", "required"), pair("sender.organization", "required"), pair("sender.email", "required")]),
        ];
        for (body, expected) in cases {
            let refused = app.anonymous().post(&interests_of(&listing), &body).await;
            refused.problem(422, "validation_failed");
            assert_eq!(refused.field_errors(), expected, "{body}");
            assert_no_owner_contact(&refused);
        }
        let at_limit = interest_with(json!({}), json!({"message": "ư".repeat(2000)}));
        assert_eq!(app.anonymous().post(&interests_of(&listing), &at_limit).await.status, StatusCode::CREATED);
        assert_eq!(app.get(&interests_of(&listing)).await.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(interest_changes(&app), 1);
        let malformed = app.anonymous().send(
            TestRequest::post().uri(&interests_of(&listing)).insert_header(("content-type", "application/json")).set_payload("{\"message\":"),
        ).await;
        malformed.problem(400, "malformed_json");
    }

    /// The `website` field is a trap: a request that fills it hears what any sender hears, and
    /// nothing is stored, logged in the change log or shown to the publisher.
    async fn a_filled_honeypot_is_answered_like_any_other_and_kept_nowhere(app: TestApp) {
        let listing = published(&app).await;
        let trap = interest_with(json!({}), json!({"website": "https://spam.example"}));
        let answered = app.anonymous().post(&interests_of(&listing), &trap).await;
        let genuine = app.anonymous().post(&interests_of(&listing), &anonymous_interest()).await;
        assert_eq!((answered.status, genuine.status), (StatusCode::CREATED, StatusCode::CREATED));
        let keys = |reply: &Reply| reply.body.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&answered), keys(&genuine), "the same shape");
        assert_eq!(answered.body["message"], genuine.body["message"]);
        let page = app.get(&interests_of(&listing)).await;
        let ids: Vec<&str> = page.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [genuine.body["id"].as_str().unwrap()], "only the genuine one is kept");
        assert_eq!(interest_changes(&app), 1);
        let trap_id = answered.body["id"].as_str().unwrap();
        app.get(&format!("{}/{trap_id}", interests_of(&listing))).await.problem(404, "interest_not_found");
        // A trap still follows the rules of every other request: a hidden listing is not found.
        let draft = app.create_listing(&listing_with(json!({"source": null}))).await;
        app.anonymous().post(&interests_of(&draft), &trap).await.problem(404, "listing_not_found");
    }

    /// Only published listings accept interests: one a caller cannot read is not found, one it
    /// reads in another status (its own draft or closed listing) is not open.
    async fn only_published_listings_accept_interests(app: TestApp) {
        let body = anonymous_interest();
        let draft = app.create_listing(&listing_with(json!({"source": null}))).await;
        let closed = published(&app).await;
        assert_eq!(app.post(&format!("/v1/listings/{closed}/close"), &Value::Null).await.status, StatusCode::OK);
        let other = app.new_client(&["listings:write"]).await;
        for listing in [&draft, &closed] {
            app.anonymous().post(&interests_of(listing), &body).await.problem(404, "listing_not_found");
            app.as_client(&other).post(&interests_of(listing), &body).await.problem(404, "listing_not_found");
        }
        let refused = app.post(&interests_of(&draft), &body).await;
        refused.problem(409, "listing_not_open");
        assert!(refused.body["detail"].as_str().unwrap().contains("draft"), "{:#}", refused.body);
        app.post(&interests_of(&closed), &body).await.problem(409, "listing_not_open");
        let in_vietnamese = app
            .send_as_publisher(TestRequest::post().uri(&interests_of(&draft)).insert_header(("accept-language", "vi")).set_json(&body))
            .await;
        in_vietnamese.problem(409, "listing_not_open");
        let detail = in_vietnamese.body["detail"].as_str().unwrap();
        assert!(detail.starts_with("chỉ tin đang công bố mới nhận bày tỏ quan tâm"), "{detail}");
        assert!(!detail.contains("draft"), "the status in Vietnamese too: {detail}");
        let missing = uuid::Uuid::now_v7();
        app.anonymous().post(&interests_of(&missing.to_string()), &body).await.problem(404, "listing_not_found");
        app.anonymous().post(&interests_of("nope"), &body).await.problem(400, "invalid_path");
        assert_eq!(interest_changes(&app), 0);
    }

    /// Anonymous senders have a stricter quota of their own, per address: past it, 429 with
    /// Retry-After under the policy "interest"; another address and API clients still send.
    #[options(Options { interest_quota: HourlyQuota { per_hour: 2, burst: 2 }, ..Options::default() })]
    async fn anonymous_senders_are_limited_per_address(app: TestApp) {
        let listing = published(&app).await;
        let from = |address: &str| {
            TestRequest::post()
                .uri(&interests_of(&listing))
                .peer_addr(format!("{address}:5000").parse().unwrap())
                .set_json(anonymous_interest())
        };
        for _ in 0..2 {
            assert_eq!(app.send(from("127.0.0.50")).await.status, StatusCode::CREATED);
        }
        let refused = app.send(from("127.0.0.50")).await;
        refused.problem(429, "rate_limited");
        let wait: u64 = refused.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!((1..=1800).contains(&wait), "{wait}");
        assert_eq!(refused.header("ratelimit-policy"), Some(r#""interest";q=2;w=3600"#));
        assert_eq!(refused.header("ratelimit"), Some(format!(r#""interest";r=0;t={wait}"#).as_str()));
        // A refused request counts too: the address stays refused.
        app.send(from("127.0.0.50")).await.problem(429, "rate_limited");
        assert_eq!(app.send(from("127.0.0.51")).await.status, StatusCode::CREATED, "another address");
        let client = app.new_client(&[]).await;
        for _ in 0..3 {
            let sent = app.as_client(&client).post(&interests_of(&listing), &json!({"message": "x"})).await;
            assert_eq!(sent.status, StatusCode::CREATED, "clients are counted by the general limit only");
        }
        assert_eq!(interest_changes(&app), 6);
        // Other anonymous requests from the limited address are not affected.
        let read = app.send(TestRequest::get().uri(&format!("/v1/listings/{listing}")).peer_addr("127.0.0.50:5000".parse().unwrap())).await;
        assert_eq!(read.status, StatusCode::OK);
    }

    /// Who may list, read and answer a listing's interests, cell by cell: its publisher's
    /// clients with `listings:write` and the operator; the publisher's client without the scope
    /// hears which one it lacks; anyone else, the sender included, hears the listing does not
    /// exist; anonymous callers must authenticate.
    async fn only_the_publisher_and_the_operator_see_interests(app: TestApp) {
        let listing = published(&app).await;
        let sender = app.new_client(&["listings:write"]).await;
        let sent = app.as_client(&sender).post(&interests_of(&listing), &json!({"message": "Quan tâm"})).await;
        let id = sent.body["id"].as_str().unwrap().to_owned();
        let other = app.new_client(&["listings:write", "listings:publish"]).await;
        let moderator = app.new_client(&["listings:moderate"]).await;
        let unscoped = app.client_in(&app.publisher.organization_id, &[]).await;
        let operator = app.new_client(&["admin"]).await;
        let list = interests_of(&listing);
        let one = format!("{list}/{id}");
        let answer = format!("{one}/answer");

        let anonymous = app.anonymous();
        for reply in [anonymous.get(&list).await, anonymous.get(&one).await, anonymous.post_empty(&answer).await] {
            reply.problem(401, "unauthorized");
        }
        let hidden: [(&str, &TestClient); 3] = [("sender", &sender), ("other", &other), ("moderator", &moderator)];
        for (who, client) in hidden {
            let session = app.as_client(client);
            for reply in [session.get(&list).await, session.get(&one).await, session.post_empty(&answer).await] {
                assert_eq!(reply.status, StatusCode::NOT_FOUND, "{who}: {:#}", reply.body);
                reply.problem(404, "listing_not_found");
            }
        }
        let session = app.as_client(&unscoped);
        for reply in [session.get(&list).await, session.get(&one).await, session.post_empty(&answer).await] {
            reply.problem(403, "insufficient_scope");
        }
        assert!(history(&app, &id).iter().all(|c| c.op == "create"), "no refused answer was written");

        for (who, client) in [("publisher", &app.publisher), ("operator", &operator)] {
            let session = app.as_client(client);
            let page = session.get(&list).await;
            assert_eq!(page.status, StatusCode::OK, "{who}");
            assert_eq!(page.body["items"][0]["id"], id.as_str(), "{who}");
            let read = session.get(&one).await;
            assert_eq!((read.status, read.body["id"].as_str()), (StatusCode::OK, Some(id.as_str())), "{who}");
            assert_eq!(read.header("etag"), Some(format!("\"v{}\"", read.body["version"]).as_str()));
            let answered = session.post_empty(&answer).await;
            assert_eq!(answered.status, StatusCode::OK, "{who}: {:#}", answered.body);
            assert_eq!((answered.body["answered"].clone(), answered.body["version"].clone()), (json!(true), json!(2)));
        }
        // Answering twice (the publisher, then the operator) kept the first answer.
        let log = history(&app, &id);
        assert_eq!(log.iter().map(|c| c.op.as_str()).collect::<Vec<_>>(), ["create", "answer"]);
        assert_eq!(log[1].actor.as_deref(), Some(format!("client:{}", app.publisher.id).as_str()));
        let read = app.get(&one).await;
        assert_eq!(read.body["answered_at"], log[1].data["answered_at"]);
    }

    /// The publisher and the operator see on the listing how many interests it received and how
    /// many wait for an answer, when they name `interests` in `fields`; nobody else sees the
    /// count, and a new interest changes the ETag of that representation.
    async fn the_count_shows_on_the_listing_for_its_publisher_only(app: TestApp) {
        let listing = published(&app).await;
        let path = format!("/v1/listings/{listing}");
        let counted = format!("{path}?fields=interests,version");
        let before = app.get(&counted).await;
        assert_eq!(before.body["interests"], json!({"total": 0, "unanswered": 0}));
        assert!(app.get(&path).await.body.get("interests").is_none(), "only when asked for");
        let first = send_anonymously(&app, &listing).await;
        send_anonymously(&app, &listing).await;
        let answered = app.as_client(&app.publisher).post_empty(&format!("{}/{first}/answer", interests_of(&listing))).await;
        assert_eq!(answered.status, StatusCode::OK);
        let seen = app.get(&counted).await;
        assert_eq!(seen.body["interests"], json!({"total": 2, "unanswered": 1}));
        assert_eq!(seen.body["version"], before.body["version"], "the listing itself did not change");
        assert_eq!(app.get(&format!("{path}?fields=interests")).await.body, json!({"id": listing, "interests": {"total": 2, "unanswered": 1}}));
        let old_tag = before.header("etag").unwrap().to_owned();
        assert_ne!(seen.header("etag"), Some(old_tag.as_str()));
        let revalidated = app.send_as_publisher(TestRequest::get().uri(&counted).insert_header(("if-none-match", old_tag.clone()))).await;
        assert_eq!(revalidated.status, StatusCode::OK, "a stale count is not confirmed");
        let current = seen.header("etag").unwrap().to_owned();
        let unchanged = app.send_as_publisher(TestRequest::get().uri(&counted).insert_header(("if-none-match", current.clone()))).await;
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
        // The tag still names the version for a write.
        let patched = app.send_as_publisher(
            TestRequest::patch().uri(&path).insert_header(("if-match", current)).set_json(json!({"trl": 8})),
        ).await;
        assert_eq!(patched.status, StatusCode::OK, "{:#}", patched.body);

        let operator = app.new_client(&["admin"]).await;
        assert_eq!(app.as_client(&operator).get(&counted).await.body["interests"]["total"], 2);
        let unscoped = app.client_in(&app.publisher.organization_id, &[]).await;
        let other = app.new_client(&["listings:write"]).await;
        let moderator = app.new_client(&["listings:moderate"]).await;
        for session in [app.anonymous(), app.as_client(&unscoped), app.as_client(&other), app.as_client(&moderator)] {
            let reply = session.get(&counted).await;
            assert_eq!(reply.status, StatusCode::OK);
            assert!(reply.body.get("interests").is_none(), "{:#}", reply.body);
        }
        // Pages do not carry it (see the README): only the single listing's read.
        let page = app.get("/v1/listings?status=published&fields=interests").await;
        assert!(page.body["items"][0].get("interests").is_none(), "{:#}", page.body);
    }

    /// A listing's interests come newest first, in cursor pages, filtered by `answered`; an
    /// interest is found only under its own listing.
    async fn interests_are_listed_newest_first_and_filtered_by_answer(app: TestApp) {
        let listing = published(&app).await;
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(send_anonymously(&app, &listing).await);
        }
        let list = interests_of(&listing);
        let answered = app.as_client(&app.publisher).post_empty(&format!("{list}/{}/answer", ids[1])).await;
        assert_eq!(answered.status, StatusCode::OK);
        let first = app.get(&format!("{list}?limit=2&total=true")).await;
        let item_ids = |reply: &Reply| -> Vec<String> {
            reply.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(item_ids(&first), [ids[2].clone(), ids[1].clone()]);
        assert_eq!(first.body["total"], 3);
        let cursor = first.body["next_cursor"].as_str().unwrap();
        let second = app.get(&format!("{list}?limit=2&cursor={cursor}")).await;
        assert_eq!(item_ids(&second), [ids[0].clone()]);
        assert_eq!(second.body["next_cursor"], Value::Null);
        assert_eq!(item_ids(&app.get(&format!("{list}?answered=false")).await), [ids[2].clone(), ids[0].clone()]);
        assert_eq!(item_ids(&app.get(&format!("{list}?answered=true")).await), [ids[1].clone()]);
        let fields = app.get(&format!("{list}?fields=answered")).await;
        assert_eq!(fields.body["items"][0], json!({"id": ids[2], "answered": false}));
        app.get(&format!("{list}?answered=maybe")).await.problem(400, "invalid_query");
        app.get(&format!("{list}?status=open")).await.problem(400, "invalid_query");

        let elsewhere = published(&app).await;
        app.get(&format!("{}/{}", interests_of(&elsewhere), ids[0])).await.problem(404, "interest_not_found");
        app.as_client(&app.publisher).post_empty(&format!("{}/{}/answer", interests_of(&elsewhere), ids[0]))
            .await
            .problem(404, "interest_not_found");
        app.get(&format!("{list}/{}", uuid::Uuid::now_v7())).await.problem(404, "interest_not_found");
        let bad = app.get(&format!("{list}/not-an-id")).await;
        bad.problem(400, "invalid_path");
        assert_eq!(bad.field_errors(), [("interest_id".to_owned(), "invalid_format".to_owned())]);
    }
}
