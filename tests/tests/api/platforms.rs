//! What lets a partner's platform work with the hub without hand-written configuration: OAuth
//! metadata, the public URL, ES256 tokens for .NET and Java stacks, and CORS for any page.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use techex_api::auth::KeySet;
use techex_api::auth::keys::SigningAlgorithm;
use techex_tests::{Options, TestApp, backend_tests, listing_with, test_signing_key};

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

fn claims_of(token: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

/// A body compressed with gzip, as the client would read it.
fn gunzip(bytes: &[u8]) -> Value {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

async fn raw(app: &TestApp, req: TestRequest) -> (StatusCode, actix_web::http::header::HeaderMap, Vec<u8>) {
    let response = app.call_raw(req.to_request()).await;
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, actix_web::test::read_body(response).await.to_vec())
}

const PUBLIC_URL: &str = "https://techex.example.vn";

backend_tests! {
/// RFC 8414 metadata names every endpoint under the public URL, and the issuer is that URL.
#[options(Options { public_url: Some(PUBLIC_URL.into()), ..Options::default() })]
async fn metadata_and_issuer_follow_the_public_url(app: TestApp) {
    let url = PUBLIC_URL;
    let metadata = app.anonymous().get("/.well-known/oauth-authorization-server").await;
    assert_eq!(metadata.status, StatusCode::OK);
    assert_eq!(metadata.body["issuer"], url);
    assert_eq!(metadata.body["token_endpoint"], format!("{url}/v1/auth/token"));
    assert_eq!(metadata.body["jwks_uri"], format!("{url}/.well-known/jwks.json"));
    assert_eq!(metadata.body["grant_types_supported"], serde_json::json!(["client_credentials"]));
    assert_eq!(
        metadata.body["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(metadata.body["access_token_signing_alg_values_supported"], serde_json::json!(["EdDSA"]));
    assert!(metadata.body["scopes_supported"].as_array().unwrap().contains(&Value::from("listings:write")));
    assert_eq!(metadata.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(claims_of(&app.publisher.token)["iss"], url);
    let spec = app.anonymous().get("/openapi.json").await;
    let servers = spec.body["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1, "{servers:?}");
    assert_eq!(servers[0]["url"], url);
    assert_eq!(servers[0]["x-internal"], false, "a hub is public");
}

/// Without a public URL, the metadata's URLs come from the Host header and are not cached.
async fn metadata_without_a_public_url_follows_the_host_header(plain: TestApp) {
    let request = TestRequest::get()
        .uri("/.well-known/oauth-authorization-server")
        .insert_header(("host", "hub.local:8080"))
        .insert_header(("x-forwarded-host", "evil.example"));
    let derived = plain.anonymous().send(request).await;
    assert_eq!(derived.body["issuer"], "techex");
    assert_eq!(
        derived.body["token_endpoint"], "http://hub.local:8080/v1/auth/token",
        "from Host, never X-Forwarded-Host"
    );
    assert_eq!(derived.header("cache-control"), Some("no-store"));
    assert_eq!(plain.anonymous().get("/openapi.json").await.body["servers"][0]["url"], "/");
}

/// With an ES256 key first, tokens are ES256 and the JWKS carries both kinds, so tokens signed
/// with the previous Ed25519 key keep working through the change.
#[options(Options {
    signing_keys: vec![KeySet::generate_pem_for(SigningAlgorithm::ES256), test_signing_key()],
    ..Options::default()
})]
async fn es256_tokens_and_a_jwks_of_both_kinds_during_a_change(app: TestApp) {
    let header = header_of(&app.publisher.token);
    assert_eq!(header["alg"], "ES256");
    let jwks = app.anonymous().get("/.well-known/jwks.json").await.body;
    let kinds: Vec<(&str, &str)> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kty"].as_str().unwrap(), k["alg"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("EC", "ES256"), ("OKP", "EdDSA")]);
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
    assert_eq!(app.with_token(&app.publisher.token).get("/v1/listings?status=draft").await.status, StatusCode::OK);
    let metadata = app.anonymous().get("/.well-known/oauth-authorization-server").await;
    assert_eq!(metadata.body["access_token_signing_alg_values_supported"], serde_json::json!(["ES256", "EdDSA"]));

    // A token of the previous key, issued before the change, still verifies.
    let previous = KeySet::from_pems(&[test_signing_key()], "techex", "techex-api").unwrap();
    let mut claims: techex_api::auth::Claims = serde_json::from_value(claims_of(&app.publisher.token)).unwrap();
    claims.jti = uuid::Uuid::now_v7().to_string();
    let old_kind = previous.sign(&claims);
    assert_eq!(header_of(&old_kind)["alg"], "EdDSA");
    assert_eq!(app.with_token(&old_kind).get("/v1/listings?status=draft").await.status, StatusCode::OK);
}

/// `TECHEX_CORS_ORIGINS=*`: any page may read anonymously; writes and tokens are not offered.
#[options(Options { cors_origins: vec!["*".into()], ..Options::default() })]
async fn any_origin_may_read_when_the_operator_says_so(app: TestApp) {
    let read = app
        .anonymous()
        .send(TestRequest::get().uri("/v1/listings").insert_header(("origin", "https://any.example")))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("access-control-allow-origin"), Some("*"));
    assert!(read.header("access-control-allow-credentials").is_none());
    let preflight = |method: &str, headers: &str| {
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/v1/listings")
            .insert_header(("origin", "https://any.example"))
            .insert_header(("access-control-request-method", method.to_owned()))
            .insert_header(("access-control-request-headers", headers.to_owned()))
    };
    let get = app.anonymous().send(preflight("GET", "if-none-match")).await;
    assert_eq!(get.header("access-control-allow-origin"), Some("*"), "{:?}", get.headers);
    let post = app.anonymous().send(preflight("POST", "content-type")).await;
    assert!(post.header("access-control-allow-origin").is_none(), "{:?}", post.headers);
    let with_token = app.anonymous().send(preflight("GET", "authorization")).await;
    assert!(with_token.header("access-control-allow-origin").is_none(), "{:?}", with_token.headers);
}

    // Buttons a portal shows come from allowed_actions: what this caller may do now.
    async fn allowed_actions_are_those_of_the_caller(app: TestApp) {
        let writer = app.client_in(&app.publisher.organization_id, &["listings:write"]).await;
        let moderator = app.new_client(&["listings:moderate"]).await;
        let body = listing_with(serde_json::json!({"source": null}));
        let draft = app.as_client(&writer).post("/v1/listings", &body).await;
        assert_eq!(draft.body["allowed_actions"], serde_json::json!(["submit"]), "publishing would only submit");
        let id = draft.body["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/listings/{id}");
        assert_eq!(app.get(&path).await.body["allowed_actions"], serde_json::json!(["submit", "publish"]));
        app.as_client(&writer).post_empty(&format!("{path}/submit")).await;
        assert_eq!(app.as_client(&moderator).get(&path).await.body["allowed_actions"], serde_json::json!(["publish", "reject", "withdraw"]));
        assert_eq!(app.as_client(&writer).get(&path).await.body["allowed_actions"], serde_json::json!(["withdraw"]));
        let published = app.publish_listing(&body).await;
        let public = app.anonymous().get(&format!("/v1/listings/{published}")).await;
        assert_eq!(public.body["allowed_actions"], serde_json::json!([]), "anonymous callers may do nothing");
        let page = app.anonymous().get("/v1/listings").await;
        assert!(page.body["items"].as_array().unwrap().iter().all(|l| l["allowed_actions"] == serde_json::json!([])));
    }

    // Compressed answers keep validators that work: the coded tag gets 304 and satisfies
    // If-Match as the plain one does; pages carry the coded hash.
    async fn compressed_answers_keep_their_etags_working(app: TestApp) {
        let id = app.create_listing(&listing_with(serde_json::json!({"source": null}))).await;
        let path = format!("/v1/listings/{id}");
        let plain = app.get(&path).await;
        let gzip = |req: TestRequest| req.insert_header(("authorization", format!("Bearer {}", app.publisher.token))).insert_header(("accept-encoding", "gzip"));
        let (status, headers, body) = raw(&app, gzip(TestRequest::get().uri(&path))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers.get("content-encoding").unwrap(), "gzip");
        assert_eq!(headers.get("etag").unwrap(), "\"v1-gzip\"");
        assert!(headers.get_all("vary").any(|v| v.to_str().unwrap().to_ascii_lowercase().contains("accept-encoding")));
        assert_eq!(gunzip(&body), plain.body);

        for held in ["\"v1-gzip\"", "\"v1\""] {
            let (status, headers, body) = raw(&app, gzip(TestRequest::get().uri(&path)).insert_header(("if-none-match", held))).await;
            assert_eq!(status, StatusCode::NOT_MODIFIED, "{held}");
            assert!(body.is_empty());
            assert_eq!(headers.get("etag").unwrap(), held);
        }
        let stale = app.send_as_publisher(TestRequest::patch().uri(&path).insert_header(("if-match", "\"v0-gzip\"")).set_json(serde_json::json!({"trl": 8}))).await;
        stale.problem(412, "precondition_failed");
        let fresh = app.send_as_publisher(TestRequest::patch().uri(&path).insert_header(("if-match", "\"v1-gzip\"")).set_json(serde_json::json!({"trl": 8}))).await;
        assert_eq!(fresh.status, StatusCode::OK, "{:#}", fresh.body);

        let page = |req: TestRequest| req.uri("/v1/listings").insert_header(("accept-encoding", "gzip"));
        let (_, headers, body) = raw(&app, page(TestRequest::get())).await;
        let tag = headers.get("etag").unwrap().to_str().unwrap().to_owned();
        assert!(tag.ends_with("-gzip\""), "{tag}");
        assert_eq!(gunzip(&body), app.anonymous().get("/v1/listings").await.body);
        let (status, _, _) = raw(&app, page(TestRequest::get()).insert_header(("if-none-match", tag.as_str()))).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);

        let (_, headers, _) = raw(&app, TestRequest::get().uri("/v1/listings").insert_header(("accept-encoding", "br"))).await;
        assert_eq!(headers.get("content-encoding").unwrap(), "br");
        let (_, headers, _) = raw(&app, TestRequest::get().uri("/v1/listings")).await;
        assert!(headers.get("content-encoding").is_none(), "identity unless asked");
    }
}
