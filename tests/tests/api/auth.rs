use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use techex_api::auth::{Claims, KeySet};
use techex_tests::{Options, PORTAL_ORIGIN, TestApp, backend_tests, listing_with, test_signing_key};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

/// Claims as the hub would issue them for the publisher, now.
fn valid_claims(app: &TestApp) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: "techex".into(),
        aud: "techex-api".into(),
        sub: app.publisher.id.clone(),
        org: app.publisher.organization_id.clone(),
        scope: "listings:write listings:publish".into(),
        exp: now + 600,
        iat: now,
        nbf: now,
        jti: uuid::Uuid::now_v7().to_string(),
    }
}

fn sign(claims: &Claims) -> String {
    KeySet::from_pems(&[test_signing_key()], &claims.iss, &claims.aud).unwrap().sign(claims)
}

fn body_credentials(client: &techex_tests::TestClient) -> String {
    format!("grant_type=client_credentials&client_id={}&client_secret={}", client.id, client.secret)
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

backend_tests! {
    async fn client_credentials_give_a_short_lived_eddsa_token(app: TestApp) {
        let client = &app.publisher;
        for (form, authorization) in [
            (body_credentials(client), None),
            ("grant_type=client_credentials".to_owned(), Some(basic(&client.id, &client.secret))),
        ] {
            let reply = app.request_token(&form, authorization.as_deref()).await;
            assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
            assert_eq!(reply.header("cache-control"), Some("no-store"));
            assert_eq!(reply.body["token_type"], "Bearer");
            assert_eq!(reply.body["expires_in"], 900);
            assert_eq!(reply.body["scope"], "listings:write listings:publish");
            let token = reply.body["access_token"].as_str().unwrap();
            let header = header_of(token);
            assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some("EdDSA"), Some("at+jwt")));
            let claims = claims_of(token);
            assert_eq!(claims["iss"], "techex");
            assert_eq!(claims["aud"], "techex-api");
            assert_eq!(claims["sub"], client.id.as_str());
            assert_eq!(claims["org"], client.organization_id.as_str());
            assert_eq!(claims["scope"], "listings:write listings:publish");
            let (iat, nbf, exp) = (claims["iat"].as_i64().unwrap(), claims["nbf"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
            assert!(nbf <= iat && exp - iat == 900);
            assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
        }
        let narrowed = app.request_token(&format!("{}&scope=listings:write", body_credentials(client)), None).await;
        assert_eq!(narrowed.body["scope"], "listings:write");
        assert_eq!(claims_of(narrowed.body["access_token"].as_str().unwrap())["scope"], "listings:write");
    }

    async fn partners_verify_tokens_with_the_published_keys(app: TestApp) {
        let jwks = app.anonymous().get("/.well-known/jwks.json").await;
        assert_eq!(jwks.status, StatusCode::OK);
        let token = &app.publisher.token;
        let kid = header_of(token)["kid"].as_str().unwrap().to_owned();
        let key = jwks.body["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("the signing key is published");
        assert_eq!((key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()), (Some("OKP"), Some("Ed25519"), Some("EdDSA")));
        assert!(key.get("d").is_none(), "no private part");
        let decoding = jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.set_audience(&["techex-api"]);
        validation.set_issuer(&["techex"]);
        let verified = jsonwebtoken::decode::<Value>(token, &decoding, &validation).unwrap();
        assert_eq!(verified.claims["sub"], app.publisher.id.as_str());
    }

    async fn token_request_fields_longer_than_documented_are_refused(app: TestApp) {
        let spec = app.anonymous().get("/openapi.json").await.body;
        let fields = spec["components"]["schemas"]["TokenRequest"]["properties"].clone();
        let client = &app.publisher;
        for name in ["grant_type", "scope", "client_id", "client_secret"] {
            let max = fields[name]["maxLength"].as_u64().unwrap() as usize;
            let mut form: Vec<(&str, String)> = vec![
                ("grant_type", "client_credentials".to_owned()),
                ("client_id", client.id.clone()),
                ("client_secret", client.secret.clone()),
            ];
            form.retain(|(field, _)| *field != name);
            form.push((name, "a".repeat(max + 1)));
            let body = form.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
            let reply = app.request_token(&body, None).await;
            assert_eq!(reply.status.as_u16(), 400, "{name}: {:#}", reply.body);
            assert_eq!(reply.body["error"], "invalid_request", "{name}");
            assert!(reply.body["error_description"].as_str().unwrap().contains(name), "{:#}", reply.body);
        }
        // Every scope at once is as long as a scope may be.
        let every_scope = spec["components"]["schemas"]["Scope"]["enum"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect::<Vec<_>>().join(" ");
        assert_eq!(every_scope.len() as u64, fields["scope"]["maxLength"].as_u64().unwrap());
    }

    async fn the_token_endpoint_answers_rfc_6749_errors(app: TestApp) {
        let client = &app.publisher;
        let wrong_secret = format!("grant_type=client_credentials&client_id={}&client_secret=wrong", client.id);
        let unknown_client = format!("grant_type=client_credentials&client_id={}&client_secret=x", uuid::Uuid::now_v7());
        let cases: Vec<(String, Option<String>, u16, &str)> = vec![
            (wrong_secret, None, 401, "invalid_client"),
            (unknown_client, None, 401, "invalid_client"),
            ("grant_type=client_credentials&client_id=not-a-uuid&client_secret=x".into(), None, 401, "invalid_client"),
            ("grant_type=client_credentials".into(), None, 401, "invalid_client"),
            ("grant_type=client_credentials".into(), Some(basic(&client.id, "wrong")), 401, "invalid_client"),
            ("grant_type=client_credentials".into(), Some("Bearer abc".into()), 401, "invalid_client"),
            (body_credentials(client), Some(basic(&client.id, &client.secret)), 400, "invalid_request"),
            (body_credentials(client).replace("client_credentials", "password"), None, 400, "unsupported_grant_type"),
            (body_credentials(client).replace("grant_type=client_credentials&", ""), None, 400, "invalid_request"),
            (format!("{}&scope=admin", body_credentials(client)), None, 400, "invalid_scope"),
            (format!("{}&scope=listings:everything", body_credentials(client)), None, 400, "invalid_scope"),
        ];
        for (form, authorization, status, error) in cases {
            let reply = app.request_token(&form, authorization.as_deref()).await;
            assert_eq!(reply.status.as_u16(), status, "{form}: {:#}", reply.body);
            assert_eq!(reply.body["error"], error, "{form}");
            assert!(reply.body["error_description"].is_string());
            assert_eq!(reply.header("content-type"), Some("application/json"));
            if status == 401 {
                assert_eq!(reply.header("www-authenticate"), Some("Basic realm=\"techex\""));
            }
        }
        // Good credentials in a JSON body get no token: RFC 6749 asks for a form.
        let as_json = app
            .send(TestRequest::post().uri("/v1/auth/token").set_json(json!({
                "grant_type": "client_credentials", "client_id": client.id, "client_secret": client.secret
            })))
            .await;
        assert_eq!(as_json.status.as_u16(), 400, "{:#}", as_json.body);
        assert_eq!(as_json.header("content-type"), Some("application/json"));
        assert_eq!(as_json.body["error"], "invalid_request");
        assert!(as_json.body["error_description"].as_str().is_some_and(|d| d.contains("x-www-form-urlencoded")), "{:#}", as_json.body);
        assert!(as_json.body.get("access_token").is_none());
    }

    async fn forged_broken_and_stale_tokens_are_refused(app: TestApp) {
        let good = sign(&valid_claims(&app));
        assert_eq!(app.with_token(&good).post("/v1/listings", &listing_with(json!({"source": null}))).await.status, StatusCode::CREATED);

        let now = chrono::Utc::now().timestamp();
        let segments: Vec<&str> = good.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let mut escalated = valid_claims(&app);
        escalated.scope = "admin".into();
        let tampered = format!("{}.{}.{}", segments[0], URL_SAFE_NO_PAD.encode(serde_json::to_vec(&escalated).unwrap()), segments[2]);
        let public_x = app.anonymous().get("/.well-known/jwks.json").await.body["keys"][0]["x"].as_str().unwrap().to_owned();
        let mut hs256 = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        hs256.kid = header_of(&good)["kid"].as_str().map(str::to_owned);
        let confused = jsonwebtoken::encode(&hs256, &valid_claims(&app), &jsonwebtoken::EncodingKey::from_secret(public_x.as_bytes())).unwrap();
        let other_key = KeySet::from_pems(&[KeySet::generate_pem()], "techex", "techex-api").unwrap().sign(&valid_claims(&app));
        let with = |change: &dyn Fn(&mut Claims)| {
            let mut claims = valid_claims(&app);
            change(&mut claims);
            sign(&claims)
        };
        let attacks = [
            ("alg none", format!("{none_header}.{}.", segments[1])),
            ("HS256 signed with the public key", confused),
            ("expired", with(&|c| { c.exp = now - 120; c.iat = now - 1000; c.nbf = now - 1000; })),
            ("not yet valid", with(&|c| c.nbf = now + 300)),
            ("wrong audience", with(&|c| c.aud = "another-api".into())),
            ("wrong issuer", with(&|c| c.iss = "someone-else".into())),
            ("tampered payload", tampered),
            ("unknown kid", other_key),
            ("unknown client", with(&|c| c.sub = uuid::Uuid::now_v7().to_string())),
            ("client of another organization", with(&|c| c.org = uuid::Uuid::now_v7().to_string())),
            ("garbage", "garbage".to_owned()),
            ("empty segments", "..".to_owned()),
        ];
        for (name, token) in attacks {
            for reply in [
                app.with_token(&token).post("/v1/listings", &listing_with(json!({"source": null}))).await,
                app.with_token(&token).get("/v1/listings").await,
            ] {
                assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name}: {:#}", reply.body);
                reply.problem(401, "invalid_token");
                assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"techex\", error=\"invalid_token\""), "{name}");
            }
        }
        let wrong_scheme = app.send(TestRequest::get().uri("/v1/listings").insert_header(("authorization", format!("Basic {good}")))).await;
        wrong_scheme.problem(401, "invalid_token");
        assert_eq!(app.change_count(), 1, "only the good token wrote");
    }

    async fn a_revoked_clients_tokens_stop_working_at_once(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let portal = app.new_client(&["listings:write"]).await;
        let create = listing_with(json!({"source": null}));
        assert_eq!(app.as_client(&portal).post("/v1/listings", &create).await.status, StatusCode::CREATED);
        let revoked = app.as_client(&admin).post_empty(&format!("/v1/clients/{}/revoke", portal.id)).await;
        assert_eq!(revoked.status, StatusCode::OK, "{:#}", revoked.body);
        assert_eq!(revoked.body["active"], false);
        app.as_client(&portal).post("/v1/listings", &create).await.problem(401, "invalid_token");
        let token = app.request_token(&body_credentials(&portal), None).await;
        assert_eq!((token.status.as_u16(), token.body["error"].as_str()), (401, Some("invalid_client")));
        app.as_client(&admin).post_empty(&format!("/v1/clients/{}/revoke", portal.id)).await.problem(409, "client_revoked");
    }

    async fn rotating_a_secret_retires_the_old_one(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let portal = app.new_client(&["listings:write"]).await;
        let rotated = app.as_client(&admin).post_empty(&format!("/v1/clients/{}/rotate-secret", portal.id)).await;
        assert_eq!(rotated.status, StatusCode::OK, "{:#}", rotated.body);
        let new_secret = rotated.body["client_secret"].as_str().unwrap();
        assert_ne!(new_secret, portal.secret);
        let old = app.request_token(&body_credentials(&portal), None).await;
        assert_eq!(old.body["error"], "invalid_client");
        app.token_for(&portal.id, new_secret).await;
        let listed = app.as_client(&admin).get(&format!("/v1/clients?organization={}", portal.organization_id)).await;
        assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
        assert!(!listed.body.to_string().contains(new_secret), "secrets are shown once only");
        assert!(listed.body["items"][0].get("secret_hash").is_none());
    }

    async fn an_operator_cannot_lock_itself_out(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let own = format!("/v1/clients/{}", admin.id);
        app.as_client(&admin).post_empty(&format!("{own}/revoke")).await.problem(409, "self_lockout");
        app.as_client(&admin).patch(&own, &json!({"scopes": ["listings:write"]})).await.problem(409, "self_lockout");
        let renamed = app.as_client(&admin).patch(&own, &json!({"name": "Operator console"})).await;
        assert_eq!((renamed.status, renamed.body["version"].as_i64()), (StatusCode::OK, Some(2)));
        let unchanged = app.as_client(&admin).patch(&own, &json!({})).await;
        assert_eq!(unchanged.body["version"], 2, "a patch that changes nothing writes nothing");
        assert_eq!(app.as_client(&admin).get("/v1/clients").await.status, StatusCode::OK, "still an operator");
    }

    async fn narrowing_a_clients_scopes_applies_to_tokens_already_issued(app: TestApp) {
        let admin = app.new_client(&["admin"]).await;
        let portal = app.new_client(&["listings:write"]).await;
        let updated = app.as_client(&admin).patch(&format!("/v1/clients/{}", portal.id), &json!({"scopes": ["changes:read"]})).await;
        assert_eq!(updated.body["scopes"], json!(["changes:read"]));
        let reply = app.as_client(&portal).post("/v1/listings", &listing_with(json!({"source": null}))).await;
        reply.problem(403, "insufficient_scope");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"techex\", error=\"insufficient_scope\", scope=\"listings:write\""));
    }

    async fn anonymous_callers_see_published_listings_without_contacts(app: TestApp) {
        let published = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let draft = app.create_listing(&listing_with(json!({"source": null}))).await;
        let anonymous = app.anonymous().get(&format!("/v1/listings/{published}")).await;
        assert_eq!(anonymous.status, StatusCode::OK);
        assert!(anonymous.body["contact"].is_null(), "{:#}", anonymous.body["contact"]);
        assert_eq!(anonymous.body["owner"]["name"], "Viện Cơ điện Nông nghiệp");
        let page = app.anonymous().get("/v1/listings").await;
        assert!(page.body["items"].as_array().unwrap().iter().all(|l| l["contact"].is_null()));
        assert!(!page.body.to_string().contains("an@example.vn"));

        app.anonymous().get(&format!("/v1/listings/{draft}")).await.problem(404, "listing_not_found");
        let stranger = app.new_client(&["listings:write"]).await;
        app.as_client(&stranger).get(&format!("/v1/listings/{draft}")).await.problem(404, "listing_not_found");
        let seen = app.as_client(&stranger).get(&format!("/v1/listings/{published}")).await;
        assert_eq!(seen.body["contact"]["email"], "an@example.vn", "registered partners see contacts");
        let moderator = app.new_client(&["listings:moderate"]).await;
        assert_eq!(app.as_client(&moderator).get(&format!("/v1/listings/{draft}")).await.status, StatusCode::OK);
        assert_eq!(app.get(&format!("/v1/listings/{draft}")).await.body["contact"]["email"], "an@example.vn");
    }

    async fn without_the_publish_scope_a_listing_goes_to_review(app: TestApp) {
        let writer = app.client_in(&app.publisher.organization_id, &["listings:write"]).await;
        let id = app.as_client(&writer).post("/v1/listings", &listing_with(json!({"source": null}))).await.body["id"].as_str().unwrap().to_owned();
        let asked = app.as_client(&writer).post_empty(&format!("/v1/listings/{id}/publish")).await;
        assert_eq!(asked.body["status"], "pending_review", "{:#}", asked.body);
        app.as_client(&writer).post_empty(&format!("/v1/listings/{id}/publish")).await.problem(403, "insufficient_scope");
        let moderator = app.new_client(&["listings:moderate"]).await;
        let reviewed = app.as_client(&moderator).get(&format!("/v1/listings/{id}")).await;
        let approve = TestRequest::post()
            .uri(&format!("/v1/listings/{id}/publish"))
            .insert_header(("if-match", reviewed.header("etag").unwrap()));
        let approved = app.as_client(&moderator).send(approve).await;
        assert_eq!(approved.body["status"], "published");
        let ops: Vec<String> = app.history(&id).into_iter().map(|c| c.op).collect();
        assert_eq!(ops, ["create", "submit", "publish"], "the log records the move made, not the one asked");
    }

    async fn every_write_records_its_actor_and_organization(app: TestApp) {
        let id = app.create_listing(&listing_with(json!({"source": null}))).await;
        let moderator = app.new_client(&["listings:moderate"]).await;
        app.as_client(&app.publisher).post_empty(&format!("/v1/listings/{id}/submit")).await;
        app.as_client(&moderator).post_empty(&format!("/v1/listings/{id}/reject")).await;
        let history = app.history(&id);
        let stamps: Vec<(Option<String>, Option<String>)> = history.into_iter().map(|c| (c.actor, c.actor_organization)).collect();
        let publisher = (Some(format!("client:{}", app.publisher.id)), Some(app.publisher.organization_id.clone()));
        let moderation = (Some(format!("client:{}", moderator.id)), Some(moderator.organization_id.clone()));
        assert_eq!(stamps, [publisher.clone(), publisher, moderation]);
        let listing = app.get(&format!("/v1/listings/{id}")).await;
        assert_eq!(listing.body["publisher"], app.publisher.organization_id.as_str());
    }

    async fn cors_allows_configured_origins_without_credentials(app: TestApp) {
        let preflight = app
            .send(
                TestRequest::default()
                    .method(actix_web::http::Method::OPTIONS)
                    .uri("/v1/listings")
                    .insert_header(("origin", PORTAL_ORIGIN))
                    .insert_header(("access-control-request-method", "POST"))
                    .insert_header(("access-control-request-headers", "authorization, content-type")),
            )
            .await;
        assert_eq!(preflight.status, StatusCode::OK, "{:#}", preflight.body);
        assert_eq!(preflight.header("access-control-allow-origin"), Some(PORTAL_ORIGIN));
        assert!(preflight.header("access-control-allow-credentials").is_none());
        let allowed_headers = preflight.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
        assert!(allowed_headers.contains("authorization") && allowed_headers.contains("content-type"));

        let read = app.anonymous().send(TestRequest::get().uri("/v1/listings").insert_header(("origin", PORTAL_ORIGIN))).await;
        assert_eq!(read.header("access-control-allow-origin"), Some(PORTAL_ORIGIN));
        assert!(read.header("access-control-expose-headers").unwrap().to_ascii_lowercase().contains("etag"));

        let foreign = app
            .send(
                TestRequest::default()
                    .method(actix_web::http::Method::OPTIONS)
                    .uri("/v1/listings")
                    .insert_header(("origin", "https://evil.example"))
                    .insert_header(("access-control-request-method", "POST")),
            )
            .await;
        assert!(foreign.status.is_client_error());
        assert!(foreign.header("access-control-allow-origin").is_none());
        foreign.problem(foreign.status.as_u16(), "bad_request");
    }

    async fn cors_answers_simple_requests_for_allowed_origins_only(app: TestApp) {
        let simple = |origin: &str| TestRequest::get().uri("/v1/reference/trl").insert_header(("origin", origin.to_owned()));
        let allowed = app.anonymous().send(simple(PORTAL_ORIGIN)).await;
        assert_eq!(allowed.status, StatusCode::OK);
        assert_eq!(allowed.header("access-control-allow-origin"), Some(PORTAL_ORIGIN));
        assert!(allowed.header("access-control-allow-credentials").is_none());
        let foreign = app.anonymous().send(simple("https://evil.example")).await;
        assert!(foreign.header("access-control-allow-origin").is_none(), "{:?}", foreign.headers);
        assert!(foreign.header("access-control-allow-credentials").is_none());

        let closed = TestApp::start_with(app.backend(), Options { cors_origins: Vec::new(), ..Options::default() }).await;
        let simple_read = closed.anonymous().send(simple(PORTAL_ORIGIN)).await;
        assert!(simple_read.header("access-control-allow-origin").is_none(), "no origins configured: {:?}", simple_read.headers);
        let preflight = closed
            .send(
                TestRequest::default()
                    .method(actix_web::http::Method::OPTIONS)
                    .uri("/v1/listings")
                    .insert_header(("origin", PORTAL_ORIGIN))
                    .insert_header(("access-control-request-method", "POST")),
            )
            .await;
        assert!(preflight.status.is_client_error(), "{:?}", preflight.status);
        assert!(preflight.header("access-control-allow-origin").is_none());
        preflight.problem(preflight.status.as_u16(), "bad_request");
    }

    async fn no_secret_or_token_reaches_the_log(app: TestApp) {
        techex_tests::capture_logs();
        let portal = app.new_client(&["listings:write"]).await;
        let basic_header = basic(&portal.id, &portal.secret);
        let token = app.request_token("grant_type=client_credentials", Some(&basic_header)).await.body["access_token"].as_str().unwrap().to_owned();
        app.with_token(&token).post("/v1/listings", &listing_with(json!({"source": null}))).await;
        app.with_token(&format!("{token}x")).get("/v1/listings").await;
        app.request_token(&format!("grant_type=client_credentials&client_id={}&client_secret={}x", portal.id, portal.secret), None).await;
        let logs = techex_tests::captured_logs();
        assert!(logs.contains("/v1/auth/token"), "the capture sees this test's requests");
        for secret in [portal.secret.as_str(), token.as_str(), app.publisher.token.as_str(), &basic_header[6..]] {
            assert!(!logs.contains(secret), "a secret reached the log");
        }
        let signature = token.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature));
    }
}

