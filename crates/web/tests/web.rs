//! The web layer end to end: the API in-process on both backends, the OpenAPI snapshot, and the
//! first page in a real headless Chromium.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cordon_domain::AreaCode;
use cordon_domain::access::Role;
use cordon_store::Store;
use cordon_store::accounts::{NewUser, SignIn};
use cordon_store::audit::{Actor, AuditFilter};
use cordon_store::import::{Quiet, import_persons};
use cordon_store::scratch::{Scratch, sample_id, sample_people_csv, seed_sample_areas, test_scratches};
use serde_json::Value;
use tower::ServiceExt;

/// A scratch store per backend holding the sample county with `people` residents, a county
/// commander and a township investigator (清源镇), each with an API token.
struct World {
    scratch: Scratch,
    store: Store,
    commander: String,
    township: String,
}

/// The worlds, one per backend; each says which backend it is as its turn comes, so that a
/// failing test's output names the backend it failed on.
async fn worlds(label: &str, people: u32) -> impl Iterator<Item = World> {
    let mut out = Vec::new();
    for scratch in test_scratches(label).await {
        let store = scratch.store().await.expect("store opens");
        seed_sample_areas(&store).await;
        let csv = sample_people_csv(people).into_bytes();
        import_persons(&store, std::io::Cursor::new(csv), &mut Quiet).await.expect("sample imported");
        let commander = account(&store, "commander1", Role::Commander, "140121").await;
        let township = account(&store, "tracer1", Role::Investigator, "140121100").await;
        out.push(World { scratch, store, commander, township });
    }
    out.into_iter().inspect(|w| eprintln!("-- now on {:?}", w.scratch.kind))
}

const PASSWORD: &str = "Qingxu-2022-0413";

