//! Regressions of the findings of a probe of the live API along the OWASP API Security Top 10:
//! each test shows one attack failing, on both backends where storage is involved.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use serde_json::{Value, json};
use techex_api::auth::token_guard::TokenGuardConfig;
use techex_api::auth::{Claims, KeySet};
use techex_persistence::clients;
use techex_tests::{FIXTURE_EXCHANGE, Options, TestApp, backend_tests, listing_with, test_signing_key};

/// Stores `secret` for `client_id` as an earlier version did: an argon2id hash, slow to check.
fn store_legacy_hash(app: &TestApp, client_id: &str, secret: &str) {
    let id = client_id.parse().unwrap();
    let mut conn = app.db.conn().unwrap();
    let (_, current) = clients::find_with_secret_hash(&mut conn, id).unwrap().unwrap();
    let legacy = argon2::Argon2::default()
        .hash_password(secret.as_bytes(), &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
    clients::replace_secret_hash(&mut conn, id, &current, &legacy).unwrap();
}

fn stored_hash(app: &TestApp, client_id: &str) -> String {
    clients::find_with_secret_hash(&mut app.db.conn().unwrap(), client_id.parse().unwrap()).unwrap().unwrap().1
}

fn wrong_secret_form(client_id: &str, i: usize) -> String {
    format!("grant_type=client_credentials&client_id={client_id}&client_secret=guess-{i}")
}

mod token_endpoint {
    use super::*;

    backend_tests! {
        /// Finding 1: a burst of wrong secrets against a slow (argon2) hash runs at most the
        /// configured number of verifications at once; a right secret still gets its token and its
        /// hash is re-stored as the fast kind.
        #[options(Options { token_guard: TokenGuardConfig { concurrent_verifications: 2, queue_wait: std::time::Duration::from_secs(60), failures_per_client: 1_000, failures_per_address: 1_000, ..TokenGuardConfig::default() }, ..Options::default() })]
        async fn parallel_wrong_secrets_run_a_bounded_number_of_verifications(app: TestApp) {
            let portal = app.new_client(&["listings:write"]).await;
            store_legacy_hash(&app, &portal.id, &portal.secret);
            let forms: Vec<String> = (0..40).map(|i| wrong_secret_form(&portal.id, i)).collect();
            let replies = futures_util::future::join_all(forms.iter().map(|form| app.request_token(form, None))).await;
            for reply in &replies {
                assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:#}", reply.body);
                assert_eq!(reply.body["error"], "invalid_client");
            }
            assert!(app.token_guard.peak_concurrent_verifications() <= 2);
            assert!(app.token_guard.peak_concurrent_verifications() >= 1);

            assert!(stored_hash(&app, &portal.id).starts_with("$argon2id$"));
            app.token_for(&portal.id, &portal.secret).await;
            assert!(stored_hash(&app, &portal.id).starts_with("sha256$"), "re-stored as the fast kind");
            app.token_for(&portal.id, &portal.secret).await;
        }

        /// Finding 1: requests waiting for a verification hold no database connection. With one
        /// connection in the pool and every verification slot taken, a read still gets the
        /// connection at once; if a waiting token request held it, the read would fail with 503
        /// once the pool gave up waiting.
        #[options(Options { pool_size: 1, token_guard: TokenGuardConfig { concurrent_verifications: 1, queue_wait: std::time::Duration::from_secs(60), ..TokenGuardConfig::default() }, ..Options::default() })]
        async fn waiting_token_requests_hold_no_database_connection(app: TestApp) {
            let portal = app.new_client(&["listings:write"]).await;
            let forms: Vec<String> = (0..5).map(|i| wrong_secret_form(&portal.id, i)).collect();
            let occupied = app.token_guard.occupy_all_slots().await;
            let waiting = futures_util::future::join_all(forms.iter().map(|form| app.request_token(form, None)));
            let read_meanwhile = async {
                let read = app.anonymous().get("/v1/listings").await;
                drop(occupied);
                read
            };
            let (tokens, read) = futures_util::future::join(waiting, read_meanwhile).await;
            assert_eq!(read.status, StatusCode::OK, "{:#}", read.body);
            assert!(tokens.iter().all(|r| r.status == StatusCode::UNAUTHORIZED));
        }

        /// Finding 1: a request that waits too long for a verification slot hears 503 with a
        /// Retry-After; failed attempts past the limit for one client id hear 429, even from
        /// elsewhere, while other clients are unaffected.
        #[options(Options { token_guard: TokenGuardConfig { concurrent_verifications: 1, queue_wait: std::time::Duration::from_millis(50), failures_per_client: 3, failures_per_address: 1_000, ..TokenGuardConfig::default() }, ..Options::default() })]
        async fn overload_and_repeated_failures_are_refused_with_a_retry_after(app: TestApp) {
            let (portal, other) = (app.new_client(&["listings:write"]).await, app.new_client(&["listings:write"]).await);
            {
                let _occupied = app.token_guard.occupy_all_slots().await;
                let busy = app.request_token(&wrong_secret_form(&portal.id, 0), None).await;
                assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE);
                assert_eq!(busy.body["error"], "temporarily_unavailable");
                assert_eq!(busy.header("retry-after"), Some("1"));
            }
            for i in 0..3 {
                assert_eq!(
                    app.request_token(&wrong_secret_form(&portal.id, i), None).await.status,
                    StatusCode::UNAUTHORIZED
                );
            }
            let elsewhere = TestRequest::post()
                .uri("/v1/auth/token")
                .peer_addr("127.0.0.9:5000".parse().unwrap())
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(format!(
                    "grant_type=client_credentials&client_id={}&client_secret={}",
                    portal.id, portal.secret
                ));
            let throttled = app.send(elsewhere).await;
            assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS, "{:#}", throttled.body);
            assert_eq!(throttled.body["error"], "too_many_attempts");
            let wait: u64 = throttled.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
            app.token_for(&other.id, &other.secret).await;
        }

    }
}

