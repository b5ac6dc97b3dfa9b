//! The real server killed with SIGKILL in the middle of a person import, a lab's result uploads
//! and 32 clients scanning, on both backends, and started again: nothing acknowledged is lost,
//! nothing half-written stays, a retried scan changes nothing, the database checks clean and the
//! audit chain holds.
//!
//! The server runs in a child process: this test binary started again to run only
//! [`serve_for_crash_test`], which serves the database named in its environment until killed.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use cordon_domain::access::Role;
use cordon_domain::testing::pooling::{PoolPolicy, SamplingGroup, ZoneKind};
use cordon_domain::{AreaCode, Barcode};
use cordon_store::accounts::NewUser;
use cordon_store::audit::Actor;
use cordon_store::batch::BatchTube;
use cordon_store::import::{Quiet, import_persons};
use cordon_store::results::NewLab;
use cordon_store::scratch::{Scratch, sample_id, sample_people_csv, seed_sample_areas, test_scratches};
use cordon_store::testing::{NewRound, NewSite};
use cordon_store::{BackendKind, Store};

use crate::bench::testing::{request, request_typed};

const PASSWORD: &str = "Crash-2022-0413";
const CLIENTS: usize = 32;
/// People in the HTTP import: more than two of its batches (65,536 rows each), so that the kill
/// finds it part-way.
const IMPORTED: u32 = 150_000;
const BATCH: usize = 65_536;
/// The lab's uploads: files of this many tubes' results, sent one after another for about ten
/// seconds, so that the kill finds one on its way more often than not.
const RESULT_FILES: usize = 40;
const TUBES_PER_FILE: usize = 24;

/// The child's part: serves `CORDON_CRASH_DB` on `CORDON_CRASH_ADDR` until it is killed. Run
/// alone (no such variables) it has nothing to do.
#[test]
#[ignore = "the crash test's server: started by `a_killed_server_loses_no_acknowledged_write…`"]
fn serve_for_crash_test() {
    let (Ok(url), Ok(addr)) = (std::env::var("CORDON_CRASH_DB"), std::env::var("CORDON_CRASH_ADDR")) else { return };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let store = Store::open_and_migrate(&url).await.expect("database");
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("address");
        cordon_web::serve(store, listener).await.expect("serving");
    });
}