/// A JSON POST with a bearer token.
fn post_json(token: &str, uri: &str, body: Value) -> Request<Body> {
    Request::post(uri.to_string())
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A controlled-zone round over 清源镇 with one site in 东关村, planned through the API.
async fn plan_round(store: &Store, token: &str, name: &str) -> (i64, i64) {
    let (status, _, round) = call(
        store,
        post_json(
            token,
            "/api/v1/rounds",
            serde_json::json!({
                "name": name, "areas": [{"area_code": "140121100", "zone": "controlled"}]
            }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{round}");
    let id = round["id"].as_i64().unwrap();
    let (status, _, site) = call(
        store,
        post_json(
            token,
            &format!("/api/v1/rounds/{id}/sites"),
            serde_json::json!({
                "area_code": "140121100201", "name": "东关1号点", "address": "东关村", "stations": 1
            }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{site}");
    (id, site["id"].as_i64().unwrap())
}

/// Creates a user and returns a bearer token for them.
async fn account(store: &Store, name: &str, role: Role, area: &str) -> String {
    let admin = Actor::system("test");
    let new = NewUser {
        username: name.into(),
        display_name: format!("{name}同志"),
        role,
        areas: vec![AreaCode::parse(area).unwrap()],
        password: PASSWORD.into(),
    };
    store.create_user(&admin, new).await.expect("user created");
    store.create_api_token(&admin, name, "test").await.expect("token").1
}

impl World {
    async fn finish(self) {
        self.scratch.finish(self.store).await.unwrap();
    }
}

/// A page as a browser gets it (GET with a bearer token): its status and its HTML.
async fn page_html(store: &Store, token: &str, uri: &str) -> (StatusCode, String) {
    let req = Request::get(uri.to_string()).header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
    let res = cordon_web::app(store.clone()).oneshot(req).await.expect("router answers");
    let status = res.status();
    (status, String::from_utf8_lossy(&axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body")).into_owned())
}

async fn call(store: &Store, req: Request<Body>) -> (StatusCode, String, Value) {
    let res = cordon_web::app(store.clone()).oneshot(req).await.expect("router answers");
    let status = res.status();
    let ctype = res.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_string()).unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, ctype, json)
}

async fn get(store: &Store, token: &str, uri: &str) -> (StatusCode, String, Value) {
    call(store, Request::get(uri).header("authorization", format!("Bearer {token}")).body(Body::empty()).expect("request")).await
}

#[tokio::test]
async fn everything_but_health_login_and_static_files_needs_a_caller() {
    for w in worlds("auth", 4).await {
        let app = cordon_web::app(w.store.clone());
        for (uri, expected) in [
            ("/healthz", StatusCode::OK),
            ("/login", StatusCode::OK),
            ("/static/cordon.css", StatusCode::OK),
            ("/api/v1/areas", StatusCode::UNAUTHORIZED),
            ("/api/v1/persons", StatusCode::UNAUTHORIZED),
            ("/api/openapi.json", StatusCode::UNAUTHORIZED),
            ("/", StatusCode::SEE_OTHER),
            ("/areas/140121", StatusCode::SEE_OTHER),
        ] {
            let res = app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(res.status(), expected, "{uri}");
            if expected == StatusCode::SEE_OTHER {
                let to = res.headers()["location"].to_str().unwrap();
                assert!(to.starts_with("/login?next=/"), "{to}");
            }
        }
        let (status, _, _) = get(&w.store, "cdn_forged", "/api/v1/areas").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, doc) = get(&w.store, &w.commander, "/api/openapi.json").await;
        assert_eq!(status, StatusCode::OK);
        assert!(doc["paths"]["/api/v1/persons"].is_object());

        // A cookie-session POST from another site is refused before it reaches a handler.
        let cross =
            Request::post("/logout").header("origin", "http://evil.example").header("host", "cordon.local").body(Body::empty()).unwrap();
        assert_eq!(app.clone().oneshot(cross).await.unwrap().status(), StatusCode::FORBIDDEN);
        let same = Request::post("/logout").header("sec-fetch-site", "same-origin").body(Body::empty()).unwrap();
        assert_eq!(app.clone().oneshot(same).await.unwrap().status(), StatusCode::SEE_OTHER);

        // Every answer carries its request's id and the security headers; `?lang=` is remembered.
        let res = app
            .clone()
            .oneshot(Request::get("/login?lang=en").header("x-request-id", "desk-7").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let h = res.headers();
        assert_eq!((h["x-request-id"].to_str().unwrap(), h["x-content-type-options"].to_str().unwrap()), ("desk-7", "nosniff"));
        assert_eq!((h["x-frame-options"].to_str().unwrap(), h["referrer-policy"].to_str().unwrap()), ("DENY", "same-origin"));
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
        assert!(h["set-cookie"].to_str().unwrap().starts_with("lang=en;"), "{h:?}");
        let res = app.clone().oneshot(Request::get("/api/v1/areas").body(Body::empty()).unwrap()).await.unwrap();
        assert!(res.headers()["x-request-id"].to_str().is_ok_and(|id| !id.is_empty()) && res.headers().contains_key("x-frame-options"));
        w.finish().await;
    }
}

#[tokio::test]
async fn login_sets_a_session_cookie_and_repeated_failures_are_throttled() {
    for w in worlds("login", 4).await {
        let app = cordon_web::app(w.store.clone());
        let form = |user: &str, pw: &str, from: &str| {
            let mut req = Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(format!("username={user}&password={pw}&next=/areas/140121100")))
                .unwrap();
            let peer: std::net::SocketAddr = format!("{from}:50000").parse().unwrap();
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            req
        };
        let desk = "10.1.1.5";
        let ok = app.clone().oneshot(form("tracer1", PASSWORD, desk)).await.unwrap();
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        assert_eq!(ok.headers()["location"], "/areas/140121100");
        let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let session = cookie.split(';').next().unwrap().to_string();
        let page =
            app.clone().oneshot(Request::get("/areas/140121100").header("cookie", &session).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);

        // A stranger guesses the account's password five times: the stranger is locked out …
        let stranger = "203.0.113.7";
        for _ in 0..5 {
            let bad = app.clone().oneshot(form("tracer1", "wrong-password-1", stranger)).await.unwrap();
            assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
        }
        let blocked = app.clone().oneshot(form("tracer1", PASSWORD, stranger)).await.unwrap();
        assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
        let body = axum::body::to_bytes(blocked.into_body(), usize::MAX).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("15 分钟后再试"), "{}", String::from_utf8_lossy(&body));
        // … the owner at their desk is not.
        let owner = app.clone().oneshot(form("tracer1", PASSWORD, desk)).await.unwrap();
        assert_eq!(owner.status(), StatusCode::SEE_OTHER, "the owner signs in from their usual address");
        // The lockout is in the audit log, with the address it came from.
        let events = w.store.audit_events(&AuditFilter { entity: Some("session".into()), ..Default::default() }, 10).await.unwrap();
        let lockouts: Vec<_> = events.iter().filter(|e| e.action == "lockout").collect();
        assert_eq!(lockouts.len(), 1, "{events:?}");
        assert_eq!(lockouts[0].client_addr.as_deref(), Some(stranger));
        assert!(lockouts[0].after_json.as_deref().unwrap().contains("\"scope\":\"pair\""));
        // The log says it as a person reads it: an attempt, not the account's owner, did this.
        let admin = account(&w.store, "admin9", Role::Admin, "140121").await;
        let (_, log) = page_html(&w.store, &admin, "/audit?entity=session").await;
        assert!(log.contains("登录尝试") && log.contains("账号 tracer1 在此地址锁定至"), "{log}");

        // One address guessing many names is locked for all of them.
        let scanner = "198.51.100.9";
        for n in 0..20 {
            let bad = app.clone().oneshot(form(&format!("guess{n}"), "wrong-password-1", scanner)).await.unwrap();
            assert_eq!(bad.status(), StatusCode::UNAUTHORIZED, "guess {n}");
        }
        let blocked = app.clone().oneshot(form("tracer1", PASSWORD, scanner)).await.unwrap();
        assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);

        // The locks outlive a restart: a new app on the same database still refuses.
        let restarted = cordon_web::app(w.store.clone());
        let still = restarted.oneshot(form("tracer1", PASSWORD, stranger)).await.unwrap();
        assert_eq!(still.status(), StatusCode::TOO_MANY_REQUESTS);
        w.finish().await;
    }
}

#[tokio::test]
async fn an_account_guessed_from_many_addresses_locks_for_strangers_only() {
    for w in worlds("login_spread", 4).await {
        let store = &w.store;
        assert!(matches!(store.sign_in("tracer1", PASSWORD, "10.1.1.5").await.unwrap(), SignIn::Welcome(_)));
        // Fifty guesses, each from an address of its own: no pair or address reaches its limit.
        for n in 0..50 {
            let r = store.sign_in("tracer1", "wrong-password-1", &format!("203.0.113.{n}")).await.unwrap();
            assert!(matches!(r, SignIn::Wrong), "guess {n}: {r:?}");
        }
        assert!(matches!(store.sign_in("tracer1", PASSWORD, "203.0.113.200").await.unwrap(), SignIn::Locked { minutes: 15 }));
        assert!(matches!(store.sign_in("tracer1", PASSWORD, "10.1.1.5").await.unwrap(), SignIn::Welcome(_)));
        // An unknown name is checked against a decoy: it is refused like a wrong password.
        assert!(matches!(store.sign_in("nobody", PASSWORD, "10.1.1.5").await.unwrap(), SignIn::Wrong));
        w.finish().await;
    }
}

#[tokio::test]
async fn area_tree_has_populations_at_every_level() {
    for w in worlds("api_areas", 40).await {
        let store = &w.store;
        let (status, _, tree) = get(store, &w.commander, "/api/v1/areas").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(tree["code"], "140121");
        assert_eq!(tree["name"], "清徐县");
        assert_eq!(tree["population"], 40);
        let towns = tree["children"].as_array().expect("townships");
        assert_eq!(towns.len(), 2);
        assert_eq!(towns[0]["name"], "清源镇");
        let town_sum: i64 = towns.iter().map(|t| t["population"].as_i64().unwrap()).sum();
        assert_eq!(town_sum, 40);
        assert_eq!(towns[0]["children"].as_array().unwrap().len(), 2);

        let (_, _, shallow) = get(store, &w.commander, "/api/v1/areas?depth=1").await;
        assert!(shallow["children"][0].get("children").is_none(), "depth=1 stops at townships");

        let (status, ctype, problem) = get(store, &w.commander, "/api/v1/areas/14012").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(ctype, "application/problem+json");
        assert_eq!(problem["field"], "code");
        let (status, _, _) = get(store, &w.commander, "/api/v1/areas/140121999").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The township investigator's tree starts at their township; the county is refused.
        let (_, _, own) = get(store, &w.township, "/api/v1/areas").await;
        assert_eq!(own["code"], "140121100");
        let (status, _, problem) = get(store, &w.township, "/api/v1/areas?root=140121").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(problem["detail"].as_str().unwrap().contains("outside your jurisdiction"), "{problem}");
        w.finish().await;
    }
}

#[tokio::test]
async fn person_list_masks_pages_by_key_and_stays_in_the_jurisdiction() {
    for w in worlds("api_persons", 30).await {
        let store = &w.store;
        let mut seen = Vec::new();
        let mut uri = "/api/v1/persons?area=140121101&limit=4".to_string();
        loop {
            let (status, _, page) = get(store, &w.commander, &uri).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            for p in page["items"].as_array().unwrap() {
                assert!(p["area_code"].as_str().unwrap().starts_with("140121101"));
                let masked = p["id_number_masked"].as_str().unwrap();
                assert!(masked.starts_with("1401**********"), "{masked}");
                assert!(p["phone_masked"].as_str().unwrap().contains("****"));
                assert!(p.get("id_number").is_none() && p.get("phone").is_none(), "no unmasked fields in lists");
                seen.push(p["id"].as_i64().unwrap());
            }
            match page["next"].as_str() {
                Some(next) => uri = format!("/api/v1/persons?area=140121101&limit=4&after={next}"),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.dedup();
        assert_eq!(unique.len(), 14, "people of 徐沟镇 among 30: {seen:?}");

        let (_, _, found) = get(store, &w.commander, "/api/v1/persons?q=13900000005").await;
        assert_eq!(found["items"].as_array().unwrap().len(), 1);
        let (_, _, bedridden) = get(store, &w.commander, "/api/v1/persons?tag=bedridden").await;
        assert!(
            bedridden["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["vulnerabilities"].as_array().unwrap().contains(&Value::from("bedridden")))
        );
        let (status, _, problem) = get(store, &w.commander, "/api/v1/persons?tag=pilot").await;
        assert_eq!((status, problem["field"].as_str()), (StatusCode::BAD_REQUEST, Some("tag")));

        let id = found["items"][0]["id"].as_i64().unwrap();
        let (status, _, detail) = get(store, &w.commander, &format!("/api/v1/persons/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(detail["household"].as_array().unwrap().len(), 1, "two per household");

        // Person 5 lives in 徐沟镇: the 清源镇 investigator cannot list, search or open them.
        let (_, _, own) = get(store, &w.township, "/api/v1/persons?limit=100").await;
        assert_eq!(own["items"].as_array().unwrap().len(), 16);
        assert!(own["items"].as_array().unwrap().iter().all(|p| p["area_code"].as_str().unwrap().starts_with("140121100")));
        let (_, _, search) = get(store, &w.township, "/api/v1/persons?q=13900000005").await;
        assert!(search["items"].as_array().unwrap().is_empty());
        let (status, _, _) = get(store, &w.township, "/api/v1/persons?area=140121101").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, problem) = get(store, &w.township, &format!("/api/v1/persons/{id}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        w.finish().await;
    }
}

#[tokio::test]
async fn revealing_a_person_needs_the_permission_and_leaves_an_audit_event() {
    for w in worlds("api_reveal", 8).await {
        let store = &w.store;
        let viewer = account(store, "viewer1", Role::Viewer, "140121").await;
        let (_, _, page) = get(store, &w.township, "/api/v1/persons?limit=1").await;
        let id = page["items"][0]["id"].as_i64().unwrap();
        let post = |token: &str| {
            Request::post(format!("/api/v1/persons/{id}/reveal"))
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap()
        };
        let (status, _, shown) = call(store, post(&w.township)).await;
        assert_eq!(status, StatusCode::OK, "{shown}");
        assert_eq!(shown["id_number"].as_str().unwrap().len(), 18);
        let (status, _, problem) = call(store, post(&viewer)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(problem["detail"].as_str().unwrap().contains("persons.reveal"), "{problem}");
        let events = store.audit_events(&AuditFilter { entity: Some("person".into()), ..Default::default() }, 10).await.unwrap();
        assert_eq!(events.len(), 1, "only the allowed look is recorded");
        assert_eq!((events[0].actor_name.as_str(), events[0].action.as_str()), ("tracer1", "reveal"));
        assert_eq!(events[0].entity_id.as_deref(), Some(id.to_string().as_str()));
        assert!(events[0].request_id.as_deref().is_some_and(|r| !r.is_empty()), "the request id is kept");
        w.finish().await;
    }
}

#[tokio::test]
async fn csv_import_over_http_reports_rows_and_is_idempotent() {
    for w in worlds("api_import", 0).await {
        let store = &w.store;
        let mut csv = sample_people_csv(50);
        csv.push_str(&format!("{},坏号码,12345,140121100201,,\n", sample_id(900)));
        let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
        let gbk = gbk.into_owned();
        let post = |token: &str, body: Vec<u8>| {
            Request::post("/api/v1/imports/persons")
                .header("content-type", "text/csv")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from(body))
                .unwrap()
        };
        let (status, _, report) = call(store, post(&w.commander, gbk.clone())).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["encoding"], "GB18030");
        // A phone that does not read is a warning: the person is stored without it.
        let counts = |r: &Value| (r["rows"].as_u64(), r["inserted"].as_u64(), r["warned_rows"].as_u64(), r["invalid_rows"].as_u64());
        assert_eq!(counts(&report), (Some(51), Some(51), Some(1), Some(0)), "{report}");
        assert_eq!((&report["warnings"][0]["line"], &report["warnings"][0]["field"]), (&Value::from(52), &Value::from("phone")));

        let (_, _, again) = call(store, post(&w.commander, gbk)).await;
        assert_eq!((again["inserted"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(51)));
        // A corrected list corrects a name and says so, in English, with the kinds beside.
        let corrected = csv.replacen("王秀英", "王秀瑛", 1);
        let (_, _, fixed) = call(store, post(&w.commander, corrected.into_bytes())).await;
        assert_eq!((fixed["corrected_rows"].as_u64(), fixed["unchanged"].as_u64()), (Some(1), Some(50)), "{fixed}");
        let said = fixed["warnings"].as_array().unwrap().iter().find(|w| w["line"] == 2).expect("line 2 said");
        assert_eq!((&said["field"], &said["then"]["kind"]), (&Value::from("name"), &Value::from("row.then.corrected")), "{said}");
        assert!(said["reason"].as_str().unwrap().contains("Corrected from the file"), "{said}");

        let (status, ctype, problem) = call(store, post(&w.commander, b"foo,bar\n1,2\n".to_vec())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(ctype, "application/problem+json");
        assert!(problem["detail"].as_str().unwrap().contains("id_number"));

        // The township investigator may not import at all.
        let (status, _, _) = call(store, post(&w.township, sample_people_csv(2).into_bytes())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        w.finish().await;
    }
}

#[test]
fn openapi_document_matches_the_snapshot_and_names_every_permission() {
    let doc = cordon_web::openapi();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let needs = cordon_web::api::declared(&op["x-permission"])
                .unwrap_or_else(|| panic!("{method} {path} declares its permission: {}", op["x-permission"]));
            assert!(!needs.is_empty(), "{method} {path}");
            // Where the description names the permissions too, it names the same ones.
            let text = format!("{} {}", op["summary"].as_str().unwrap_or(""), op["description"].as_str().unwrap_or(""));
            if let Some((_, rest)) = text.split_once("Requires `") {
                let named = format!("`{rest}");
                for permission in &needs {
                    let p = permission.as_str();
                    assert!(named.contains(&format!("`{p}`")), "{method} {path}: says {rest:?}, declares {p}");
                }
            }
            assert!(op["responses"]["401"].is_object(), "{method} {path} documents 401");
        }
    }
    assert_eq!(operations, cordon_web::api::permissions().len());
    insta::assert_json_snapshot!("openapi", doc);
}

#[test]
fn openapi_document_names_each_schema_once_and_documents_every_failure_as_a_problem() {
    let doc = cordon_web::openapi();
    let text = doc.to_string();
    // Sampling sites and quarantine sites are different records, each with its own schema.
    let schema_of = |path: &str| doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"].clone();
    let sampling = schema_of("/api/v1/rounds/{id}/sites");
    let quarantine = schema_of("/api/v1/quarantine-sites");
    assert_ne!(sampling, quarantine);
    let name = |r: &Value| r.as_str().unwrap().rsplit('/').next().unwrap().to_string();
    assert!(doc["components"]["schemas"][name(&sampling)]["properties"]["stations"].is_object(), "{sampling}");
    assert!(doc["components"]["schemas"][name(&quarantine)]["properties"]["head_name"].is_object(), "{quarantine}");
    // No tuple: OpenAPI 3.1 tools read objects with named fields.
    assert!(!text.contains("prefixItems"), "a tuple is documented");
    // Fields that take a fixed set of values say which.
    let order = &doc["components"]["schemas"]["OrderView"]["properties"];
    assert!(order["status"]["enum"].as_array().is_some_and(|v| v.iter().any(|s| s == "home_quarantine")), "{order}");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for code in ["400", "401", "403"] {
                assert!(responses.contains_key(code), "{method} {path} documents {code}");
            }
            if op.get("requestBody").is_some() {
                assert!(responses.contains_key("422"), "{method} {path} documents 422");
                // A JSON body of another type is refused; a file upload takes the bytes as sent.
                let json = op["requestBody"]["content"].get("application/json").is_some();
                assert_eq!(responses.contains_key("415"), json, "{method} {path} and 415");
            }
            for (code, response) in responses.iter().filter(|(c, _)| c.starts_with('4') || c.starts_with('5')) {
                let content = response["content"].as_object().unwrap();
                assert_eq!(content.keys().collect::<Vec<_>>(), ["application/problem+json"], "{method} {path} {code}");
            }
        }
    }
}

#[tokio::test]
async fn a_request_that_does_not_parse_is_answered_as_a_problem_naming_what_is_wrong() {
    for w in worlds("api_problems", 1).await {
        let token = account(&w.store, "problem_admin", Role::Admin, "140121").await;
        let with = |ctype: Option<&str>, body: &str| {
            let mut req = Request::post("/api/v1/quarantine-sites").header("authorization", format!("Bearer {token}"));
            if let Some(ctype) = ctype {
                req = req.header("content-type", ctype);
            }
            req.body(Body::from(body.to_string())).unwrap()
        };
        for (req, status, says) in [
            (with(Some("application/json"), "{\"name\": "), StatusCode::BAD_REQUEST, "JSON"),
            (with(Some("application/json"), "{\"name\": 1}"), StatusCode::UNPROCESSABLE_ENTITY, "name"),
            (with(None, "{}"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type"),
            (with(Some("text/plain"), "{}"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type"),
        ] {
            let (got, ctype, problem) = call(&w.store, req).await;
            assert_eq!((got, ctype.as_str()), (status, "application/problem+json"), "{problem}");
            assert_eq!(problem["status"], status.as_u16(), "{problem}");
            assert!(problem["detail"].as_str().unwrap().contains(says), "{problem}");
        }
        // A path or query that does not parse; a page larger than the operation serves.
        for uri in ["/api/v1/observation-orders/abc", "/api/v1/persons?limit=abc", "/api/v1/persons?limit=1001", "/api/v1/persons?limit=0"]
        {
            let (got, ctype, problem) = get(&w.store, &token, uri).await;
            assert_eq!((got, ctype.as_str()), (StatusCode::BAD_REQUEST, "application/problem+json"), "{uri}: {problem}");
        }
        let (got, _, problem) = get(&w.store, &token, "/api/v1/persons?limit=1001").await;
        assert_eq!((got, problem["field"].as_str()), (StatusCode::BAD_REQUEST, Some("limit")), "{problem}");
        assert_eq!(get(&w.store, &token, "/api/v1/persons?limit=1000").await.0, StatusCode::OK);

        // A NUL character is text no field takes (and PostgreSQL cannot keep): refused before
        // anything is stored, on both backends alike; the six characters `\u0000` are text.
        let head = account(&w.store, "problem_head", Role::QuarantineSiteHead, "140121").await;
        let site = |address: &str| {
            serde_json::json!({"name": format!("宾馆{}", address.len()), "kind": "hotel", "area_code": "140121100",
                               "address": address, "head_name": "王建国", "staff": 3})
        };
        let (got, ctype, problem) = call(&w.store, post_json(&head, "/api/v1/quarantine-sites", site("迎宾路\u{0}1号"))).await;
        assert_eq!((got, ctype.as_str()), (StatusCode::BAD_REQUEST, "application/problem+json"), "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("NUL"), "{problem}");
        let (got, _, problem) = get(&w.store, &head, "/api/v1/persons?q=%00abc").await;
        assert_eq!(got, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(get(&w.store, &head, "/api/v1/quarantine-sites").await.2, serde_json::json!([]), "nothing stored");
        // A file posted to an import streams as it comes, whatever type the client gave it (curl
        // --data-binary says form-urlencoded): not held whole, not refused for its size.
        let mut big = String::from("姓名,身份证号,区划代码\n");
        for i in 0..2200 {
            big.push_str(&format!("{}{i},110101199003074514,140121100201\n", "王".repeat(330)));
        }
        assert!(big.len() > 2 * 1024 * 1024);
        let upload = Request::post("/api/v1/imports/persons")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(big))
            .unwrap();
        let (got, _, report) = call(&w.store, upload).await;
        assert_eq!((got, report["rows"].as_u64()), (StatusCode::OK, Some(2200)), "{report}");
        let (got, _, stored) = call(&w.store, post_json(&head, "/api/v1/quarantine-sites", site("迎宾路\\u00001号"))).await;
        assert_eq!((got, stored["address"].as_str()), (StatusCode::CREATED, Some("迎宾路\\u00001号")), "{stored}");
        w.finish().await;
    }
}

#[tokio::test]
async fn every_read_operation_refuses_exactly_the_roles_without_the_permission_it_declares() {
    // The permission an operation declares (`x-permission`) is the one its `Scoped` call checks:
    // every role is asked every read operation; only a role without the declared permission may
    // be refused with 403, and it must be.
    let doc = cordon_web::openapi();
    for w in worlds("declared_permissions", 4).await {
        let planner = account(&w.store, "perm_planner", Role::TestingOfficer, "140121").await;
        let (round, _) = plan_round(&w.store, &planner, "权限核对").await;
        let mut tokens = Vec::new();
        for role in Role::ALL {
            tokens.push((*role, account(&w.store, &format!("perm_{}", role.as_str()), *role, "140121").await));
        }
        let mut wrong = Vec::new();
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            let Some(op) = item.get("get") else { continue };
            let needs = cordon_web::api::declared(&op["x-permission"]).unwrap();
            let uri = path.replace("{id}", &round.to_string()).replace("{code}", "140121").replace("{barcode}", "GL00000001");
            for (role, token) in &tokens {
                let (status, _, body) = get(&w.store, token, &uri).await;
                let allowed = needs.iter().all(|p| role.default_permissions().contains(p));
                if (status == StatusCode::FORBIDDEN) == allowed {
                    wrong.push(format!("{} as {}: {status} (declares {:?}) {}", uri, role.as_str(), needs, body["detail"]));
                }
                checked += 1;
            }
        }
        assert!(checked >= 300, "{checked} calls");
        assert!(wrong.is_empty(), "{:?}: {} disagreements:\n{}", w.scratch.kind, wrong.len(), wrong.join("\n"));
        w.finish().await;
    }
}

/// chromedriver on a free port, killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts chromedriver. Browser tests are `#[ignore]`d so that a bare `cargo test` says it did not
/// run them; `scripts/test.sh` installs chromium and runs them, and a missing driver fails there.
async fn chromedriver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("chromedriver is needed for browser tests (apt install chromium chromium-driver): {e}"));
    let driver = Driver { child, port };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

async fn browser(driver: &Driver) -> fantoccini::Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1024,900",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-quic", "--lang=zh-CN"],
            "prefs": {"intl.accept_languages": "zh-CN,zh"}
        }),
    );
    fantoccini::ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("browser session")
}

async fn spawn_server(store: Store) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = cordon_web::app(store).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Signs in through the login form as a person would, and waits for the page that follows
/// (signed in, or the form again with its error).
async fn sign_in(client: &fantoccini::Client, addr: SocketAddr, user: &str, password: &str) {
    client.goto(&format!("http://{addr}/")).await.unwrap();
    client.wait().for_element(fantoccini::Locator::Css("input[name=username]")).await.unwrap().send_keys(user).await.unwrap();
    client.find(fantoccini::Locator::Css("input[name=password]")).await.unwrap().send_keys(password).await.unwrap();
    client.find(fantoccini::Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    client.wait().for_element(fantoccini::Locator::Css(".error, header .who .user")).await.unwrap();
}

/// Signs out with the header's button and waits for the sign-in page, so that the next
/// navigation cannot cut the sign-out short and keep the old session.
async fn sign_out(client: &fantoccini::Client) {
    client.find(fantoccini::Locator::Css("header form button")).await.unwrap().click().await.unwrap();
    wait_for_url(client, "the sign-in page after signing out", |path, _| path == "/login").await;
    client.wait().for_element(fantoccini::Locator::Css("input[name=username]")).await.unwrap();
}

/// Waits until the page's URL satisfies `ok` (a click or a submitted form has navigated).
async fn wait_for_url(client: &fantoccini::Client, what: &str, ok: impl Fn(&str, Option<&str>) -> bool) {
    for _ in 0..100 {
        let url = client.current_url().await.unwrap();
        if ok(url.path(), url.query()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never reached {what}");
}

async fn wait_for_query(client: &fantoccini::Client, part: &str) {
    wait_for_url(client, part, |_, query| query.is_some_and(|q| q.contains(part))).await;
}

async fn wait_for_path(client: &fantoccini::Client, path: &str) {
    wait_for_url(client, path, |p, _| p == path).await;
}

async fn click(client: &fantoccini::Client, css: &str) {
    match client.wait().for_element(fantoccini::Locator::Css(css)).await {
        Ok(el) => el.click().await.unwrap(),
        Err(e) => panic!("{css}: {e} on {}:\n{}", client.current_url().await.unwrap(), client.source().await.unwrap_or_default()),
    }
}

/// Clicks and waits for the page that follows to have another address (each action's page
/// carries its own notice).
async fn click_and_wait(client: &fantoccini::Client, css: &str) {
    let before = client.current_url().await.unwrap().to_string();
    click(client, css).await;
    wait_for_url(client, "the next page", |_, _| true).await;
    for _ in 0..100 {
        if client.current_url().await.unwrap().to_string() != before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("clicking {css} led nowhere");
}

async fn fill(client: &fantoccini::Client, css: &str, text: &str) {
    let el = client.wait().for_element(fantoccini::Locator::Css(css)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

/// Follows the main menu to `href`: the menu button first when the window is narrow enough
/// to fold the menu behind it.
async fn menu(client: &fantoccini::Client, href: &str) {
    let link = client.wait().for_element(fantoccini::Locator::Css(&format!("nav.main a[href='{href}']"))).await.unwrap();
    if !link.is_displayed().await.unwrap() {
        client.find(fantoccini::Locator::Css("label.menu-button")).await.unwrap().click().await.unwrap();
    }
    link.click().await.unwrap();
}

/// The text of the first element matching `css`, waiting for it; read again if the page was
/// replaced between finding and reading (a navigation finishing).
async fn text(client: &fantoccini::Client, css: &str) -> String {
    for _ in 0..5 {
        let el = client.wait().for_element(fantoccini::Locator::Css(css)).await.unwrap();
        match el.text().await {
            Ok(t) => return t,
            // Chromium says a replaced page's element either way.
            Err(e) if e.to_string().contains("stale") || e.to_string().contains("does not belong to the document") => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("{css} kept going stale");
}

fn screenshot_path(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn signing_in_shows_the_county_and_its_townships_in_a_browser() {
    let driver = chromedriver().await;
    for w in worlds("browser", 40).await {
        let addr = spawn_server(w.store.clone()).await;
        let client = browser(&driver).await;

        // A wrong password keeps the visitor on the form with a clear message.
        sign_in(&client, addr, "commander1", "wrong-password-9").await;
        assert_eq!(text(&client, ".error").await, "用户名或密码错误。");
        assert!(client.current_url().await.unwrap().path().starts_with("/login"));

        sign_in(&client, addr, "commander1", PASSWORD).await;
        // The commander's first page is the situation, each figure a link to its page.
        assert!(text(&client, "h1#situation").await.starts_with("疫情态势"));
        for (card, label) in [
            ("#card-positives", "今日核酸检出阳性"),
            ("#card-investigations", "流调超时"),
            ("#card-transfers", "转运在途"),
            ("#card-beds", "隔离点空余床位"),
        ] {
            let said = text(&client, card).await;
            assert!(said.starts_with("0") && said.contains(label), "{card}: {said}");
        }
        std::fs::write(screenshot_path(&format!("situation-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();
        // The census is a click away.
        click_and_wait(&client, "#census-link").await;
        let h1 = text(&client, "h1").await;
        assert!(h1.starts_with("清徐县"), "{h1}");
        assert!(text(&client, "header .user").await.contains("commander1同志"));
        let rows = client.find_all(fantoccini::Locator::Css("table.areas tbody tr")).await.unwrap();
        let mut seen = Vec::new();
        for r in &rows {
            let name = r.find(fantoccini::Locator::Css("td a")).await.unwrap().text().await.unwrap();
            let population = r.find(fantoccini::Locator::Css("td.num")).await.unwrap().text().await.unwrap();
            seen.push((name, population));
        }
        let expected = [("清源镇", "20"), ("徐沟镇", "20")].map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(seen, expected);
        assert_eq!(text(&client, ".stat .num").await, "40");
        // The vendored ECharts drew the population chart (a canvas inside the chart element).
        client.wait().for_element(fantoccini::Locator::Css("#population-chart canvas")).await.unwrap();
        std::fs::write(screenshot_path(&format!("index-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();

        // Drill down to a township: its villages are listed.
        client.find(fantoccini::Locator::LinkText("徐沟镇")).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/areas/140121101").await;
        assert!(text(&client, "h1").await.starts_with("徐沟镇"));
        let body = text(&client, "table.areas").await;
        assert!(body.contains("北关村") && body.contains("南关村"), "{body}");

        // Sign out: back to the form, and pages need a session again.
        client.find(fantoccini::Locator::Css("header .who button")).await.unwrap().click().await.unwrap();
        client.wait().for_element(fantoccini::Locator::Css("input[name=username]")).await.unwrap();
        client.goto(&format!("http://{addr}/areas/140121")).await.unwrap();
        assert!(client.current_url().await.unwrap().path().starts_with("/login"));
        client.close().await.unwrap();
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn a_township_user_sees_only_their_township_and_gets_a_forbidden_page_elsewhere() {
    let driver = chromedriver().await;
    for w in worlds("browser_scope", 40).await {
        let addr = spawn_server(w.store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "tracer1", PASSWORD).await;
        // The investigator opens on the tracing desk; the census is the menu's 区划人口.
        assert_eq!(client.current_url().await.unwrap().path(), "/tracing");
        menu(&client, "/areas").await;
        let h1 = text(&client, "h1").await;
        assert!(h1.starts_with("清源镇"), "{h1}");
        let body = text(&client, "table.areas").await;
        assert!(body.contains("东关村") && !body.contains("北关村"), "{body}");
        assert!(client.find(fantoccini::Locator::LinkText("清徐县")).await.is_err(), "no link up to the county");

        client.goto(&format!("http://{addr}/areas/140121101")).await.unwrap();
        assert_eq!(text(&client, "h1").await, "无权访问");
        assert!(text(&client, ".message").await.contains("不在您的辖区"));

        // A person of 徐沟镇 opened by URL: forbidden too; one of 清源镇 opens.
        let elsewhere = w.store.person_by_document(&sample_id(5)).await.unwrap().unwrap();
        assert_eq!(elsewhere.area_code, "140121101201");
        client.goto(&format!("http://{addr}/persons/{}", elsewhere.id)).await.unwrap();
        assert_eq!(text(&client, "h1").await, "无权访问");
        let own = w.store.person_by_document(&sample_id(0)).await.unwrap().unwrap();
        client.goto(&format!("http://{addr}/persons/{}", own.id)).await.unwrap();
        assert!(text(&client, "h1").await.starts_with(&own.name));
        assert_eq!(text(&client, "dd[title='140121100201']").await, "清源镇东关村", "the village by name, with its township");
        client.goto(&format!("http://{addr}/areas/140121101")).await.unwrap();
        text(&client, ".message").await;
        std::fs::write(screenshot_path(&format!("forbidden-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();
        client.close().await.unwrap();
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn the_language_switch_turns_pages_english_and_is_remembered() {
    let driver = chromedriver().await;
    for w in worlds("browser_lang", 10).await {
        let addr = spawn_server(w.store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "commander1", PASSWORD).await;
        assert_eq!(text(&client, "#card-beds .label").await, "隔离点空余床位");
        client.find(fantoccini::Locator::Css("a.lang")).await.unwrap().click().await.unwrap();
        client.wait().for_element(fantoccini::Locator::XPath("//a[@class='lang' and text()='中文']")).await.unwrap();
        assert_eq!(text(&client, "#card-beds .label").await, "Free beds at sites");
        let people = client.find(fantoccini::Locator::Css("nav.main a[href='/persons']")).await.unwrap();
        assert_eq!(people.prop("textContent").await.unwrap().as_deref(), Some("People"));
        // The choice is kept in a cookie: another page, no ?lang=, still English.
        client.goto(&format!("http://{addr}/areas/140121101")).await.unwrap();
        assert_eq!(text(&client, "a.lang").await, "中文");
        assert!(text(&client, "h1").await.contains("Area code"));
        std::fs::write(screenshot_path(&format!("english-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();
        client.find(fantoccini::Locator::Css("a.lang")).await.unwrap().click().await.unwrap();
        client.wait().for_element(fantoccini::Locator::XPath("//a[@class='lang' and text()='English']")).await.unwrap();
        // On a page whose address carries what it shows, switching keeps it.
        client.goto(&format!("http://{addr}/persons?q=%E7%8E%8B&area=140121101")).await.unwrap();
        client.find(fantoccini::Locator::Css("a.lang")).await.unwrap().click().await.unwrap();
        client.wait().for_element(fantoccini::Locator::XPath("//a[@class='lang' and text()='中文']")).await.unwrap();
        let url = client.current_url().await.unwrap();
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!((query.get("q").map(String::as_str), query.get("area").map(String::as_str)), (Some("王"), Some("140121101")), "{url}");
        // A link missing what a page needs is a page in the person's language naming it.
        client.goto(&format!("http://{addr}/station?site=1")).await.unwrap();
        assert!(text(&client, "main").await.contains("round"), "{}", text(&client, "main").await);
        client.goto(&format!("http://{addr}/station?site=1&lang=zh-CN")).await.unwrap();
        assert!(text(&client, "main").await.contains("「检测轮次」未填写"), "{}", text(&client, "main").await);
        // The coverage page without a round (the clocks board's link) opens the latest round
        // started, or says none has.
        client.goto(&format!("http://{addr}/coverage")).await.unwrap();
        assert!(text(&client, "main").await.contains("还没有开始的检测轮次"), "{}", text(&client, "main").await);
        client.close().await.unwrap();
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn searching_a_person_and_showing_them_in_full_is_seen_in_the_audit_page() {
    let driver = chromedriver().await;
    for w in worlds("browser_reveal", 20).await {
        let addr = spawn_server(w.store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "commander1", PASSWORD).await;
        menu(&client, "/persons").await;
        let search = client.wait().for_element(fantoccini::Locator::Css("input[name=q]")).await.unwrap();
        search.send_keys("王秀英").await.unwrap();
        client.find(fantoccini::Locator::Css("form.search button")).await.unwrap().click().await.unwrap();
        wait_for_query(&client, "q=").await;
        client.wait().for_element(fantoccini::Locator::Css("table.persons")).await.unwrap();
        let names = client.find_all(fantoccini::Locator::Css("table.persons tbody td:first-child")).await.unwrap();
        assert_eq!(names.len(), 2, "王秀英 twice among 20 sample people");
        let masked = text(&client, "table.persons tbody td:nth-child(4)").await;
        assert!(masked.contains("**********"), "{masked}");
        std::fs::write(screenshot_path(&format!("persons-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();

        client.find(fantoccini::Locator::Css("table.persons tbody td a")).await.unwrap().click().await.unwrap();
        assert!(text(&client, "#id-number").await.contains("**********"));
        let name = text(&client, "h1").await.split_whitespace().next().unwrap().to_string();
        client.find(fantoccini::Locator::Css("button.reveal")).await.unwrap().click().await.unwrap();
        client.wait().for_element(fantoccini::Locator::Css("p.note")).await.unwrap();
        std::fs::write(screenshot_path(&format!("person-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();
        let full = text(&client, "#id-number").await;
        assert_eq!(full.len(), 18, "{full}");
        assert!(!full.contains('*'));

        menu(&client, "/audit").await;
        let rows = text(&client, "table.audit tbody").await;
        // In words: what was done, to whom by name, by whom — no record kinds or ids.
        let first = text(&client, "table.audit tbody tr:first-child").await;
        assert!(first.contains("查看完整身份信息") && first.contains(&name) && first.contains("commander1"), "{first}");
        assert!(!rows.contains("person ") && !rows.contains("reveal"), "{rows}");
        assert!(rows.contains("127.0.0.1"), "the client address is kept: {rows}");
        // Filtered by a kind of record chosen by name; a mistyped area is said on the page with
        // the filters kept.
        click(&client, "#audit-filter select[name=entity] option[value=person]").await;
        fill(&client, "#audit-filter input[name=area]", "14012x").await;
        click_and_wait(&client, "#audit-filter button").await;
        assert_eq!(text(&client, "#audit-error").await, "筛选条件“区划”无法识别，请更正后重新筛选。");
        assert_eq!(
            client.find(fantoccini::Locator::Css("#audit-filter input[name=area]")).await.unwrap().prop("value").await.unwrap().as_deref(),
            Some("14012x")
        );
        fill(&client, "#audit-filter input[name=area]", "").await;
        click_and_wait(&client, "#audit-filter button").await;
        let people = client.find_all(fantoccini::Locator::Css("table.audit tbody td.did")).await.unwrap();
        assert!(!people.is_empty());
        for did in people {
            assert_eq!(did.text().await.unwrap(), "查看完整身份信息", "only events about people");
        }
        std::fs::write(screenshot_path(&format!("audit-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();
        client.close().await.unwrap();
        w.finish().await;
    }
}

mod scope_property {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU32, Ordering};

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use super::*;

    const AREAS: &[&str] = &["140121", "140121100", "140121101", "140121100201", "140121100202", "140121101201", "140121101202"];

    fn inside(scope: &[&str], area: &str) -> bool {
        scope.iter().any(|s| area.starts_with(s))
    }

    /// Random users (role, areas) against every list, search, detail and write endpoint: nothing
    /// outside the user's areas ever comes back, and every refusal is a 403 with a reason.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_endpoint_returns_or_changes_anything_outside_the_callers_scope() {
        for w in worlds("scope_prop", 40).await {
            // Every person's area, from an unrestricted look.
            let mut area_of: HashMap<i64, String> = HashMap::new();
            let (_, _, all) = get(&w.store, &w.commander, "/api/v1/persons?limit=1000").await;
            for p in all["items"].as_array().unwrap() {
                area_of.insert(p["id"].as_i64().unwrap(), p["area_code"].as_str().unwrap().to_string());
            }
            assert_eq!(area_of.len(), 40);
            let ids: Vec<i64> = area_of.keys().copied().collect();
            // Cases in two townships: a chain across them (its cluster is the county's) and a
            // lone case.
            let county_tracer = account(&w.store, "county_tracer", Role::Investigator, "140121").await;
            let mut cases: Vec<(i64, &str)> = Vec::new();
            for (number, area, infectors) in [("A", "140121100201", vec![]), ("B", "140121101201", vec![0]), ("C", "140121101202", vec![])]
            {
                let infectors: Vec<i64> = infectors.iter().map(|i: &usize| cases[*i].0).collect();
                let (status, _, c) = call(
                    &w.store,
                    post_json(
                        &county_tracer,
                        "/api/v1/cases",
                        serde_json::json!({"area_code": area, "number": number, "infectors": infectors}),
                    ),
                )
                .await;
                assert_eq!(status, StatusCode::CREATED, "{c}");
                cases.push((c["id"].as_i64().unwrap(), area));
            }
            let counter = AtomicU32::new(0);
            let handle = tokio::runtime::Handle::current();
            let strategy = (
                proptest::sample::select(Role::ALL.to_vec()),
                proptest::sample::subsequence(AREAS.to_vec(), 1..3),
                proptest::sample::select(ids.clone()),
                proptest::sample::select(AREAS.to_vec()),
                "[王李张刘]|139000000[0-3][0-9]|[0-9]{4}",
            );
            let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
            let result = runner.run(&strategy, |(role, areas, person, probe_area, query)| {
                tokio::task::block_in_place(|| {
                    handle.block_on(async {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        let name = format!("prop{n}");
                        let admin = Actor::system("test");
                        let new = NewUser {
                            username: name.clone(),
                            display_name: name.clone(),
                            role,
                            areas: areas.iter().map(|a| AreaCode::parse(a).unwrap()).collect(),
                            password: PASSWORD.into(),
                        };
                        let user = w.store.create_user(&admin, new).await.unwrap();
                        let scope: Vec<&str> = user.jurisdiction.areas().iter().map(|a| a.as_str()).collect();
                        let (_, token) = w.store.create_api_token(&admin, &name, "prop").await.unwrap();
                        let can_read = role.default_permissions().contains(&cordon_domain::access::Permission::PersonsRead);
                        let refused = |status: StatusCode, body: &Value| {
                            status == StatusCode::FORBIDDEN && !body["detail"].as_str().unwrap_or("").is_empty()
                        };

                        // Lists and searches: every row inside.
                        for uri in [
                            "/api/v1/persons?limit=1000".to_string(),
                            format!("/api/v1/persons?limit=1000&q={}", urlencode(&query)),
                            format!("/api/v1/persons?limit=1000&area={probe_area}"),
                            "/api/v1/persons?limit=1000&tag=elderly".to_string(),
                        ] {
                            let (status, _, page) = get(&w.store, &token, &uri).await;
                            if status == StatusCode::OK {
                                for p in page["items"].as_array().unwrap() {
                                    let a = p["area_code"].as_str().unwrap();
                                    prop_assert!(inside(&scope, a), "{uri} gave {a} to {scope:?}");
                                }
                            } else {
                                prop_assert!(refused(status, &page), "{uri}: {status} {page}");
                                prop_assert!(!can_read || !inside(&scope, probe_area), "{uri} refused inside the scope");
                            }
                        }
                        // Detail, reveal and the area tree: allowed exactly inside.
                        let home = &area_of[&person];
                        for uri in [format!("/api/v1/persons/{person}"), format!("/api/v1/areas/{probe_area}")] {
                            let (status, _, body) = get(&w.store, &token, &uri).await;
                            let target = if uri.contains("/persons/") { home.as_str() } else { probe_area };
                            if status == StatusCode::OK {
                                prop_assert!(inside(&scope, target), "{uri} answered outside {scope:?}");
                                if let Some(h) = body["household"].as_array() {
                                    for m in h {
                                        prop_assert!(inside(&scope, m["area_code"].as_str().unwrap()));
                                    }
                                }
                            } else {
                                prop_assert!(refused(status, &body), "{uri}: {status} {body}");
                            }
                        }
                        let reveal = Request::post(format!("/api/v1/persons/{person}/reveal"))
                            .header("authorization", format!("Bearer {token}"))
                            .body(Body::empty())
                            .unwrap();
                        let (status, _, body) = call(&w.store, reveal).await;
                        if status == StatusCode::OK {
                            prop_assert!(inside(&scope, home), "reveal outside {scope:?}");
                        } else {
                            prop_assert!(refused(status, &body), "reveal: {status} {body}");
                        }
                        // Investigation lists and cases: every row inside, a case only inside.
                        for uri in ["/api/v1/clusters?min_size=1", "/api/v1/investigations", "/api/v1/positives", "/api/v1/assist-requests"]
                        {
                            let (status, _, list) = get(&w.store, &token, uri).await;
                            if status == StatusCode::OK {
                                for item in list.as_array().unwrap() {
                                    // An assistance request belongs to both ends.
                                    let ends = [&item["area_code"], &item["from_area"], &item["to_area"]];
                                    let areas: Vec<&str> = ends.iter().filter_map(|v| v.as_str()).collect();
                                    prop_assert!(areas.iter().any(|a| inside(&scope, a)), "{uri} gave {areas:?} to {scope:?}");
                                }
                            } else {
                                prop_assert!(refused(status, &list), "{uri}: {status} {list}");
                            }
                        }
                        for (id, area) in &cases {
                            let (status, _, body) = get(&w.store, &token, &format!("/api/v1/cases/{id}")).await;
                            if status == StatusCode::OK {
                                prop_assert!(inside(&scope, area), "case {id} in {area} answered to {scope:?}");
                            } else {
                                prop_assert!(refused(status, &body), "case {id}: {status} {body}");
                            }
                        }
                        // Writes: an import touching every area stores only rows inside.
                        let before = w.store.count(cordon_store::Table::Persons).await.unwrap();
                        let csv = format!(
                            "身份证号,姓名,区划代码\n{},甲,140121100201\n{},乙,140121101202\n",
                            sample_id(5000 + 2 * n),
                            sample_id(5001 + 2 * n)
                        );
                        let post = Request::post("/api/v1/imports/persons")
                            .header("authorization", format!("Bearer {token}"))
                            .body(Body::from(csv))
                            .unwrap();
                        let (status, _, report) = call(&w.store, post).await;
                        let after = w.store.count(cordon_store::Table::Persons).await.unwrap();
                        if status == StatusCode::OK {
                            let allowed = ["140121100201", "140121101202"].iter().filter(|a| inside(&scope, a)).count() as i64;
                            prop_assert_eq!(after - before, allowed, "import stored outside {:?}: {}", scope, report);
                            if allowed < 2 {
                                prop_assert!(report["errors"].to_string().contains("outside your jurisdiction"));
                            }
                        } else {
                            prop_assert!(refused(status, &report), "import: {status} {report}");
                            prop_assert_eq!(after, before);
                        }
                        Ok(())
                    })
                })
            });
            if let Err(e) = result {
                panic!("{e}");
            }
            w.finish().await;
        }
    }

    fn urlencode(s: &str) -> String {
        cordon_web::format::percent(s)
    }
}

#[tokio::test]
async fn an_admin_changes_a_roles_permissions_and_the_change_applies_at_once() {
    for w in worlds("roles", 6).await {
        let store = &w.store;
        let admin = account(store, "admin1", Role::Admin, "140121").await;
        let viewer = account(store, "viewer2", Role::Viewer, "140121").await;
        let page =
            |token: &str| Request::get("/admin/roles").header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
        let res = cordon_web::app(store.clone()).oneshot(page(&admin)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = String::from_utf8(axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
        assert!(html.contains("只读观察员") && html.contains("查看人员"));
        let res = cordon_web::app(store.clone()).oneshot(page(&w.commander)).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "a commander does not manage roles");

        assert_eq!(get(store, &viewer, "/api/v1/persons").await.0, StatusCode::OK);
        let save = Request::post("/admin/roles/viewer")
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("p=areas.read&p=reports.read"))
            .unwrap();
        assert_eq!(cordon_web::app(store.clone()).oneshot(save).await.unwrap().status(), StatusCode::SEE_OTHER);
        let (status, _, problem) = get(store, &viewer, "/api/v1/persons").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(problem["detail"].as_str().unwrap().contains("persons.read"));
        let events = store.audit_events(&AuditFilter { entity: Some("role".into()), ..Default::default() }, 5).await.unwrap();
        assert_eq!((events[0].actor_name.as_str(), events[0].entity_id.as_deref()), ("admin1", Some("viewer")));
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn the_roles_page_saves_a_changed_checkbox_in_a_browser() {
    let driver = chromedriver().await;
    for w in worlds("browser_roles", 4).await {
        account(&w.store, "admin2", Role::Admin, "140121").await;
        let addr = spawn_server(w.store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "admin2", PASSWORD).await;
        menu(&client, "/admin/roles").await;
        let boxes = "input[form='role-viewer'][value='persons.read']";
        let checkbox = client.wait().for_element(fantoccini::Locator::Css(boxes)).await.unwrap();
        assert_eq!(checkbox.prop("checked").await.unwrap().as_deref(), Some("true"));
        checkbox.click().await.unwrap();
        client.find(fantoccini::Locator::Css("button[form='role-viewer']")).await.unwrap().click().await.unwrap();
        assert_eq!(text(&client, "p.note").await, "已保存，已记入审计日志。");
        let checkbox = client.find(fantoccini::Locator::Css(boxes)).await.unwrap();
        assert_eq!(checkbox.prop("checked").await.unwrap().as_deref(), Some("false"));
        let viewer = w.store.role_permissions(Role::Viewer).await.unwrap();
        assert!(!viewer.contains(&cordon_domain::access::Permission::PersonsRead));
        std::fs::write(screenshot_path(&format!("roles-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();
        client.close().await.unwrap();
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn an_admin_creates_changes_resets_and_disables_accounts_and_revokes_tokens_on_a_page() {
    let driver = chromedriver().await;
    for w in worlds("browser_accounts", 4).await {
        account(&w.store, "admin3", Role::Admin, "140121").await;
        let addr = spawn_server(w.store.clone()).await;
        let client = browser(&driver).await;
        client.set_window_size(390, 844).await.unwrap();
        sign_in(&client, addr, "admin3", PASSWORD).await;
        menu(&client, "/admin/users").await;
        assert!(text(&client, "table#accounts").await.contains("commander1"));

        // A mistyped area: said, the input kept, nothing made.
        fill(&client, "#new-account input[name=username]", "doc9").await;
        fill(&client, "#new-account input[name=display_name]", "王医生").await;
        click(&client, "#new-account option[value=hospital_staff]").await;
        fill(&client, "#new-account input[name=areas]", "14012x").await;
        fill(&client, "#new-account input[name=password]", "Fenhe-2022-0414").await;
        click(&client, "#new-account button").await; // the same address answers with the form again
        assert_eq!(
            text(&client, "#users-error").await,
            "辖区中的“14012x”既不是区划代码（2、4、6、9 或 12 位数字），也不是已登记的区划名称。"
        );
        let kept = client.find(fantoccini::Locator::Css("#new-account input[name=display_name]")).await.unwrap();
        assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some("王医生"));
        assert!(w.store.user_by_name("doc9").await.unwrap().is_none());
        // An area typed by its name, as an administrator knows it.
        fill(&client, "#new-account input[name=areas]", "清源镇").await;
        fill(&client, "#new-account input[name=password]", "Fenhe-2022-0414").await;
        click_and_wait(&client, "#new-account button").await;
        assert_eq!(text(&client, "#user-notice").await, "账号已创建。");
        assert!(text(&client, "#account-summary").await.contains("医院医护人员 · 清源镇"), "areas by name");

        // Role and areas changed; two passwords that differ refused; then reset.
        click(&client, "#edit-account option[value=viewer]").await;
        // A village name two townships share is said with both, to be typed by code.
        let twin = cordon_store::NewArea { code: AreaCode::parse("140121101203").unwrap(), name: "东关村".into() };
        w.store.upsert_areas(&[twin]).await.unwrap();
        fill(&client, "#edit-account input[name=areas]", "东关村").await;
        click(&client, "#edit-account button").await;
        let said = text(&client, "#user-error").await;
        assert!(said.contains("140121100201") && said.contains("140121101203") && said.contains("请填写区划代码"), "{said}");
        fill(&client, "#edit-account input[name=areas]", "140121100 徐沟镇").await;
        click_and_wait(&client, "#edit-account button").await;
        assert_eq!(text(&client, "#user-notice").await, "已保存角色和辖区。");
        let doc = w.store.user_by_name("doc9").await.unwrap().unwrap();
        assert_eq!((doc.role, doc.jurisdiction.areas().len()), (Role::Viewer, 2));
        fill(&client, "#reset-password input[name=password]", "Fenhe-2022-0415").await;
        fill(&client, "#reset-password input[name=again]", "Fenhe-2022-0416").await;
        click_and_wait(&client, "#reset-password button").await;
        assert_eq!(text(&client, "#user-error").await, "两次输入的密码不一致；未作任何修改。");
        fill(&client, "#reset-password input[name=password]", "Fenhe22").await;
        fill(&client, "#reset-password input[name=again]", "Fenhe22").await;
        client
            .execute("document.querySelectorAll('#reset-password input').forEach(i => i.removeAttribute('minlength'))", vec![])
            .await
            .unwrap();
        click(&client, "#reset-password button").await; // the same address answers again
        let said = "//*[@id='user-error'][.='密码不符合要求：至少 10 个字符。']";
        client.wait().for_element(fantoccini::Locator::XPath(said)).await.expect("the rule said in Chinese");
        fill(&client, "#reset-password input[name=password]", "Fenhe-2022-0415").await;
        fill(&client, "#reset-password input[name=again]", "Fenhe-2022-0415").await;
        click_and_wait(&client, "#reset-password button").await;
        assert!(w.store.verify_login("doc9", "Fenhe-2022-0415").await.unwrap().is_some());

        // A token shown once, then revoked after a confirmation.
        fill(&client, "#new-token-form input[name=name]", "院内系统").await;
        click_and_wait(&client, "#new-token-form button").await;
        let secret = text(&client, "#new-token code").await;
        assert!(secret.starts_with("cdn_"), "{secret}");
        assert!(w.store.token_principal(&secret).await.unwrap().is_some());
        client.execute("document.querySelector('#user-tokens input[name=confirm]').removeAttribute('required')", vec![]).await.unwrap();
        click_and_wait(&client, "#user-tokens button").await;
        assert_eq!(text(&client, "#user-error").await, "请勾选确认后再吊销；未作任何修改。");
        assert!(w.store.token_principal(&secret).await.unwrap().is_some());
        click(&client, "#user-tokens input[name=confirm]").await;
        click_and_wait(&client, "#user-tokens button").await;
        assert_eq!(text(&client, "#user-notice").await, "令牌已吊销。");
        assert!(w.store.token_principal(&secret).await.unwrap().is_none());

        // Disabling asks for a tick; then the account cannot sign in.
        click(&client, "#disable-account summary").await;
        client.execute("document.querySelector('#disable-account input[name=confirm]').removeAttribute('required')", vec![]).await.unwrap();
        click_and_wait(&client, "#disable-account button").await;
        assert_eq!(text(&client, "#user-error").await, "请勾选确认后再停用；未作任何修改。");
        assert!(!w.store.user_by_name("doc9").await.unwrap().unwrap().disabled);
        click(&client, "#disable-account summary").await;
        click(&client, "#disable-account input[name=confirm]").await;
        click_and_wait(&client, "#disable-account button").await;
        assert_eq!(text(&client, "#user-notice").await, "账号已停用。");
        assert!(w.store.verify_login("doc9", "Fenhe-2022-0415").await.unwrap().is_none());
        let width: i64 = client.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
        assert!(width <= 390, "nothing scrolls sideways: {width}");
        std::fs::write(screenshot_path(&format!("account-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();

        // One's own account offers no disable.
        client.goto(&format!("http://{addr}/admin/users/admin3")).await.unwrap();
        assert!(text(&client, "main").await.contains("这是您自己的账号"));
        assert!(client.find(fantoccini::Locator::Css("#disable-account")).await.is_err());
        let log = {
            client.goto(&format!("http://{addr}/audit")).await.unwrap();
            text(&client, "main").await
        };
        assert!(log.contains("停用账号") && log.contains("吊销 API 令牌") && log.contains("修改账号角色和辖区"), "{log}");
        client.close().await.unwrap();
        w.finish().await;
    }
}

/// Uploads `bytes` as a file through an import section of the imports page and waits for its
/// summary; answers the section's text.
async fn upload(client: &fantoccini::Client, section: &str, name: &str, bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let input = client.wait().for_element(fantoccini::Locator::Css(&format!("#{section} input[type=file]"))).await.unwrap();
    input.send_keys(path.to_str().unwrap()).await.unwrap();
    client.find(fantoccini::Locator::Css(&format!("#{section} button"))).await.unwrap().click().await.unwrap();
    let done = format!("//section[@id='{section}']//p[contains(@class, 'import-message') and contains(., '导入完成')]");
    client.wait().for_element(fantoccini::Locator::XPath(&done)).await.unwrap();
    text(client, &format!("#{section}")).await
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn people_line_lists_venues_scans_and_rosters_are_imported_on_a_page_with_the_row_report() {
    let driver = chromedriver().await;
    for w in worlds("browser_imports", 4).await {
        let store = &w.store;
        account(store, "tracer5", Role::Investigator, "140121").await;
        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "tracer5", PASSWORD).await;
        menu(&client, "/imports").await;
        assert!(client.find(fantoccini::Locator::Id("import-persons")).await.is_err(), "the register's import is not the tracer's");
        // Before any upload a section shows no empty count boxes.
        let summary = client.find(fantoccini::Locator::Css("#import-venues .import-summary")).await.unwrap();
        assert!(!summary.is_displayed().await.unwrap(), "the counts are shown before anything is uploaded");

        // Venues as a civil-affairs list has them: GBK, CRLF; one row outside the register.
        let venues = "场所码,名称,区划代码,地址\r\nV001,东关物流园,140121100201,东关村\r\nV002,东关超市,140121100201,\r\nV003,无名店,140121999201,\r\n";
        let said = upload(&client, "import-venues", "venues.csv", &encoding_rs::GBK.encode(venues).0).await;
        let counts = |section: &'static str| {
            let client = client.clone();
            async move {
                let mut out = vec![];
                for k in ["rows", "stored", "unchanged", "warned", "refused"] {
                    out.push(text(&client, &format!("#{section} [data-count={k}]")).await);
                }
                out.join(" ")
            }
        };
        assert_eq!(counts("import-venues").await, "3 2 0 0 1", "{said}");
        let row = text(&client, "#import-venues table.import-rows tbody tr").await;
        assert!(row.starts_with("4") && row.contains("拒收") && row.contains("区划代码 140121999201 不在区划库中。"), "in Chinese: {row}");
        let href = client.find(fantoccini::Locator::Css("#import-venues .import-download a")).await.unwrap().attr("href").await.unwrap();
        assert!(href.unwrap_or_default().starts_with("blob:"), "the report to download");
        assert!(said.contains("GB18030"), "{said}");
        let again = upload(&client, "import-venues", "venues-again.csv", &encoding_rs::GBK.encode(venues).0).await;
        assert_eq!(counts("import-venues").await, "3 0 2 0 1", "{again}");

        // A line list with a warning (an onset that is no date) and a refusal (no number).
        let linelist = "病例编号,传染源,发病日期\nL1,,2022-04-09\nL2,L1,4月上旬\n,L1,\n";
        upload(&client, "import-linelist", "linelist.csv", linelist.as_bytes()).await;
        assert_eq!(counts("import-linelist").await, "3 2 0 1 1");
        let rows = text(&client, "#import-linelist table.import-rows tbody").await;
        assert!(
            rows.contains("3 提示 发病日期 日期“4月上旬”无法识别") && rows.contains("已留空。"),
            "the warning and what was done, in Chinese: {rows}"
        );
        assert!(rows.contains("4 拒收 病例编号 未填写。"), "{rows}");

        // Scans of those venues and a roster, with the lines people see.
        let scans = format!("身份证号,场所码,扫码时间\n{},V001,2022-04-11 08:00\n{},V404,2022-04-11 09:00\n", sample_id(0), sample_id(1));
        upload(&client, "import-checkins", "scans.csv", scans.as_bytes()).await;
        assert_eq!(counts("import-checkins").await, "2 1 0 0 1");
        let roster = format!("单位,身份证号,班组\n物流园,{},A组\n物流园,140121199001011234,A组\n", sample_id(0));
        // A mistyped area is said in the page's words and nothing is imported.
        fill(&client, "#import-roster input[name=area]", "14012x").await;
        let path = std::env::temp_dir().join(format!("{}-roster-bad.csv", std::process::id()));
        std::fs::write(&path, roster.as_bytes()).unwrap();
        client
            .find(fantoccini::Locator::Css("#import-roster input[type=file]"))
            .await
            .unwrap()
            .send_keys(path.to_str().unwrap())
            .await
            .unwrap();
        click(&client, "#import-roster button").await;
        let said = "//section[@id='import-roster']//p[contains(@class, 'error') and contains(., '“14012x”不是区划代码')]";
        client.wait().for_element(fantoccini::Locator::XPath(said)).await.unwrap();
        fill(&client, "#import-roster input[name=area]", "140121").await;
        upload(&client, "import-roster", "roster.csv", roster.as_bytes()).await;
        assert_eq!(counts("import-roster").await, "2 1 0 0 1");
        std::fs::write(screenshot_path(&format!("imports-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();

        // The commander imports the register's people as Excel saves them (UTF-8 with a BOM,
        // CRLF), on a phone.
        sign_out(&client).await;
        client.set_window_size(390, 844).await.unwrap();
        sign_in(&client, addr, "commander1", PASSWORD).await;
        menu(&client, "/imports").await;
        assert!(client.find(fantoccini::Locator::Id("import-venues")).await.is_err());
        let mut people = b"\xEF\xBB\xBF".to_vec();
        people.extend_from_slice(
            format!(
                "身份证号,姓名,区划代码\r\n{},新来者,140121100201\r\n{},王秀英,140121100201\r\n110105194912310021,坏号码,140121100201\r\n",
                sample_id(500),
                sample_id(0)
            )
            .as_bytes(),
        );
        upload(&client, "import-persons", "people.csv", &people).await;
        assert_eq!(counts("import-persons").await, "3 1 1 0 1");
        let refused = text(&client, "#import-persons table.import-rows tbody").await;
        assert!(refused.starts_with("4 拒收 身份证号 证件号校验位不对"), "{refused}");
        // A corrected name, imported again: corrected, and said on its line.
        let fixed = format!("身份证号,姓名,区划代码\r\n{},王秀瑛,140121100201\r\n", sample_id(0));
        upload(&client, "import-persons", "people-fixed.csv", fixed.as_bytes()).await;
        assert_eq!(counts("import-persons").await, "1 0 0 1 0");
        let said = text(&client, "#import-persons table.import-rows tbody").await;
        assert!(said.starts_with("2") && said.contains("已按文件更正"), "{said}");
        let width: i64 = client.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
        assert!(width <= 390, "nothing scrolls sideways: {width}");
        client.close().await.unwrap();
        w.finish().await;
    }
}

#[tokio::test]
async fn the_audit_api_filters_by_actor_record_area_and_day() {
    for w in worlds("api_audit", 8).await {
        let store = &w.store;
        let (_, _, page) = get(store, &w.commander, "/api/v1/persons?limit=8").await;
        for p in page["items"].as_array().unwrap() {
            let id = p["id"].as_i64().unwrap();
            let req = Request::post(format!("/api/v1/persons/{id}/reveal"))
                .header("authorization", format!("Bearer {}", w.commander))
                .body(Body::empty())
                .unwrap();
            assert_eq!(call(store, req).await.0, StatusCode::OK);
        }
        let (status, _, all) = get(store, &w.commander, "/api/v1/audit?entity=person").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(all.as_array().unwrap().len(), 8);
        let (_, _, town) = get(store, &w.commander, "/api/v1/audit?entity=person&area=140121101").await;
        assert!(town.as_array().unwrap().iter().all(|e| e["area_code"].as_str().unwrap().starts_with("140121101")));
        assert_eq!(town.as_array().unwrap().len(), 4);
        let (_, _, nobody) = get(store, &w.commander, "/api/v1/audit?actor=tracer1").await;
        assert!(nobody.as_array().unwrap().is_empty());
        let today = cordon_domain::local_date(chrono::Utc::now());
        let (_, _, since_tomorrow) = get(store, &w.commander, &format!("/api/v1/audit?since={}", today + chrono::Days::new(1))).await;
        assert!(since_tomorrow.as_array().unwrap().is_empty());
        let (_, _, until_today) = get(store, &w.commander, &format!("/api/v1/audit?entity=person&until={today}")).await;
        assert_eq!(until_today.as_array().unwrap().len(), 8);
        let (status, _, problem) = get(store, &w.commander, "/api/v1/audit?since=yesterday").await;
        assert_eq!((status, problem["field"].as_str()), (StatusCode::BAD_REQUEST, Some("since")));
        // The investigator's role cannot read the trail.
        assert_eq!(get(store, &w.township, "/api/v1/audit").await.0, StatusCode::FORBIDDEN);
        w.finish().await;
    }
}

#[tokio::test]
async fn a_round_runs_through_the_station_api_with_retries_and_clear_refusals() {
    for w in worlds("api_station", 30).await {
        let store = &w.store;
        let officer = account(store, "sampler1", Role::TestingOfficer, "140121100").await;
        let post = |uri: &str, body: Value| post_json(&officer, uri, body);
        let (status, _, round) = call(
            store,
            post(
                "/api/v1/rounds",
                serde_json::json!({
                    "name": "清源镇第一轮", "areas": [{"area_code": "140121100", "zone": "controlled"}]
                }),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{round}");
        let id = round["id"].as_i64().unwrap();
        let (status, _, bad) =
            call(store, post("/api/v1/rounds", serde_json::json!({"name": "x", "areas": [{"area_code": "140121101"}]}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{bad}");
        let (status, _, site) = call(
            store,
            post(
                &format!("/api/v1/rounds/{id}/sites"),
                serde_json::json!({
                    "area_code": "140121100201", "name": "东关1号点", "address": "东关村委会", "stations": 3
                }),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{site}");
        let (_, _, detail) = get(store, &officer, &format!("/api/v1/rounds/{id}")).await;
        assert_eq!(detail["sites"][0]["name"], "东关1号点");
        assert_eq!(detail["sizing"]["sites"], serde_json::json!([1, 1]));

        let open = serde_json::json!({"barcode": "QX20220413", "site_id": site["id"]});
        let (status, _, tube) = call(store, post(&format!("/api/v1/rounds/{id}/tubes"), open.clone())).await;
        assert_eq!(status, StatusCode::OK, "{tube}");
        assert_eq!(tube["pool"], serde_json::json!({"kind": "people", "size": 10}));
        let (_, _, again) = call(store, post(&format!("/api/v1/rounds/{id}/tubes"), open)).await;
        assert_eq!(again["id"], tube["id"]);

        // Ten residents of 清源镇 by the ids on their cards; the tenth seals the tube.
        let people: Vec<String> = (0..30)
            .map(sample_id)
            .filter(|rid| {
                let n: u32 = (0..30).find(|i| sample_id(*i) == *rid).unwrap();
                (n / 2) % 4 < 2
            })
            .collect();
        let scan = |rid: &str, client: &str| {
            post(&format!("/api/v1/rounds/{id}/tubes/QX20220413/samples"), serde_json::json!({"resident_id": rid, "client_id": client}))
        };
        for (i, rid) in people.iter().take(10).enumerate() {
            let (status, _, answer) = call(store, scan(rid, &format!("s{i}"))).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            if i == 9 {
                assert_eq!(answer["after"], "sealed");
            } else {
                assert_eq!(answer["after"]["open"]["remaining"], 9 - i as i64);
            }
        }
        let (status, _, retry) = call(store, scan(&people[2], "s2")).await;
        assert_eq!((status, retry["repeat"].as_bool()), (StatusCode::OK, Some(true)));
        let (status, ctype, sealed) = call(store, scan(&people[10], "s10")).await;
        assert_eq!((status, ctype.as_str()), (StatusCode::CONFLICT, "application/problem+json"));
        assert!(sealed["detail"].as_str().unwrap().contains("open a new tube"), "{sealed}");
        assert_eq!((sealed["kind"].as_str(), sealed["args"]["barcode"].as_str()), (Some("refused.sealed"), Some("QX20220413")), "{sealed}");

        call(store, post(&format!("/api/v1/rounds/{id}/tubes"), serde_json::json!({"barcode": "QX20220414", "site_id": site["id"]}))).await;
        let twice = post(&format!("/api/v1/rounds/{id}/tubes/QX20220414/samples"), serde_json::json!({"resident_id": people[0]}));
        let (status, _, refusal) = call(store, twice).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(refusal["kind"], "refused.already_sampled");
        assert_eq!(refusal["args"]["barcode"], "QX20220413");
        let unknown =
            post(&format!("/api/v1/rounds/{id}/tubes/QX20220414/samples"), serde_json::json!({"resident_id": "11010519491231002X"}));
        let (status, _, problem) = call(store, unknown).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(problem["detail"].as_str().unwrap().contains("register them on the spot"));
        assert_eq!(problem["kind"], "refused.unknown_resident");
        assert_eq!(problem["args"]["resident_id"], "11010519491231002X");
        // Registered on the spot with the minimum; a resend answers the same person; then the scan goes in.
        let newcomer = serde_json::json!({"resident_id": "11010519491231002x", "name": "郝秀兰", "area_code": "140121100201", "address": "东关村西街9号"});
        let (status, _, first) = call(store, post("/api/v1/persons", newcomer.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert_eq!((first["sex"].as_str(), first["birth_date"].as_str()), (Some("female"), Some("1949-12-31")));
        let (status, _, again) = call(store, post("/api/v1/persons", newcomer)).await;
        assert_eq!((status, &again["id"]), (StatusCode::OK, &first["id"]));
        let (status, _, outside) = call(
            store,
            post(
                "/api/v1/persons",
                serde_json::json!({
            "resident_id": "110105194912310038", "name": "外镇人", "area_code": "140121101201"}),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{outside}");
        let (status, _, bad) = call(
            store,
            post(
                "/api/v1/persons",
                serde_json::json!({
            "resident_id": "11010519491231002X", "name": "张3", "area_code": "140121100201"}),
            ),
        )
        .await;
        assert_eq!((status, bad["field"].as_str()), (StatusCode::BAD_REQUEST, Some("name")));
        let (status, _, scanned) = call(
            store,
            post(&format!("/api/v1/rounds/{id}/tubes/QX20220414/samples"), serde_json::json!({"resident_id": "11010519491231002X"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{scanned}");
        let bad_id =
            post(&format!("/api/v1/rounds/{id}/tubes/QX20220414/samples"), serde_json::json!({"resident_id": "110105194912310021"}));
        let (status, _, problem) = call(store, bad_id).await;
        assert_eq!((status, problem["field"].as_str()), (StatusCode::BAD_REQUEST, Some("resident_id")));
        call(store, post(&format!("/api/v1/rounds/{id}/tubes"), serde_json::json!({"barcode": "QX20220415", "site_id": site["id"]}))).await;
        let (status, _, closed) = call(store, post(&format!("/api/v1/rounds/{id}/tubes/QX20220415/close"), serde_json::json!({}))).await;
        assert_eq!(status, StatusCode::CONFLICT, "an empty tube is not sealed: {closed}");
        w.finish().await;
    }
}

/// A TCP relay in front of the server that can be cut, to take the network away from a page.
struct Relay {
    addr: SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(backend: SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Default::default();
        let (up2, links2) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(backend).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links2.lock().unwrap().push(link);
            }
        });
        Relay { addr, up, links }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn the_station_page_registers_scans_and_sends_an_offline_scan_when_the_network_is_back() {
    let driver = chromedriver().await;
    for w in worlds("browser_station", 30).await {
        let store = &w.store;
        let officer = account(store, "sampler2", Role::TestingOfficer, "140121100").await;
        let post = |uri: &str, body: Value| post_json(&officer, uri, body);
        let (_, _, round) = call(
            store,
            post(
                "/api/v1/rounds",
                serde_json::json!({"name": "清源镇第一轮", "areas": [{"area_code": "140121100", "zone": "controlled"}]}),
            ),
        )
        .await;
        let round_id = round["id"].as_i64().unwrap();
        call(
            store,
            post(
                &format!("/api/v1/rounds/{round_id}/sites"),
                serde_json::json!({"area_code": "140121100201", "name": "东关1号点", "address": "东关村委会", "stations": 2}),
            ),
        )
        .await;

        let server = spawn_server(store.clone()).await;
        let relay = Relay::start(server).await;
        let client = browser(&driver).await;
        sign_in(&client, relay.addr, "sampler2", PASSWORD).await;
        menu(&client, "/testing").await;
        let sizing = text(&client, "section.round p.note").await;
        assert!(sizing.contains("采样点 1–1 个"), "{sizing}");
        client.find(fantoccini::Locator::LinkText("进入采样台")).await.unwrap().click().await.unwrap();
        let tube_input = client.wait().for_element(fantoccini::Locator::Id("tube-barcode")).await.unwrap();
        // A misread tube code is said in Chinese and stays in its box to be corrected.
        tube_input.send_keys("abc\u{E007}").await.unwrap();
        let said = "//p[@id='station-message' and .='条码 abc 无法识别：须为 8–20 位，实为 3 位。请重新扫描。']";
        client.wait().for_element(fantoccini::Locator::XPath(said)).await.unwrap();
        assert_eq!(tube_input.prop("value").await.unwrap().as_deref(), Some("abc"));
        tube_input.clear().await.unwrap();
        tube_input.send_keys("QX20220413\u{E007}").await.unwrap(); // a scanner types the code and Enter
        client.wait().for_element(fantoccini::Locator::XPath("//p[@id='station-message' and contains(., '已开管')]")).await.unwrap();

        let residents: Vec<String> = (0..30).filter(|n| (n / 2) % 4 < 2).map(sample_id).collect();
        let person = client.find(fantoccini::Locator::Id("person-id")).await.unwrap();
        for rid in &residents[..2] {
            person.send_keys(&format!("{rid}\u{E007}")).await.unwrap();
        }
        client.wait().for_element(fantoccini::Locator::Css("#tube-members li:nth-child(2)")).await.unwrap();
        assert!(text(&client, "#tube-current").await.contains("2/10"));

        // The same person scanned again into the tube: said, and listed once.
        person.send_keys(&format!("{}\u{E007}", residents[1])).await.unwrap();
        client
            .wait()
            .for_element(fantoccini::Locator::XPath("//p[@id='station-message' and contains(., '此人已在本管中')]"))
            .await
            .unwrap();
        assert_eq!(client.find_all(fantoccini::Locator::Css("#tube-members li")).await.unwrap().len(), 2);
        assert!(text(&client, "#tube-current").await.contains("2/10"));
        // A mistyped check digit is said in Chinese and the number is not shown back; an empty
        // field asks for the number.
        let mut typo = residents[3].clone();
        let last = if typo.ends_with('0') { "1" } else { "0" };
        typo.replace_range(17.., last);
        person.send_keys(&format!("{typo}\u{E007}")).await.unwrap();
        let said = client
            .wait()
            .for_element(fantoccini::Locator::XPath("//p[@id='station-message' and contains(., '校验位')]"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!said.contains(&typo[6..14]), "{said}");
        person.send_keys("\u{E007}").await.unwrap();
        client.wait().for_element(fantoccini::Locator::XPath("//p[@id='station-message' and contains(., '请输入证件号')]")).await.unwrap();
        assert_eq!(client.find_all(fantoccini::Locator::Css("#tube-members li")).await.unwrap().len(), 2);

        // The network drops: the third scan waits in the page.
        relay.cut();
        person.send_keys(&format!("{}\u{E007}", residents[2])).await.unwrap();
        let pending =
            client.wait().for_element(fantoccini::Locator::XPath("//p[@id='station-pending' and contains(., '1')]")).await.unwrap();
        assert!(pending.text().await.unwrap().contains("离线暂存 1 条"));
        std::fs::write(screenshot_path(&format!("station-offline-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap())
            .unwrap();
        let tube = store.tube(round_id, &cordon_domain::Barcode::parse("QX20220413").unwrap()).await.unwrap().unwrap();
        assert_eq!(tube.members, 2, "nothing reached the server while it was cut off");

        // Back: the queued scan is sent by itself, once.
        relay.restore();
        client.wait().for_element(fantoccini::Locator::Css("#tube-members li:nth-child(3)")).await.unwrap();
        assert!(text(&client, "#tube-current").await.contains("3/10"));
        let tube = store.tube(round_id, &cordon_domain::Barcode::parse("QX20220413").unwrap()).await.unwrap().unwrap();
        assert_eq!(tube.members, 3);

        // A visitor the register does not know: the page asks for the minimum, registers them
        // on the spot and samples them into the same tube.
        let born = chrono::NaiveDate::from_ymd_opt(1961, 8, 2).unwrap();
        let stranger = cordon_domain::ResidentId::from_parts("140121", born, 997).unwrap();
        person.send_keys(&format!("{}\u{E007}", stranger.as_str())).await.unwrap();
        let name = client.wait().for_element(fantoccini::Locator::Css("#register-form:not([hidden]) #register-name")).await.unwrap();
        assert!(text(&client, "#station-message").await.contains("不在人员库中"));
        name.send_keys("郝建国").await.unwrap();
        client.find(fantoccini::Locator::Id("register-address")).await.unwrap().send_keys("东关村西街9号").await.unwrap();
        // A mistyped phone: said in Chinese, the form kept as typed, nobody registered or scanned.
        client.find(fantoccini::Locator::Id("register-phone")).await.unwrap().send_keys("abc123").await.unwrap();
        client.find(fantoccini::Locator::Css("#register-form button[type=submit]")).await.unwrap().click().await.unwrap();
        let said = "//p[@id='station-message' and contains(., '“abc123”不是手机号')]";
        client.wait().for_element(fantoccini::Locator::XPath(said)).await.unwrap();
        let kept = client.wait().for_element(fantoccini::Locator::Css("#register-form:not([hidden]) #register-name")).await.unwrap();
        assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some("郝建国"));
        assert!(store.person_by_document(stranger.as_str()).await.unwrap().is_none());
        assert!(text(&client, "#tube-current").await.contains("3/10"), "not scanned");
        fill(&client, "#register-phone", "").await;
        client.find(fantoccini::Locator::Css("#register-form button[type=submit]")).await.unwrap().click().await.unwrap();
        client.wait().for_element(fantoccini::Locator::Css("#tube-members li:nth-child(4)")).await.unwrap();
        assert!(text(&client, "#tube-members li:nth-child(4)").await.contains("郝建国"));
        assert!(text(&client, "#tube-current").await.contains("4/10"));
        let registered = store.person_by_document(stranger.as_str()).await.unwrap().expect("registered on the spot");
        assert_eq!(
            (registered.area_code.as_str(), registered.birth_date, registered.address.as_deref()),
            ("140121100201", born, Some("东关村西街9号"))
        );

        // The tube scanned again later: its count said, not "opened" as if empty.
        tube_input.send_keys("QX20220413\u{E007}").await.unwrap();
        let again = "//p[@id='station-message' and contains(., '已打开 QX20220413，管中已有 4 人')]";
        client.wait().for_element(fantoccini::Locator::XPath(again)).await.unwrap();

        // Someone already sampled, scanned into the next tube: told in Chinese where and when.
        tube_input.send_keys("QX20220414\u{E007}").await.unwrap();
        client.wait().for_element(fantoccini::Locator::XPath("//p[@id='station-message' and contains(., 'QX20220414')]")).await.unwrap();
        person.send_keys(&format!("{}\u{E007}", residents[0])).await.unwrap();
        let refused = client
            .wait()
            .for_element(fantoccini::Locator::XPath("//p[@id='station-message' and contains(., '本轮已采过样')]"))
            .await
            .unwrap();
        let said = refused.text().await.unwrap();
        assert!(said.contains("试管 QX20220413") && said.contains("东关1号点") && said.contains("不要重复采样"), "{said}");
        client.close().await.unwrap();
        w.finish().await;
    }
}

#[tokio::test]
async fn a_batch_registers_many_tubes_once_and_reports_every_member_it_refused() {
    for w in worlds("api_batch", 40).await {
        let store = &w.store;
        let officer = account(store, "device1", Role::TestingOfficer, "140121100").await;
        let post = |uri: &str, body: Value| post_json(&officer, uri, body);
        let (_, _, round) = call(
            store,
            post("/api/v1/rounds", serde_json::json!({"name": "批量", "areas": [{"area_code": "140121100", "zone": "controlled"}]})),
        )
        .await;
        let id = round["id"].as_i64().unwrap();
        let (_, _, site) = call(
            store,
            post(
                &format!("/api/v1/rounds/{id}/sites"),
                serde_json::json!({"area_code": "140121100202", "name": "西关1号点", "address": "西关村", "stations": 2}),
            ),
        )
        .await;
        let residents: Vec<String> = (0..40).filter(|n| (n / 2) % 4 < 2).map(sample_id).collect();
        assert_eq!(residents.len(), 20);
        let batch = serde_json::json!({"client_id": "dev-1-0001", "tubes": [
            {"barcode": "BT00000001", "site_id": site["id"], "resident_ids": residents[0..12]},
            {"barcode": "BT00000002", "site_id": site["id"], "resident_ids": residents[12..15], "seal": true},
            {"barcode": "BT00000003", "site_id": site["id"], "resident_ids": [residents[0], "11010519491231002X", "110105194912310021"]},
        ]});
        let (status, _, report) = call(store, post(&format!("/api/v1/rounds/{id}/registrations"), batch.clone())).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let tubes = report["tubes"].as_array().unwrap();
        assert_eq!((tubes[0]["added"].as_u64(), tubes[0]["refused"].as_array().unwrap().len()), (Some(10), 2), "a 10-tube takes 10");
        assert_eq!(tubes[0]["refused"][0]["refusal"]["kind"], "refused.sealed");
        assert!(tubes[0]["tube"]["sealed_at"].is_string());
        assert_eq!((tubes[1]["added"].as_u64(), tubes[1]["tube"]["members"].as_i64()), (Some(3), Some(3)));
        assert!(tubes[1]["tube"]["sealed_at"].is_string(), "sealed on request");
        assert_eq!(tubes[2]["added"], 0);
        assert_eq!(tubes[2]["refused"][0]["refusal"]["kind"], "refused.already_sampled");
        assert_eq!(report["unknown_residents"], serde_json::json!(["11010519491231002X"]));
        assert_eq!(report["invalid_residents"].as_array().unwrap().len(), 1);

        // Resent (a lost answer): nothing changes, every stored member is a repeat.
        let (_, _, again) = call(store, post(&format!("/api/v1/rounds/{id}/registrations"), batch)).await;
        let tubes = again["tubes"].as_array().unwrap();
        assert_eq!((tubes[0]["added"].as_u64(), tubes[0]["repeats"].as_u64()), (Some(0), Some(10)));
        assert_eq!((tubes[1]["added"].as_u64(), tubes[1]["repeats"].as_u64()), (Some(0), Some(3)));
        let t1 = store.tube(id, &cordon_domain::Barcode::parse("BT00000001").unwrap()).await.unwrap().unwrap();
        assert_eq!(t1.members, 10);

        let elsewhere = serde_json::json!({"tubes": [{"barcode": "BT00000009", "site_id": 999, "resident_ids": []}]});
        let (status, _, problem) = call(store, post(&format!("/api/v1/rounds/{id}/registrations"), elsewhere)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        w.finish().await;
    }
}

#[tokio::test]
async fn a_positive_pool_recalls_every_member_and_single_retests_close_the_recalls() {
    for w in worlds("api_results", 40).await {
        let store = &w.store;
        let officer = account(store, "sampler3", Role::TestingOfficer, "140121100").await;
        let neighbour = account(store, "sampler4", Role::TestingOfficer, "140121101").await;
        let lab = account(store, "lab1", Role::Lab, "140121").await;
        let post = post_json;
        let residents: Vec<String> = (0..40).filter(|n| (n / 2) % 4 < 2).map(sample_id).collect();
        let (round, site) = plan_round(store, &officer, "第一轮").await;
        let (_, _, report) = call(
            store,
            post(
                &officer,
                &format!("/api/v1/rounds/{round}/registrations"),
                serde_json::json!({"tubes": [
                    {"barcode": "PP00000001", "site_id": site, "resident_ids": residents[0..10]},
                    {"barcode": "NN00000001", "site_id": site, "resident_ids": residents[10..15], "seal": true},
                ]}),
            ),
        )
        .await;
        assert_eq!(report["tubes"][0]["added"], 10);
        let (status, _, lab_row) = call(
            store,
            post(
                &officer,
                "/api/v1/labs",
                serde_json::json!({"name": "清徐县疾控中心实验室", "area_code": "140121100", "daily_capacity": 20000}),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{lab_row}");
        let lab_id = lab_row["id"].as_i64().unwrap();

        let results = |items: Value| post(&lab, "/api/v1/results", serde_json::json!({"lab_id": lab_id, "results": items}));
        let (status, _, lines) = call(
            store,
            results(serde_json::json!([
                {"barcode": "PP00000001", "ct_orf1ab": 28.4, "ct_n": 30.1},
                {"barcode": "NN00000001", "result": "阴性"},
                {"barcode": "XX99999999", "result": "negative"},
            ])),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{lines}");
        assert_eq!(lines[0]["outcome"]["outcome"], "recorded");
        assert_eq!(lines[0]["outcome"]["result"], "pooled_suspect", "a 10-pool with Ct under 35");
        assert_eq!(lines[0]["outcome"]["recalls_opened"], 10);
        assert_eq!(lines[1]["outcome"]["recalls_opened"], 0);
        assert_eq!(lines[2]["outcome"]["outcome"], "refused");
        assert!(lines[2]["outcome"]["reason"].as_str().unwrap().contains("Unknown barcode XX99999999"));
        assert_eq!(
            (lines[2]["outcome"]["refusal"]["kind"].as_str(), lines[2]["outcome"]["refusal"]["args"]["barcode"].as_str()),
            (Some("refused.unknown_barcode"), Some("XX99999999"))
        );
        let (_, _, again) = call(
            store,
            results(
                serde_json::json!([{"barcode": "PP00000001", "result": "pooled_suspect"}, {"barcode": "PP00000001", "result": "negative"}]),
            ),
        )
        .await;
        assert_eq!(again[0]["outcome"]["outcome"], "repeat");
        assert_eq!(again[1]["outcome"]["outcome"], "refused");
        assert!(again[1]["outcome"]["reason"].as_str().unwrap().contains("not accepted"));
        assert_eq!(
            again[1]["outcome"]["refusal"],
            serde_json::json!({"kind": "refused.result_conflict", "args": {"barcode": "PP00000001", "recorded": "pooled_suspect", "sent": "negative"}})
        );

        let (_, _, board) = get(store, &officer, "/api/v1/recalls").await;
        assert_eq!(board.as_array().unwrap().len(), 10);
        let first = &board[0];
        let hours = chrono::DateTime::parse_from_rfc3339(first["deadline"].as_str().unwrap()).unwrap()
            - chrono::DateTime::parse_from_rfc3339(first["created_at"].as_str().unwrap()).unwrap();
        assert_eq!(hours.num_hours(), 6);
        let (_, _, elsewhere) = get(store, &neighbour, "/api/v1/recalls").await;
        assert!(elsewhere.as_array().unwrap().is_empty(), "the neighbouring township sees none");

        // Re-tests alone, in the same round: one negative (released), one positive (a positive
        // person); a re-test tube takes only recalled people.
        let (_, _, report) = call(
            store,
            post(
                &officer,
                &format!("/api/v1/rounds/{round}/registrations"),
                serde_json::json!({"tubes": [
                    {"barcode": "RT00000001", "site_id": site, "group": "retest", "resident_ids": [residents[0]]},
                    {"barcode": "RT00000002", "site_id": site, "group": "retest", "resident_ids": [residents[1]]},
                    {"barcode": "RT00000003", "site_id": site, "group": "retest", "resident_ids": [residents[12]]},
                ]}),
            ),
        )
        .await;
        assert_eq!(
            (report["tubes"][0]["added"].as_u64(), report["tubes"][0]["tube"]["pool"]["size"].as_u64()),
            (Some(1), Some(1)),
            "{report}"
        );
        assert_eq!(report["tubes"][2]["refused"][0]["refusal"]["kind"], "refused.not_recalled", "{report}");
        let (_, _, lines) = call(
            store,
            results(serde_json::json!([
                {"barcode": "RT00000001", "round_id": round, "result": "negative"},
                {"barcode": "RT00000002", "round_id": round, "ct_orf1ab": 24.0},
            ])),
        )
        .await;
        assert_eq!(lines[0]["outcome"]["recalls_closed"], 1, "{lines}");
        assert_eq!((lines[1]["outcome"]["result"].as_str(), lines[1]["outcome"]["positive_persons"].as_u64()), (Some("positive"), Some(1)));
        assert_eq!(lines[1]["outcome"]["recalls_closed"], 1);
        let (_, _, board) = get(store, &officer, "/api/v1/recalls").await;
        assert_eq!(board.as_array().unwrap().len(), 8);
        // The pooled tube's own list keeps every member, with where each recall stands.
        let (status, _, members) = get(store, &officer, &format!("/api/v1/rounds/{round}/tubes/PP00000001/recalls")).await;
        assert_eq!(status, StatusCode::OK, "{members}");
        let mut statuses: Vec<&str> = members.as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap()).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [vec!["negative"], vec!["open"; 8], vec!["positive"]].concat());
        assert_eq!(get(store, &officer, &format!("/api/v1/rounds/{round}/tubes/not%20a%20code/recalls")).await.0, StatusCode::BAD_REQUEST);

        // A testing officer cannot post results; a lab user cannot plan rounds.
        assert_eq!(
            call(store, post(&officer, "/api/v1/results", serde_json::json!({"lab_id": lab_id, "results": []}))).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            call(store, post(&lab, "/api/v1/rounds", serde_json::json!({"name": "x", "areas": [{"area_code": "140121"}]}))).await.0,
            StatusCode::FORBIDDEN
        );
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn the_recall_board_shows_every_recalled_person_with_the_clock_overdue_first() {
    let driver = chromedriver().await;
    for w in worlds("browser_recalls", 40).await {
        let store = &w.store;
        let officer = account(store, "sampler5", Role::TestingOfficer, "140121100").await;
        let lab = account(store, "lab2", Role::Lab, "140121").await;
        let post = post_json;
        let residents: Vec<String> = (0..40).filter(|n| (n / 2) % 4 < 2).map(sample_id).collect();
        let (id, site_id) = plan_round(store, &officer, "第一轮").await;
        let site = serde_json::json!({"id": site_id});
        call(
            store,
            post(
                &officer,
                &format!("/api/v1/rounds/{id}/registrations"),
                serde_json::json!({"tubes": [
                    {"barcode": "OLD0000001", "site_id": site["id"], "resident_ids": residents[0..3], "seal": true},
                    {"barcode": "NEW0000001", "site_id": site["id"], "resident_ids": residents[3..10]},
                ]}),
            ),
        )
        .await;
        let (_, _, lab_row) = call(
            store,
            post(&officer, "/api/v1/labs", serde_json::json!({"name": "县疾控实验室", "area_code": "140121100", "daily_capacity": 10000})),
        )
        .await;
        let seven_hours_ago = (chrono::Utc::now() - chrono::Duration::hours(7)).to_rfc3339();
        let (_, _, lines) = call(
            store,
            post(
                &lab,
                "/api/v1/results",
                serde_json::json!({"lab_id": lab_row["id"], "results": [
                    {"barcode": "OLD0000001", "result": "pooled_suspect", "at": seven_hours_ago},
                    {"barcode": "NEW0000001", "result": "pooled_suspect"},
                ]}),
            ),
        )
        .await;
        assert_eq!(lines[0]["outcome"]["recalls_opened"], 3, "{lines}");

        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "sampler5", PASSWORD).await;
        menu(&client, "/recalls").await;
        client.wait().for_element(fantoccini::Locator::Css("table.recalls")).await.unwrap();
        let rows = client.find_all(fantoccini::Locator::Css("table.recalls tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 10);
        let overdue = client.find_all(fantoccini::Locator::Css("table.recalls tbody tr.overdue")).await.unwrap();
        assert_eq!(overdue.len(), 3, "the pool resulted 7 hours ago is past its 6-hour clock");
        assert!(overdue[0].text().await.unwrap().contains("已超时 1h"));
        let first_open = rows[3].text().await.unwrap();
        assert!(first_open.contains("NEW0000001") && first_open.contains("5h"), "{first_open}");
        assert!(first_open.contains("清源镇") && !first_open.contains("14012110"), "the village by name: {first_open}");
        std::fs::write(screenshot_path(&format!("recalls-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();

        // The community worker opens one tube: its members, each with where the recall stands.
        client.find(fantoccini::Locator::LinkText("OLD0000001")).await.unwrap().click().await.unwrap();
        let heading =
            client.wait().for_element(fantoccini::Locator::XPath("//h1[contains(., '试管 OLD0000001 的召回人员')]")).await.unwrap();
        assert!(heading.text().await.unwrap().contains('3'));
        let members = client.find_all(fantoccini::Locator::Css("table.recalls tbody tr")).await.unwrap();
        assert_eq!(members.len(), 3);
        for m in members {
            assert!(m.text().await.unwrap().contains("待复核"));
        }
        client.close().await.unwrap();
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn the_coverage_page_drills_down_to_a_village_where_missing_people_are_accounted_for_in_a_browser() {
    let driver = chromedriver().await;
    for w in worlds("browser_coverage", 40).await {
        let store = &w.store;
        let officer = account(store, "sampler8", Role::TestingOfficer, "140121100").await;
        let lab = account(store, "lab8", Role::Lab, "140121").await;
        let residents: Vec<String> = (0..40).filter(|n| (n / 2) % 4 < 2).map(sample_id).collect();
        let (id, site) = plan_round(store, &officer, "第一轮").await;
        call(
            store,
            post_json(
                &officer,
                &format!("/api/v1/rounds/{id}/registrations"),
                serde_json::json!({"tubes": [
                    {"barcode": "CV00000001", "site_id": site, "resident_ids": residents[0..10]},
                ]}),
            ),
        )
        .await;
        let (_, _, lab_row) = call(
            store,
            post_json(
                &officer,
                "/api/v1/labs",
                serde_json::json!({"name": "县疾控实验室", "area_code": "140121100", "daily_capacity": 10000}),
            ),
        )
        .await;
        let (_, _, lines) = call(
            store,
            post_json(
                &lab,
                "/api/v1/results",
                serde_json::json!({"lab_id": lab_row["id"], "results": [
                    {"barcode": "CV00000001", "result": "pooled_suspect"},
                ]}),
            ),
        )
        .await;
        assert_eq!(lines[0]["outcome"]["recalls_opened"], 10, "{lines}");

        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "sampler8", PASSWORD).await;
        menu(&client, "/testing").await;
        client.find(fantoccini::Locator::LinkText("覆盖进度")).await.unwrap().click().await.unwrap();
        client.wait().for_element(fantoccini::Locator::Css("#chart-progress canvas")).await.unwrap();
        let stats = text(&client, "#coverage-stats").await;
        assert!(stats.contains("20") && stats.contains("10") && stats.contains("50%"), "{stats}");
        assert!(text(&client, "section.found").await.contains("10\n待复核召回"), "the ten recalled members are counted");
        let rows = client.find_all(fantoccini::Locator::Css("table.coverage tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 2, "东关村 and 西关村");
        std::fs::write(screenshot_path(&format!("coverage-township-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap())
            .unwrap();

        // The village: its missing list, where one person is accounted for as away.
        client.find(fantoccini::Locator::LinkText("东关村")).await.unwrap().click().await.unwrap();
        client.wait().for_element(fantoccini::Locator::Id("missing-table")).await.unwrap();
        let missing = client.find_all(fantoccini::Locator::Css("#missing-table tbody tr")).await.unwrap();
        assert_eq!(missing.len(), 4);
        let first = missing[0].text().await.unwrap();
        let form = missing[0].find(fantoccini::Locator::Css("form")).await.unwrap();
        form.find(fantoccini::Locator::Css("input[name=note]")).await.unwrap().send_keys("在太原务工").await.unwrap();
        form.find(fantoccini::Locator::Css("button")).await.unwrap().click().await.unwrap();
        client.wait().for_element(fantoccini::Locator::Id("exempt-table")).await.unwrap();
        assert_eq!(client.find_all(fantoccini::Locator::Css("#missing-table tbody tr")).await.unwrap().len(), 3);
        let exempt = text(&client, "#exempt-table tbody").await;
        let name = first.split_whitespace().nth(1).unwrap().to_string();
        assert!(
            exempt.contains(&name) && exempt.contains("外出未归") && exempt.contains("在太原务工") && exempt.contains("sampler8同志"),
            "{exempt}"
        );
        assert_eq!(text(&client, "#missing-count").await, "3");
        assert!(client.find(fantoccini::Locator::Id("print-list")).await.is_ok());
        client.execute("document.querySelector('section.missing-list').scrollIntoView()", vec![]).await.unwrap();
        std::fs::write(screenshot_path(&format!("coverage-village-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap())
            .unwrap();

        client.find(fantoccini::Locator::Css("#exempt-table button")).await.unwrap().click().await.unwrap();
        client.wait().for_element(fantoccini::Locator::XPath("//span[@id='missing-count' and text()='4']")).await.unwrap();
        assert_eq!(client.find_all(fantoccini::Locator::Css("#missing-table tbody tr")).await.unwrap().len(), 4);
        client.close().await.unwrap();
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn a_site_page_plans_slots_and_lists_home_visits_and_a_suggested_round_is_confirmed_in_a_browser() {
    let driver = chromedriver().await;
    for w in worlds("browser_site", 40).await {
        let store = &w.store;
        let officer = account(store, "sampler9", Role::TestingOfficer, "140121100").await;
        let lab = account(store, "lab9", Role::Lab, "140121").await;
        let residents: Vec<String> = (0..40).filter(|n| (n / 2) % 4 < 2).map(sample_id).collect();
        let (id, site) = plan_round(store, &officer, "第一轮").await;
        call(
            store,
            post_json(
                &officer,
                &format!("/api/v1/rounds/{id}/registrations"),
                serde_json::json!({"tubes": [
                    {"barcode": "ST00000001", "site_id": site, "resident_ids": residents[0..10]},
                ]}),
            ),
        )
        .await;
        let (_, _, lab_row) = call(
            store,
            post_json(
                &officer,
                "/api/v1/labs",
                serde_json::json!({"name": "县疾控实验室", "area_code": "140121100", "daily_capacity": 10000}),
            ),
        )
        .await;
        let results = |items: Value| post_json(&lab, "/api/v1/results", serde_json::json!({"lab_id": lab_row["id"], "results": items}));
        call(store, results(serde_json::json!([{"barcode": "ST00000001", "result": "pooled_suspect"}]))).await;
        call(
            store,
            post_json(
                &officer,
                &format!("/api/v1/rounds/{id}/registrations"),
                serde_json::json!({"tubes": [
                    {"barcode": "SR00000001", "site_id": site, "group": "retest", "resident_ids": [residents[0]]},
                ]}),
            ),
        )
        .await;
        let (_, _, lines) = call(store, results(serde_json::json!([{"barcode": "SR00000001", "result": "positive"}]))).await;
        assert_eq!(lines[0]["outcome"]["positive_persons"], 1, "{lines}");

        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "sampler9", PASSWORD).await;
        menu(&client, "/testing").await;
        let frequency = text(&client, "#frequency-table tbody").await;
        assert!(frequency.contains("清源镇") && frequency.contains("每天一检"), "a positive in the last rounds: daily\n{frequency}");
        client.find(fantoccini::Locator::Css("#frequency-table button")).await.unwrap().click().await.unwrap();
        let notice = client.wait().for_element(fantoccini::Locator::Id("rounds-notice")).await.unwrap().text().await.unwrap();
        assert!(notice.contains("已安排下一轮") && notice.contains("清源镇"), "{notice}");
        assert_eq!(client.find_all(fantoccini::Locator::Css("section.round")).await.unwrap().len(), 2);

        client.find(fantoccini::Locator::LinkText("东关1号点")).await.unwrap().click().await.unwrap();
        client.wait().for_element(fantoccini::Locator::Id("slot-form")).await.unwrap();
        let visits = text(&client, "#visit-table tbody").await;
        assert_eq!(visits.matches("混管召回单采").count(), 5, "the east members of the pool still waiting for their re-test\n{visits}");
        assert_eq!(visits.matches("行动不便").count(), 4, "the very old of 东关村 not yet sampled\n{visits}");
        let hours = client.find(fantoccini::Locator::Css("#slot-form input[name=hours]")).await.unwrap();
        hours.clear().await.unwrap();
        hours.send_keys("2").await.unwrap();
        client.find(fantoccini::Locator::Css("#slot-form button")).await.unwrap().click().await.unwrap();
        let slots = client.wait().for_element(fantoccini::Locator::Id("slot-table")).await.unwrap().text().await.unwrap();
        assert!(slots.contains("东关村") && slots.contains("10"), "{slots}");
        std::fs::write(screenshot_path(&format!("site-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();
        client.close().await.unwrap();
        w.finish().await;
    }
}

#[tokio::test]
async fn a_lab_export_in_gbk_records_results_and_reports_each_bad_row_with_its_line() {
    for w in worlds("api_results_csv", 20).await {
        let store = &w.store;
        let officer = account(store, "sampler6", Role::TestingOfficer, "140121100").await;
        let lab = account(store, "lab3", Role::Lab, "140121").await;
        let post = post_json;
        let residents: Vec<String> = (0..20).filter(|n| (n / 2) % 4 < 2).map(sample_id).collect();
        let (id, site_id) = plan_round(store, &officer, "第一轮").await;
        let site = serde_json::json!({"id": site_id});
        call(
            store,
            post(
                &officer,
                &format!("/api/v1/rounds/{id}/registrations"),
                serde_json::json!({"tubes": [
                    {"barcode": "CSV0000001", "site_id": site["id"], "resident_ids": residents[0..5], "seal": true},
                    {"barcode": "CSV0000002", "site_id": site["id"], "resident_ids": residents[5..10], "seal": true},
                ]}),
            ),
        )
        .await;
        let (_, _, lab_row) = call(
            store,
            post(&officer, "/api/v1/labs", serde_json::json!({"name": "第三方实验室", "area_code": "140121100", "daily_capacity": 50000})),
        )
        .await;
        let csv = "条码,结果,ORF1ab,N,检测时间\n\
                   CSV0000001,,27.5,29.0,2022-04-13 22:10:00\n\
                   CSV0000002,阴性,,,2022-04-13 22:11:00\n\
                   ZZ00000009,阴性,,,\n\
                   CSV0000001,,abc,,\n\
                   CSV0000002,,,,\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(csv);
        let req = Request::post(format!("/api/v1/results/csv?lab_id={}", lab_row["id"]))
            .header("authorization", format!("Bearer {lab}"))
            .header("content-type", "text/csv")
            .body(Body::from(gbk.into_owned()))
            .unwrap();
        let (status, _, report) = call(store, req).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["encoding"], "GB18030");
        assert_eq!((report["rows"].as_u64(), report["recorded"].as_u64()), (Some(5), Some(2)));
        let lines: Vec<u64> = report["problems"].as_array().unwrap().iter().map(|p| p["line"].as_u64().unwrap()).collect();
        assert_eq!(lines, [4, 5, 6]);
        assert!(report["problems"][0]["outcome"]["reason"].as_str().unwrap().contains("Unknown barcode"));
        assert!(report["problems"][1]["outcome"]["reason"].as_str().unwrap().contains("not a number"));
        let (_, _, board) = get(store, &officer, "/api/v1/recalls").await;
        assert_eq!(board.as_array().unwrap().len(), 5, "the pooled-suspect tube's five members");
        w.finish().await;
    }
}

#[tokio::test]
async fn the_coverage_page_and_the_api_give_the_same_totals_for_a_county_of_which_one_township_is_tested() {
    for w in worlds("coverage_faces", 40).await {
        let store = &w.store;
        let officer = account(store, "sampler7", Role::TestingOfficer, "140121100").await;
        let (id, site) = plan_round(store, &officer, "第一轮").await;
        let residents: Vec<String> = (0..40).filter(|n| (n / 2) % 4 < 2).map(sample_id).collect();
        let (status, _, report) = call(
            store,
            post_json(
                &officer,
                &format!("/api/v1/rounds/{id}/registrations"),
                serde_json::json!({"tubes": [{"barcode": "CV00000001", "site_id": site, "resident_ids": residents[0..10], "seal": true}]}),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{report}");

        // The county has 40 residents; the round covers 清源镇's 20 of them.
        let (status, _, api) = get(store, &w.commander, &format!("/api/v1/rounds/{id}/coverage?area=140121")).await;
        assert_eq!(status, StatusCode::OK, "{api}");
        assert_eq!((api["expected"].as_i64(), api["sampled"].as_i64(), api["missing"].as_i64()), (Some(20), Some(10), Some(10)), "{api}");
        assert_eq!(api["children"].as_array().map(Vec::len), Some(1), "only the township the round covers: {api}");

        let req = Request::get(format!("/coverage?round={id}&area=140121"))
            .header("authorization", format!("Bearer {}", w.commander))
            .body(Body::empty())
            .unwrap();
        let res = cordon_web::app(store.clone()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let page = String::from_utf8(axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
        assert!(page.contains(&format!(r#"id="missing-count">{}<"#, api["missing"])), "the page's missing count is the API's");
        w.finish().await;
    }
}

#[tokio::test]
async fn coverage_counts_who_is_sampled_and_lists_exactly_who_is_missing() {
    for w in worlds("api_coverage", 40).await {
        let store = &w.store;
        let officer = account(store, "sampler7", Role::TestingOfficer, "140121100").await;
        let (id, site) = plan_round(store, &officer, "第一轮").await;
        let residents: Vec<String> = (0..40).filter(|n| (n / 2) % 4 < 2).map(sample_id).collect();
        let (_, _, report) = call(
            store,
            post_json(
                &officer,
                &format!("/api/v1/rounds/{id}/registrations"),
                serde_json::json!({"tubes": [
                    {"barcode": "CV00000001", "site_id": site, "resident_ids": residents[0..10]},
                    {"barcode": "CV00000002", "site_id": site, "resident_ids": residents[10..15], "seal": true},
                ]}),
            ),
        )
        .await;
        assert_eq!(report["tubes"][1]["added"], 5);

        let (status, _, cov) = get(store, &officer, &format!("/api/v1/rounds/{id}/coverage")).await;
        assert_eq!(status, StatusCode::OK, "{cov}");
        assert_eq!(
            (cov["area_code"].as_str(), cov["expected"].as_i64(), cov["sampled"].as_i64(), cov["missing"].as_i64()),
            (Some("140121100"), Some(20), Some(15), Some(5))
        );
        let children = cov["children"].as_array().unwrap();
        assert_eq!(children.len(), 2);
        assert_eq!(children.iter().map(|c| c["sampled"].as_i64().unwrap()).sum::<i64>(), 15);
        assert_eq!(children.iter().map(|c| c["expected"].as_i64().unwrap()).sum::<i64>(), 20);

        let mut missing = Vec::new();
        let mut uri = format!("/api/v1/rounds/{id}/missing?limit=2");
        loop {
            let (status, _, page) = get(store, &officer, &uri).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            missing.extend(page["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()));
            match page["next"].as_str() {
                Some(n) => uri = format!("/api/v1/rounds/{id}/missing?limit=2&after={n}"),
                None => break,
            }
        }
        let sampled: std::collections::HashSet<i64> = {
            let ids = store.person_ids_by_documents(&residents[0..15]).await.unwrap();
            ids.values().copied().collect()
        };
        assert_eq!(missing.len(), 5);
        assert!(missing.iter().all(|m| !sampled.contains(m)), "nobody sampled is listed as missing");
        let expected_missing = store.person_ids_by_documents(&residents[15..20]).await.unwrap();
        let mut expected: Vec<i64> = expected_missing.values().copied().collect();
        expected.sort();
        let mut got = missing.clone();
        got.sort();
        assert_eq!(got, expected);

        // The community accounts for two of them: they leave the missing list, not the register.
        let exempt = |person: i64, reason: &str| {
            post_json(
                &officer,
                &format!("/api/v1/rounds/{id}/exemptions"),
                serde_json::json!({"person_id": person, "reason": reason, "note": "社区核实"}),
            )
        };
        let (status, _, e) = call(store, exempt(got[0], "away")).await;
        assert_eq!((status, e["reason"].as_str(), e["recorded_by"].as_str()), (StatusCode::OK, Some("away"), Some("sampler7")), "{e}");
        call(store, exempt(got[1], "hospital")).await;
        let (status, _, bad) = call(store, exempt(got[2], "vacation")).await;
        assert_eq!((status, bad["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reason")));
        let one_sampled = *sampled.iter().next().unwrap();
        let (status, _, refused) = call(store, exempt(one_sampled, "away")).await;
        assert_eq!((status, refused["kind"].as_str()), (StatusCode::CONFLICT, Some("refused.already_sampled_no_exemption")), "{refused}");
        let (_, _, cov) = get(store, &officer, &format!("/api/v1/rounds/{id}/coverage")).await;
        assert_eq!((cov["sampled"].as_i64(), cov["exempted"].as_i64(), cov["missing"].as_i64()), (Some(15), Some(2), Some(3)));
        let (_, _, listed) = get(store, &officer, &format!("/api/v1/rounds/{id}/exemptions?area=140121100")).await;
        assert_eq!(listed.as_array().unwrap().len(), 2);
        let (_, _, page) = get(store, &officer, &format!("/api/v1/rounds/{id}/missing")).await;
        assert_eq!(page["items"].as_array().unwrap().len(), 3);
        let undo = Request::delete(format!("/api/v1/rounds/{id}/exemptions/{}", got[0]))
            .header("authorization", format!("Bearer {officer}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(call(store, undo).await.0, StatusCode::NO_CONTENT);
        let (_, _, cov) = get(store, &officer, &format!("/api/v1/rounds/{id}/coverage")).await;
        assert_eq!((cov["exempted"].as_i64(), cov["missing"].as_i64()), (Some(1), Some(4)));

        assert_eq!(get(store, &officer, &format!("/api/v1/rounds/{id}/coverage?area=140121101")).await.0, StatusCode::FORBIDDEN);
        w.finish().await;
    }
}

/// Registers sealed tubes of `residents` at the site (10 a tube, the last one partly filled)
/// and adds a lab; answers the lab's id.
async fn sealed_tubes_and_a_lab(store: &Store, officer: &str, round: i64, site: i64, tubes: &[(&str, std::ops::Range<usize>)]) -> i64 {
    let residents: Vec<String> = (0..40).filter(|n| (n / 2) % 4 < 2).map(sample_id).collect();
    let tubes: Vec<Value> = tubes
        .iter()
        .map(|(code, r)| serde_json::json!({"barcode": code, "site_id": site, "resident_ids": residents[r.clone()], "seal": true}))
        .collect();
    let (status, _, report) =
        call(store, post_json(officer, &format!("/api/v1/rounds/{round}/registrations"), serde_json::json!({"tubes": tubes}))).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (status, _, lab) = call(
        store,
        post_json(officer, "/api/v1/labs", serde_json::json!({"name": "县疾控实验室", "area_code": "140121100", "daily_capacity": 10000})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{lab}");
    lab["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_box_is_sent_received_with_a_missing_tube_and_turnaround_is_reported() {
    for w in worlds("api_transport", 40).await {
        let store = &w.store;
        let officer = account(store, "sampler6", Role::TestingOfficer, "140121100").await;
        let lab = account(store, "lab3", Role::Lab, "140121").await;
        let (round, site) = plan_round(store, &officer, "第一轮").await;
        let lab_id =
            sealed_tubes_and_a_lab(store, &officer, round, site, &[("BX00000001", 0..10), ("BX00000002", 10..15), ("BX00000003", 15..20)])
                .await;

        let send = |body: Value| post_json(&officer, &format!("/api/v1/rounds/{round}/batches"), body);
        let (status, _, refused) = call(
            store,
            send(serde_json::json!({"site_id": site, "lab_id": lab_id, "label": "东关-01", "barcodes": ["BX00000001", "ZZ00000001"]})),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{refused}");
        assert_eq!(refused["kind"], "refused.tubes_cannot_go");
        assert_eq!(refused["parts"][0], serde_json::json!({"kind": "refused.tube_unknown", "args": {"barcode": "ZZ00000001"}}));
        let (status, _, bad) =
            call(store, send(serde_json::json!({"site_id": site, "lab_id": lab_id, "label": "东关-01", "barcodes": ["no good!"]}))).await;
        assert_eq!((status, bad["field"].as_str()), (StatusCode::BAD_REQUEST, Some("barcodes")));

        let (status, _, batch) = call(store, send(serde_json::json!({"site_id": site, "lab_id": lab_id, "label": "东关-01"}))).await;
        assert_eq!(status, StatusCode::CREATED, "{batch}");
        assert_eq!((batch["tubes"].as_i64(), batch["missing"].as_i64()), (Some(3), Some(0)), "on the road: none missing yet");
        let (_, _, on_road) = get(store, &officer, &format!("/api/v1/batches/{}", batch["id"])).await;
        assert_eq!(on_road["in_box_barcodes"], serde_json::json!(["BX00000001", "BX00000002", "BX00000003"]), "{on_road}");
        let id = batch["id"].as_i64().unwrap();
        let (_, _, resent) = call(store, send(serde_json::json!({"site_id": site, "lab_id": lab_id, "label": "东关-01"}))).await;
        assert_eq!(resent["id"], batch["id"], "a resent box is the same box");

        let receipt = |codes: Value| post_json(&lab, &format!("/api/v1/batches/{id}/receipt"), serde_json::json!({"barcodes": codes}));
        assert_eq!(
            call(store, post_json(&officer, &format!("/api/v1/batches/{id}/receipt"), serde_json::json!({"barcodes": []}))).await.0,
            StatusCode::FORBIDDEN
        );
        let (status, _, detail) = call(store, receipt(serde_json::json!(["bx00000001", "BX00000003", "QQ00000007"]))).await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        assert_eq!(detail["missing_barcodes"], serde_json::json!(["BX00000002"]));
        assert_eq!(detail["extra_barcodes"], serde_json::json!(["QQ00000007"]));
        assert_eq!((detail["received"].as_i64(), detail["missing"].as_i64(), detail["extra"].as_i64()), (Some(2), Some(1), Some(1)));
        let (_, _, listed) = get(store, &officer, &format!("/api/v1/rounds/{round}/batches")).await;
        assert_eq!(listed[0]["received_by"], "lab3");

        let results = serde_json::json!({"lab_id": lab_id, "results": [{"barcode": "BX00000001", "result": "negative"}, {"barcode": "BX00000003", "result": "negative"}]});
        call(store, post_json(&lab, "/api/v1/results", results)).await;
        let (status, _, flow) = get(store, &officer, &format!("/api/v1/rounds/{round}/flow")).await;
        assert_eq!(status, StatusCode::OK, "{flow}");
        assert_eq!((flow["departed"].as_i64(), flow["resulted"].as_i64()), (Some(1), Some(2)), "{flow}");
        assert_eq!(flow["by_lab"][0]["name"], "县疾控实验室");
        assert_eq!(flow["by_lab"][0]["tubes"], 2);
        assert_eq!(flow["by_site"][0]["over_target"], 0);
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn a_box_is_packed_at_the_site_and_the_lab_sees_what_is_missing_in_a_browser() {
    let driver = chromedriver().await;
    for w in worlds("browser_transport", 40).await {
        let store = &w.store;
        let officer = account(store, "sampler7", Role::TestingOfficer, "140121100").await;
        account(store, "lab4", Role::Lab, "140121").await;
        let (round, site) = plan_round(store, &officer, "第一轮").await;
        sealed_tubes_and_a_lab(store, &officer, round, site, &[("BR00000001", 0..10), ("BR00000002", 10..20)]).await;

        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "sampler7", PASSWORD).await;
        menu(&client, "/testing").await;
        client
            .wait()
            .for_element(fantoccini::Locator::Css(&format!("a[href='/transport?round={round}']")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client.wait().for_element(fantoccini::Locator::Css("#dispatch-form")).await.unwrap();
        client.find(fantoccini::Locator::Css("#dispatch-form button")).await.unwrap().click().await.unwrap();
        assert!(text(&client, "#transport-error").await.contains("请填写箱号"), "a box needs a label");
        client.find(fantoccini::Locator::Css("#dispatch-form input[name=label]")).await.unwrap().send_keys("东关-01").await.unwrap();
        client.find(fantoccini::Locator::Css("#dispatch-form button")).await.unwrap().click().await.unwrap();
        wait_for_query(&client, "sent=").await;
        assert!(text(&client, "#transport-notice").await.contains("东关-01"));
        let row = text(&client, "#batches tbody tr").await;
        assert!(row.contains("东关-01") && row.contains("在途"), "{row}");
        client.find(fantoccini::Locator::Css("header .who button")).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/login").await;

        // The lab scans the box: one tube is not in it.
        sign_in(&client, addr, "lab4", PASSWORD).await;
        // Opened without a round (from a bookmark): the latest round's boxes.
        client.goto(&format!("http://{addr}/transport")).await.unwrap();
        client.wait().for_element(fantoccini::Locator::Css("#batches a")).await.unwrap().click().await.unwrap();
        let area = client.wait().for_element(fantoccini::Locator::Css("#receipt-form textarea")).await.unwrap();
        assert!(text(&client, "#receipt-form").await.contains("未扫到的试管记为缺失"), "the lab is told before it confirms");
        // On the road, both tubes are in the box, none missing.
        assert_eq!(text(&client, "#count-in-box").await, "2");
        assert_eq!(text(&client, "#count-missing").await, "0");
        assert!(client.find(fantoccini::Locator::Css("#missing-list")).await.is_err());
        area.send_keys("BR00000002\n").await.unwrap();
        client.find(fantoccini::Locator::Css("#receipt-form button")).await.unwrap().click().await.unwrap();
        // Wait for the receipt's page by its count.
        let counted = client.wait().for_element(fantoccini::Locator::XPath("//span[@id='count-received'][.='1']")).await;
        assert!(counted.is_ok(), "the receipt counts one tube received: {}", text(&client, "#count-received").await);
        assert_eq!(text(&client, "#missing-list").await, "BR00000001");
        let facts = text(&client, "dl.facts").await;
        assert!(facts.contains("lab4同志") && !facts.contains("· lab4\n"), "who signed, by the name people know: {facts}");
        std::fs::write(screenshot_path(&format!("batch-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();
        client.close().await.unwrap();
        w.finish().await;
    }
}

/// An ORU^R01 built with an independent HL7 library (hl7-net): one OBR per tube, the verdict in
/// an OBX coded with LOINC 94500-6 and SNOMED CT, or Ct values in NM observations.
fn oru_from_library(control_id: &str, tubes: &[(&str, Option<&str>, Option<f32>)]) -> hl7_net::Message {
    let mut msg = hl7_net::Message::new();
    msg.add_segment_msh("LIS", "县疾控实验室", "CORDON", "HQ", None, "ORU^R01^ORU_R01", control_id, "P", "2.5.1").unwrap();
    let enc = msg.encoding.clone();
    for (i, (barcode, verdict, ct)) in tubes.iter().enumerate() {
        let mut obr = hl7_net::Segment::new("OBR");
        for v in [&(i + 1).to_string(), "", barcode, "94500-6^SARS-CoV-2 RNA^LN"] {
            obr.add_new_field_value(v, &enc);
        }
        msg.add_new_segment(obr);
        let mut obx = hl7_net::Segment::new("OBX");
        let (kind, code, value) = match (verdict, ct) {
            (Some(v), _) => ("CWE", "94500-6^SARS-CoV-2 RNA NAA+probe^LN", v.to_string()),
            (None, Some(ct)) => ("NM", "94510-5^SARS-CoV-2 N gene Ct^LN", ct.to_string()),
            (None, None) => unreachable!("a tube needs a verdict or a Ct value"),
        };
        for v in ["1", kind, code, "", &value, "", "", "", "", "", "F"] {
            obx.add_new_field_value(v, &enc);
        }
        msg.add_new_segment(obx);
    }
    msg
}

#[tokio::test]
async fn hl7_results_over_http_and_mllp_are_acknowledged_and_read_back_by_an_independent_library() {
    for w in worlds("api_hl7", 40).await {
        let store = &w.store;
        let officer = account(store, "sampler8", Role::TestingOfficer, "140121100").await;
        let lab = account(store, "lab5", Role::Lab, "140121").await;
        let (round, site) = plan_round(store, &officer, "第一轮").await;
        sealed_tubes_and_a_lab(store, &officer, round, site, &[("HL00000001", 0..8), ("HL00000002", 8..16), ("HL00000003", 16..20)]).await;

        let post = |message: &hl7_net::Message| {
            Request::post("/api/v1/results/hl7")
                .header("authorization", format!("Bearer {lab}"))
                .header("content-type", "application/hl7-v2")
                .body(Body::from(message.serialize().unwrap()))
                .unwrap()
        };
        let read_ack = |text: &str| hl7_net::Message::parse_str(text.to_string(), false).expect("the ACK parses");
        async fn text_of(store: &Store, req: Request<Body>) -> (StatusCode, String) {
            let res = cordon_web::app(store.clone()).oneshot(req).await.unwrap();
            let status = res.status();
            (status, String::from_utf8(axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap())
        }

        let first = oru_from_library(
            "LIS0001",
            &[
                ("HL00000001", Some("260385009^Negative^SCT"), None),
                ("HL00000002", None, Some(27.5)),
                ("HL99999999", Some("260385009^Negative^SCT"), None),
            ],
        );
        let (status, body) = text_of(store, post(&first)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ack = read_ack(&body);
        assert_eq!(ack.get_value("MSH.9.1").unwrap(), "ACK");
        assert_eq!(ack.get_value("MSA.1").unwrap(), "AE", "{body}");
        assert_eq!(ack.get_value("MSA.2").unwrap(), "LIS0001");
        assert!(ack.get_value("ERR.8").unwrap().contains("HL99999999"), "the unknown tube is named: {body}");
        let (_, _, board) = get(store, &officer, "/api/v1/recalls").await;
        assert_eq!(board.as_array().unwrap().len(), 8, "the Ct 27.5 pool recalls its eight members");

        let resent = oru_from_library("LIS0002", &[("HL00000001", Some("260385009^Negative^SCT"), None), ("HL00000002", None, Some(27.5))]);
        let (_, body) = text_of(store, post(&resent)).await;
        assert_eq!(read_ack(&body).get_value("MSA.1").unwrap(), "AA", "repeats are accepted and change nothing: {body}");
        let (_, _, board) = get(store, &officer, "/api/v1/recalls").await;
        assert_eq!(board.as_array().unwrap().len(), 8);
        let (_, body) = text_of(
            store,
            Request::post("/api/v1/results/hl7")
                .header("authorization", format!("Bearer {lab}"))
                .body(Body::from("PID|1|garbage"))
                .unwrap(),
        )
        .await;
        assert!(body.contains("MSA|AR"), "{body}");
        let (status, _) = text_of(
            store,
            Request::post("/api/v1/results/hl7")
                .header("authorization", format!("Bearer {officer}"))
                .body(Body::from(first.serialize().unwrap()))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // The same lab system over MLLP.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(cordon_web::mllp::serve(store.clone(), listener, "lab5".into()));
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let third = oru_from_library("LIS0003", &[("HL00000003", Some("260385009^Negative^SCT"), None)]);
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        socket.write_all(&third.get_mllp().unwrap()).await.unwrap();
        let mut buf = Vec::new();
        let frame = loop {
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(30), socket.read(&mut chunk)).await.expect("an ACK in time").unwrap();
            assert!(n > 0, "the listener closed the connection");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(f) = cordon_web::mllp::next_frame(&mut buf) {
                break f;
            }
        };
        let ack = read_ack(&String::from_utf8(frame).unwrap());
        assert_eq!((ack.get_value("MSA.1").unwrap().as_str(), ack.get_value("MSA.2").unwrap().as_str()), ("AA", "LIS0003"));
        let (_, _, flow) = get(store, &officer, &format!("/api/v1/rounds/{round}/flow")).await;
        assert_eq!(flow["resulted"], 3);
        w.finish().await;
    }
}

/// Accepts that fail with "too many open files" a few times before the real listener answers.
struct FailingFirst {
    listener: tokio::net::TcpListener,
    failures: u32,
}

impl cordon_web::mllp::Accept for FailingFirst {
    async fn accept(&mut self) -> std::io::Result<(tokio::net::TcpStream, std::net::SocketAddr)> {
        if self.failures > 0 {
            self.failures -= 1;
            return Err(std::io::Error::from_raw_os_error(24));
        }
        self.listener.accept().await
    }
}

/// Sends one framed message and reads what comes back: the ACK, or `None` when the listener
/// closed the connection.
async fn mllp_round_trip(socket: &mut tokio::net::TcpStream, message: &str) -> Option<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if socket.write_all(&cordon_web::mllp::frame(message)).await.is_err() {
        return None;
    }
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(Duration::from_secs(10), socket.read(&mut chunk)).await.expect("an answer or a close in time") {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(f) = cordon_web::mllp::next_frame(&mut buf) {
            return Some(f);
        }
    }
}

/// Waits for the listener to close `socket`: `true` when it did within `within`.
async fn closed_by_listener(socket: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut chunk = [0u8; 64];
    matches!(tokio::time::timeout(within, socket.read(&mut chunk)).await, Ok(Ok(0)) | Ok(Err(_)))
}

#[tokio::test]
async fn over_the_wire_a_half_sent_message_is_refused_and_the_next_one_acknowledged_by_its_own_id() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for w in worlds("mllp_half", 2).await {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(cordon_web::mllp::serve(w.store.clone(), listener, "lab-bridge".into()));
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let message = |id: &str| format!("MSH|^~\\&|LIS|县疾控实验室|CORDON|HQ|20220413120000||ORU^R01^ORU_R01|{id}|P|2.5.1");
        // A message cut off (no end block), then a whole one on the same connection.
        let mut wire = vec![0x0b];
        wire.extend_from_slice(message("HALF0001").as_bytes());
        wire.extend(cordon_web::mllp::frame(&message("WHOLE002")));
        socket.write_all(&wire).await.unwrap();
        let (mut buf, mut acks) = (Vec::new(), Vec::new());
        while acks.len() < 2 {
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut chunk)).await.expect("answers in time").unwrap();
            assert!(n > 0, "the listener closed the connection");
            buf.extend_from_slice(&chunk[..n]);
            while let Some(f) = cordon_web::mllp::next_frame(&mut buf) {
                acks.push(String::from_utf8(f).unwrap());
            }
        }
        let msa = |ack: &str| ack.split('\r').find(|s| s.starts_with("MSA|")).unwrap_or_default().to_string();
        assert!(msa(&acks[0]).starts_with("MSA|AR|HALF0001") && acks[0].contains("cut off"), "the broken one refused: {}", acks[0]);
        assert!(
            msa(&acks[1]).starts_with("MSA|") && msa(&acks[1]).contains("|WHOLE002"),
            "the next one answered by its own id: {}",
            acks[1]
        );
        w.finish().await;
    }
}

#[tokio::test]
async fn the_mllp_listener_outlives_failed_accepts_closes_idle_connections_and_turns_away_beyond_its_limit() {
    for w in worlds("mllp_limits", 2).await {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = cordon_web::mllp::Limits { connections: 2, idle: Duration::from_millis(600) };
        let acceptor = FailingFirst { listener, failures: 3 };
        tokio::spawn(cordon_web::mllp::serve_from(w.store.clone(), acceptor, "lab-bridge".into(), limits));
        let message = "MSH|^~\\&|LIS|县疾控实验室|CORDON|HQ|20220413120000||ORU^R01^ORU_R01|LIM0001|P|2.5.1";
        // Three accepts failed (too many open files): the listener went on and answers.
        let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(mllp_round_trip(&mut first, message).await.is_some(), "served after failed accepts");
        let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(mllp_round_trip(&mut second, message).await.is_some());
        // A third at once is over the limit of two: closed as soon as it is accepted.
        let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(closed_by_listener(&mut third, Duration::from_secs(5)).await, "turned away");
        let res = cordon_web::app(w.store.clone()).oneshot(Request::get("/healthz").body(Body::empty()).unwrap()).await.unwrap();
        let status = res.status();
        let body = String::from_utf8(axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.starts_with("ok\nmllp: listening") && !body.contains(" 0 accept errors") && !body.contains(" 0 turned away"),
            "{body}"
        );
        // Silent past the idle limit: both closed, and their places free for new connections.
        assert!(closed_by_listener(&mut first, Duration::from_secs(5)).await, "an idle connection is closed");
        assert!(closed_by_listener(&mut second, Duration::from_secs(5)).await);
        let mut again = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(mllp_round_trip(&mut again, message).await.is_some(), "served again once the idle ones left");
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn a_lab_uploads_its_gbk_export_and_sees_each_refused_row_in_a_browser() {
    let driver = chromedriver().await;
    for w in worlds("browser_results", 40).await {
        let store = &w.store;
        let officer = account(store, "sampler9", Role::TestingOfficer, "140121100").await;
        account(store, "lab6", Role::Lab, "140121").await;
        let (round, site) = plan_round(store, &officer, "第一轮").await;
        let lab_id = sealed_tubes_and_a_lab(store, &officer, round, site, &[("UP00000001", 0..9), ("UP00000002", 10..20)]).await;
        // The two tubes go in a box the lab scans in; a third goes in a box still on the road.
        let send = |label: &str, barcodes: &[&str]| {
            post_json(
                &officer,
                &format!("/api/v1/rounds/{round}/batches"),
                serde_json::json!({"site_id": site, "lab_id": lab_id, "label": label, "barcodes": barcodes}),
            )
        };
        let (status, _, first) = call(store, send("东关-01", &["UP00000001", "UP00000002"])).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        let lab = account(store, "lab7", Role::Lab, "140121").await;
        let receipt = serde_json::json!({"barcodes": ["UP00000001", "UP00000002"]});
        let (status, _, _) = call(store, post_json(&lab, &format!("/api/v1/batches/{}/receipt", first["id"]), receipt)).await;
        assert_eq!(status, StatusCode::OK);
        let residents: Vec<String> = (0..40).filter(|n| (n / 2) % 4 < 2).map(sample_id).collect();
        let third =
            serde_json::json!({"tubes": [{"barcode": "UP00000003", "site_id": site, "resident_ids": residents[9..10], "seal": true}]});
        call(store, post_json(&officer, &format!("/api/v1/rounds/{round}/registrations"), third)).await;
        assert_eq!(call(store, send("东关-02", &["UP00000003"])).await.0, StatusCode::CREATED);
        let csv = "条码,检测结果,ORF1ab基因Ct值,N基因Ct值,检测时间\r\nUP00000001,阴性,,,2022-04-13 23:10\r\nUP00000002,,29.5,31.0,2022/4/13 23:12:00\r\nZZ00000404,阴性,,,2022-04-13 23:15:00\r\nUP00000001,阳性,,,2022-04-13 23:16:00\r\nUP00000003,阴性,,,2022-04-13 23:17\r\nUP00000003,阴性,,,昨晚\r\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(csv);
        let path = std::env::temp_dir().join(format!("lab-export-{}-{}.csv", w.scratch.kind.as_str(), std::process::id()));
        std::fs::write(&path, &gbk).unwrap();

        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "lab6", PASSWORD).await;
        menu(&client, "/results").await;
        client
            .wait()
            .for_element(fantoccini::Locator::Css("#results-file"))
            .await
            .unwrap()
            .send_keys(path.to_str().unwrap())
            .await
            .unwrap();
        client.find(fantoccini::Locator::Css("#results-form button")).await.unwrap().click().await.unwrap();
        for _ in 0..100 {
            if !text(&client, "#results-rows").await.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(text(&client, "#results-rows").await, "6");
        assert_eq!(text(&client, "#results-recorded").await, "2", "times without seconds and with slashes are read");
        // Each refused row in Chinese, with its line as the file shows it (CRLF endings).
        let problems = client.find_all(fantoccini::Locator::Css("#results-problem-list tbody tr")).await.unwrap();
        let mut rows = Vec::new();
        for r in problems {
            rows.push(r.text().await.unwrap());
        }
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!(rows[0].starts_with("4") && rows[0].contains("未登记的条码 ZZ00000404"), "{rows:?}");
        assert!(rows[1].starts_with("5") && rows[1].contains("已有结果「阴性」") && rows[1].contains("「阳性」"), "{rows:?}");
        assert!(rows[2].starts_with("6") && rows[2].contains("所在转运箱 东关-02 尚未签收"), "{rows:?}");
        assert!(rows[3].starts_with("7") && rows[3].contains("时间“昨晚”无法识别"), "{rows:?}");
        assert!(text(&client, ".note").await.contains("2022-04-13 19:05"), "the format note says which times are read");
        assert!(text(&client, "#results-message").await.contains("GB18030"), "the GBK file is read as GB18030, its superset");
        std::fs::write(screenshot_path(&format!("results-{}.png", w.scratch.kind.as_str())), client.screenshot().await.unwrap()).unwrap();
        client.close().await.unwrap();
        std::fs::remove_file(&path).ok();
        let (_, _, board) = get(store, &officer, "/api/v1/recalls").await;
        assert_eq!(board.as_array().unwrap().len(), 10, "the Ct 29.5 pool recalls its members");
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn a_testing_officer_plans_a_round_adds_a_site_and_a_lab_in_a_browser() {
    let driver = chromedriver().await;
    for w in worlds("browser_planning", 40).await {
        let store = &w.store;
        let officer = account(store, "planner1", Role::TestingOfficer, "140121100").await;
        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "planner1", PASSWORD).await;
        menu(&client, "/testing").await;
        let form = client.wait().for_element(fantoccini::Locator::Css("#round-form")).await.unwrap();
        form.find(fantoccini::Locator::Css("button")).await.unwrap().click().await.unwrap();
        assert!(text(&client, "#rounds-error").await.contains("请填写轮次名称"), "a round needs a name");
        let form = client.wait().for_element(fantoccini::Locator::Css("#round-form")).await.unwrap();
        form.find(fantoccini::Locator::Css("input[name=name]")).await.unwrap().send_keys("清源镇第一轮").await.unwrap();
        form.find(fantoccini::Locator::Css("select[name=zone] option[value=controlled]")).await.unwrap().click().await.unwrap();
        let hours = form.find(fantoccini::Locator::Css("input[name=hours]")).await.unwrap();
        hours.clear().await.unwrap();
        hours.send_keys("6").await.unwrap();
        form.find(fantoccini::Locator::Css("button")).await.unwrap().click().await.unwrap();
        assert!(text(&client, "section.round h2").await.contains("清源镇第一轮"));

        let site_form = client.wait().for_element(fantoccini::Locator::Css("form.site-form")).await.unwrap();
        site_form.find(fantoccini::Locator::Css("select[name=area] option[value='140121100202']")).await.unwrap().click().await.unwrap();
        site_form.find(fantoccini::Locator::Css("input[name=name]")).await.unwrap().send_keys("西关1号点").await.unwrap();
        site_form.find(fantoccini::Locator::Css("input[name=address]")).await.unwrap().send_keys("西关村委会").await.unwrap();
        site_form.find(fantoccini::Locator::Css("button")).await.unwrap().click().await.unwrap();
        assert!(text(&client, "section.round table tbody tr").await.contains("西关1号点"));
        assert!(client.find(fantoccini::Locator::Css("a[href^='/station?round=']")).await.is_ok(), "the site opens a station");

        client.find(fantoccini::Locator::Css("a[href^='/transport?round=']")).await.unwrap().click().await.unwrap();
        let lab_form = client.wait().for_element(fantoccini::Locator::Css("#lab-form")).await.unwrap();
        lab_form.find(fantoccini::Locator::Css("input[name=name]")).await.unwrap().send_keys("清徐县疾控中心实验室").await.unwrap();
        lab_form.find(fantoccini::Locator::Css("button")).await.unwrap().click().await.unwrap();
        // The page before the lab was added has the same form: wait for the lab in it.
        let listed = client
            .wait()
            .for_element(fantoccini::Locator::XPath(
                "//form[@id='dispatch-form']//select[@name='lab_id']/option[contains(., '清徐县疾控中心实验室')]",
            ))
            .await;
        assert!(listed.is_ok(), "the new lab is offered: {}", text(&client, "#dispatch-form select[name=lab_id]").await);

        let (_, _, rounds) = get(store, &officer, "/api/v1/rounds").await;
        assert_eq!(rounds[0]["areas"][0]["zone"], "controlled");
        let window = chrono::DateTime::parse_from_rfc3339(rounds[0]["target_end_at"].as_str().unwrap()).unwrap()
            - chrono::DateTime::parse_from_rfc3339(rounds[0]["starts_at"].as_str().unwrap()).unwrap();
        assert_eq!(window.num_hours(), 6);
        let (_, _, detail) = get(store, &officer, &format!("/api/v1/rounds/{}", rounds[0]["id"])).await;
        assert_eq!((detail["sites"][0]["area_code"].as_str(), detail["sites"][0]["stations"].as_i64()), (Some("140121100202"), Some(4)));
        client.close().await.unwrap();
        w.finish().await;
    }
}

#[path = "web/cases.rs"]
mod cases;
#[path = "web/command.rs"]
mod command;
#[path = "web/daily.rs"]
mod daily;
#[path = "web/hotline.rs"]
mod hotline;
#[path = "web/observation.rs"]
mod observation;
#[path = "web/supplies.rs"]
mod supplies;
#[path = "web/zones.rs"]
mod zones;