mod slow_bodies {
    use super::*;
    use actix_http::Payload;
    use actix_web::web::Bytes;
    use futures_util::stream::{self, StreamExt};

    backend_tests! {
        /// Finding 10: a body that trickles in (one byte, then nothing) is answered 408 once the
        /// body timeout passes, on JSON writes and on the token endpoint.
        #[options(Options { body_timeout: techex_api::extract::BodyTimeout(std::time::Duration::from_millis(300)), ..Options::default() })]
        async fn a_body_that_never_completes_times_out(app: TestApp) {
            for (uri, content_type, token) in [
                ("/v1/listings", "application/json", Some(app.publisher.token.clone())),
                ("/v1/auth/token", "application/x-www-form-urlencoded", None),
            ] {
                let mut req = TestRequest::post()
                    .uri(uri)
                    .insert_header(("content-type", content_type))
                    .insert_header(("content-length", "100"));
                if let Some(token) = token {
                    req = req.insert_header(("authorization", format!("Bearer {token}")));
                }
                let trickle = stream::once(async { Ok::<_, actix_http::error::PayloadError>(Bytes::from_static(b"{")) })
                    .chain(stream::pending())
                    .boxed_local();
                let (req, _) = req.to_request().replace_payload(Payload::from(trickle));
                app.send_request(req).await.problem(408, "body_timeout");
            }
        }

    }
}

mod retry_after {
    use super::*;
    use techex_api::auth::rate_limit::Quota;

    backend_tests! {
        /// Finding 11: within the last second of a wait, Retry-After says 1, never 0.
        #[options(Options { anonymous_quota: Quota { per_minute: 600, burst: 1 }, ..Options::default() })]
        async fn retry_after_is_rounded_up(app: TestApp) {
            // A fresh address, so the token requests of the set-up have not spent its quota.
            let from = || TestRequest::get().uri("/healthz").peer_addr("127.0.0.7:5000".parse().unwrap());
            assert_eq!(app.send(from()).await.status, StatusCode::OK);
            let refused = app.send(from()).await;
            refused.problem(429, "rate_limited");
            assert_eq!(refused.header("retry-after"), Some("1"), "100 ms left rounds up to 1 s");
        }

    }
}

