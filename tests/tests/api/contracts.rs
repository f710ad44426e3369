//! Technology transfer contracts through `/v1/contracts`: their lifecycle, the registration duty
//! of Law 07/2017/QH14 Art. 31 (as amended from 2026-04-01), the registrations to chase, who may
//! see them, and the statistics of `/v1/stats`.

use actix_web::http::StatusCode;
use chrono::{Days, NaiveDate};
use serde_json::{Value, json};
use techex_tests::{TestApp, TestClient, backend_tests, listing_with};

const BOTH: &[&str] = &["contracts:read", "contracts:write"];

fn today() -> NaiveDate {
    techex_domain::refdata::vietnam_date(chrono::Utc::now())
}

fn days_ago(days: u64) -> String {
    (today() - Days::new(days)).to_string()
}

/// A domestic, privately funded contract between the organization `from` (transferor) and an
/// inline transferee in Đồng Nai, signed `signed_on`.
fn contract_body(from: &TestClient, signed_on: &str) -> Value {
    json!({
        "transferor": {"organization_id": from.organization_id},
        "transferee": {"name": "Công ty TNHH Cơ khí Biên Hòa", "tax_code": "0123456787", "country": "VN", "province": "75"},
        "technology": {"name": {"vi": "Quy trình sấy nông sản"}, "field_codes": ["211"]},
        "objects": ["know_how", "technology_plan"],
        "forms": ["independent"],
        "methods": ["documents", "training"],
        "rights": {"kind": "use", "exclusive": false, "sublicensing": false, "territory": ["VN"]},
        "value": {"amount": 500000000, "currency": "VND"},
        "payment": {"mode": "lump_sum"},
        "signed_on": signed_on,
        "term_months": 24
    })
}

