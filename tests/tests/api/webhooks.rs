//! Webhooks through `/v1/webhooks`: subscriptions kept per organization, deliveries signed the
//! Standard Webhooks way, retried until delivered, turned off after repeated failures, replayed,
//! and shared by several workers without double sends. Receivers are tiny HTTP servers on
//! 127.0.0.1; worker passes are run by hand and the app's clock is moved instead of waiting.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use techex_api::webhooks::WebhookSettings;
use techex_domain::webhook::{RetrySchedule, TargetPolicy};
use techex_persistence::webhooks::{Webhook, WebhookWrite};
use techex_tests::{Options, TestApp, TestClient, backend_tests, listing_body};

/// One request as a receiver got it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// Something a receiver does once, while a request waits for its answer.
type Hook = Box<dyn FnOnce() + Send>;

/// An HTTP receiver on 127.0.0.1 answering each request with the next status of its script
/// (200 once the script is spent, or whatever `answer_all` set).
pub(crate) struct Receiver {
    pub(crate) url: String,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Vec<u16>>>,
    hook: Arc<Mutex<Option<Hook>>>,
}

impl Receiver {
    pub(crate) fn start(script: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.iter().rev().copied().collect::<Vec<u16>>()));
        let hook: Arc<Mutex<Option<Hook>>> = Arc::new(Mutex::new(None));
        let (log, answers, during) = (received.clone(), script.clone(), hook.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = Vec::new();
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    let trimmed = line.trim_end();
                    if trimmed.is_empty() {
                        break;
                    }
                    let (name, value) = trimmed.split_once(':').unwrap();
                    headers.push((name.trim().to_owned(), value.trim().to_owned()));
                }
                let length: usize = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .map(|(_, v)| v.parse().unwrap())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                log.lock().unwrap().push(Received { headers, body: String::from_utf8(body).unwrap() });
                let hook = during.lock().unwrap().take();
                if let Some(hook) = hook {
                    hook();
                }
                let status = answers.lock().unwrap().pop().unwrap_or(200);
                let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        Receiver { url, received, script, hook }
    }

    /// Runs `hook` while the next request waits for its answer.
    fn during_next_request(&self, hook: impl FnOnce() + Send + 'static) {
        *self.hook.lock().unwrap() = Some(Box::new(hook));
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Answers every request from now on with `status`.
    fn answer_all(&self, status: u16) {
        *self.script.lock().unwrap() = vec![status; 1000];
    }
}