async fn etag_of(app: &TestApp, id: &str) -> String {
    app.get(&format!("/v1/listings/{id}")).await.header("etag").unwrap().to_owned()
}

async fn publish_with(
    app: &TestApp,
    moderator: &techex_tests::TestClient,
    id: &str,
    if_match: Option<&str>,
) -> techex_tests::Reply {
    let mut req = TestRequest::post().uri(&format!("/v1/listings/{id}/publish"));
    if let Some(tag) = if_match {
        req = req.insert_header(("if-match", tag.to_owned()));
    }
    app.as_client(moderator).send(req).await
}

backend_tests! {
    // Finding 2: an approval covers the version the moderator read, and an edit after approval
    // by a client that may not publish takes the listing off the market until reviewed again.
    async fn approval_covers_the_version_reviewed_and_later_edits_are_reviewed_again(app: TestApp) {
        let writer = app.client_in(&app.publisher.organization_id, &["listings:write"]).await;
        let moderator = app.new_client(&["listings:moderate"]).await;
        let id = app.as_client(&writer).post("/v1/listings", &listing_with(json!({"source": null}))).await.body["id"].as_str().unwrap().to_owned();
        app.as_client(&writer).post_empty(&format!("/v1/listings/{id}/publish")).await;
        let reviewed = etag_of(&app, &id).await;
        let edited = app.as_client(&writer).patch(&format!("/v1/listings/{id}"), &json!({"title": {"vi": "Nội dung khác sau khi đọc"}})).await;
        assert_eq!(edited.body["status"], "pending_review");
        publish_with(&app, &moderator, &id, None).await.problem(428, "precondition_required");
        publish_with(&app, &moderator, &id, Some(&reviewed)).await.problem(412, "precondition_failed");
        let current = etag_of(&app, &id).await;
        let approved = publish_with(&app, &moderator, &id, Some(&current)).await;
        assert_eq!(approved.body["status"], "published", "{:#}", approved.body);

        let scam = json!({"title": {"vi": "Chuyển khoản trước để nhận công nghệ"}, "owner": {"name": "Ban quản lý sàn"}});
        let after = app.as_client(&writer).patch(&format!("/v1/listings/{id}"), &scam).await;
        assert_eq!(after.status, StatusCode::OK);
        assert_eq!(after.body["status"], "pending_review", "back to review, not public");
        app.anonymous().get(&format!("/v1/listings/{id}")).await.problem(404, "listing_not_found");
        let public = app.anonymous().get("/v1/listings").await;
        assert!(!public.body.to_string().contains("Chuyển khoản trước"));

        // A publisher trusted to publish without review keeps its edits public.
        let trusted = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let kept = app.patch(&format!("/v1/listings/{trusted}"), &json!({"trl": 8})).await;
        assert_eq!(kept.body["status"], "published");
    }

    // Finding 7: a moderator cannot approve its own organization's listing.
    async fn moderators_do_not_approve_their_own_organizations_listings(app: TestApp) {
        let writer = app.client_in(&app.publisher.organization_id, &["listings:write"]).await;
        let own_moderator = app.client_in(&app.publisher.organization_id, &["listings:write", "listings:moderate"]).await;
        let id = app.as_client(&writer).post("/v1/listings", &listing_with(json!({"source": null}))).await.body["id"].as_str().unwrap().to_owned();
        app.as_client(&writer).post_empty(&format!("/v1/listings/{id}/submit")).await;
        let tag = etag_of(&app, &id).await;
        publish_with(&app, &own_moderator, &id, Some(&tag)).await.problem(403, "self_approval");
        assert_eq!(app.get(&format!("/v1/listings/{id}")).await.body["status"], "pending_review");
        let other_moderator = app.new_client(&["listings:moderate"]).await;
        assert_eq!(publish_with(&app, &other_moderator, &id, Some(&tag)).await.body["status"], "published");
    }

    // Finding 3: a body with 150,000 field codes gets a short answer with a bounded number of
    // errors, and so does one with many bad items.
    async fn validation_errors_are_bounded(app: TestApp) {
        let codes: Vec<String> = (0..150_000).map(|i| format!("{}", 100 + i % 900)).collect();
        let huge = app.post("/v1/listings", &listing_with(json!({"field_codes": codes}))).await;
        huge.problem(422, "validation_failed");
        assert_eq!(huge.field_errors(), [("field_codes".to_owned(), "too_many".to_owned())]);
        assert!(huge.body.to_string().len() < 2_000);

        let bad_media: Vec<Value> = (0..20).map(|_| json!({"url": "ftp://x", "kind": "image", "title": "a\u{0}"})).collect();
        let bad_keywords: Vec<String> = (0..20).map(|i| format!("k{i}\u{1b}")).collect();
        let many = app.post("/v1/listings", &listing_with(json!({"media": bad_media, "keywords": bad_keywords}))).await;
        let errors = many.field_errors();
        assert_eq!(errors.len(), 51, "{:#}", many.body);
        assert_eq!(errors.last().unwrap().1, "too_many_errors");
        assert_eq!(app.change_count(), 0);
    }

    // Finding 4: a source exchange belongs to the organization the operator registered it for.
    async fn source_records_cannot_be_squatted(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let dong_nai = app.new_client_holding(&["listings:write", "listings:publish"], &["dongnai"]).await;
        let squatter = app.new_client(&["listings:write", "listings:publish"]).await;
        let record = listing_with(json!({"source": {"exchange": "dongnai", "external_id": "DN-2025-002"}}));

        let squat = app.as_client(&squatter).post("/v1/listings", &record).await;
        squat.problem(422, "validation_failed");
        assert_eq!(squat.field_errors(), [("source.exchange".to_owned(), "source_exchange_not_held".to_owned())]);
        let created = app.as_client(&dong_nai).post("/v1/listings", &record).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:#}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        // The squatter hears the same whether or not the record exists: nothing is revealed.
        let again = app.as_client(&squatter).post("/v1/listings", &record).await;
        assert_eq!(again.body["errors"], squat.body["errors"]);
        // An organization's own duplicate is still one listing per record.
        app.as_client(&dong_nai).post("/v1/listings", &record).await.problem(409, "duplicate_source");
        // Editing another's source in is refused too.
        let own = app.as_client(&squatter).post("/v1/listings", &listing_with(json!({"source": null}))).await.body["id"].as_str().unwrap().to_owned();
        let moved = app.as_client(&squatter).patch(&format!("/v1/listings/{own}"), &json!({"source": {"exchange": "dongnai", "external_id": "DN-9"}})).await;
        assert_eq!(moved.field_errors(), [("source.exchange".to_owned(), "source_exchange_not_held".to_owned())]);
        // A deleted listing gives its source back to its owner.
        assert_eq!(app.as_client(&dong_nai).delete(&format!("/v1/listings/{id}")).await.status, StatusCode::NO_CONTENT);
        assert_eq!(app.as_client(&dong_nai).post("/v1/listings", &record).await.status, StatusCode::CREATED);
        // The operator cannot give one exchange to two organizations.
        let squatter_org = &squatter.organization_id;
        let claim = app.as_client(&admin).patch(&format!("/v1/organizations/{squatter_org}"), &json!({"source_exchanges": ["dongnai"]})).await;
        claim.problem(409, "duplicate_source_exchange");
        let held = app.as_client(&admin).get(&format!("/v1/organizations/{}", dong_nai.organization_id)).await;
        assert_eq!(held.body["source_exchanges"], json!(["dongnai"]));
    }

    // Finding 5: control characters are refused and invisible-only text is empty, with the
    // same answer on both backends (a NUL byte was a 500 on PostgreSQL).
    async fn control_characters_are_refused_the_same_on_both_backends(app: TestApp) {
        let cases = [
            (json!({"title": {"vi": "Máy\u{0}sấy"}}), "title.vi", "control_character"),
            (json!({"title": {"vi": "\u{200B}\u{FEFF}"}}), "title.vi", "required"),
            (json!({"title": {"vi": "Máy sấy\r\nX-Injected: 1"}}), "title.vi", "control_character"),
            (json!({"owner": {"name": "Viện \u{202E}gnựd yâx"}}), "owner.name", "control_character"),
            (json!({"source": {"exchange": FIXTURE_EXCHANGE, "external_id": "SP\u{0}1"}}), "source.external_id", "control_character"),
            (json!({"keywords": ["\u{1b}[2J"]}), "keywords[0]", "control_character"),
        ];
        for (change, field, code) in cases {
            let reply = app.post("/v1/listings", &listing_with(change)).await;
            reply.problem(422, "validation_failed");
            assert_eq!(reply.field_errors(), [(field.to_owned(), code.to_owned())]);
        }
        let multi_line = listing_with(json!({"description": {"vi": "Dòng một\r\nDòng hai"}, "title": {"vi": "  Ma\u{301}y sấy\u{200B} "}}));
        let created = app.post("/v1/listings", &multi_line).await;
        assert_eq!(created.body["description"]["vi"], "Dòng một\nDòng hai");
        assert_eq!(created.body["title"]["vi"], "Máy sấy", "trimmed and composed (NFC)");

        let admin = app.new_client(&["admin"]).await;
        let org = app.as_client(&admin).post("/v1/organizations", &json!({"kind": "enterprise", "name": {"vi": "Công ty\u{0}"}, "province": "75"})).await;
        assert_eq!(org.field_errors(), [("name.vi".to_owned(), "control_character".to_owned())]);
        let client = json!({"organization_id": app.publisher.organization_id, "name": "Cổng\u{0}", "scopes": ["listings:write"]});
        let refused = app.as_client(&admin).post("/v1/clients", &client).await;
        assert_eq!(refused.field_errors(), [("name".to_owned(), "control_character".to_owned())]);
    }

    // Finding 6: a listing's owner is the publisher's own organization; only the operator may
    // name another, and it must exist.
    async fn a_listing_cannot_claim_another_owner(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let other_org = app.new_client(&[]).await.organization_id;
        let claim = |org: &str| listing_with(json!({"source": null, "owner": {"organization_id": org, "name": "Chủ sở hữu"}}));
        let refused = app.post("/v1/listings", &claim(&admin.organization_id)).await;
        refused.problem(422, "validation_failed");
        assert_eq!(refused.field_errors(), [("owner.organization_id".to_owned(), "not_your_organization".to_owned())]);
        let nil = app.post("/v1/listings", &claim(&uuid::Uuid::nil().to_string())).await;
        assert_eq!(nil.field_errors(), [("owner.organization_id".to_owned(), "not_your_organization".to_owned())]);
        let own = app.create_listing(&claim(&app.publisher.organization_id)).await;
        let moved = app.patch(&format!("/v1/listings/{own}"), &json!({"owner": {"organization_id": other_org}})).await;
        assert_eq!(moved.field_errors(), [("owner.organization_id".to_owned(), "not_your_organization".to_owned())]);

        let unknown = app.as_client(&admin).post("/v1/listings", &claim(&uuid::Uuid::nil().to_string())).await;
        assert_eq!(unknown.field_errors(), [("owner.organization_id".to_owned(), "unknown_organization".to_owned())]);
        let by_operator = app.as_client(&admin).post("/v1/listings", &claim(&other_org)).await;
        assert_eq!(by_operator.status, StatusCode::CREATED, "{:#}", by_operator.body);
        assert_eq!(app.change_count(), 2);
    }

    // Finding 9: writes to a listing the caller may not see answer 404, as reads do.
    async fn writes_reveal_no_hidden_listing(app: TestApp) {
        let stranger = app.new_client(&["listings:write", "listings:publish"]).await;
        let draft = app.create_listing(&listing_with(json!({"source": null}))).await;
        let session = app.as_client(&stranger);
        session.get(&format!("/v1/listings/{draft}")).await.problem(404, "listing_not_found");
        session.delete(&format!("/v1/listings/{draft}")).await.problem(404, "listing_not_found");
        session.patch(&format!("/v1/listings/{draft}"), &json!({"trl": 3})).await.problem(404, "listing_not_found");
        for action in ["submit", "publish", "withdraw", "close", "reject"] {
            session.post_empty(&format!("/v1/listings/{draft}/{action}")).await.problem(404, "listing_not_found");
        }
        let missing = uuid::Uuid::now_v7();
        session.delete(&format!("/v1/listings/{missing}")).await.problem(404, "listing_not_found");
        assert_eq!(app.get(&format!("/v1/listings/{draft}")).await.body["version"], 1);
    }

    // Finding 8: secrets sent in a query string never reach the log.
    async fn secrets_in_query_strings_are_redacted_from_the_log(app: TestApp) {
        techex_tests::capture_logs();
        let marker = uuid::Uuid::now_v7().simple().to_string();
        let secrets = [format!("s3cret{marker}"), format!("tok{marker}"), format!("pw{marker}")];
        let uri = format!(
            "/v1/auth/token?client_secret={}&access_token={}&Pass%77ord={}&scope=listings%3Awrite&probe={marker}",
            secrets[0], secrets[1], secrets[2]
        );
        app.anonymous().send(TestRequest::post().uri(&uri)).await;
        app.anonymous().get(&format!("/v1/listings?access_token={}&probe={marker}", secrets[1])).await;
        let logs = techex_tests::captured_logs();
        let lines: Vec<&str> = logs.lines().filter(|l| l.contains(&marker)).collect();
        assert_eq!(lines.len(), 2, "both requests are logged: {lines:?}");
        for secret in &secrets {
            assert!(!logs.contains(secret.as_str()), "{secret} reached the log");
        }
        assert!(lines[0].contains("client_secret=[redacted]") && lines[0].contains("scope=listings%3Awrite"), "{}", lines[0]);
    }

    // Finding 12: headers that stop browsers from sniffing, framing or running what the API
    // answers.
    async fn every_answer_carries_the_browser_safety_headers(app: TestApp) {
        for path in ["/v1/listings", "/v1/nothing-here", "/healthz", "/openapi.json", "/docs/"] {
            let reply = app.anonymous().get(path).await;
            assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{path}");
            assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{path}");
            let policy = reply.header("content-security-policy").unwrap_or_default();
            assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
        }
        let docs = app.anonymous().get("/docs/").await;
        assert!(docs.header("content-security-policy").unwrap().contains("script-src 'self'"));
        assert_eq!(app.anonymous().get("/v1/listings").await.header("content-security-policy"), Some("default-src 'none'; frame-ancestors 'none'"));
    }

    // Finding 13: rotating a secret ends the tokens issued before; dates past any sane expiry
    // are refused rather than echoed.
    async fn rotation_ends_old_tokens_and_absurd_dates_are_refused(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let portal = app.new_client(&["listings:write"]).await;
        let keys = KeySet::from_pems(&[test_signing_key()], "techex", "techex-api").unwrap();
        let now = chrono::Utc::now().timestamp();
        let issued_earlier = keys.sign(&Claims {
            iss: "techex".into(),
            aud: "techex-api".into(),
            sub: portal.id.clone(),
            org: portal.organization_id.clone(),
            scope: "listings:write".into(),
            exp: now + 600,
            iat: now - 5,
            nbf: now - 5,
            jti: uuid::Uuid::now_v7().to_string(),
        });
        let body = listing_with(json!({"source": null}));
        assert_eq!(app.with_token(&issued_earlier).post("/v1/listings", &body).await.status, StatusCode::CREATED);
        let rotated = app.as_client(&admin).post_empty(&format!("/v1/clients/{}/rotate-secret", portal.id)).await;
        let secret = rotated.body["client_secret"].as_str().unwrap().to_owned();
        app.with_token(&issued_earlier).post("/v1/listings", &body).await.problem(401, "invalid_token");
        let fresh = app.token_for(&portal.id, &secret).await;
        assert_eq!(app.with_token(&fresh).post("/v1/listings", &body).await.status, StatusCode::CREATED);

        for date in ["+262142-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
            let far = app.post("/v1/listings", &listing_with(json!({"source": null, "expires_at": date}))).await;
            assert_eq!(far.field_errors(), [("expires_at".to_owned(), "too_far".to_owned())], "{date}: {:#}", far.body);
        }
    }
}