/// Starts the server on `url` at `addr` and waits until it answers.
async fn start(url: &str, addr: &str) -> Child {
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", "crash_tests::serve_for_crash_test", "--ignored", "--test-threads=1"])
        .env("CORDON_CRASH_DB", url)
        .env("CORDON_CRASH_ADDR", addr)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    for _ in 0..300 {
        if let Ok(mut conn) = tokio::net::TcpStream::connect(addr).await {
            let mut buf = Vec::new();
            if request(&mut conn, &mut buf, "GET", "/healthz", "", "").await.is_ok_and(|s| s == 200) {
                return child;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server at {addr} never answered");
}

/// The JSON body of the last response read into `buf`.
fn response_json(buf: &[u8]) -> serde_json::Value {
    let at = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4).unwrap_or(buf.len());
    serde_json::from_slice(&buf[at..]).unwrap_or(serde_json::Value::Null)
}

/// People for the HTTP import: ids no one has yet.
fn new_people_csv(n: u32) -> String {
    let mut s = String::from("身份证号,姓名,手机号,区划代码,住址,重点人群\n");
    for i in 0..n {
        let given = ["春", "夏", "秋", "冬", "梅", "兰", "竹", "菊"][i as usize % 8];
        s.push_str(&format!("{},赵{given},139{:08},140121101201,{}号院,\n", sample_id(500_000 + i), i, i / 3));
    }
    s
}

async fn prepare(s: &Scratch) -> Prepared {
    let store = s.store().await.expect("store");
    seed_sample_areas(&store).await;
    import_persons(&store, std::io::Cursor::new(sample_people_csv(9_600).into_bytes()), &mut Quiet).await.expect("people");
    let county = AreaCode::parse("140121").expect("code");
    let user = NewUser {
        username: "sampler".into(),
        display_name: "采样员".into(),
        role: Role::TestingOfficer,
        areas: vec![county.clone()],
        password: PASSWORD.into(),
    };
    store.create_user(&Actor::system("crash"), user).await.expect("user");
    let p = store.principal_by_name("sampler").await.expect("read").expect("user");
    let officer = store.scoped(p, Actor { name: "sampler".into(), ..Default::default() });
    let round = officer
        .create_round(NewRound {
            name: "崩溃测试轮次".into(),
            starts_at: Utc::now(),
            target_end_at: None,
            areas: vec![(county, Some(ZoneKind::Controlled))],
            policy: PoolPolicy::default(),
        })
        .await
        .expect("round");
    let site = NewSite {
        round_id: round.id,
        area_code: AreaCode::parse("140121100").expect("code"),
        name: "清源镇采样点".into(),
        address: "镇政府".into(),
        stations: 40,
    };
    let site = officer.create_site(site).await.expect("site");
    // The registrar imports people over HTTP.
    let import_user = NewUser {
        username: "registrar".into(),
        display_name: "登记员".into(),
        role: Role::Commander,
        areas: vec![AreaCode::parse("140121").expect("code")],
        password: PASSWORD.into(),
    };
    store.create_user(&Actor::system("crash"), import_user).await.expect("user");
    let token = store.create_api_token(&Actor::system("crash"), "sampler", "crash").await.expect("token").1;
    let registrar = store.create_api_token(&Actor::system("crash"), "registrar", "crash").await.expect("token").1;
    let people: Vec<i64> = store.people_by_area().await.expect("people").into_iter().map(|(id, _)| id).collect();

    // A second round whose tubes (ten people each, sealed) wait for the lab: its results are
    // uploaded during the run, a file after another.
    let county = AreaCode::parse("140121").expect("code");
    let tested = officer
        .create_round(NewRound {
            name: "结果测试轮次".into(),
            starts_at: Utc::now(),
            target_end_at: None,
            areas: vec![(county.clone(), Some(ZoneKind::Controlled))],
            policy: PoolPolicy::default(),
        })
        .await
        .expect("round");
    let tested_site = NewSite {
        round_id: tested.id,
        area_code: AreaCode::parse("140121100").expect("code"),
        name: "清源镇第二采样点".into(),
        address: "镇政府".into(),
        stations: 40,
    };
    let tested_site = officer.create_site(tested_site).await.expect("site");
    let tubes: Vec<BatchTube> = people
        .chunks(10)
        .take(RESULT_FILES * TUBES_PER_FILE)
        .enumerate()
        .map(|(i, members)| BatchTube {
            barcode: Barcode::parse(&result_barcode(i / TUBES_PER_FILE, i % TUBES_PER_FILE)).expect("barcode"),
            site_id: tested_site.id,
            group: SamplingGroup::Resident,
            members: members.to_vec(),
            seal: true,
            sampled_at: None,
        })
        .collect();
    assert_eq!(tubes.len(), RESULT_FILES * TUBES_PER_FILE, "people enough for the lab's tubes");
    for chunk in tubes.chunks(200) {
        let done = officer.register_batch(tested.id, chunk.to_vec(), None).await.expect("tubes");
        assert!(done.iter().all(|o| o.error.is_none() && o.refused.is_empty()), "{done:?}");
    }
    let lab = officer
        .create_lab(NewLab { name: "崩溃测试实验室".into(), area_code: county.clone(), daily_capacity: 100_000 })
        .await
        .expect("lab");
    let lab_user =
        NewUser {
            username: "lab".into(), display_name: "检测员".into(), role: Role::Lab, areas: vec![county], password: PASSWORD.into()
        };
    store.create_user(&Actor::system("crash"), lab_user).await.expect("user");
    let lab_token = store.create_api_token(&Actor::system("crash"), "lab", "crash").await.expect("token").1;
    store.close().await;
    Prepared { round: round.id, site: site.id, token, registrar, people, tested: tested.id, lab: lab.id, lab_token }
}

/// The barcode of the lab's `k`th tube of file `file`.
fn result_barcode(file: usize, k: usize) -> String {
    format!("L{file:02}{k:05}")
}

/// File `file` of the lab's results: one tube in 24 positive.
fn result_csv(file: usize) -> String {
    let mut csv = String::from("条码,结果\r\n");
    for k in 0..TUBES_PER_FILE {
        csv.push_str(&format!("{},{}\r\n", result_barcode(file, k), if k % 24 == 5 { "阳性" } else { "阴性" }));
    }
    csv
}

/// What the run needs of the prepared database: the round and site scanned into, the sampler's
/// and the registrar's tokens, the people already registered; the round whose tubes the lab
/// reports on, the lab and its token.
struct Prepared {
    round: i64,
    site: i64,
    token: String,
    registrar: String,
    people: Vec<i64>,
    tested: i64,
    lab: i64,
    lab_token: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_loses_no_acknowledged_write_and_keeps_no_half_written_one() {
    for s in test_scratches("crash").await {
        let Prepared { round, site, token, registrar, people, tested, lab, lab_token } = prepare(&s).await;
        let port = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("port").local_addr().expect("addr").port();
        let addr = format!("127.0.0.1:{port}");
        let mut server = start(&s.url, &addr).await;

        // 32 clients scanning, each into tubes of its own; and a person import of 150,000 rows.
        let stop = Arc::new(AtomicBool::new(false));
        let people = Arc::new(people);
        let mut clients = Vec::new();
        for c in 0..CLIENTS {
            let (token, people, stop, addr) = (token.clone(), people.clone(), stop.clone(), addr.clone());
            clients.push(tokio::spawn(async move {
                let mut acked: Vec<(String, i64, String)> = Vec::new();
                let Ok(mut conn) = tokio::net::TcpStream::connect(&addr).await else { return acked };
                let mut buf = Vec::new();
                let mut tube = String::new();
                for (k, person) in people.iter().skip(c).step_by(CLIENTS).enumerate() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if k % 10 == 0 {
                        tube = format!("K{c:03}{k:06}");
                        let body = format!(r#"{{"barcode":"{tube}","site_id":{site}}}"#);
                        let path = format!("/api/v1/rounds/{round}/tubes");
                        if !matches!(request(&mut conn, &mut buf, "POST", &path, &token, &body).await, Ok(200)) {
                            break;
                        }
                    }
                    let client_id = format!("crash-{c}-{k}");
                    let body = format!(r#"{{"person_id":{person},"client_id":"{client_id}"}}"#);
                    let path = format!("/api/v1/rounds/{round}/tubes/{tube}/samples");
                    match request(&mut conn, &mut buf, "POST", &path, &token, &body).await {
                        Ok(200) => acked.push((tube.clone(), *person, client_id)),
                        _ => break,
                    }
                }
                acked
            }));
        }
        // The lab uploads its result files one after another; the import starts once the first
        // is in, so that the kill finds some stored and others on their way.
        let (first_in, first) = tokio::sync::oneshot::channel::<()>();
        let uploads = {
            let (addr, stop) = (addr.clone(), stop.clone());
            let mut first_in = Some(first_in);
            tokio::spawn(async move {
                let mut answered: Vec<usize> = Vec::new();
                let Ok(mut conn) = tokio::net::TcpStream::connect(&addr).await else { return answered };
                let mut buf = Vec::new();
                let path = format!("/api/v1/results/csv?lab_id={lab}");
                for file in 0..RESULT_FILES {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match request_typed(&mut conn, &mut buf, "POST", &path, &lab_token, "text/csv", &result_csv(file)).await {
                        Ok(200) => {
                            let report = response_json(&buf);
                            assert_eq!(report["recorded"].as_u64(), Some(TUBES_PER_FILE as u64), "file {file}: {report}");
                            answered.push(file);
                            if let Some(tx) = first_in.take() {
                                let _ = tx.send(());
                            }
                        }
                        // Refused rather than cut off by the kill: the test is wrong, not the server.
                        Ok(status) => panic!("file {file} answered {status}: {}", String::from_utf8_lossy(&buf)),
                        Err(_) => break,
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                answered
            })
        };
        let _ = tokio::time::timeout(Duration::from_secs(60), first).await;
        let import = {
            let (addr, registrar) = (addr.clone(), registrar.clone());
            tokio::spawn(async move {
                let mut conn = tokio::net::TcpStream::connect(&addr).await.ok()?;
                let mut buf = Vec::new();
                let csv = new_people_csv(IMPORTED);
                request_typed(&mut conn, &mut buf, "POST", "/api/v1/imports/persons", &registrar, "text/csv", &csv).await.ok()
            })
        };
        // Part-way: once the import has stored a batch (or after 60 s), with scans in flight.
        for _ in 0..1200 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if persons(&s).await > people.len() as i64 {
                break;
            }
        }
        server.kill().expect("SIGKILL");
        server.wait().expect("killed");
        stop.store(true, Ordering::Relaxed);
        let mut acked = Vec::new();
        for c in clients {
            acked.extend(c.await.expect("client"));
        }
        let imported = import.await.expect("import");
        let uploaded = uploads.await.expect("uploads");
        assert!(!acked.is_empty(), "{:?}: no scan was acknowledged before the kill", s.kind);

        // The database as the kill left it checks clean.
        if s.kind == BackendKind::Sqlite {
            let path = cordon_store::sqlite_path(&s.url);
            let conn = rusqlite::Connection::open(&path).expect("open");
            let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("check");
            assert_eq!(check, "ok");
        }

        // Started again: every acknowledged scan is there, once; a retry changes nothing.
        let mut server = start(&s.url, &addr).await;
        let store = s.store().await.expect("store");
        let check = store.verify_audit().await.expect("audit");
        assert_eq!(check.broken, 0, "{:?}: {:?}", s.kind, check.breaks);
        let mut conn = tokio::net::TcpStream::connect(&addr).await.expect("connect");
        let mut buf = Vec::new();
        for (tube, person, client_id) in &acked {
            let body = format!(r#"{{"person_id":{person},"client_id":"{client_id}"}}"#);
            let path = format!("/api/v1/rounds/{round}/tubes/{tube}/samples");
            let status = request(&mut conn, &mut buf, "POST", &path, &token, &body).await.expect("retry");
            let answer = response_json(&buf);
            assert_eq!((status, answer["repeat"].as_bool()), (200, Some(true)), "{:?}: {tube} {person}: {answer}", s.kind);
        }
        // The maintained count is the samples' count: no scan counted twice or half.
        let (samples, counted) = counts(&s, round).await;
        assert!(samples >= acked.len() as i64, "{:?}: {samples} stored, {} acknowledged", s.kind, acked.len());
        assert_eq!(samples, counted, "{:?}", s.kind);
        // The import stores whole batches: what is there is whole batches, or all of it.
        let new_people = store.people_by_area().await.expect("people").len() - people.len();
        assert!(new_people % BATCH == 0 || new_people == IMPORTED as usize, "{:?}: {new_people} is part of a batch", s.kind);
        eprintln!(
            "-- {:?}: {} scans acknowledged before the kill, the import answered {imported:?}, {new_people} people from it",
            s.kind,
            acked.len()
        );
        if imported == Some(200) {
            assert_eq!(new_people, IMPORTED as usize, "answered, so all of it");
        }
        assert!(new_people > 0, "{:?}: the import stored nothing before the kill (answered {imported:?})", s.kind);
        // Each result file is there whole or not at all, and whole when it was answered; every
        // tube reported other than negative has all its members recalled.
        let mut any = 0;
        for file in 0..RESULT_FILES {
            let stored = resulted(&s, tested, &format!("L{file:02}%")).await;
            any += stored;
            let expected = if uploaded.contains(&file) { vec![TUBES_PER_FILE as i64] } else { vec![0, TUBES_PER_FILE as i64] };
            assert!(expected.contains(&stored), "{:?}: file {file} has {stored} results (answered: {uploaded:?})", s.kind);
        }
        assert!(any > 0, "{:?}: no result file reached the database before the kill", s.kind);
        assert_eq!(unrecalled(&s, tested).await, 0, "{:?}: a reported tube's members not recalled", s.kind);
        eprintln!("-- {:?}: result files answered before the kill: {uploaded:?}", s.kind);
        server.kill().expect("SIGKILL");
        server.wait().expect("killed");
        s.finish(store).await.expect("finish");
    }
}

/// People stored, read beside the server.
async fn persons(s: &Scratch) -> i64 {
    use sqlx::Connection;
    const SQL: &str = "SELECT COUNT(*) FROM persons";
    match s.kind {
        BackendKind::Sqlite => match sqlx::SqliteConnection::connect(&s.url).await {
            Ok(mut c) => sqlx::query_scalar(SQL).fetch_one(&mut c).await.unwrap_or(0),
            Err(_) => 0,
        },
        BackendKind::Postgres => match sqlx::PgConnection::connect(&s.url).await {
            Ok(mut c) => sqlx::query_scalar(SQL).fetch_one(&mut c).await.unwrap_or(0),
            Err(_) => 0,
        },
    }
}

/// The round's samples, and its maintained count of people sampled.
async fn counts(s: &Scratch, round: i64) -> (i64, i64) {
    const SQL: &str = "SELECT (SELECT COUNT(*) FROM samples WHERE round_id = $1), \
                       (SELECT CAST(COALESCE(SUM(sampled), 0) AS BIGINT) FROM round_area_counts WHERE round_id = $1)";
    use sqlx::Connection;
    match s.kind {
        BackendKind::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&s.url).await.expect("connect");
            sqlx::query_as(SQL).bind(round).fetch_one(&mut c).await.expect("counts")
        }
        BackendKind::Postgres => {
            let mut c = sqlx::PgConnection::connect(&s.url).await.expect("connect");
            sqlx::query_as(SQL).bind(round).fetch_one(&mut c).await.expect("counts")
        }
    }
}

/// Tubes of `round` whose barcode is `like` with a result.
async fn resulted(s: &Scratch, round: i64, like: &str) -> i64 {
    scalar(s, "SELECT COUNT(*) FROM tubes WHERE round_id = $1 AND barcode LIKE $2 AND result IS NOT NULL", round, Some(like)).await
}

/// Members of tubes of `round` reported other than negative who have no recall.
async fn unrecalled(s: &Scratch, round: i64) -> i64 {
    const SQL: &str = "SELECT COUNT(*) FROM samples m JOIN tubes t ON t.id = m.tube_id \
         WHERE t.round_id = $1 AND t.result IS NOT NULL AND t.result <> 'negative' \
         AND NOT EXISTS (SELECT 1 FROM recalls r WHERE r.tube_id = t.id AND r.person_id = m.person_id)";
    scalar(s, SQL, round, None).await
}

/// One count, read beside the server: `$1` the round, `$2` the text if any.
async fn scalar(s: &Scratch, sql: &'static str, round: i64, text: Option<&str>) -> i64 {
    use sqlx::Connection;
    match s.kind {
        BackendKind::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&s.url).await.expect("connect");
            let q = sqlx::query_scalar(sql).bind(round);
            let q = match text {
                Some(t) => q.bind(t.to_string()),
                None => q,
            };
            q.fetch_one(&mut c).await.expect("count")
        }
        BackendKind::Postgres => {
            let mut c = sqlx::PgConnection::connect(&s.url).await.expect("connect");
            let q = sqlx::query_scalar(sql).bind(round);
            let q = match text {
                Some(t) => q.bind(t.to_string()),
                None => q,
            };
            q.fetch_one(&mut c).await.expect("count")
        }
    }
}