fn with(mut body: Value, changes: Value) -> Value {
    for (key, value) in changes.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

async fn record(app: &TestApp, who: &TestClient, body: &Value) -> String {
    let reply = app.as_client(who).post("/v1/contracts", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn act(app: &TestApp, who: &TestClient, id: &str, action: &str) -> techex_tests::Reply {
    app.as_client(who).post_empty(&format!("/v1/contracts/{id}/{action}")).await
}

fn contract_changes(app: &TestApp, id: &str) -> Vec<String> {
    techex_persistence::change_log::history(&mut app.db.conn().unwrap(), "contract", id)
        .unwrap()
        .into_iter()
        .map(|c| c.op)
        .collect()
}

fn certificate() -> Value {
    json!({"number": "125/GCN-SKHCN", "authority": "province_department", "province": "74", "issued_on": today().to_string()})
}

/// A small deterministic generator (a linear congruential one), so a failing case can be replayed
/// from its seed.
struct Generator(u64);

impl Generator {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn some<T: Clone>(&mut self, items: &[T]) -> Vec<T> {
        items.iter().filter(|_| self.below(2) == 0).cloned().collect()
    }
}

/// What the statistics should say of `records` (contracts as the operator reads them), grouped
/// `by`: for each key, the count, the totals per currency and the confidential values withheld.
fn expected_stats(
    records: &[Value],
    by: &str,
) -> std::collections::BTreeMap<String, (i64, std::collections::BTreeMap<String, i64>, i64)> {
    use std::collections::BTreeMap;
    let concluded: Vec<&Value> =
        records.iter().filter(|c| !["draft", "cancelled"].contains(&c["status"].as_str().unwrap())).collect();
    let keys = |c: &Value| -> Vec<String> {
        let signed: NaiveDate = c["signed_on"].as_str().unwrap().parse().unwrap();
        let words =
            |name: &str| c[name].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_owned()).collect::<Vec<_>>();
        let mut keys = match by {
            "province" => c["province"].as_str().map(str::to_owned).into_iter().collect(),
            "year" => vec![signed.format("%Y").to_string()],
            "quarter" => vec![format!(
                "{}-Q{}",
                signed.format("%Y"),
                (signed.format("%m").to_string().parse::<u32>().unwrap() - 1) / 3 + 1
            )],
            "form" => words("forms"),
            "object" => words("objects"),
            "field" => c["technology"]["field_codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_str().unwrap().to_owned())
                .collect(),
            other => panic!("{other}"),
        };
        if keys.is_empty() {
            keys.push("unknown".to_owned());
        }
        keys
    };
    let mut members: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for c in &concluded {
        for key in keys(c) {
            members.entry(key).or_default().push(c);
        }
    }
    members
        .into_iter()
        .map(|(key, group)| {
            let large = group.len() >= 3;
            let mut totals = BTreeMap::new();
            let mut withheld = 0;
            for value in group.iter().map(|c| &c["value"]).filter(|v| !v.is_null()) {
                if value["confidential"] == true && !large {
                    withheld += 1;
                } else {
                    *totals.entry(value["currency"].as_str().unwrap().to_owned()).or_insert(0) +=
                        value["amount"].as_i64().unwrap();
                }
            }
            (key, (group.len() as i64, totals, withheld))
        })
        .collect()
}

backend_tests! {
    /// The change feed shows a contract only to the organizations that may read it: its parties
    /// with `contracts:read`, its broker while the value is not confidential, and the operator.
    async fn the_change_feed_shows_contracts_to_their_readers_only(app: TestApp) {
        let party = app.new_client(&["contracts:write", "contracts:read", "changes:read"]).await;
        let party_feed_only = app.client_in(&party.organization_id, &["changes:read"]).await;
        let broker = app.new_client(&["contracts:read", "changes:read"]).await;
        let stranger = app.new_client(&["contracts:read", "changes:read"]).await;
        let operator = app.new_client(&["admin"]).await;
        let open = record(&app, &party, &with(contract_body(&party, &days_ago(3)), json!({"brokered_by": broker.organization_id}))).await;
        let secret = record(&app, &party, &with(contract_body(&party, &days_ago(3)), json!({
            "brokered_by": broker.organization_id,
            "value": {"amount": 900000000, "currency": "VND", "confidential": true}
        }))).await;
        // On PostgreSQL a change waits for older transactions of the cluster: poll for `want`.
        let contracts_in_feed = |reader: TestClient, want: usize| {
            let app = &app;
            async move {
                let mut ids = Vec::new();
                for _ in 0..100 {
                    let reply = app.as_client(&reader).get("/v1/changes?entity=contract&limit=1000").await;
                    assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
                    ids = reply.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
                    if ids.len() >= want {
                        break;
                    }
                    actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                ids
            }
        };
        // The operator sees both once they are visible at all; the others are asked after.
        assert_eq!(contracts_in_feed(operator.clone(), 2).await, [open.clone(), secret.clone()]);
        assert_eq!(contracts_in_feed(party.clone(), 2).await, [open.clone(), secret.clone()]);
        assert_eq!(contracts_in_feed(broker, 1).await, std::slice::from_ref(&open), "a confidential value never reaches the broker");
        assert_eq!(contracts_in_feed(party_feed_only, 0).await, Vec::<String>::new(), "the feed's scope alone is not enough");
        assert_eq!(contracts_in_feed(stranger, 0).await, Vec::<String>::new());
    }

    async fn contracts_follow_their_lifecycle_and_every_move_is_logged(app: TestApp) {
        let party = app.new_client(BOTH).await;
        let id = record(&app, &party, &contract_body(&party, &days_ago(10))).await;
        let path = format!("/v1/contracts/{id}");
        let read = app.as_client(&party).get(&path).await;
        assert_eq!((read.body["status"].as_str(), read.body["transferor"]["province"].as_str()), (Some("draft"), Some("75")));
        assert_eq!(read.body["allowed_actions"], json!(["sign", "cancel"]));
        act(&app, &party, &id, "complete").await.problem(409, "illegal_transition");
        act(&app, &party, &id, "take-effect").await.problem(409, "illegal_transition");
        assert_eq!(act(&app, &party, &id, "sign").await.body["status"], "signed");
        act(&app, &party, &id, "sign").await.problem(409, "illegal_transition");
        let unsigning = app.as_client(&party).patch(&path, &json!({"signed_on": null})).await;
        assert_eq!(unsigning.problem(422, "validation_failed")["errors"][0]["field"], "signed_on", "a signed contract keeps its day");
        let effective = act(&app, &party, &id, "take-effect").await;
        assert_eq!(effective.body["status"], "in_effect", "a private domestic contract needs no registration");
        app.as_client(&party).patch(&path, &json!({"notes": "x"})).await.problem(409, "contract_locked");
        act(&app, &party, &id, "cancel").await.problem(409, "illegal_transition");
        assert_eq!(act(&app, &party, &id, "terminate").await.body["status"], "terminated");
        act(&app, &party, &id, "complete").await.problem(409, "illegal_transition");
        assert_eq!(contract_changes(&app, &id), ["create", "update", "update", "update"]);

        let draft = record(&app, &party, &contract_body(&party, &days_ago(1))).await;
        let unsigned = app.as_client(&party).patch(&format!("/v1/contracts/{draft}"), &json!({"signed_on": null})).await;
        assert_eq!(unsigned.status, StatusCode::OK, "{:#}", unsigned.body);
        let refused = act(&app, &party, &draft, "sign").await;
        assert_eq!(refused.problem(422, "validation_failed")["errors"][0]["field"], "signed_on");
        assert_eq!(act(&app, &party, &draft, "cancel").await.body["status"], "cancelled");
        assert_eq!(contract_changes(&app, &draft), ["create", "update", "update"]);
    }

    async fn contracts_are_validated_field_by_field(app: TestApp) {
        let party = app.new_client(BOTH).await;
        let body = with(contract_body(&party, &days_ago(1)), json!({
            "transferee": {"name": "X", "country": "Viet Nam"},
            "objects": [],
            "value": {"amount": -5, "currency": "dong"},
            "payment": {"mode": "royalty"},
            "term_months": 0,
        }));
        let reply = app.as_client(&party).post("/v1/contracts", &body).await;
        reply.problem(422, "validation_failed");
        let fields: Vec<String> = reply.field_errors().into_iter().map(|(f, _)| f).collect();
        for field in ["transferee.country", "objects", "value.amount", "value.currency", "payment.royalty_rate_bp", "payment.royalty_base", "term_months"] {
            assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
        }
        let stranger = app.new_client(BOTH).await;
        let unknown = with(contract_body(&party, &days_ago(1)), json!({"transferor": {"organization_id": uuid::Uuid::now_v7()}}));
        assert_eq!(app.as_client(&stranger).post("/v1/contracts", &unknown).await.field_errors()[0].1, "unknown_organization");
        let foreign = app.as_client(&stranger).post("/v1/contracts", &contract_body(&party, &days_ago(1))).await;
        assert_eq!(foreign.problem(422, "validation_failed")["errors"][0]["code"], "not_a_party");
        assert!(techex_persistence::change_log::count(&mut app.db.conn().unwrap(), "contract").unwrap() == 0, "nothing recorded");
    }

    async fn recording_a_contract_needs_the_scope_and_a_part_in_it(app: TestApp) {
        let party = app.new_client(BOTH).await;
        let reader = app.client_in(&party.organization_id, &["contracts:read"]).await;
        let stranger = app.new_client(BOTH).await;
        let operator = app.new_client(&["admin"]).await;
        let body = contract_body(&party, &days_ago(3));
        app.anonymous().post("/v1/contracts", &body).await.problem(401, "unauthorized");
        app.as_client(&reader).post("/v1/contracts", &body).await.problem(403, "insufficient_scope");
        let outsider = app.as_client(&stranger).post("/v1/contracts", &body).await;
        assert_eq!(outsider.problem(422, "validation_failed")["errors"][0]["code"], "not_a_party");
        let typo = app.as_client(&party).post("/v1/contracts", &with(body.clone(), json!({"valeu": 1}))).await;
        assert_eq!(typo.problem(422, "validation_failed")["errors"][0]["code"], "unknown_field");
        let by_operator = app.as_client(&operator).post("/v1/contracts", &body).await;
        assert_eq!(by_operator.status, StatusCode::CREATED, "{:#}", by_operator.body);
        let id = record(&app, &party, &body).await;
        let register = format!("/v1/contracts/{id}/register");
        app.as_client(&stranger).post(&register, &certificate()).await.problem(404, "contract_not_found");
        app.as_client(&reader).post(&register, &certificate()).await.problem(403, "insufficient_scope");
        app.anonymous().post(&register, &certificate()).await.problem(401, "unauthorized");
        app.as_client(&party).post(&register, &certificate()).await.problem(409, "illegal_transition");
        app.as_client(&party).get("/v1/contracts/not-an-id").await.problem(400, "invalid_path");
        assert_eq!(contract_changes(&app, &id), ["create"], "refused moves write nothing");
    }

    async fn registration_is_mandatory_exactly_in_the_cases_of_article_31(app: TestApp) {
        let party = app.new_client(BOTH).await;
        let base = contract_body(&party, &days_ago(5));
        let foreign = json!({"name": "Tanaka Machinery Co., Ltd.", "country": "JP"});
        let cases = [
            ("inbound", with(base.clone(), json!({"transferor": foreign, "transferee": {"organization_id": party.organization_id}})), true, "31.1.a"),
            ("outbound", with(base.clone(), json!({"transferee": foreign})), true, "31.1.b"),
            ("state capital", with(base.clone(), json!({"state_funding": "state_capital"})), true, "31.1.c"),
            ("state budget", with(base.clone(), json!({"state_funding": "state_budget"})), true, "31.1.c"),
            ("certified S&T result", with(base.clone(), json!({"state_funding": "state_budget", "st_result_certificate": "15/2024/GCN-KQNV"})), false, "31.1.c"),
            ("licensed restricted technology", with(base.clone(), json!({"transferee": foreign, "restricted_licence": "07/GP-BKHCN"})), false, "31.1"),
            ("private domestic", base.clone(), false, "31.2"),
        ];
        for (case, body, mandatory, clause) in cases {
            let reply = app.as_client(&party).post("/v1/contracts", &body).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{case}: {:#}", reply.body);
            let registration = &reply.body["registration"];
            assert_eq!(registration["mandatory"], mandatory, "{case}");
            assert_eq!(registration["clause"], clause, "{case}");
            let deadline = (today() - Days::new(5) + Days::new(90)).to_string();
            assert_eq!(registration["deadline"], if mandatory { json!(deadline) } else { Value::Null }, "{case}");
        }
    }

    async fn the_law_in_force_on_the_signing_day_decides_the_objects(app: TestApp) {
        let party = app.new_client(BOTH).await;
        let models = |signed: &str| with(contract_body(&party, signed), json!({"objects": ["model", "algorithm", "software"]}));
        let before = app.as_client(&party).post("/v1/contracts", &models("2026-03-31")).await;
        before.problem(422, "validation_failed");
        assert_eq!(before.field_errors(), [("objects[0]".to_owned(), "not_yet_in_law".to_owned()), ("objects[1]".to_owned(), "not_yet_in_law".to_owned())]);
        let after = app.as_client(&party).post("/v1/contracts", &models("2026-04-01")).await;
        assert_eq!(after.status, StatusCode::CREATED, "{:#}", after.body);
        assert_eq!(after.body["registration"]["law"], "Law 07/2017/QH14 as amended by Law 115/2025/QH15");
        let old = record(&app, &party, &contract_body(&party, "2026-03-31")).await;
        assert_eq!(app.as_client(&party).get(&format!("/v1/contracts/{old}")).await.body["registration"]["law"], "Law 07/2017/QH14");
        let backdated = app.as_client(&party).patch(&format!("/v1/contracts/{}", after.body["id"].as_str().unwrap()), &json!({"signed_on": "2026-03-01"})).await;
        backdated.problem(422, "validation_failed");
    }

    async fn a_contract_that_must_be_registered_takes_effect_only_with_its_certificate(app: TestApp) {
        let party = app.new_client(BOTH).await;
        let body = with(contract_body(&party, &days_ago(20)), json!({"transferee": {"name": "Lao Agro", "country": "LA"}}));
        let id = record(&app, &party, &body).await;
        act(&app, &party, &id, "sign").await;
        act(&app, &party, &id, "take-effect").await.problem(409, "registration_required");
        let path = format!("/v1/contracts/{id}/register");
        let bad = app.as_client(&party).post(&path, &json!({"number": " ", "authority": "province_department", "issued_on": today().to_string()})).await;
        let mut fields: Vec<String> = bad.field_errors().into_iter().map(|(f, _)| f).collect();
        fields.sort();
        assert_eq!(fields, ["number", "province"]);
        let registered = app.as_client(&party).post(&path, &certificate()).await;
        assert_eq!(registered.status, StatusCode::OK, "{:#}", registered.body);
        assert_eq!(registered.body["status"], "registered");
        assert_eq!(registered.body["registration"]["certificate"]["province"], "79", "Bình Dương's department is now Ho Chi Minh City's");
        assert_eq!(act(&app, &party, &id, "take-effect").await.body["status"], "in_effect");
        assert_eq!(contract_changes(&app, &id), ["create", "update", "update", "update"]);
    }

    async fn the_chase_list_holds_overdue_registrations_from_the_ninety_first_day(app: TestApp) {
        let party = app.new_client(BOTH).await;
        let inbound = |days: u64| with(contract_body(&party, &days_ago(days)), json!({"transferor": {"name": "Seoul Tech", "country": "KR"}, "transferee": {"organization_id": party.organization_id}}));
        let mut ids = Vec::new();
        for days in [91, 90, 60, 100] {
            let id = record(&app, &party, &inbound(days)).await;
            act(&app, &party, &id, "sign").await;
            ids.push(id);
        }
        // Registered in time, and a private one: never chased.
        let app_ref = &app;
        app_ref.as_client(&party).post(&format!("/v1/contracts/{}/register", ids[3]), &certificate()).await;
        let private = record(&app, &party, &contract_body(&party, &days_ago(120))).await;
        act(&app, &party, &private, "sign").await;
        let party_ref = &party;
        let listed = |query: &'static str| async move {
            let reply = app_ref.as_client(party_ref).get(&format!("/v1/contracts?{query}")).await;
            assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
            reply.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(listed("registration=overdue").await, [ids[0].clone()], "the 91st day is overdue; the 90th is not");
        assert_eq!(listed("due_within=0").await, [ids[1].clone()], "due today");
        assert_eq!(listed("due_within=30").await, [ids[1].clone(), ids[2].clone()]);
        let overdue = app.as_client(&party).get(&format!("/v1/contracts/{}", ids[0])).await;
        assert_eq!(overdue.body["registration"]["overdue"], true);
        for bad in ["registration=late", "due_within=367", "due_within=-1", "registration=overdue&due_within=3"] {
            app.as_client(&party).get(&format!("/v1/contracts?{bad}")).await.problem(400, "invalid_query");
        }
    }

    async fn only_parties_brokers_and_the_operator_see_a_contract(app: TestApp) {
        let party = app.new_client(BOTH).await;
        let broker = app.new_client(BOTH).await;
        let stranger = app.new_client(BOTH).await;
        let operator = app.new_client(&["admin"]).await;
        let party_without_scope = app.client_in(&party.organization_id, &["listings:write"]).await;
        let party_reader = app.client_in(&party.organization_id, &["contracts:read"]).await;
        let body = with(contract_body(&party, &days_ago(3)), json!({
            "brokered_by": broker.organization_id,
            "value": {"amount": 900000000, "currency": "VND", "confidential": true}
        }));
        let id = record(&app, &broker, &body).await;
        let path = format!("/v1/contracts/{id}");
        let missing = format!("/v1/contracts/{}", uuid::Uuid::now_v7());

        app.anonymous().get(&path).await.problem(401, "unauthorized");
        app.as_client(&party_without_scope).get(&path).await.problem(403, "insufficient_scope");
        app.as_client(&party_without_scope).get(&missing).await.problem(403, "insufficient_scope");
        let hidden = app.as_client(&stranger).get(&path).await;
        hidden.problem(404, "contract_not_found");
        assert_eq!(app.as_client(&stranger).get(&missing).await.body, hidden.body, "a hidden contract reads as a missing one");

        let as_party = app.as_client(&party_reader).get(&path).await;
        assert_eq!((as_party.body["value"]["amount"].as_i64(), as_party.body["value_withheld"].as_bool()), (Some(900000000), Some(false)));
        let as_broker = app.as_client(&broker).get(&path).await;
        assert_eq!((as_broker.body["value"].clone(), as_broker.body["value_withheld"].as_bool()), (Value::Null, Some(true)));
        let as_operator = app.as_client(&operator).get(&path).await;
        assert_eq!(as_operator.body["value"]["amount"], 900000000);

        let ids = |reply: techex_tests::Reply| reply.body["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(ids(app.as_client(&party_reader).get("/v1/contracts").await), std::slice::from_ref(&id));
        assert_eq!(ids(app.as_client(&broker).get("/v1/contracts").await), std::slice::from_ref(&id));
        assert!(ids(app.as_client(&stranger).get("/v1/contracts").await).is_empty());
        assert_eq!(ids(app.as_client(&operator).get("/v1/contracts").await), std::slice::from_ref(&id));
        app.anonymous().get("/v1/contracts").await.problem(401, "unauthorized");
        app.as_client(&party_without_scope).get("/v1/contracts").await.problem(403, "insufficient_scope");

        app.as_client(&stranger).patch(&path, &json!({"notes": "x"})).await.problem(404, "contract_not_found");
        act(&app, &stranger, &id, "sign").await.problem(404, "contract_not_found");
        app.as_client(&party_reader).patch(&path, &json!({"notes": "x"})).await.problem(403, "insufficient_scope");
        act(&app, &party_reader, &id, "sign").await.problem(403, "insufficient_scope");
        let noted = app.as_client(&broker).patch(&path, &json!({"notes": "Môi giới bởi sàn"})).await;
        assert_eq!(noted.status, StatusCode::OK, "{:#}", noted.body);
        assert_eq!(app.as_client(&party).get(&path).await.body["value"]["amount"], 900000000, "the broker's edit keeps the value it never saw");
        let leaving = app.as_client(&broker).patch(&path, &json!({"brokered_by": null})).await;
        assert_eq!(leaving.problem(422, "validation_failed")["errors"][0]["code"], "not_a_party");
        assert_eq!(act(&app, &operator, &id, "sign").await.body["status"], "signed");
        assert_eq!(contract_changes(&app, &id), ["create", "update", "update"]);
    }

    async fn a_contract_taking_effect_closes_its_listing_in_the_same_transaction(app: TestApp) {
        let listing = app.publish_listing(&listing_with(json!({"source": null}))).await;
        let seller = app.client_in(&app.publisher.organization_id, BOTH).await;
        let body = with(contract_body(&seller, &days_ago(2)), json!({"technology": {"name": {"vi": "Máy sấy"}, "listing_id": listing}}));
        let id = record(&app, &seller, &body).await;
        act(&app, &seller, &id, "sign").await;
        let before = app.history(&listing).len();
        assert_eq!(act(&app, &seller, &id, "take-effect").await.body["status"], "in_effect");
        let read = app.get(&format!("/v1/listings/{listing}")).await;
        assert_eq!(read.body["status"], "closed");
        let history = app.history(&listing);
        assert_eq!(history.len(), before + 1);
        assert_eq!(history.last().unwrap().data["status"], "closed");

        let unknown = with(contract_body(&seller, &days_ago(2)), json!({"technology": {"name": {"vi": "Máy sấy"}, "listing_id": uuid::Uuid::now_v7()}}));
        assert_eq!(app.as_client(&seller).post("/v1/contracts", &unknown).await.field_errors()[0].1, "unknown_listing");
    }

    async fn contract_statistics_are_the_sums_of_the_contracts_and_keep_small_groups_confidential(app: TestApp) {
        let party = app.new_client(BOTH).await;
        let province = |code: &str| json!({"name": "Bên nhận", "country": "VN", "province": code});
        let specs = [
            ("79", 100, false, true), ("79", 200, true, true), ("74", 300, true, true),
            ("80", 40, false, true), ("80", 50, true, true),
            ("80", 999, false, false),
        ];
        for (code, amount, confidential, signed) in specs {
            let body = with(contract_body(&party, "2026-05-10"), json!({
                "transferee": province(code),
                "value": {"amount": amount, "currency": "VND", "confidential": confidential}
            }));
            let id = record(&app, &party, &body).await;
            if signed {
                act(&app, &party, &id, "sign").await;
            }
        }
        let stats = app.anonymous().get("/v1/stats/contracts?group=province").await;
        assert_eq!(stats.status, StatusCode::OK, "{:#}", stats.body);
        assert_eq!(stats.header("cache-control"), Some("public, max-age=300"));
        assert_eq!(stats.body["contracts"], 5, "the unsigned draft is not counted");
        let groups = stats.body["groups"].as_array().unwrap();
        let group = |key: &str| groups.iter().find(|g| g["key"] == key).unwrap().clone();
        assert_eq!(group("79")["count"], 3, "Bình Dương (74) counts as Ho Chi Minh City");
        assert_eq!(group("79")["totals"], json!([{"currency": "VND", "amount": 600}]));
        assert_eq!(group("79")["withheld"], 0);
        assert_eq!(group("80")["count"], 2);
        assert_eq!(group("80")["totals"], json!([{"currency": "VND", "amount": 40}]), "a group of two hides its confidential value");
        assert_eq!(group("80")["withheld"], 1);
        let quarter = app.anonymous().get("/v1/stats/contracts?group=quarter&province=79,80").await;
        assert_eq!(quarter.body["groups"], json!([{"key": "2026-Q2", "label_vi": null, "label_en": null, "count": 5,
            "totals": [{"currency": "VND", "amount": 690}], "withheld": 0}]));
        let empty = app.anonymous().get("/v1/stats/contracts?from=2026-06-01&to=2026-12-31").await;
        assert_eq!(empty.body["contracts"], 0);
        let csv = app.anonymous().get("/v1/stats/contracts?group=province&format=csv").await;
        assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
        let text = csv.body.as_str().unwrap();
        assert!(text.starts_with("group,key,label_vi,label_en,count,currency,total,withheld\r\n"), "{text}");
        assert!(text.contains("province,80,"), "{text}");
        assert!(text.contains(",2,VND,40,1\r\n"), "{text}");
        for bad in ["group=city", "from=2026-13-01", "from=2026-06-01&to=2026-01-01", "format=xlsx", "province=99", "limit=3"] {
            app.anonymous().get(&format!("/v1/stats/contracts?{bad}")).await.problem(400, "invalid_query");
        }
    }

    async fn listing_statistics_count_the_listings_by_each_grouping(app: TestApp) {
        app.publish_all(&[("offer", "79", &["211"]), ("demand", "74", &["211", "401"]), ("offer", "75", &["106"])]).await;
        app.create_listing(&listing_with(json!({"source": null, "province": "75"}))).await;
        let by = |group: &'static str| {
            let app = &app;
            async move { app.anonymous().get(&format!("/v1/stats/listings?group={group}")).await.body }
        };
        let provinces = by("province").await;
        assert_eq!(provinces["listings"], 4);
        assert_eq!(provinces["groups"].as_array().unwrap().iter().map(|g| (g["key"].as_str().unwrap().to_owned(), g["count"].as_i64().unwrap())).collect::<Vec<_>>(),
            [("75".to_owned(), 2), ("79".to_owned(), 2)]);
        let statuses = by("status").await;
        assert_eq!(statuses["groups"].as_array().unwrap().iter().map(|g| g["count"].as_i64().unwrap()).collect::<Vec<_>>(), [1, 3]);
        let fields = by("field").await;
        let field = |code: &str| fields["groups"].as_array().unwrap().iter().find(|g| g["key"] == code).unwrap()["count"].clone();
        assert_eq!((field("211"), field("401"), field("106")), (json!(3), json!(2), json!(1)));
        let month = by("month").await;
        assert_eq!(month["groups"][0]["key"], today().format("%Y-%m").to_string());
        let only_hcmc = app.anonymous().get("/v1/stats/listings?province=74&group=kind&format=csv").await;
        assert_eq!(only_hcmc.body.as_str().unwrap(), "group,key,label_vi,label_en,count\r\nkind,demand,Nhu cầu công nghệ,Technology demand,1\r\nkind,offer,Chào bán công nghệ,Technology offer,1\r\n");
        let future = app.anonymous().get(&format!("/v1/stats/listings?from={}", today() + Days::new(1))).await;
        assert_eq!(future.body["listings"], 0);
    }

    async fn statistics_equal_the_sums_over_generated_contracts(app: TestApp) {
        let party = app.new_client(BOTH).await;
        let operator = app.new_client(&["admin"]).await;
        let (mut small_withheld, mut large_counted) = (0, 0);
        for seed in [7u64, 2026, 424242] {
            let mut g = Generator(seed);
            for _ in 0..12 {
                let province = *g.pick(&["79", "74", "75", "80", "01"]);
                let abroad = g.below(5) == 0;
                let transferee = if abroad { json!({"name": "Partner", "country": "SG"}) } else { json!({"name": "Bên nhận", "province": province}) };
                let mut forms = g.some(&["independent", "franchise", "ip_transfer", "capital_contribution"]);
                if forms.is_empty() { forms.push("independent"); }
                let mut objects = g.some(&["know_how", "software", "data", "formula"]);
                if objects.is_empty() { objects.push("know_how"); }
                let fields = g.some(&["211", "401", "106"]);
                let value = match g.below(3) {
                    0 => Value::Null,
                    _ => json!({"amount": g.below(1_000_000), "currency": g.pick(&["VND", "USD"]), "confidential": g.below(2) == 0}),
                };
                let signed = (NaiveDate::from_ymd_opt(2026, 4, 1).unwrap() + Days::new(g.below(200))).min(today());
                let body = with(contract_body(&party, &signed.to_string()), json!({
                    "transferee": transferee, "forms": forms, "objects": objects,
                    "technology": {"name": {"vi": "Công nghệ"}, "field_codes": fields}, "value": value
                }));
                let id = record(&app, &party, &body).await;
                match g.below(4) {
                    0 => {}
                    1 => { act(&app, &party, &id, "cancel").await; }
                    _ => { act(&app, &party, &id, "sign").await; }
                }
            }
            let records = app.as_client(&operator).get("/v1/contracts?limit=100").await.body["items"].as_array().unwrap().clone();
            for by in ["province", "year", "quarter", "form", "object", "field"] {
                let answer = app.anonymous().get(&format!("/v1/stats/contracts?group={by}")).await.body;
                let got: std::collections::BTreeMap<String, (i64, std::collections::BTreeMap<String, i64>, i64)> = answer["groups"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|g| {
                        let totals = g["totals"].as_array().unwrap().iter().map(|t| (t["currency"].as_str().unwrap().to_owned(), t["amount"].as_i64().unwrap())).collect();
                        (g["key"].as_str().unwrap().to_owned(), (g["count"].as_i64().unwrap(), totals, g["withheld"].as_i64().unwrap()))
                    })
                    .collect();
                let expected = expected_stats(&records, by);
                assert_eq!(got, expected, "seed {seed}, by {by}");
                small_withheld += expected.values().filter(|(_, _, withheld)| *withheld > 0).count();
                large_counted += expected.values().filter(|(count, _, _)| *count >= 3).count();
            }
        }
        assert!(small_withheld > 0 && large_counted > 0, "the data hits the small-group rule both ways");
    }

    async fn the_demo_brokers_sample_contracts_one_of_them_overdue(app: TestApp) {
        let demo = techex_api::demo::load(&app.db, chrono::Utc::now()).unwrap();
        assert_eq!(demo.contracts, 3);
        let token = app.token_for(&demo.client.id.to_string(), &demo.client_secret).await;
        let all = app.with_token(&token).get("/v1/contracts").await.body;
        let statuses: Vec<&str> = all["items"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["in_effect", "signed", "in_effect"]);
        assert!(all["items"].as_array().unwrap().iter().all(|c| c["technology"]["name"]["vi"].as_str().unwrap().ends_with("(hợp đồng mẫu)")));
        let overdue = app.with_token(&token).get("/v1/contracts?registration=overdue").await.body;
        assert_eq!(overdue["items"].as_array().unwrap().len(), 1);
        assert_eq!(overdue["items"][0]["value_withheld"], true, "the broker does not see the confidential value");
        assert_eq!(app.anonymous().get("/v1/stats/contracts").await.body["contracts"], 3);
    }
}