mod rate_limits {
    use super::*;
    use techex_api::auth::rate_limit::Quota;

    /// The reverse proxy the forwarding test trusts.
    const PROXY: &str = "127.0.0.2:40000";

    backend_tests! {
    #[options(Options {
        client_quota: Quota { per_minute: 1, burst: 3 },
        anonymous_quota: Quota { per_minute: 1, burst: 5 },
        ..Options::default()
    })]
    async fn each_caller_has_its_own_quota(app: TestApp) {
        // Token requests are anonymous: the publisher's (at start) and this one spend 2 of 5.
        let other = app.client_in(&app.publisher.organization_id, &["listings:write"]).await;
        for _ in 0..3 {
            assert_eq!(app.anonymous().get("/v1/reference/trl").await.status, StatusCode::OK);
        }
        let refused = app.anonymous().get("/v1/reference/trl").await;
        refused.problem(429, "rate_limited");
        assert!(refused.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok()), "{:?}", refused.headers);
        assert!(refused.header("x-request-id").is_some());

        // Clients are counted by client, not by address: both still have their own 3.
        for _ in 0..3 {
            assert_eq!(app.get("/v1/reference/trl").await.status, StatusCode::OK);
        }
        app.get("/v1/reference/trl").await.problem(429, "rate_limited");
        assert_eq!(app.as_client(&other).get("/v1/reference/trl").await.status, StatusCode::OK);
    }

    /// Every answer names the policy it was counted under and what is left of it
    /// (draft-ietf-httpapi-ratelimit-headers): per address without a token, per client with one.
    #[options(Options {
        client_quota: Quota { per_minute: 60, burst: 5 },
        anonymous_quota: Quota { per_minute: 120, burst: 10 },
        ..Options::default()
    })]
    async fn answers_announce_the_policy_and_the_quota_left(app: TestApp) {
        // A fresh address, so the token requests of the set-up have not spent its quota.
        let anonymous = || TestRequest::get().uri("/v1/reference/trl").peer_addr("127.0.0.8:5000".parse().unwrap());
        let first = app.send(anonymous()).await;
        assert_eq!(first.status, StatusCode::OK);
        // 10 at once, one more every 500 ms: all 10 are back within 5 s.
        assert_eq!(first.header("ratelimit-policy"), Some(r#""address";q=10;w=5"#));
        assert_eq!(first.header("ratelimit"), Some(r#""address";r=9;t=1"#));
        assert_eq!(app.send(anonymous()).await.header("ratelimit"), Some(r#""address";r=8;t=1"#));
        let missing = app.send(TestRequest::get().uri("/v1/listings/nope").peer_addr("127.0.0.8:5000".parse().unwrap())).await;
        assert_eq!(missing.status, StatusCode::BAD_REQUEST, "errors count and say so too");
        assert_eq!(missing.header("ratelimit"), Some(r#""address";r=7;t=1"#));

        let remaining = |response: &techex_tests::Reply| -> u32 {
            let field = response.header("ratelimit").expect("a RateLimit field");
            let rest = field.strip_prefix(r#""client";r="#).unwrap_or_else(|| panic!("{field}"));
            rest.strip_suffix(";t=1").unwrap_or_else(|| panic!("{field}")).parse().unwrap()
        };
        let first = app.get("/v1/reference/trl").await;
        assert_eq!(first.header("ratelimit-policy"), Some(r#""client";q=5;w=5"#));
        let second = app.get("/v1/reference/trl").await;
        assert_eq!(remaining(&second), remaining(&first) - 1);
    }

    /// A refusal for too many requests says when to come back, in `Retry-After` and in `t`.
    #[options(Options { anonymous_quota: Quota { per_minute: 6, burst: 1 }, ..Options::default() })]
    async fn the_429_carries_the_rate_limit_fields(app: TestApp) {
        let from = || TestRequest::get().uri("/healthz").peer_addr("127.0.0.9:5000".parse().unwrap());
        assert_eq!(app.send(from()).await.header("ratelimit"), Some(r#""address";r=0;t=10"#));
        let refused = app.send(from()).await;
        refused.problem(429, "rate_limited");
        let wait = refused.header("retry-after").expect("Retry-After");
        assert!((1..=10).contains(&wait.parse::<u64>().unwrap()), "{wait}");
        assert_eq!(refused.header("ratelimit-policy"), Some(r#""address";q=1;w=10"#));
        assert_eq!(refused.header("ratelimit"), Some(format!(r#""address";r=0;t={wait}"#).as_str()));
        let head = app.send(TestRequest::default().method(actix_web::http::Method::HEAD).uri("/healthz").peer_addr("127.0.0.9:5000".parse().unwrap())).await;
        assert_eq!(head.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(head.header("ratelimit").is_some_and(|f| f.starts_with(r#""address";r=0;t="#)), "{:?}", head.headers);
    }

    /// Behind a trusted proxy each forwarded caller has its own quota; from anywhere else,
    /// X-Forwarded-For is ignored.
    #[options(Options {
        anonymous_quota: Quota { per_minute: 1, burst: 2 },
        trusted_proxies: vec![PROXY.parse::<std::net::SocketAddr>().unwrap().ip()],
        ..Options::default()
    })]
    async fn forwarded_callers_are_told_apart_only_behind_a_trusted_proxy(app: TestApp) {
        let proxy: std::net::SocketAddr = PROXY.parse().unwrap();
        let from = |peer: std::net::SocketAddr, forwarded: &str| {
            TestRequest::get().uri("/healthz").peer_addr(peer).insert_header(("x-forwarded-for", forwarded.to_owned()))
        };
        for _ in 0..2 {
            assert_eq!(app.send(from(proxy, "127.0.0.10, 127.0.0.2")).await.status, StatusCode::OK);
        }
        app.send(from(proxy, "127.0.0.10")).await.problem(429, "rate_limited");
        assert_eq!(app.send(from(proxy, "127.0.0.11")).await.status, StatusCode::OK, "another caller behind the proxy");

        let untrusted: std::net::SocketAddr = "127.0.0.3:40000".parse().unwrap();
        for forwarded in ["127.0.0.20", "127.0.0.21"] {
            assert_eq!(app.send(from(untrusted, forwarded)).await.status, StatusCode::OK);
        }
        app.send(from(untrusted, "127.0.0.22")).await.problem(429, "rate_limited");
    }

    }
}

/// The client check kept in memory on PostgreSQL (`LISTEN techex_clients`): a change of the
/// client is refused at once by the server that made it, and by another server once PostgreSQL's
/// notice reaches it; SQLite reads every check from the file.
mod client_cache {
    use std::time::{Duration, Instant};

    use super::*;
    use diesel::RunQueryDsl;
    use techex_persistence::clients;
    use techex_tests::{TestBackend, TestClient};

    /// Sends reads with the client's token until `app` answers its check from memory (on
    /// PostgreSQL the cache is bypassed until the listener is connected).
    async fn until_cached(app: &TestApp, client: &TestClient) {
        let id = client.id.parse().unwrap();
        // No timing is asserted: the deadline only keeps a broken build from hanging here.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert_eq!(app.as_client(client).get("/v1/listings").await.status, StatusCode::OK);
            let cached = clients::cached(&app.db, id).is_some();
            if app.backend() == TestBackend::Sqlite {
                assert!(!cached, "SQLite checks every token in the file");
                return;
            }
            if cached {
                return;
            }
            assert!(Instant::now() < deadline, "the client check was never cached");
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    backend_tests! {
        async fn a_cached_client_is_refused_by_the_very_next_request_after_a_change(app: TestApp) {
            let admin = app.new_client(&["admin"]).await;
            let portal = app.new_client(&["listings:write"]).await;
            let create = listing_with(json!({"source": null}));
            let path = format!("/v1/clients/{}", portal.id);

            until_cached(&app, &portal).await;
            let narrowed = app.as_client(&admin).patch(&path, &json!({"scopes": ["changes:read"]})).await;
            assert_eq!(narrowed.status, StatusCode::OK, "{:#}", narrowed.body);
            app.as_client(&portal).post("/v1/listings", &create).await.problem(403, "insufficient_scope");

            let widened = app.as_client(&admin).patch(&path, &json!({"scopes": ["listings:write"]})).await;
            assert_eq!(widened.status, StatusCode::OK, "{:#}", widened.body);
            assert_eq!(app.as_client(&portal).post("/v1/listings", &create).await.status, StatusCode::CREATED);
            until_cached(&app, &portal).await;
            let rotated = app.as_client(&admin).post_empty(&format!("{path}/rotate-secret")).await;
            assert_eq!(rotated.status, StatusCode::OK, "{:#}", rotated.body);
            // Tokens issued in the second of the rotation stay valid (`iat` counts seconds), so
            // the test looks at the cache: the client as it was is gone.
            let id = portal.id.parse().unwrap();
            assert!(clients::cached(&app.db, id).is_none_or(|client| client.secret_rotated_at.is_some()));

            let second = app.new_client(&["listings:write"]).await;
            until_cached(&app, &second).await;
            let revoked = app.as_client(&admin).post_empty(&format!("/v1/clients/{}/revoke", second.id)).await;
            assert_eq!(revoked.status, StatusCode::OK, "{:#}", revoked.body);
            app.as_client(&second).get("/v1/listings").await.problem(401, "invalid_token");
        }
    }

    /// Two servers over one database: the one that did not make the change drops its cached
    /// client on PostgreSQL's notice; without the notice it would accept the token forever.
    #[actix_web::test]
    #[cfg_attr(not(techex_postgres), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
    async fn another_server_refuses_a_client_revoked_through_the_first() {
        let first = TestApp::start(TestBackend::Postgres).await;
        let second = first.another_instance().await;
        let admin = first.new_client(&["admin"]).await;
        let portal = first.new_client(&["listings:write"]).await;
        until_cached(&second, &portal).await;

        let revoked = first.as_client(&admin).post_empty(&format!("/v1/clients/{}/revoke", portal.id)).await;
        assert_eq!(revoked.status, StatusCode::OK, "{:#}", revoked.body);
        let deadline = Instant::now() + Duration::from_secs(30);
        while second.as_client(&portal).get("/v1/listings").await.status != StatusCode::UNAUTHORIZED {
            assert!(Instant::now() < deadline, "the second server never heard of the revocation");
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        let cached = clients::cached(&second.db, portal.id.parse().unwrap());
        assert!(cached.is_none_or(|client| !client.is_active()), "only the revoked client is kept");

        // A change made outside any server (an operator's SQL) is noticed too.
        let other = first.new_client(&["listings:write"]).await;
        until_cached(&second, &other).await;
        diesel::sql_query(format!("UPDATE api_clients SET revoked_at = now() WHERE id = '{}'", other.id))
            .execute(&mut *second.db.conn().unwrap())
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while second.as_client(&other).get("/v1/listings").await.status != StatusCode::UNAUTHORIZED {
            assert!(Instant::now() < deadline, "the SQL revocation was never noticed");
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