/// Runs worker passes, moving the app's clock past any backoff between them, until `done` holds
/// (PostgreSQL hands a change to the relay only once no older transaction runs in the cluster,
/// so a pass may find nothing yet) or a generous deadline passes.
pub(crate) fn pass_until(app: &TestApp, done: impl Fn() -> bool) {
    let worker = app.webhook_worker();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() && Instant::now() < deadline {
        worker.run_once().unwrap();
        app.clock.advance(chrono::Duration::seconds(5));
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Verifies a `webhook-signature` entry as a receiver would, with its own HMAC.
fn verifies(secret: &str, received: &Received, signature: &str) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let signed =
        format!("{}.{}.{}", received.header("webhook-id"), received.header("webhook-timestamp"), received.body);
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(signed.as_bytes());
    let Some(encoded) = signature.strip_prefix("v1,") else { return false };
    let Ok(bytes) = STANDARD.decode(encoded) else { return false };
    mac.verify_slice(&bytes).is_ok()
}

pub(crate) async fn subscribe(app: &TestApp, who: &TestClient, url: &str, events: &[&str]) -> (String, String) {
    let reply = app.as_client(who).post("/v1/webhooks", &json!({"url": url, "event_types": events})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    let secret = reply.body["secret"].as_str().unwrap().to_owned();
    (reply.body["id"].as_str().unwrap().to_owned(), secret)
}

/// Publishes a copy of the fixture listing under its own source id.
async fn publish(app: &TestApp) -> String {
    let mut body = listing_body();
    body["source"]["external_id"] = json!(uuid::Uuid::now_v7().to_string());
    app.publish_listing(&body).await
}

fn short_retries(retries: &[u64], disable_after: i64) -> Options {
    Options {
        webhooks: WebhookSettings {
            retries: RetrySchedule(retries.iter().copied().map(Duration::from_secs).collect()),
            disable_after,
            ..Options::default().webhooks
        },
        ..Options::default()
    }
}

fn contract_body(from: &TestClient) -> Value {
    json!({
        "transferor": {"organization_id": from.organization_id},
        "transferee": {"name": "Công ty TNHH Cơ khí Biên Hòa", "tax_code": "0123456787", "country": "VN", "province": "75"},
        "technology": {"name": {"vi": "Quy trình sấy nông sản"}, "field_codes": ["211"]},
        "objects": ["know_how"],
        "forms": ["independent"],
        "methods": ["documents"],
        "rights": {"kind": "use", "exclusive": false, "sublicensing": false, "territory": ["VN"]},
        "value": {"amount": 500000000, "currency": "VND"},
        "payment": {"mode": "lump_sum"},
        "signed_on": techex_domain::refdata::vietnam_date(chrono::Utc::now()).to_string(),
        "term_months": 24
    })
}

backend_tests! {
    /// A receiver that fails twice gets the event on the third attempt, each attempt with the
    /// same id and a signature that verifies; the delivery log shows all three.
    #[options(short_retries(&[1, 1, 1], 5))]
    async fn a_delivery_is_retried_until_the_receiver_takes_it_signed(app: TestApp) {
        let receiver = Receiver::start(&[500, 500]);
        let subscriber = app.new_client(&["changes:read"]).await;
        let (webhook, secret) = subscribe(&app, &subscriber, &receiver.url, &["listing.publish"]).await;
        assert!(secret.starts_with("whsec_"));
        let listing = publish(&app).await;

        pass_until(&app, || receiver.received().len() >= 3);
        let received = receiver.received();
        assert_eq!(received.len(), 3, "{received:#?}");
        let id = received[0].header("webhook-id");
        assert!(!id.is_empty());
        for attempt in &received {
            assert_eq!(attempt.header("webhook-id"), id);
            assert!(verifies(&secret, attempt, attempt.header("webhook-signature")), "{attempt:#?}");
            assert!(!verifies("whsec_AAAAAAAAAAAAAAAAAAAAAA==", attempt, attempt.header("webhook-signature")));
            let body = attempt.json();
            assert_eq!(body["type"], "listing.publish");
            assert_eq!(body["data"]["id"], listing);
            assert_eq!(body["data"]["data"]["status"], "published");
            assert!(attempt.header("webhook-timestamp").parse::<i64>().unwrap() > 1_700_000_000);
        }

        let log = app.as_client(&subscriber).get(&format!("/v1/webhooks/{webhook}/deliveries")).await;
        assert_eq!(log.status, StatusCode::OK, "{:#}", log.body);
        let items = log.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{:#}", log.body);
        assert_eq!(items[0]["id"], id);
        assert_eq!(items[0]["status"], "delivered");
        assert_eq!(items[0]["attempts"], 3);
        let codes: Vec<&Value> = items[0]["attempt_log"].as_array().unwrap().iter().map(|a| &a["status_code"]).collect();
        assert_eq!(codes, [&json!(500), &json!(500), &json!(200)]);
        // Delivered once: further passes send nothing more.
        app.webhook_worker().run_once().unwrap();
        assert_eq!(receiver.received().len(), 3);
    }

    /// Subscriptions are for holders of `changes:read`, each organization sees only its own, and
    /// a confidential contract reaches only its parties' subscriptions.
    async fn subscriptions_and_their_events_stay_within_what_the_client_may_follow(app: TestApp) {
        let refused = app.post("/v1/webhooks", &json!({"url": "https://hooks.example.vn/", "event_types": ["*"]})).await;
        refused.problem(403, "insufficient_scope");
        app.get("/v1/webhooks").await.problem(403, "insufficient_scope");
        app.anonymous().get("/v1/webhooks").await.problem(401, "unauthorized");

        let scopes = ["changes:read", "contracts:read", "contracts:write"];
        let party = app.new_client(&scopes).await;
        let outsider = app.new_client(&scopes).await;
        let (party_receiver, outsider_receiver) = (Receiver::start(&[]), Receiver::start(&[]));
        let (party_hook, _) = subscribe(&app, &party, &party_receiver.url, &["contract.*", "listing.*"]).await;
        let (outsider_hook, _) = subscribe(&app, &outsider, &outsider_receiver.url, &["*"]).await;

        for (method, path) in [("get", format!("/v1/webhooks/{party_hook}")), ("delete", format!("/v1/webhooks/{party_hook}")),
                               ("get", format!("/v1/webhooks/{party_hook}/deliveries"))] {
            let reply = match method {
                "get" => app.as_client(&outsider).get(&path).await,
                _ => app.as_client(&outsider).delete(&path).await,
            };
            reply.problem(404, "webhook_not_found");
        }
        app.as_client(&outsider).patch(&format!("/v1/webhooks/{party_hook}"), &json!({"enabled": false})).await
            .problem(404, "webhook_not_found");
        let listed = app.as_client(&outsider).get("/v1/webhooks").await;
        let ids: Vec<&str> = listed.body["items"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [outsider_hook.as_str()]);
        let mine = app.as_client(&party).get(&format!("/v1/webhooks/{party_hook}")).await;
        assert_eq!(mine.status, StatusCode::OK);
        assert!(mine.body.get("secret").is_none(), "{:#}", mine.body);

        let reply = app.as_client(&party).post("/v1/contracts", &contract_body(&party)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
        let contract = reply.body["id"].as_str().unwrap().to_owned();
        let listing = publish(&app).await;

        // Both hear of the published listing; only the party hears of the contract.
        pass_until(&app, || party_receiver.received().len() >= 2 && !outsider_receiver.received().is_empty());
        let party_events: Vec<(String, String)> = party_receiver.received().iter()
            .map(|r| (r.json()["type"].as_str().unwrap().to_owned(), r.json()["data"]["id"].as_str().unwrap().to_owned()))
            .collect();
        assert!(party_events.contains(&("contract.create".to_owned(), contract.clone())), "{party_events:?}");
        assert!(party_events.contains(&("listing.publish".to_owned(), listing.clone())), "{party_events:?}");
        let outsider_events: Vec<Value> = outsider_receiver.received().iter().map(Received::json).collect();
        assert!(outsider_events.iter().any(|e| e["type"] == "listing.publish" && e["data"]["id"] == listing.as_str()));
        assert!(outsider_events.iter().all(|e| e["data"]["entity"] != "contract"), "{outsider_events:#?}");
        // The draft before publication is the operator's alone.
        assert!(outsider_events.iter().all(|e| e["type"] != "listing.create"), "{outsider_events:#?}");

        let deleted = app.as_client(&party).delete(&format!("/v1/webhooks/{party_hook}")).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:#}", deleted.body);
        app.as_client(&party).get(&format!("/v1/webhooks/{party_hook}")).await.problem(404, "webhook_not_found");
        app.as_client(&party).get(&format!("/v1/webhooks/{party_hook}/deliveries")).await.problem(404, "webhook_not_found");
    }

    /// Both lists page like every other: `total=true` counts what the caller may see on all
    /// pages (its organization's subscriptions, everyone's for the operator; one subscription's
    /// deliveries), and `fields=` keeps only the members asked for.
    async fn subscriptions_and_deliveries_are_counted_and_projected(app: TestApp) {
        let receiver = Receiver::start(&[]);
        let subscriber = app.new_client(&["changes:read"]).await;
        let outsider = app.new_client(&["changes:read"]).await;
        let operator = app.new_client(&["admin"]).await;
        let (webhook, _) = subscribe(&app, &subscriber, &receiver.url, &["listing.publish"]).await;
        for _ in 0..2 {
            subscribe(&app, &subscriber, "https://hooks.example.vn/other", &["contract.*"]).await;
        }
        subscribe(&app, &outsider, "https://hooks.example.vn/outsider", &["*"]).await;
        let session = app.as_client(&subscriber);

        let first = session.get("/v1/webhooks?limit=2&total=true").await;
        assert_eq!(first.status, StatusCode::OK, "{:#}", first.body);
        assert_eq!((first.body["items"].as_array().unwrap().len(), &first.body["total"]), (2, &json!(3)), "{:#}", first.body);
        let cursor = first.body["next_cursor"].as_str().unwrap();
        let second = session.get(&format!("/v1/webhooks?limit=2&cursor={cursor}")).await;
        assert_eq!(second.body["items"].as_array().unwrap().len(), 1, "{:#}", second.body);
        assert!(second.body.get("total").is_none(), "{:#}", second.body);
        assert_eq!(app.as_client(&outsider).get("/v1/webhooks?total=true").await.body["total"], 1);
        assert_eq!(app.as_client(&operator).get("/v1/webhooks?total=true").await.body["total"], 4);

        let projected = session.get("/v1/webhooks?fields=id,url").await;
        assert_eq!(projected.status, StatusCode::OK, "{:#}", projected.body);
        let items = projected.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        for item in items {
            let members: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(members, ["id", "url"], "{item:#}");
        }
        session.get("/v1/webhooks?fields=secret").await.problem(400, "invalid_query");

        for _ in 0..3 {
            publish(&app).await;
        }
        pass_until(&app, || receiver.received().len() >= 3);
        let deliveries = format!("/v1/webhooks/{webhook}/deliveries");
        let all = session.get(&deliveries).await;
        let newest_first: Vec<&str> = all.body["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
        assert_eq!(newest_first.len(), 3, "{:#}", all.body);
        assert!(newest_first.windows(2).all(|w| w[0] > w[1]), "{newest_first:?}");
        assert!(all.body.get("total").is_none(), "{:#}", all.body);
        let counted = session.get(&format!("{deliveries}?limit=2&total=true&fields=id,status")).await;
        assert_eq!(counted.status, StatusCode::OK, "{:#}", counted.body);
        assert_eq!(counted.body["total"], 3);
        let items = counted.body["items"].as_array().unwrap();
        assert_eq!(items.iter().map(|d| d["id"].as_str().unwrap()).collect::<Vec<_>>(), newest_first[..2]);
        for item in items {
            let members: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(members, ["id", "status"], "{item:#}");
        }
        session.get(&format!("{deliveries}?fields=url")).await.problem(400, "invalid_query");
        assert_eq!(app.as_client(&operator).get(&format!("{deliveries}?total=true")).await.body["total"], 3);
        app.as_client(&outsider).get(&format!("{deliveries}?total=true")).await.problem(404, "webhook_not_found");
    }

    /// Targets and event types are checked, and internal addresses refused unless allowed.
    #[options(Options { webhooks: WebhookSettings { targets: TargetPolicy::default(), ..Options::default().webhooks }, ..Options::default() })]
    async fn bad_subscriptions_are_refused_with_their_reasons(app: TestApp) {
        let subscriber = app.new_client(&["changes:read"]).await;
        let session = app.as_client(&subscriber);
        for (body, field, code) in [
            (json!({"url": "http://hooks.example.vn/", "event_types": ["*"]}), "url", "not_https"),
            (json!({"url": "https://169.254.169.254/latest", "event_types": ["*"]}), "url", "internal_address"),
            (json!({"url": "http://127.0.0.1:9/", "event_types": ["*"]}), "url", "not_https"),
            (json!({"url": "https://10.0.0.7/", "event_types": ["*"]}), "url", "internal_address"),
            (json!({"url": "hooks.example.vn", "event_types": ["*"]}), "url", "invalid_url"),
            (json!({"url": format!("https://x.vn/{}", "a".repeat(2000)), "event_types": ["*"]}), "url", "invalid_url"),
            (json!({"url": "https://hooks.example.vn/", "event_types": []}), "event_types", "invalid_length"),
            (json!({"url": "https://hooks.example.vn/", "event_types": ["listing.fly"]}), "event_types[0]", "invalid_value"),
            (json!({"url": "https://hooks.example.vn/", "event_types": ["*"], "description": "x".repeat(501)}), "description", "too_long"),
        ] {
            let reply = session.post("/v1/webhooks", &body).await;
            reply.problem(422, "validation_failed");
            assert!(reply.field_errors().contains(&(field.to_owned(), code.to_owned())), "{body}: {:#}", reply.body);
        }
        session.post("/v1/webhooks", &json!({"url": "https://hooks.example.vn/", "event_types": ["*"], "secret": "mine"})).await
            .problem(422, "validation_failed");
        session.get("/v1/webhooks/not-a-uuid").await.problem(400, "invalid_path");
        session.get(&format!("/v1/webhooks/{}", uuid::Uuid::now_v7())).await.problem(404, "webhook_not_found");
    }

    /// After two deliveries fail with their retries spent the subscription is turned off; turned
    /// on again, a failed delivery can be replayed and arrives.
    #[options(short_retries(&[], 2))]
    async fn repeated_failures_turn_a_subscription_off_and_a_replay_delivers(app: TestApp) {
        let receiver = Receiver::start(&[]);
        receiver.answer_all(503);
        let subscriber = app.new_client(&["changes:read"]).await;
        let (webhook, _) = subscribe(&app, &subscriber, &receiver.url, &["listing.publish"]).await;
        let session = app.as_client(&subscriber);
        publish(&app).await;
        publish(&app).await;

        pass_until(&app, || receiver.received().len() >= 2);
        let read = session.get(&format!("/v1/webhooks/{webhook}")).await;
        assert_eq!(read.body["enabled"], false, "{:#}", read.body);
        assert_eq!(read.body["consecutive_failures"], 2);
        let log = session.get(&format!("/v1/webhooks/{webhook}/deliveries")).await;
        let items = log.body["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(|d| d["status"] == "failed" && d["attempt_log"][0]["status_code"] == 503), "{items:#?}");
        let disabled = techex_persistence::change_log::history(&mut app.db.conn().unwrap(), "webhook", &webhook).unwrap();
        assert_eq!(disabled.last().map(|c| (c.op.as_str(), c.actor.as_deref())), Some(("disable", Some("system"))));

        // Off: a third event waits instead of being sent.
        publish(&app).await;
        app.webhook_worker().run_once().unwrap();
        assert_eq!(receiver.received().len(), 2);

        receiver.answer_all(200);
        let enabled = session.patch(&format!("/v1/webhooks/{webhook}"), &json!({"enabled": true})).await;
        assert_eq!(enabled.status, StatusCode::OK, "{:#}", enabled.body);
        assert_eq!((enabled.body["enabled"].clone(), enabled.body["consecutive_failures"].clone()), (json!(true), json!(0)));
        let failed = items[0]["id"].as_str().unwrap();
        let retried = session.post_empty(&format!("/v1/webhooks/{webhook}/deliveries/{failed}/retry")).await;
        assert_eq!(retried.status, StatusCode::ACCEPTED, "{:#}", retried.body);
        session.post_empty(&format!("/v1/webhooks/{webhook}/deliveries/{}/retry", uuid::Uuid::now_v7())).await
            .problem(404, "delivery_not_found");

        // The pending third event and the replay arrive; the other failed delivery stays failed.
        pass_until(&app, || receiver.received().len() >= 4);
        let log = session.get(&format!("/v1/webhooks/{webhook}/deliveries")).await;
        let statuses: Vec<(String, String, i64)> = log.body["items"].as_array().unwrap().iter()
            .map(|d| (d["id"].as_str().unwrap().to_owned(), d["status"].as_str().unwrap().to_owned(), d["attempts"].as_i64().unwrap()))
            .collect();
        assert_eq!(statuses.len(), 3, "{statuses:?}");
        assert!(statuses.contains(&(failed.to_owned(), "delivered".to_owned(), 2)), "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| s.1 == "delivered").count(), 2, "{statuses:?}");
        assert_eq!(receiver.received().iter().filter(|r| r.header("webhook-id") == failed).count(), 2);
    }

    /// A subscription deleted while a worker is sending one of its deliveries: the pass goes on
    /// with the other subscriptions' deliveries, and the deleted one's attempt leaves no trace.
    async fn deleting_a_subscription_mid_send_drops_its_attempt_and_the_pass_goes_on(app: TestApp) {
        let (doomed, other) = (Receiver::start(&[]), Receiver::start(&[]));
        let subscriber = app.new_client(&["changes:read"]).await;
        let (deleted, _) = subscribe(&app, &subscriber, &doomed.url, &["listing.publish"]).await;
        subscribe(&app, &subscriber, &other.url, &["listing.publish"]).await;
        let db = app.db.clone();
        let id: uuid::Uuid = deleted.parse().unwrap();
        doomed.during_next_request(move || {
            let author = techex_persistence::change_log::Author::system();
            techex_api::kit::modify(&mut db.conn().unwrap(), id, &author, |_, webhook: &mut Webhook| {
                webhook.version += 1;
                Ok::<_, techex_persistence::StoreError>(WebhookWrite::Deleted)
            })
            .unwrap();
        });
        publish(&app).await;
        publish(&app).await;

        let worker = app.webhook_worker();
        let deadline = Instant::now() + Duration::from_secs(20);
        while other.received().len() < 2 && Instant::now() < deadline {
            let pass = worker.run_once();
            assert!(pass.is_ok(), "{pass:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(other.received().len(), 2);
        assert_eq!(doomed.received().len(), 1, "deleted after its first request, it gets no other");
        let session = app.as_client(&subscriber);
        session.get(&format!("/v1/webhooks/{deleted}")).await.problem(404, "webhook_not_found");
        assert_eq!(session.get("/v1/webhooks").await.body["items"].as_array().unwrap().len(), 1);
    }

    /// A subscription turned off after a failure misses nothing: the event that failed and the
    /// one queued while it was off are replayed, in order, with their first `webhook-id`s, a page
    /// at a time; the same replay asked twice sends each event once more, not twice.
    #[options(short_retries(&[], 1))]
    async fn a_replay_since_an_instant_resends_every_event_with_its_id(app: TestApp) {
        let receiver = Receiver::start(&[]);
        receiver.answer_all(503);
        let subscriber = app.new_client(&["changes:read"]).await;
        let (webhook, _) = subscribe(&app, &subscriber, &receiver.url, &["listing.publish"]).await;
        let session = app.as_client(&subscriber);
        let since = chrono::Utc::now() - chrono::Duration::seconds(1);
        let first = publish(&app).await;
        pass_until(&app, || !receiver.received().is_empty());
        assert_eq!(session.get(&format!("/v1/webhooks/{webhook}")).await.body["enabled"], false);
        let second = publish(&app).await;
        app.webhook_worker().run_once().unwrap();
        assert_eq!(receiver.received().len(), 1, "off: the second event waits");

        receiver.answer_all(200);
        let enabled = session.patch(&format!("/v1/webhooks/{webhook}"), &json!({"enabled": true})).await;
        assert_eq!(enabled.status, StatusCode::OK, "{:#}", enabled.body);
        pass_until(&app, || receiver.received().len() >= 2);
        let ids: Vec<String> = receiver.received().iter().map(|r| r.header("webhook-id").to_owned()).collect();
        let listings: Vec<Value> = receiver.received().iter().map(|r| r.json()["data"]["id"].clone()).collect();
        assert_eq!(listings, [json!(first), json!(second)]);

        let replay = format!("/v1/webhooks/{webhook}/replay");
        let page = session.post(&replay, &json!({"since": since, "limit": 1})).await;
        assert_eq!(page.status, StatusCode::ACCEPTED, "{:#}", page.body);
        assert_eq!((page.body["replayed"].clone(), page.body["more"].clone()), (json!(1), json!(true)));
        assert_eq!(page.body["next_after"], ids[0]);
        let rest = session.post(&replay, &json!({"since": since, "after": ids[0]})).await;
        assert_eq!((rest.body["replayed"].clone(), rest.body["more"].clone()), (json!(1), json!(false)), "{:#}", rest.body);
        // Asked again before the worker passes: the same deliveries, not copies.
        let again = session.post(&replay, &json!({"since": since})).await;
        assert_eq!(again.body["replayed"], 2, "{:#}", again.body);
        pass_until(&app, || receiver.received().len() >= 4);
        app.webhook_worker().run_once().unwrap();
        let resent: Vec<String> = receiver.received()[2..].iter().map(|r| r.header("webhook-id").to_owned()).collect();
        assert_eq!(resent, ids, "each event once more, in order, under its own id");
        let later = session.post(&replay, &json!({"since": chrono::Utc::now() + chrono::Duration::hours(1)})).await;
        assert_eq!((later.body["replayed"].clone(), later.body["more"].clone()), (json!(0), json!(false)));
        assert_eq!(later.body["next_after"], Value::Null);

        let missing = session.post(&replay, &json!({})).await;
        missing.problem(422, "validation_failed");
        assert_eq!(missing.field_errors(), [("since".to_owned(), "required".to_owned())]);
        let too_many = session.post(&replay, &json!({"since": since, "limit": 1001})).await;
        too_many.problem(422, "validation_failed");
        assert_eq!(too_many.field_errors(), [("limit".to_owned(), "out_of_range".to_owned())]);
        for bad in [json!({"since": "yesterday"}), json!({"since": since, "x": 1}), json!({"since": since, "after": "x"})] {
            let refused = session.post(&replay, &bad).await;
            assert!([400, 422].contains(&refused.status.as_u16()), "{bad}: {:#}", refused.body);
            assert_eq!(refused.header("content-type"), Some("application/problem+json"));
        }
    }

    /// Replay is for the subscription's organization (with `changes:read`) and the operator.
    async fn a_replay_is_for_the_owner_with_changes_read_and_the_operator(app: TestApp) {
        let owner = app.new_client(&["changes:read"]).await;
        let (webhook, _) = subscribe(&app, &owner, "https://hooks.example.vn/techex", &["*"]).await;
        let replay = format!("/v1/webhooks/{webhook}/replay");
        let body = json!({"since": "2026-01-01T00:00:00Z"});
        app.anonymous().post(&replay, &body).await.problem(401, "unauthorized");
        let without_scope = app.client_in(&owner.organization_id, &["listings:write"]).await;
        app.as_client(&without_scope).post(&replay, &body).await.problem(403, "insufficient_scope");
        let moderator = app.new_client(&["listings:moderate"]).await;
        app.as_client(&moderator).post(&replay, &body).await.problem(403, "insufficient_scope");
        let other = app.new_client(&["changes:read", "listings:write"]).await;
        app.as_client(&other).post(&replay, &body).await.problem(404, "webhook_not_found");
        let colleague = app.client_in(&owner.organization_id, &["changes:read"]).await;
        assert_eq!(app.as_client(&colleague).post(&replay, &body).await.status, StatusCode::ACCEPTED);
        assert_eq!(app.as_client(&owner).post(&replay, &body).await.status, StatusCode::ACCEPTED);
        let operator = app.new_client(&["admin"]).await;
        assert_eq!(app.as_client(&operator).post(&replay, &body).await.status, StatusCode::ACCEPTED);
        let missing = format!("/v1/webhooks/{}/replay", uuid::Uuid::now_v7());
        app.as_client(&operator).post(&missing, &body).await.problem(404, "webhook_not_found");
        app.as_client(&owner).post("/v1/webhooks/nope/replay", &body).await.problem(400, "invalid_path");
    }

    /// Two workers over one database, passing at the same time, send each event exactly once.
    async fn concurrent_workers_send_each_delivery_once(app: TestApp) {
        let receiver = Receiver::start(&[]);
        let subscriber = app.new_client(&["changes:read"]).await;
        subscribe(&app, &subscriber, &receiver.url, &["listing.publish"]).await;
        const EVENTS: usize = 12;
        for _ in 0..EVENTS {
            publish(&app).await;
        }
        let workers = [app.webhook_worker(), app.webhook_worker()];
        let deadline = Instant::now() + Duration::from_secs(30);
        std::thread::scope(|scope| {
            for worker in &workers {
                let receiver = &receiver;
                scope.spawn(move || {
                    while receiver.received().len() < EVENTS && Instant::now() < deadline {
                        worker.run_once().unwrap();
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    // A few more passes each, to give a double send its chance.
                    for _ in 0..3 {
                        worker.run_once().unwrap();
                    }
                });
            }
        });
        let mut ids: Vec<String> = receiver.received().iter().map(|r| r.header("webhook-id").to_owned()).collect();
        assert_eq!(ids.len(), EVENTS, "{ids:?}");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), EVENTS, "a delivery was sent twice");
    }

    /// After a rotation, deliveries carry the new and the previous secret's signatures, each
    /// verifying, until the overlap ends.
    async fn a_rotated_secret_signs_beside_the_new_one_during_the_overlap(app: TestApp) {
        let receiver = Receiver::start(&[]);
        let subscriber = app.new_client(&["changes:read"]).await;
        let (webhook, old) = subscribe(&app, &subscriber, &receiver.url, &["listing.publish"]).await;
        let rotated = app.as_client(&subscriber).post_empty(&format!("/v1/webhooks/{webhook}/rotate-secret")).await;
        assert_eq!(rotated.status, StatusCode::OK, "{:#}", rotated.body);
        assert_eq!(rotated.header("cache-control"), Some("no-store"));
        let new = rotated.body["secret"].as_str().unwrap().to_owned();
        assert_ne!(new, old);
        assert!(rotated.body["previous_secret_expires_at"].is_string(), "{:#}", rotated.body);
        publish(&app).await;

        pass_until(&app, || !receiver.received().is_empty());
        let received = &receiver.received()[0];
        let signatures: Vec<&str> = received.header("webhook-signature").split(' ').collect();
        assert_eq!(signatures.len(), 2, "{signatures:?}");
        assert!(verifies(&new, received, signatures[0]));
        assert!(verifies(&old, received, signatures[1]));
        assert!(!verifies(&old, received, signatures[0]));

        // A day later the old secret no longer signs.
        app.clock.advance(chrono::Duration::hours(25));
        publish(&app).await;
        pass_until(&app, || receiver.received().len() >= 2);
        let later = &receiver.received()[1];
        let signatures: Vec<&str> = later.header("webhook-signature").split(' ').collect();
        assert_eq!(signatures.len(), 1, "{signatures:?}");
        assert!(verifies(&new, later, signatures[0]));
    }

    /// A background job is held by one server at a time: another takes it only once the
    /// holder's lease has run out.
    async fn a_job_lease_is_held_by_one_server_until_it_runs_out(app: TestApp) {
        use techex_persistence::leases;
        let mut conn = app.db.conn().unwrap();
        let now = app.clock.now();
        let minute = chrono::Duration::minutes(1);
        assert!(leases::take(&mut conn, "listing_expiry", "server-a", now, minute).unwrap());
        assert!(!leases::take(&mut conn, "listing_expiry", "server-b", now, minute).unwrap());
        // The holder renews; another job is free for anyone.
        assert!(leases::take(&mut conn, "listing_expiry", "server-a", now + chrono::Duration::seconds(30), minute).unwrap());
        assert!(leases::take(&mut conn, "idempotency_purge", "server-b", now, minute).unwrap());
        assert!(!leases::take(&mut conn, "listing_expiry", "server-b", now + chrono::Duration::seconds(89), minute).unwrap());
        assert!(leases::take(&mut conn, "listing_expiry", "server-b", now + chrono::Duration::seconds(91), minute).unwrap());
        assert!(!leases::take(&mut conn, "listing_expiry", "server-a", now + chrono::Duration::seconds(92), minute).unwrap());
    }

    /// A server stopping gives back the job leases it holds, and only its own: another server
    /// takes those jobs at once.
    async fn a_stopping_server_gives_back_its_job_leases_only(app: TestApp) {
        use techex_persistence::leases;
        let mut conn = app.db.conn().unwrap();
        let now = app.clock.now();
        let minute = chrono::Duration::minutes(1);
        assert!(leases::take(&mut conn, "listing_expiry", "server-a", now, minute).unwrap());
        assert!(leases::take(&mut conn, "tombstone_purge", "server-a", now, minute).unwrap());
        assert!(leases::take(&mut conn, "idempotency_purge", "server-b", now, minute).unwrap());
        assert_eq!(leases::give_back(&mut conn, "server-a").unwrap(), 2);
        assert!(leases::take(&mut conn, "listing_expiry", "server-c", now, minute).unwrap());
        assert!(leases::take(&mut conn, "tombstone_purge", "server-c", now, minute).unwrap());
        assert!(!leases::take(&mut conn, "idempotency_purge", "server-c", now, minute).unwrap());
        assert_eq!(leases::give_back(&mut conn, "server-a").unwrap(), 0);
    }

    /// A delivery leased by a server killed before it sent it waits one short lease (the send's
    /// timeout and a margin), not more, and is then sent by another worker; while its holder
    /// lives and renews the lease before sending, no other worker takes it.
    async fn a_dead_holders_delivery_is_sent_once_its_lease_runs_out_a_live_ones_is_not_taken(app: TestApp) {
        use techex_persistence::webhooks;
        let receiver = Receiver::start(&[]);
        let subscriber = app.new_client(&["changes:read"]).await;
        subscribe(&app, &subscriber, &receiver.url, &["listing.publish"]).await;
        publish(&app).await;
        let lease = app.webhooks.lease();
        assert_eq!(WebhookSettings::default().lease(), chrono::Duration::seconds(15), "the bound the README gives");
        let mut conn = app.db.conn().unwrap();
        // Server A leases the delivery (the relay may need a moment on PostgreSQL to see it).
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut held = loop {
            webhooks::relay(&mut conn, app.clock.now(), 500).unwrap();
            let claimed = webhooks::claim(&mut conn, app.clock.now(), lease, 10).unwrap();
            if let [delivery] = claimed.as_slice() {
                break delivery.clone();
            }
            assert!(claimed.is_empty() && Instant::now() < deadline, "{claimed:?}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let other = app.webhook_worker();
        app.clock.advance(lease - chrono::Duration::seconds(1));
        other.run_once().unwrap();
        assert!(receiver.received().is_empty(), "taken before the lease ran out");
        // A is alive and about to send: it renews, and the other worker keeps off.
        assert!(webhooks::renew(&mut conn, &mut held, app.clock.now() + lease).unwrap());
        app.clock.advance(chrono::Duration::seconds(1));
        other.run_once().unwrap();
        assert!(receiver.received().is_empty(), "a live holder's renewed lease was taken");
        // A dies there: once its lease has run out the other worker sends the delivery, and A's
        // lease is no longer its own (alive after all, it would not send it again).
        app.clock.advance(lease);
        other.run_once().unwrap();
        assert_eq!(receiver.received().len(), 1);
        assert!(!webhooks::renew(&mut conn, &mut held, app.clock.now() + lease).unwrap());
        other.run_once().unwrap();
        assert_eq!(receiver.received().len(), 1);
    }

    /// Servers taking one job at the same moment: exactly one gets it.
    async fn of_servers_taking_a_job_at_once_one_gets_it(app: TestApp) {
        let now = app.clock.now();
        let db = &app.db;
        let won: usize = std::thread::scope(|scope| {
            let takers: Vec<_> = (0..4)
                .map(|i| {
                    scope.spawn(move || {
                        let mut conn = db.conn().unwrap();
                        techex_persistence::leases::take(&mut conn, "race", &format!("server-{i}"), now, chrono::Duration::minutes(1))
                            .unwrap()
                    })
                })
                .collect();
            takers.into_iter().map(|t| usize::from(t.join().unwrap())).sum()
        });
        assert_eq!(won, 1);
    }
}
