//! The store's behaviour, every test run on SQLite and on PostgreSQL.

use std::collections::HashSet;
use std::io::Cursor;

use chrono::NaiveDate;
use cordon_domain::{AreaCode, Vulnerability};
use cordon_store::import::{ImportObserver, RowError, import_persons};
use cordon_store::scratch::{Scratch, sample_id as id, sample_people_csv as people_csv, seed_sample_areas as seed_areas, test_scratches};
use cordon_store::{BackendKind, PersonFilter, Store, Table};

/// The refusal a call answered (panics on success or on any other failure).
trait Refused {
    fn refused(self) -> cordon_store::Refusal;
}

impl<T: std::fmt::Debug> Refused for cordon_store::Result<T> {
    fn refused(self) -> cordon_store::Refusal {
        match self {
            Err(cordon_store::StoreError::Refused(r)) => *r,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}

fn today() -> NaiveDate {
    cordon_domain::local_date(chrono::Utc::now())
}

/// The refused rows (`.0`) and warnings (`.1`) of an import.
#[derive(Default)]
struct Collect(Vec<RowError>, Vec<RowError>);
impl ImportObserver for Collect {
    fn row_error(&mut self, e: &RowError) {
        self.0.push(e.clone());
    }
    fn row_warning(&mut self, e: &RowError) {
        self.1.push(e.clone());
    }
}

/// A scratch store per backend; each says which backend it is as its turn comes, so that a
/// failing test's output names the backend it failed on.
async fn each_backend(label: &str) -> impl Iterator<Item = (Scratch, Store)> {
    let mut out = Vec::new();
    for s in test_scratches(label).await {
        let store = s.store().await.unwrap_or_else(|e| panic!("{:?}: {e}", s.kind));
        out.push((s, store));
    }
    out.into_iter().inspect(|(s, _)| eprintln!("-- now on {:?}", s.kind))
}

#[tokio::test]
async fn both_dialects_define_the_same_schema() {
    let mut schemas = Vec::new();
    for (s, store) in each_backend("schema").await {
        schemas.push((s.kind, store.schema().await.unwrap()));
        s.finish(store).await.unwrap();
    }
    if schemas.len() == 2 {
        let (sqlite, pg) = (&schemas[0].1, &schemas[1].1);
        assert_eq!(sqlite.columns, pg.columns);
        assert_eq!(sqlite.indexes, pg.indexes);
        assert_eq!(sqlite.foreign_keys, pg.foreign_keys);
    }
    let samples = schemas[0].1.indexes.iter().find(|i| i.name == "samples_round_person").expect("the partial index");
    assert_eq!(samples.predicate, "kind = 'round'", "a person is sampled once per round, re-tests aside");
    assert!(
        schemas[0].1.foreign_keys.iter().any(|f| f.table == "samples" && f.columns == "person_id" && f.references == "persons"),
        "{:?}",
        schemas[0].1.foreign_keys
    );
    assert!(schemas[0].1.columns.iter().any(|c| c.table == "persons" && c.name == "id_number" && c.not_null));
}

/// Runs one statement on a direct connection, outside the product.
/// One time read by hand (a column no API returns), as an instant.
async fn raw_time(s: &Scratch, sql: &str) -> chrono::DateTime<chrono::Utc> {
    use sqlx::Connection;
    let q = sqlx::AssertSqlSafe(sql);
    match s.kind {
        BackendKind::Sqlite => {
            let (t,): (String,) = sqlx::query_as(q).fetch_one(&mut sqlx::SqliteConnection::connect(&s.url).await.unwrap()).await.unwrap();
            chrono::DateTime::parse_from_rfc3339(&t).unwrap().with_timezone(&chrono::Utc)
        }
        BackendKind::Postgres => {
            let (t,): (chrono::DateTime<chrono::Utc>,) =
                sqlx::query_as(q).fetch_one(&mut sqlx::PgConnection::connect(&s.url).await.unwrap()).await.unwrap();
            t
        }
    }
}

/// One count read by hand on a direct connection, outside the product.
async fn raw_count(s: &Scratch, sql: &str) -> i64 {
    use sqlx::Connection;
    let q = sqlx::AssertSqlSafe(sql);
    let (n,): (i64,) = match s.kind {
        BackendKind::Sqlite => sqlx::query_as(q).fetch_one(&mut sqlx::SqliteConnection::connect(&s.url).await.unwrap()).await.unwrap(),
        BackendKind::Postgres => sqlx::query_as(q).fetch_one(&mut sqlx::PgConnection::connect(&s.url).await.unwrap()).await.unwrap(),
    };
    n
}

async fn raw(s: &Scratch, sql: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let q = sqlx::AssertSqlSafe(sql);
    match s.kind {
        BackendKind::Sqlite => sqlx::query(q).execute(&mut sqlx::SqliteConnection::connect(&s.url).await?).await.map(|_| ()),
        BackendKind::Postgres => sqlx::query(q).execute(&mut sqlx::PgConnection::connect(&s.url).await?).await.map(|_| ()),
    }
}

#[tokio::test]
async fn the_database_refuses_a_status_or_kind_the_domain_does_not_know() {
    for (s, store) in each_backend("checks").await {
        // Each enum column has its check, with the domain's values in order; migrating again
        // changes nothing.
        store.migrate().await.unwrap();
        let checks = store.enum_checks().await.unwrap();
        let expected: Vec<(String, Vec<String>)> = {
            let mut e: Vec<_> =
                cordon_store::checks::enum_columns().iter().map(|c| (c.name(), c.values.iter().map(|v| v.to_string()).collect())).collect();
            e.sort();
            e
        };
        assert_eq!(checks, expected, "{:?}", s.kind);
        assert!(checks.iter().any(|(n, v)| n == "chk_rooms_status" && v.contains(&"cleaning".to_string())));

        seed_areas(&store).await;
        raw(
            &s,
            "INSERT INTO quarantine_sites (name, kind, area_code, address, head_name, staff, households_share, created_at) \
                  VALUES ('清徐宾馆', 'hotel', '140121100', '东关', '王', 3, FALSE, CURRENT_TIMESTAMP)",
        )
        .await
        .unwrap();
        let room = "INSERT INTO rooms (site_id, building, floor, number, beds, occupants, status) VALUES (1, 'A', 1, '101', 1, 0, 'free')";
        raw(&s, room).await.unwrap();
        let refused = raw(&s, &room.replace("'free'", "'broken'").replace("'101'", "'102'")).await.expect_err("an unknown status");
        assert!(refused.to_string().contains("chk_rooms_status") || refused.to_string().contains("rooms.status"), "{refused}");
        let refused = raw(&s, "UPDATE rooms SET status = 'vacant'").await.expect_err("an unknown status by update");
        assert!(refused.to_string().contains("chk_rooms_status") || refused.to_string().contains("rooms.status"), "{refused}");
        raw(&s, "UPDATE rooms SET status = 'cleaning'").await.unwrap();
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_scratch_postgres_database_is_dropped_even_when_its_test_panics_before_finishing() {
    use sqlx::Connection;
    for s in test_scratches("dropguard").await {
        if s.kind != BackendKind::Postgres {
            continue;
        }
        let name = s.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
        let mut admin = sqlx::PgConnection::connect(&cordon_store::scratch::test_pg_url()).await.unwrap();
        let count = "select count(*) from pg_database where datname = $1";
        let before: i64 = sqlx::query_scalar(count).bind(&name).fetch_one(&mut admin).await.unwrap();
        assert_eq!(before, 1, "{name} was created");
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _held = s;
            panic!("a failing assertion before finish");
        }));
        assert!(panicked.is_err());
        let after: i64 = sqlx::query_scalar(count).bind(&name).fetch_one(&mut admin).await.unwrap();
        assert_eq!(after, 0, "{name} is left behind");
    }
}

#[tokio::test]
async fn import_stores_valid_rows_reports_bad_ones_and_is_idempotent() {
    for (s, store) in each_backend("import").await {
        seed_areas(&store).await;
        let mut csv = people_csv(200);
        csv.push_str("110105194912310021,坏校验,13800000000,140121100201,,\n"); // line 202
        csv.push_str(&format!("{},未知区,13800000001,140121999201,,\n", id(9999))); // line 203
        csv.push_str(&format!("{},,1380000000,140121100201,,\n", id(9998))); // line 204: two bad fields
        let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
        let gbk = gbk.into_owned();

        let mut errors = Collect::default();
        let first = import_persons(&store, Cursor::new(gbk.clone()), &mut errors).await.unwrap();
        assert_eq!(first.encoding.as_str(), "GB18030", "{:?}", s.kind);
        assert_eq!((first.rows, first.inserted, first.invalid_rows, first.unchanged), (203, 200, 3, 0));
        let lines: Vec<(u64, Option<&str>)> = errors.0.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(lines, [(202, Some("id_number")), (203, Some("area_code")), (204, Some("name")), (204, Some("phone"))]);
        assert_eq!(errors.0[0].reason.kind, "refused.id.check_digit");

        let again = import_persons(&store, Cursor::new(gbk), &mut Collect::default()).await.unwrap();
        assert_eq!((again.inserted, again.unchanged, again.invalid_rows), (0, 200, 3));
        // The same list as Excel on Windows saves it (CRLF, UTF-8 with BOM): the same lines.
        let mut windows = b"\xEF\xBB\xBF".to_vec();
        windows.extend_from_slice(csv.replace('\n', "\r\n").as_bytes());
        let mut errors = Collect::default();
        import_persons(&store, Cursor::new(windows), &mut errors).await.unwrap();
        let crlf: Vec<(u64, Option<&str>)> = errors.0.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(crlf, lines, "{:?}: CRLF lines as an editor shows them", s.kind);
        // An unclosed quote on line 11 swallows the rows after it: that line is refused naming how
        // many, and nothing after it is stored.
        let mut open = String::from("身份证号,姓名,手机号,区划代码,住址,重点人群\n");
        for (i, line) in people_csv(60).lines().skip(1).enumerate() {
            open.push_str(&if i == 9 { line.replacen(',', ",\"", 1) } else { line.to_string() });
            open.push('\n');
        }
        let mut errors = Collect::default();
        let quoted = import_persons(&store, Cursor::new(open.into_bytes()), &mut errors).await.unwrap();
        assert_eq!((quoted.rows, quoted.invalid_rows), (10, 1), "{:?}", s.kind);
        assert_eq!((errors.0[0].line, errors.0[0].reason.kind, errors.0[0].reason.arg("rows")), (11, "row.unclosed_quote", Some("50")));
        // Old Mac line endings (CR only): read, the same lines.
        let mut errors = Collect::default();
        let mac = import_persons(&store, Cursor::new(csv.replace('\n', "\r").into_bytes()), &mut errors).await.unwrap();
        assert_eq!((mac.unchanged, mac.invalid_rows), (200, 3), "{:?}", s.kind);
        assert_eq!(errors.0.iter().map(|e| (e.line, e.field)).collect::<Vec<_>>(), lines, "CR-only lines as an editor shows them");
        // Saved by Excel as "Unicode text" (UTF-16LE with its BOM, CRLF): read, the same lines.
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(csv.replace('\n', "\r\n").encode_utf16().flat_map(u16::to_le_bytes));
        let mut errors = Collect::default();
        let unicode = import_persons(&store, Cursor::new(utf16), &mut errors).await.unwrap();
        assert_eq!((unicode.encoding.as_str(), unicode.unchanged, unicode.invalid_rows), ("UTF-16", 200, 3), "{:?}", s.kind);
        assert_eq!(errors.0.iter().map(|e| (e.line, e.field)).collect::<Vec<_>>(), lines);
        assert_eq!(store.count(Table::Persons).await.unwrap(), 200);
        assert_eq!(store.count(Table::Households).await.unwrap(), 100, "two people per address");

        let county = store.area(&code("140121")).await.unwrap().unwrap();
        assert_eq!(county.population, 200);
        let towns = store.area_children(&code("140121")).await.unwrap();
        assert_eq!(towns.iter().map(|a| (a.name.as_str(), a.population)).collect::<Vec<_>>(), [("清源镇", 100), ("徐沟镇", 100)]);
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_file_that_changes_encoding_part_way_refuses_the_rows_in_the_other_encoding_and_stores_no_mojibake() {
    for (s, store) in each_backend("import_mixed").await {
        seed_areas(&store).await;
        // Two lists joined: the header and 60 rows saved as GBK, then 40 rows pasted from a
        // UTF-8 file, then 2 more GBK rows (one a name of two characters only).
        let csv = people_csv(100);
        let lines: Vec<&str> = csv.lines().collect();
        let mut bytes = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let line = format!("{line}\n");
            if (62..=101).contains(&(i + 1)) {
                bytes.extend_from_slice(line.as_bytes());
            } else {
                bytes.extend_from_slice(&encoding_rs::GBK.encode(&line).0);
            }
        }
        bytes.extend_from_slice(&encoding_rs::GBK.encode(&format!("{},刘德,,140121100201,,\n", id(9001))).0);
        let mut errors = Collect::default();
        let report = import_persons(&store, Cursor::new(bytes), &mut errors).await.unwrap();
        assert_eq!(report.encoding.as_str(), "GB18030");
        assert_eq!((report.rows, report.inserted, report.invalid_rows), (101, 61, 40), "{:?}", s.kind);
        let refused: Vec<(u64, &str)> = errors.0.iter().map(|e| (e.line, e.reason.kind)).collect();
        assert_eq!(refused, (62..=101).map(|l| (l, "row.encoding")).collect::<Vec<_>>());
        // What was stored reads as it was written.
        let page = store.list_persons(&[code("140121")], &PersonFilter::default(), None, 200, today()).await.unwrap();
        let names: Vec<String> = page.items.into_iter().map(|p| p.name).collect();
        assert_eq!(names.len(), 61);
        assert!(names.iter().all(|n| ["王", "李", "张", "刘"].iter().any(|s| n.starts_with(s))), "{names:?}");
        assert!(names.contains(&"刘德".to_string()));
        // The same rows saved as GBK go in.
        let (fixed, _, _) = encoding_rs::GBK.encode(&csv);
        let again = import_persons(&store, Cursor::new(fixed.into_owned()), &mut Collect::default()).await.unwrap();
        assert_eq!((again.inserted, again.unchanged, again.invalid_rows), (40, 60, 0));

        // A list imported wrong (names garbled) is repaired by importing it again, right; a row
        // that names another area changes nothing. Both are said, field by field.
        let garbled: String = csv
            .lines()
            .enumerate()
            .map(|(i, l)| match i {
                1 => l.replacen("王秀英", "鐜嬬鑻", 1),
                2 => l.replacen(",140121100201,", ",140121101201,", 1),
                _ => l.to_string(),
            } + "\n")
            .collect();
        let mut warned = Collect::default();
        let report = import_persons(&store, Cursor::new(garbled.clone().into_bytes()), &mut warned).await.unwrap();
        assert_eq!((report.corrected_rows, report.kept_rows, report.unchanged), (1, 1, 99), "{:?}", s.kind);
        let said: Vec<(u64, Option<&str>, &str)> = warned.1.iter().map(|w| (w.line, w.field, w.then.as_ref().unwrap().kind)).collect();
        assert_eq!(said, [(2, Some("name"), "row.then.corrected"), (3, Some("area_code"), "row.then.kept_stored")]);
        let repaired = import_persons(&store, Cursor::new(csv.clone().into_bytes()), &mut Collect::default()).await.unwrap();
        assert_eq!((repaired.corrected_rows, repaired.kept_rows), (1, 0));
        let page = store.list_persons(&[code("140121")], &PersonFilter::default(), None, 200, today()).await.unwrap();
        assert!(page.items.iter().any(|p| p.name == "王秀英") && !page.items.iter().any(|p| p.name.contains('鐜')));
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_person_whose_optional_field_does_not_read_is_stored_without_it_and_warned() {
    for (s, store) in each_backend("import_warnings").await {
        seed_areas(&store).await;
        // Line 2 a phone too short (stored without it), line 3 tags no one knows (stored
        // without them), line 4 a good row; written as Excel saves it.
        let csv = format!(
            "\u{feff}身份证号,姓名,手机号,区划代码,重点人群\r\n{},王秀英,1381234,140121100201,\r\n{},李四,,140121100201,火星人\r\n{},张三,13800000001,140121100202,\r\n",
            id(1),
            id(2),
            id(3)
        );
        let mut report = Collect::default();
        let summary = import_persons(&store, Cursor::new(csv.into_bytes()), &mut report).await.unwrap();
        assert_eq!((summary.rows, summary.inserted, summary.warned_rows, summary.invalid_rows), (3, 3, 2, 0), "{:?}", s.kind);
        let warned: Vec<(u64, Option<&str>)> = report.1.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(warned, [(2, Some("phone")), (3, Some("tags"))]);
        assert!(report.0.is_empty());
        let wang = store.person_by_document(&id(1)).await.unwrap().unwrap();
        assert_eq!(wang.phone, None, "left empty");
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn import_without_required_columns_fails_naming_them() {
    for (s, store) in each_backend("headers").await {
        seed_areas(&store).await;
        let err = import_persons(&store, Cursor::new(b"name,phone\nx,y\n".to_vec()), &mut Collect::default()).await.unwrap_err();
        assert!(err.to_string().contains("id_number"), "{err}");
        assert_eq!(store.count(Table::Persons).await.unwrap(), 0);
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn keyset_pages_cover_a_scope_exactly_once_and_nothing_outside() {
    for (s, store) in each_backend("paging").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(157).into_bytes()), &mut Collect::default()).await.unwrap();
        let scope = code("140121100");
        let mut seen = HashSet::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page =
                store.list_persons(std::slice::from_ref(&scope), &PersonFilter::default(), cursor.as_ref(), 10, today()).await.unwrap();
            for p in &page.items {
                assert!(p.area_code.starts_with("140121100"), "{} outside scope", p.area_code);
                assert!(seen.insert(p.id), "person {} listed twice", p.id);
            }
            pages += 1;
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let in_scope = store.area(&scope).await.unwrap().unwrap().population;
        assert_eq!(seen.len() as i64, in_scope);
        assert_eq!(pages, (in_scope as usize).div_ceil(10));
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn search_by_name_prefix_phone_and_id_tail_within_scope() {
    for (s, store) in each_backend("search").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(64).into_bytes()), &mut Collect::default()).await.unwrap();
        let county = code("140121");
        let list = |q: &str, scope: AreaCode| {
            let store = store.clone();
            let q = q.to_string();
            async move {
                store.list_persons(std::slice::from_ref(&scope), &PersonFilter::from_query(&q), None, 100, today()).await.unwrap().items
            }
        };
        let wang = list("王", county.clone()).await;
        assert_eq!(wang.len(), 16);
        assert!(wang.iter().all(|p| p.name.starts_with('王')));
        assert_eq!(list("王秀英", county.clone()).await.len(), 4);

        let by_phone = list("13900000005", county.clone()).await;
        assert_eq!(by_phone.len(), 1);
        assert_eq!(by_phone[0].document.number(), id(5));

        let tail = &id(7)[14..];
        let by_tail = list(tail, county.clone()).await;
        assert!(by_tail.iter().any(|p| p.document.number() == id(7)));
        assert!(by_tail.iter().all(|p| p.document.number().ends_with(tail)));
        assert!(by_tail.len() > 1, "{:?}: others share the tail", s.kind);
        // The whole number finds exactly that person.
        let whole = list(&id(7), county.clone()).await;
        assert_eq!(whole.iter().map(|p| p.document.number()).collect::<Vec<_>>(), [id(7).as_str()], "{:?}", s.kind);

        // Person 5 lives in 徐沟镇 (140121101201); 清源镇 cannot find them.
        assert_eq!(by_phone[0].area_code, "140121101201");
        assert!(list("13900000005", code("140121100")).await.is_empty());
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn detail_is_scoped_and_households_link_members() {
    for (s, store) in each_backend("detail").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(8).into_bytes()), &mut Collect::default()).await.unwrap();
        let p = store.person_by_document(&id(0)).await.unwrap().unwrap();
        assert_eq!(p.area_code, "140121100201");
        assert_eq!(p.address.as_deref(), Some("0号院"));
        assert!(store.person_in(&code("140121100"), p.id).await.unwrap().is_some());
        assert!(store.person_in(&code("140121101"), p.id).await.unwrap().is_none(), "outside scope");
        let members = store.household_members(p.household_id.unwrap()).await.unwrap();
        let mut numbers: Vec<String> = members.iter().map(|m| m.document.number().to_string()).collect();
        numbers.sort();
        let mut expected = vec![id(0), id(1)];
        expected.sort();
        assert_eq!(numbers, expected);
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn vulnerability_filters_use_stored_tags_and_age() {
    for (s, store) in each_backend("vuln").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(40).into_bytes()), &mut Collect::default()).await.unwrap();
        let county = code("140121");
        let filter = |v| PersonFilter { vulnerability: Some(v), ..Default::default() };
        let bedridden =
            store.list_persons(std::slice::from_ref(&county), &filter(Vulnerability::Bedridden), None, 100, today()).await.unwrap().items;
        assert_eq!(bedridden.len(), 4);
        assert!(bedridden.iter().all(|p| p.tags.has(Vulnerability::Bedridden)));
        // Everyone in people_csv was born in 1940, so all are 80 or older.
        let elderly =
            store.list_persons(std::slice::from_ref(&county), &filter(Vulnerability::Elderly), None, 100, today()).await.unwrap().items;
        assert_eq!(elderly.len(), 40);
        let infants =
            store.list_persons(std::slice::from_ref(&county), &filter(Vulnerability::Infant), None, 100, today()).await.unwrap().items;
        assert!(infants.is_empty());
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn scratch_postgres_never_touches_the_named_database() {
    for (s, store) in each_backend("scratch").await {
        if s.kind == BackendKind::Postgres {
            assert!(s.url.contains("cordon_t_"), "{}", s.url);
            assert!(!s.url.ends_with("/postgres"));
        }
        s.finish(store).await.unwrap();
    }
}

mod accounts {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use cordon_domain::access::{Permission, Role};
    use cordon_store::accounts::{NewUser, UserChange};
    use cordon_store::audit::{Actor, AuditFilter, Change};

    use super::*;

    fn new_user(name: &str, role: Role, area: &str) -> NewUser {
        NewUser {
            username: name.into(),
            display_name: format!("{name} 同志"),
            role,
            areas: vec![code(area)],
            password: "Qingxu-2022-0413".into(),
        }
    }

    #[tokio::test]
    async fn users_log_in_with_the_right_password_only_and_creation_is_audited() {
        for (s, store) in each_backend("users").await {
            let admin = Actor::system("test");
            let user = store.create_user(&admin, new_user("wangli", Role::Investigator, "140121100")).await.unwrap();
            assert_eq!(user.jurisdiction.areas(), &[code("140121100")]);
            let p = store.verify_login("wangli", "Qingxu-2022-0413").await.unwrap().expect("right password");
            assert!(p.can(Permission::TracingWrite) && !p.can(Permission::UsersManage));
            assert!(store.verify_login("wangli", "Qingxu-2022-0414").await.unwrap().is_none());
            assert!(store.verify_login("nobody", "Qingxu-2022-0413").await.unwrap().is_none());

            let weak = NewUser { password: "short".into(), ..new_user("zhao", Role::Viewer, "140121") };
            assert_eq!(store.create_user(&admin, weak).await.unwrap_err().refusal().map(|r| r.kind), Some("refused.password.too_short"));
            let again = store.create_user(&admin, new_user("wangli", Role::Viewer, "140121")).await.unwrap_err();
            assert!(again.to_string().contains("taken"), "{again}");

            let events = store.audit_events(&AuditFilter { entity: Some("user".into()), ..Default::default() }, 10).await.unwrap();
            assert_eq!(events.len(), 1, "only the successful creation is recorded");
            assert_eq!((events[0].actor_name.as_str(), events[0].action.as_str()), ("test", "create"));
            assert!(events[0].after_json.as_deref().unwrap().contains("140121100"));
            assert!(!events[0].after_json.as_deref().unwrap().contains("Qingxu-2022"), "no password in the trail");
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test]
    async fn sessions_and_tokens_identify_their_user_until_ended_or_revoked() {
        for (s, store) in each_backend("sessions").await {
            let admin = Actor::system("test");
            let user = store.create_user(&admin, new_user("lina", Role::Commander, "140121")).await.unwrap();
            let stale = store.create_session(user.id, Duration::from_secs(3600)).await.unwrap();
            let secret = store.create_session(user.id, Duration::ZERO).await.unwrap();
            assert!(
                store.session_principal(&stale, Duration::from_secs(3600)).await.unwrap().is_none(),
                "idle sessions are swept at the next sign-in"
            );
            let p = store.session_principal(&secret, Duration::from_secs(3600)).await.unwrap().unwrap();
            assert_eq!(p.user.username, "lina");
            assert!(store.session_principal("not-a-session", Duration::from_secs(3600)).await.unwrap().is_none());
            assert!(store.session_principal(&secret, Duration::ZERO).await.unwrap().is_none(), "idle session expires");
            assert!(store.session_principal(&secret, Duration::from_secs(3600)).await.unwrap().is_none(), "and is gone");

            let (id, token) = store.create_api_token(&admin, "lina", "lab-bridge").await.unwrap();
            assert_eq!(store.token_principal(&token).await.unwrap().unwrap().user.id, user.id);
            assert!(store.revoke_api_token(&admin, id).await.unwrap());
            assert!(!store.revoke_api_token(&admin, id).await.unwrap(), "already revoked");
            assert!(store.token_principal(&token).await.unwrap().is_none());
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test]
    async fn an_admin_changes_disables_and_lists_accounts_and_tokens_never_their_own_with_every_act_audited() {
        for (s, store) in each_backend("accounts_admin").await {
            seed_areas(&store).await;
            store.create_user(&Actor::system("test"), new_user("root", Role::Admin, "140121")).await.unwrap();
            let p = store.verify_login("root", "Qingxu-2022-0413").await.unwrap().unwrap();
            let admin = store.scoped(p, Actor { name: "root".into(), ..Default::default() });
            let user = admin.create_user(new_user("lina", Role::Viewer, "140121100")).await.unwrap();
            let unregistered = admin.create_user(new_user("zhao", Role::Viewer, "140121999")).await.refused();
            assert_eq!(unregistered.kind, "refused.area_unregistered");

            // Role and areas change in one act; the new role's permissions apply at once.
            let change =
                UserChange {
                    display_name: " 李娜 ".into(), role: Role::HospitalStaff, areas: vec![code("140121100"), code("140121101")]
                };
            let changed = admin.update_user("lina", change).await.unwrap();
            assert_eq!((changed.display_name.as_str(), changed.role), ("李娜", Role::HospitalStaff));
            let p = store.verify_login("lina", "Qingxu-2022-0413").await.unwrap().unwrap();
            assert!(p.can(Permission::TreatmentWrite));
            assert_eq!(p.user.jurisdiction.areas(), &[code("140121100"), code("140121101")]);
            let own = UserChange { display_name: "root".into(), role: Role::Viewer, areas: vec![code("140121")] };
            assert_eq!(admin.update_user("root", own).await.refused().kind, "refused.own_account");

            // Disabled: the session ends, the token stops answering, no sign-in; enabled again.
            let session = store.create_session(user.id, Duration::from_secs(3600)).await.unwrap();
            let (token_id, token) = admin.create_api_token("lina", " 实验室接口 ").await.unwrap();
            assert_eq!(admin.create_api_token("lina", "  ").await.refused().kind, "refused.token_needs_name");
            assert!(admin.set_user_disabled("lina", true).await.unwrap());
            assert!(!admin.set_user_disabled("lina", true).await.unwrap(), "already disabled");
            assert!(store.session_principal(&session, Duration::from_secs(3600)).await.unwrap().is_none());
            assert!(store.token_principal(&token).await.unwrap().is_none());
            assert!(store.verify_login("lina", "Qingxu-2022-0413").await.unwrap().is_none());
            assert_eq!(admin.set_user_disabled("root", true).await.refused().kind, "refused.own_account");
            assert_eq!(admin.create_api_token("lina", "接口").await.refused().kind, "refused.user_disabled");
            assert!(admin.set_user_disabled("lina", false).await.unwrap());
            assert!(store.token_principal(&token).await.unwrap().is_none(), "disabling revoked it for good");

            let tokens = admin.api_tokens().await.unwrap();
            assert_eq!(
                tokens.iter().map(|x| (x.id, x.username.as_str(), x.name.as_str(), x.revoked_at.is_some())).collect::<Vec<_>>(),
                [(token_id, "lina", "实验室接口", true)]
            );
            let (live, _) = admin.create_api_token("lina", "新接口").await.unwrap();
            assert_eq!(admin.revoke_api_token("root", live).await.refused().kind, "refused.no_token", "not root's token");
            assert!(admin.revoke_api_token("lina", live).await.unwrap());
            assert!(!admin.revoke_api_token("lina", token_id).await.unwrap(), "already revoked");

            // The last account that manages accounts cannot be disabled, demoted, or lose the
            // permission through its role; a name that would vanish from an address is refused.
            let other = admin.create_user(new_user("root2", Role::Admin, "140121")).await.unwrap();
            let p2 = store.verify_login("root2", "Qingxu-2022-0413").await.unwrap().unwrap();
            let admin2 = store.scoped(p2, Actor { name: "root2".into(), ..Default::default() });
            assert!(admin2.set_user_disabled("root", true).await.unwrap(), "another admin is left");
            assert_eq!(admin.set_user_disabled("root2", true).await.refused().kind, "refused.last_manager");
            let demote = UserChange { display_name: "root2".into(), role: Role::Viewer, areas: vec![code("140121")] };
            assert_eq!(admin2.update_user("root2", demote).await.refused().kind, "refused.own_account");
            let narrower: std::collections::BTreeSet<Permission> = [Permission::AreasRead].into();
            assert_eq!(admin2.set_role_permissions(Role::Admin, &narrower).await.refused().kind, "refused.last_manager");
            assert_eq!(admin2.create_user(new_user("..", Role::Viewer, "140121")).await.refused().kind, "refused.user_name_invalid");
            assert!(!other.disabled);
            admin.reset_password("lina", "Fenhe-2022-0414").await.unwrap();
            assert!(store.verify_login("lina", "Fenhe-2022-0414").await.unwrap().is_some());
            assert!(admin.users().await.unwrap().iter().any(|u| u.username == "lina"));

            let ward = store.scoped(store.verify_login("lina", "Fenhe-2022-0414").await.unwrap().unwrap(), Actor::system("lina"));
            assert!(matches!(ward.users().await, Err(cordon_store::StoreError::Forbidden(_))));
            assert!(ward.set_user_disabled("root", true).await.is_err());

            let acts: Vec<String> = store
                .audit_events(&AuditFilter { entity: Some("user".into()), ..Default::default() }, 20)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.action)
                .collect();
            assert_eq!(acts[..6], ["password", "disable", "create", "enable", "disable", "update"], "{:?}: {acts:?}", s.kind);
            let tokens: Vec<String> = store
                .audit_events(&AuditFilter { entity: Some("api_token".into()), ..Default::default() }, 20)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.action)
                .collect();
            assert_eq!(tokens, ["revoke", "create", "create"], "token acts audited");
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test]
    async fn role_permissions_are_data_an_admin_can_change() {
        for (s, store) in each_backend("roles").await {
            assert_eq!(
                store.role_permissions(Role::Viewer).await.unwrap(),
                Role::Viewer.default_permissions().iter().copied().collect::<BTreeSet<_>>()
            );
            let narrower: BTreeSet<Permission> = [Permission::AreasRead].into();
            store.set_role_permissions(&Actor::system("admin"), Role::Viewer, &narrower).await.unwrap();
            assert_eq!(store.role_permissions(Role::Viewer).await.unwrap(), narrower);
            store.seed_role_permissions().await.unwrap();
            assert_eq!(store.role_permissions(Role::Viewer).await.unwrap(), narrower, "seeding keeps an admin's choice");
            let events = store.audit_events(&AuditFilter { entity: Some("role".into()), ..Default::default() }, 10).await.unwrap();
            assert_eq!(events[0].entity_id.as_deref(), Some("viewer"));
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test]
    async fn the_audit_trail_refuses_changes_and_filters_by_area() {
        for (s, store) in each_backend("audit").await {
            let actor =
                Actor { user_id: Some(7), name: "wangli".into(), request_id: Some("r1".into()), client_addr: Some("10.0.0.1".into()) };
            store.record(&actor, &Change::new("reveal", "person", 1).area("140121100201")).await.unwrap();
            store.record(&actor, &Change::new("reveal", "person", 2).area("140121101201")).await.unwrap();
            let in_town = AuditFilter { area: Some(code("140121100")), ..Default::default() };
            let events = store.audit_events(&in_town, 10).await.unwrap();
            assert_eq!(events.len(), 1);
            assert_eq!((events[0].entity_id.as_deref(), events[0].request_id.as_deref()), (Some("1"), Some("r1")));
            let by_actor = store.audit_events(&AuditFilter { actor_id: Some(7), ..Default::default() }, 10).await.unwrap();
            assert_eq!(by_actor.len(), 2);
            assert!(by_actor[0].id > by_actor[1].id, "newest first");

            // Even a direct connection, outside the product, cannot rewrite the trail.
            for sql in ["UPDATE audit_events SET actor_name = 'x'", "DELETE FROM audit_events"] {
                use sqlx::{Connection, Executor};
                let refused = match s.kind {
                    BackendKind::Sqlite => {
                        let mut c = sqlx::SqliteConnection::connect(&s.url).await.unwrap();
                        c.execute(sql).await.map(|_| ())
                    }
                    BackendKind::Postgres => {
                        let mut c = sqlx::PgConnection::connect(&s.url).await.unwrap();
                        c.execute(sql).await.map(|_| ())
                    }
                };
                let err = refused.expect_err(sql).to_string();
                assert!(err.contains("append-only"), "{err}");
            }
            assert_eq!(store.audit_events(&AuditFilter::default(), 10).await.unwrap().len(), 2);
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_reads_first_is_never_refused_while_the_one_writer_commits_beside_it() {
        for (s, store) in each_backend("write_beside_writer").await {
            store.prepare_commits_plain().await.unwrap();
            // The station's writer busy with commits …
            let load: Vec<_> = (0..4)
                .map(|t| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        for n in 0..150 {
                            store.commit_one_plain(n, format!("load-{t}-{n}")).await.unwrap();
                        }
                    })
                })
                .collect();
            // … while audited acts (each reads the chain's head before it writes) go on.
            let acts: Vec<_> = (0..4)
                .map(|t| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        for n in 0..40 {
                            let change = Change::new("reveal", "person", n).area("140121100201");
                            store.record(&Actor::system(&format!("desk{t}")), &change).await.map_err(|e| format!("{e}"))?;
                        }
                        Ok::<_, String>(())
                    })
                })
                .collect();
            for a in acts {
                a.await.unwrap().unwrap_or_else(|e| panic!("{:?}: an act was refused: {e}", s.kind));
            }
            for l in load {
                l.await.unwrap();
            }
            assert_eq!(store.verify_audit().await.unwrap().events, 160);
            s.finish(store).await.unwrap();
        }
    }

    /// Runs `sql` on a connection of its own, outside the product, as someone with the
    /// database's password would.
    async fn by_hand(s: &Scratch, sql: &str) {
        use sqlx::{Connection, Executor};
        match s.kind {
            BackendKind::Sqlite => {
                sqlx::SqliteConnection::connect(&s.url).await.unwrap().execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
            }
            BackendKind::Postgres => {
                sqlx::PgConnection::connect(&s.url).await.unwrap().execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
            }
        }
    }

    #[tokio::test]
    async fn the_audit_chain_holds_under_concurrent_writers_and_shows_where_it_was_forged_or_changed() {
        for (s, store) in each_backend("audit_chain").await {
            // Many writers at once (PostgreSQL runs them side by side): one chain, no fork.
            let writes = (0..40).map(|i| {
                let store = store.clone();
                async move {
                    let actor = Actor { user_id: Some(i), name: format!("u{i}"), ..Default::default() };
                    let change = Change::new("reveal", "person", i).area("140121100201").after(serde_json::json!({"名": "张三", "i": i}));
                    store.record(&actor, &change).await
                }
            });
            for r in futures_util::future::join_all(writes).await {
                r.unwrap();
            }
            let check = store.verify_audit().await.unwrap();
            assert_eq!((check.events, check.broken, check.before_chain), (40, 0, 0), "{:?}", check.breaks);
            let (head, _) = check.head.clone().expect("a head");

            // A forged event written straight into the table: it has no seal, and says so.
            by_hand(
                &s,
                "INSERT INTO audit_events (at, actor_name, action, entity, entity_id) VALUES ('2026-12-04 10:00:00+00:00', 'x', 'release', 'observation_order', '9')",
            )
            .await;
            // SQLite's columns take any text: a time no Cordon writes is reported, not a failure.
            if s.kind == BackendKind::Sqlite {
                by_hand(&s, "INSERT INTO audit_events (at, actor_name, action, entity) VALUES ('2026-12-04', 'x', 'release', 'x')").await;
                let check = store.verify_audit().await.unwrap();
                assert_eq!(check.breaks.iter().map(|b| b.kind).collect::<Vec<_>>(), ["unsealed", "unreadable"]);
                by_hand(&s, "DROP TRIGGER audit_events_no_delete").await;
                by_hand(&s, "DELETE FROM audit_events WHERE entity = 'x'").await;
            }
            // Cordon goes on chaining past it.
            store.record(&Actor::system("t"), &Change::new("reveal", "person", 99)).await.unwrap();
            let check = store.verify_audit().await.unwrap();
            assert_eq!(check.broken, 1, "{:?}", check.breaks);
            assert_eq!((check.breaks[0].id > head, check.breaks[0].kind, check.breaks[0].action.as_str()), (true, "unsealed", "release"));

            // An event changed behind the triggers' back: its hash no longer follows.
            let disable: &[&str] = match s.kind {
                BackendKind::Sqlite => &["DROP TRIGGER audit_events_no_update"],
                BackendKind::Postgres => &["ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update"],
            };
            for sql in disable {
                by_hand(&s, sql).await;
            }
            by_hand(&s, "UPDATE audit_events SET actor_name = 'someone else' WHERE id = (SELECT MIN(id) + 3 FROM audit_events)").await;
            let check = store.verify_audit().await.unwrap();
            assert_eq!(check.broken, 2, "{:?}", check.breaks);
            assert_eq!(check.breaks[0].kind, "mismatch");
            // Removed: the event after the gap does not follow.
            by_hand(&s, "DELETE FROM audit_events WHERE id = (SELECT MIN(id) + 10 FROM audit_events)").await;
            let check = store.verify_audit().await.unwrap();
            assert_eq!(check.broken, 3, "{:?}", check.breaks);
            assert_eq!(check.breaks.iter().filter(|b| b.kind == "mismatch").count(), 2);
            s.finish(store).await.unwrap();
        }
    }
}

mod fuzzed_files {
    use super::*;
    use cordon_store::StoreError;

    /// A small deterministic generator (xorshift), so that a failure names its case.
    struct Bytes(u64);
    impl Bytes {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            // Mostly the bytes CSV files are made of, and some of anything.
            const CSV: &[u8] = b",,,\"\"\r\n\n0123456789Xx ";
            (0..n)
                .map(|_| match self.next() % 4 {
                    0 => (self.next() & 0xFF) as u8,
                    _ => CSV[(self.next() % CSV.len() as u64) as usize],
                })
                .collect()
        }
    }

    /// Fine: an answer, or a refusal of the file that says why. Anything else is a bug.
    fn clear<T>(what: &str, case: usize, r: Result<T, StoreError>) -> Option<T> {
        match r {
            Ok(t) => Some(t),
            Err(StoreError::Refused(r)) => {
                assert!(!r.kind.is_empty(), "{what} case {case}: a refusal without a reason");
                None
            }
            Err(e) => panic!("{what} case {case}: {e}"),
        }
    }

    #[tokio::test]
    async fn arbitrary_bytes_into_every_importer_give_a_clear_answer_and_store_nothing() {
        for (s, store) in each_backend("fuzz").await {
            seed_areas(&store).await;
            let tracer = super::testing_rounds::as_user(&store, "fuzzer", cordon_domain::access::Role::Investigator, "140121").await;
            let heads: [&[u8]; 7] = [
                b"",
                "身份证号,姓名,手机号,区划代码,住址,重点人群\n".as_bytes(),
                "场所码,场所名称,区划代码,地址\n".as_bytes(),
                "身份证号,场所码,扫码时间\n".as_bytes(),
                "单位,身份证号\n".as_bytes(),
                "病例编号,姓名,身份证号,诊断日期,分类,感染来源\n".as_bytes(),
                "条码,结果,ORF1ab,N,检测时间\n".as_bytes(),
            ];
            let officer = super::testing_rounds::as_user(&store, "fuzzlab", cordon_domain::access::Role::TestingOfficer, "140121").await;
            let lab = officer
                .create_lab(cordon_store::results::NewLab {
                    name: "模糊测试实验室".into(),
                    area_code: code("140121"),
                    daily_capacity: 1000,
                })
                .await
                .unwrap();
            let labber = super::testing_rounds::as_user(&store, "fuzzlabber", cordon_domain::access::Role::Lab, "140121").await;
            let target = cordon_store::linelist::LinelistTarget { area: code("140121"), incident: Some("模糊测试事件".into()) };
            let mut noise = Bytes(0x9E37_79B9_7F4A_7C15);
            for case in 0..40 {
                let mut file = heads[case % heads.len()].to_vec();
                let n = (noise.next() % 3000) as usize;
                file.extend(noise.bytes(n));
                if case % 7 == 3 {
                    // A UTF-16 mark before it all, or a GBK lead byte cut at the end.
                    file.splice(0..0, [0xFF, 0xFE]);
                } else if case % 7 == 5 {
                    file.push(0xD5);
                }
                if let Some(r) = clear("persons", case, import_persons(&store, Cursor::new(file.clone()), &mut Collect::default()).await) {
                    assert_eq!(r.inserted, 0, "case {case}");
                    assert_eq!(r.rows, r.invalid_rows + r.unchanged, "case {case}: every row accounted for");
                }
                if let Some(r) = clear("venues", case, tracer.import_venues(Cursor::new(file.clone()), &mut Collect::default()).await) {
                    assert_eq!(r.inserted, 0, "case {case}");
                }
                if let Some(r) = clear("scans", case, tracer.import_checkins(Cursor::new(file.clone()), &mut Collect::default()).await) {
                    assert_eq!(r.inserted, 0, "case {case}");
                }
                let roster = tracer.import_roster(Cursor::new(file.clone()), &code("140121100"), &mut Collect::default()).await;
                if let Some(r) = clear("roster", case, roster) {
                    assert_eq!(r.members, 0, "case {case}");
                }
                let linelist = tracer.import_linelist(Cursor::new(file.clone()), &target, &mut Collect::default()).await;
                if let Some(r) = clear("line list", case, linelist) {
                    assert_eq!(r.inserted, 0, "case {case}");
                }
                let results = cordon_store::lab_csv::ingest_results_csv(&labber, lab.id, Cursor::new(file.clone())).await;
                if let Some(r) = clear("lab results", case, results) {
                    assert_eq!(r.recorded, 0, "case {case}");
                }
            }
            assert_eq!(store.count(Table::Persons).await.unwrap(), 0, "{:?}", s.kind);
            s.finish(store).await.unwrap();
        }
    }
}

mod backup {
    use super::*;
    use cordon_store::audit::{Actor, Change};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    async fn audit_count(store: &Store) -> usize {
        store.verify_audit().await.unwrap().events as usize
    }

    #[tokio::test]
    async fn a_backup_taken_while_writing_restores_to_a_database_that_checks_clean() {
        for (s, store) in each_backend("backup").await {
            // A writer goes on recording while the backup is taken.
            let stop = Arc::new(AtomicBool::new(false));
            let writer = {
                let (store, stop) = (store.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        store.record(&Actor::system("writer"), &Change::new("reveal", "person", n)).await.unwrap();
                        n += 1;
                    }
                    n
                })
            };
            while audit_count(&store).await < 20 {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            let dir = std::env::temp_dir().join(format!("cordon-backup-{}-{:?}", std::process::id(), s.kind));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("backup.db");
            let (restored_url, copy) = match s.kind {
                BackendKind::Sqlite => {
                    store.backup(&file).await.unwrap();
                    let again = store.backup(&file).await.expect_err("never overwrites");
                    assert!(again.to_string().contains("already exists"), "{again}");
                    // The old database in the way, with a write-ahead log of its own.
                    let target = dir.join("restored.db");
                    std::fs::write(&target, b"the old database").unwrap();
                    std::fs::write(dir.join("restored.db-wal"), b"its log").unwrap();
                    let url = format!("sqlite://{}", target.display());
                    // A file that is no database, or no Cordon database, replaces nothing.
                    std::fs::write(dir.join("junk.db"), b"not a database at all").unwrap();
                    for bad in [dir.join("junk.db"), dir.join("missing.db")] {
                        cordon_store::backup::restore(&bad, &url).expect_err("refused");
                        assert_eq!(std::fs::read(&target).unwrap(), b"the old database");
                    }
                    let restored = cordon_store::backup::restore(&file, &url).unwrap();
                    assert!(restored.migrations > 20, "{}", restored.migrations);
                    assert!(!dir.join("restored.db-wal").exists() || std::fs::read(dir.join("restored.db-wal")).unwrap() != b"its log");
                    let check: String =
                        rusqlite::Connection::open(&target).unwrap().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
                    assert_eq!(check, "ok");
                    (url, None)
                }
                BackendKind::Postgres => {
                    let refused = store.backup(&file).await.expect_err("pg_dump's job");
                    assert!(refused.to_string().contains("pg_dump"), "{refused}");
                    // The README's commands, run as written there.
                    let dump = std::process::Command::new("pg_dump").args(["-Fc", "-f"]).arg(&file).arg(&s.url).status().unwrap();
                    assert!(dump.success());
                    let copy = cordon_store::scratch::Scratch::postgres(&cordon_store::scratch::test_pg_url(), "restored").await.unwrap();
                    let restore =
                        std::process::Command::new("pg_restore").args(["--no-owner", "-d", &copy.url]).arg(&file).status().unwrap();
                    assert!(restore.success());
                    (copy.url.clone(), Some(copy))
                }
            };
            stop.store(true, Ordering::Relaxed);
            let written: i64 = writer.await.unwrap();
            let restored = Store::open_and_migrate(&restored_url).await.unwrap();
            let check = restored.verify_audit().await.unwrap();
            assert_eq!(check.broken, 0, "{:?}", check.breaks);
            assert!(check.events >= 20 && check.events as i64 <= written, "{} of {written}", check.events);
            // The restored database takes writes and goes on chaining.
            restored.record(&Actor::system("after"), &Change::new("reveal", "person", 1)).await.unwrap();
            assert_eq!(restored.verify_audit().await.unwrap().broken, 0);
            match copy {
                Some(copy) => copy.finish(restored).await.unwrap(),
                None => restored.close().await,
            }
            let _ = std::fs::remove_dir_all(&dir);
            s.finish(store).await.unwrap();
        }
    }
}

mod testing_rounds {
    use chrono::Utc;
    use cordon_domain::access::Role;
    use cordon_domain::testing::pooling::{PoolPolicy, PoolSize, ZoneKind};
    use cordon_store::accounts::NewUser;
    use cordon_store::audit::{Actor, AuditFilter};
    use cordon_store::scoped::Scoped;
    use cordon_store::testing::{NewRound, NewSite};

    use super::*;

    pub(super) async fn as_user(store: &Store, name: &str, role: Role, area: &str) -> Scoped {
        let new = NewUser {
            username: name.into(),
            display_name: name.into(),
            role,
            areas: vec![code(area)],
            password: "Qingxu-2022-0413".into(),
        };
        store.create_user(&Actor::system("test"), new).await.unwrap();
        let p = store.verify_login(name, "Qingxu-2022-0413").await.unwrap().unwrap();
        store.scoped(p, Actor { user_id: None, name: name.into(), ..Default::default() })
    }

    fn round(name: &str, areas: &[(&str, Option<ZoneKind>)]) -> NewRound {
        NewRound {
            name: name.into(),
            starts_at: Utc::now(),
            target_end_at: None,
            areas: areas.iter().map(|(a, z)| (code(a), *z)).collect(),
            policy: PoolPolicy::default(),
        }
    }

    #[tokio::test]
    async fn rounds_and_sites_stay_inside_the_planners_jurisdiction() {
        for (s, store) in each_backend("rounds").await {
            seed_areas(&store).await;
            import_persons(&store, Cursor::new(people_csv(40).into_bytes()), &mut Collect::default()).await.unwrap();
            let commander = as_user(&store, "cmd", Role::Commander, "140121").await;
            let officer = as_user(&store, "sampler", Role::TestingOfficer, "140121100").await;
            let tracer = as_user(&store, "tracer", Role::Investigator, "140121100").await;

            // Testing officers plan rounds in their area; commanders confirm suggested rounds
            // (command.write); investigators do neither.
            assert!(matches!(tracer.create_round(round("x", &[("140121100", None)])).await, Err(cordon_store::StoreError::Forbidden(_))));
            let outside = officer.create_round(round("徐沟", &[("140121101", Some(ZoneKind::Controlled))])).await.unwrap_err();
            assert!(outside.to_string().contains("outside your jurisdiction"), "{outside}");

            let r = officer.create_round(round("清源镇第一轮", &[("140121100", Some(ZoneKind::Controlled))])).await.unwrap();
            assert_eq!((r.target_end_at - r.starts_at).num_hours(), 24, "default target: 24 hours");
            assert_eq!(r.areas[0].zone, Some(ZoneKind::Controlled));
            assert_eq!(r.policy.controlled, PoolSize::People(10));
            let again = officer.create_round(round("清源镇第二轮", &[("140121100", None)])).await.unwrap();
            assert_eq!(again.incident_id, r.incident_id, "rounds of one county share the incident");

            let site = officer
                .create_site(NewSite {
                    round_id: r.id,
                    area_code: code("140121100201"),
                    name: "东关村1号点".into(),
                    address: "东关村委会".into(),
                    stations: 4,
                })
                .await
                .unwrap();
            assert_eq!(site.stations, 4);
            let not_in_round = officer
                .create_site(NewSite {
                    round_id: r.id,
                    area_code: code("140121101201"),
                    name: "北关".into(),
                    address: "北关".into(),
                    stations: 2,
                })
                .await
                .unwrap_err();
            assert!(matches!(not_in_round, cordon_store::StoreError::Forbidden(_)), "{not_in_round}");
            let bad = officer
                .create_site(NewSite {
                    round_id: r.id,
                    area_code: code("140121100202"),
                    name: " ".into(),
                    address: "x".into(),
                    stations: 2,
                })
                .await
                .unwrap_err();
            assert!(bad.to_string().contains("name"), "{bad}");
            assert_eq!(officer.sites(r.id).await.unwrap(), vec![site.clone()]);

            // Someone from the other township neither sees the round nor its sites.
            let other = as_user(&store, "other", Role::TestingOfficer, "140121101").await;
            assert!(other.rounds().await.unwrap().is_empty());
            assert!(matches!(other.round(r.id).await, Err(cordon_store::StoreError::Forbidden(_))));
            assert!(other.sites(r.id).await.unwrap().is_empty());
            assert_eq!(officer.rounds().await.unwrap().len(), 2);

            // Sizing from the people registered in the round's areas.
            let plan = officer.round_sizing(r.id).await.unwrap().unwrap();
            assert_eq!(plan.sites, (1, 1));
            assert_eq!(plan.samplers, 1, "20 people in 24 hours");

            let events = store.audit_events(&AuditFilter { entity: Some("testing_round".into()), ..Default::default() }, 10).await.unwrap();
            assert_eq!(events.len(), 2);
            let sites = store.audit_events(&AuditFilter { entity: Some("sampling_site".into()), ..Default::default() }, 10).await.unwrap();
            assert_eq!(sites[0].area_code.as_deref(), Some("140121100201"));

            let confirmed = commander.create_round(round("全县第一轮", &[("140121", None)])).await.unwrap();
            assert_eq!(
                other.rounds().await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>(),
                vec![confirmed.id],
                "a county round reaches every township"
            );
            s.finish(store).await.unwrap();
        }
    }
}

mod station {
    use chrono::Utc;
    use cordon_domain::Barcode;
    use cordon_domain::access::Role;
    use cordon_domain::refusal::Refusal;
    use cordon_domain::testing::pooling::{PoolPolicy, PoolSize, SamplingGroup, ZoneKind};
    use cordon_domain::testing::station::{AfterScan, ScanRefusal};
    use cordon_store::accounts::NewUser;
    use cordon_store::audit::Actor;
    use cordon_store::batch::{BatchTube, MemberRefusal};
    use cordon_store::scoped::Scoped;
    use cordon_store::testing::{NewRound, NewSite, Round, Site};

    use super::*;

    pub(super) async fn as_user(store: &Store, name: &str, role: Role, area: &str) -> Scoped {
        let new = NewUser {
            username: name.into(),
            display_name: name.into(),
            role,
            areas: vec![code(area)],
            password: "Qingxu-2022-0413".into(),
        };
        store.create_user(&Actor::system("test"), new).await.unwrap();
        let p = store.verify_login(name, "Qingxu-2022-0413").await.unwrap().unwrap();
        store.scoped(p, Actor { user_id: None, name: name.into(), ..Default::default() })
    }

    /// What a testing test starts from: 40 people in 清源镇, a sampler and a lab user, a round
    /// with its two sites, and the people of 清源镇 by id.
    pub(super) struct Testing {
        pub officer: Scoped,
        pub lab_user: Scoped,
        pub round: Round,
        pub east: Site,
        pub west: Site,
        pub people: Vec<i64>,
    }

    pub(super) async fn testing(store: &Store) -> Testing {
        seed_areas(store).await;
        import_persons(store, Cursor::new(people_csv(40).into_bytes()), &mut Collect::default()).await.unwrap();
        let officer = as_user(store, "sampler", Role::TestingOfficer, "140121100").await;
        let lab_user = as_user(store, "lab", Role::Lab, "140121").await;
        let (round, east, west) = round_with_two_sites(&officer).await;
        let people: Vec<i64> = qingyuan_people(store).await.into_iter().map(|(id, _)| id).collect();
        Testing { officer, lab_user, round, east, west, people }
    }

    /// A controlled-zone round over 清源镇 with a site in 东关村 and one in 西关村.
    pub(super) async fn round_with_two_sites(officer: &Scoped) -> (Round, Site, Site) {
        let round = officer
            .create_round(NewRound {
                name: "第一轮".into(),
                starts_at: Utc::now(),
                target_end_at: None,
                areas: vec![(code("140121100"), Some(ZoneKind::Controlled))],
                policy: PoolPolicy::default(),
            })
            .await
            .unwrap();
        let site = |name: &str, area: &str| NewSite {
            round_id: round.id,
            area_code: code(area),
            name: name.into(),
            address: "村委会".into(),
            stations: 2,
        };
        let east = officer.create_site(site("东关1号点", "140121100201")).await.unwrap();
        let west = officer.create_site(site("西关1号点", "140121100202")).await.unwrap();
        (round, east, west)
    }

    pub(super) fn bc(s: &str) -> Barcode {
        Barcode::parse(s).unwrap()
    }

    /// People of 清源镇 in register order, and the households they live in.
    pub(super) async fn qingyuan_people(store: &Store) -> Vec<(i64, Option<i64>)> {
        let page = store.list_persons(&[code("140121100")], &PersonFilter::default(), None, 100, today()).await.unwrap();
        page.items.iter().map(|p| (p.id, p.household_id)).collect()
    }

    /// The benchmarks' raw side (COPY on PostgreSQL) stores the rows the product would, and the
    /// product's own writes after it still get fresh ids.
    #[tokio::test]
    async fn the_raw_side_stores_the_same_rows_and_leaves_ids_for_the_product() {
        use cordon_store::plain::PlainTube;
        for (s, store) in each_backend("plain").await {
            let t = testing(&store).await;
            let born = NaiveDate::from_ymd_opt(1970, 3, 1).unwrap();
            let person = |n: u16, name: &str, address: &str| cordon_domain::NewPerson {
                document: cordon_domain::IdDocument::Resident(cordon_domain::ResidentId::from_parts("140121", born, n).unwrap()),
                name: cordon_domain::PersonName::parse(name).unwrap(),
                sex: cordon_domain::Sex::Female,
                birth_date: born,
                phone: None,
                area_code: code("140121100201"),
                address: Some(address.into()),
                tags: Default::default(),
            };
            let plain = vec![
                // An address as a spreadsheet may hold it, with a tab and a backslash (COPY's escapes).
                person(901, "王秀", "东关村\t北街1号\\后院"),
                person(902, "李秀兰", "东关村\t北街1号\\后院"),
                person(903, "赵敏", "东关村南街2号"),
            ];
            assert_eq!(store.insert_persons_plain(plain).await.unwrap(), 3, "{:?}", s.kind);
            let stored = store.list_persons(&[code("140121100201")], &PersonFilter::default(), None, 100, today()).await.unwrap().items;
            let of = |name: &str| stored.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{:?}: {name} stored", s.kind));
            assert_eq!(of("王秀").household_id, of("李秀兰").household_id, "{:?}: one address, one household", s.kind);
            assert!(of("赵敏").household_id.is_some() && of("赵敏").household_id != of("王秀").household_id);
            // The product's next household and person after the raw load.
            let (after, created) = t.officer.register_person(&person(904, "孙丽", "东关村东街3号")).await.unwrap();
            assert!(created && after.household_id.is_some(), "{:?}", s.kind);

            let tubes = vec![
                PlainTube {
                    barcode: "RAW0000001".into(),
                    site_id: t.east.id,
                    area_code: "140121100".into(),
                    members: vec![(t.people[0], "140121100201".into()), (t.people[1], "140121100201".into())],
                    at: Utc::now(),
                },
                PlainTube {
                    barcode: "RAW0000002".into(),
                    site_id: t.east.id,
                    area_code: "140121100".into(),
                    members: vec![(t.people[2], "140121100201".into())],
                    at: Utc::now(),
                },
            ];
            assert_eq!(store.insert_registrations_plain(t.round.id, tubes).await.unwrap(), 5, "{:?}: two tubes, three samples", s.kind);
            assert_eq!(store.tube(t.round.id, &bc("RAW0000001")).await.unwrap().unwrap().members, 2);
            // The product's next tube after the raw load, and a scan into it.
            t.officer.open_tube(t.round.id, t.east.id, &bc("QX00000777"), SamplingGroup::Resident, None).await.unwrap();
            t.officer.scan(t.round.id, &bc("QX00000777"), t.people[3], None).await.unwrap();

            let lab = t
                .officer
                .create_lab(cordon_store::results::NewLab {
                    name: "对照实验室".into(), area_code: code("140121100"), daily_capacity: 100
                })
                .await
                .unwrap();
            let results = vec![("RAW0000001".to_string(), "positive", Utc::now()), ("RAW0000002".to_string(), "negative", Utc::now())];
            assert_eq!(store.record_results_plain(t.round.id, lab.id, results).await.unwrap(), 4, "{:?}: two results, two recalls", s.kind);
            let recalled: Vec<i64> =
                t.officer.tube_recalls(t.round.id, &bc("RAW0000001")).await.unwrap().iter().map(|r| r.person_id).collect();
            assert_eq!(recalled.len(), 2, "{:?}: the positive tube's members recalled", s.kind);
            assert!(recalled.contains(&t.people[0]) && recalled.contains(&t.people[1]));
            assert!(t.officer.tube_recalls(t.round.id, &bc("RAW0000002")).await.unwrap().is_empty());

            let incident = store.insert_incident_plain("对照", "140121").await.unwrap();
            let case = store.insert_case_plain(incident, "P1", "140121100201", &[]).await.unwrap();
            // A case's contacts, one of whose household member is proposed through them.
            let row = |source: i64, contact: i64, kind: &'static str, degree: &'static str| cordon_store::plain::PlainExposure {
                source,
                contact,
                kind,
                degree,
                area: "140121100201".to_string(),
            };
            let rows = [
                row(t.people[0], t.people[1], "meal", "close"),
                row(t.people[0], t.people[2], "meal", "close"),
                row(t.people[2], t.people[3], "household", "secondary"),
            ];
            assert_eq!(store.insert_exposures_plain(incident, case, &rows, Utc::now()).await.unwrap(), 3);
            let tracer = as_user(&store, "tracer", Role::Investigator, "140121100").await;
            let contacts = tracer.contacts(case).await.unwrap();
            let view: Vec<(i64, &str, &str)> = contacts.iter().map(|c| (c.person_id, c.degree.as_str(), c.status.as_str())).collect();
            let mut expected =
                vec![(t.people[1], "close", "proposed"), (t.people[2], "close", "proposed"), (t.people[3], "secondary", "proposed")];
            expected.sort();
            assert_eq!(view, expected, "{:?}", s.kind);
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn scans_into_one_tube_at_once_take_turns_and_none_is_turned_away_busy() {
        for (s, store) in each_backend("station_race").await {
            seed_areas(&store).await;
            import_persons(&store, Cursor::new(people_csv(40).into_bytes()), &mut Collect::default()).await.unwrap();
            let officer = as_user(&store, "sampler", Role::TestingOfficer, "140121100").await;
            let (round, east, _) = round_with_two_sites(&officer).await;
            officer.open_tube(round.id, east.id, &bc("QX00000009"), SamplingGroup::Resident, Some(1)).await.unwrap();
            let people = qingyuan_people(&store).await;
            let officer = std::sync::Arc::new(officer);
            // Two samplers at one table, ten people, all at once (and each scan sent twice, as a
            // phone retries): every scan is taken, the tube holds ten and is sealed.
            let scans = people.iter().take(10).flat_map(|(p, _)| [*p, *p]).enumerate().map(|(i, p)| {
                let officer = officer.clone();
                let round = round.id;
                async move { officer.scan(round, &bc("QX00000009"), p, Some(&format!("p{p}"))).await.map(|s| (i, s)) }
            });
            let done: Vec<_> = futures_util::future::join_all(scans.map(tokio::spawn)).await;
            let mut fresh = 0;
            for d in done {
                let (_, scanned) = d.unwrap().unwrap_or_else(|e| panic!("{:?}: a scan was turned away: {e}", s.kind));
                fresh += usize::from(!scanned.repeat);
            }
            assert_eq!(fresh, 10, "each person counted once");
            let tube = store.tube(round.id, &bc("QX00000009")).await.unwrap().unwrap();
            assert_eq!((tube.members, tube.sealed_at.is_some()), (10, true), "{:?}", s.kind);
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_person_scanned_at_two_tables_at_once_is_sampled_once_and_counted_once() {
        for (s, store) in each_backend("station_race").await {
            seed_areas(&store).await;
            import_persons(&store, Cursor::new(people_csv(40).into_bytes()), &mut Collect::default()).await.unwrap();
            let officer = std::sync::Arc::new(as_user(&store, "sampler", Role::TestingOfficer, "140121100").await);
            let (round, east, west) = round_with_two_sites(&officer).await;
            let people = qingyuan_people(&store).await;
            for (k, site) in [(0, east.id), (1, west.id)] {
                for t in 0..2 {
                    officer.open_tube(round.id, site, &bc(&format!("QR{k}{t:07}")), SamplingGroup::Resident, None).await.unwrap();
                }
            }
            // Each person at both tables at the same moment (a card read twice): one scan takes
            // them, the other is told where they were sampled; no tube counts a sample it lacks.
            let scans = people.iter().enumerate().flat_map(|(i, (p, _))| {
                let officer = officer.clone();
                let (round, p) = (round.id, *p);
                [0, 1].map(move |k| {
                    let officer = officer.clone();
                    tokio::spawn(async move { officer.scan(round, &bc(&format!("QR{k}{:07}", i / 10)), p, None).await })
                })
            });
            let done = futures_util::future::join_all(scans).await;
            let mut taken = 0;
            for d in done {
                match d.unwrap() {
                    Ok(scanned) => taken += usize::from(!scanned.repeat),
                    Err(e) => assert!(format!("{e:?}").contains("refused.already_sampled"), "{:?}: {e:?}", s.kind),
                }
            }
            assert_eq!(taken, people.len(), "{:?}: everyone sampled once", s.kind);
            let mut members = 0;
            for k in 0..2 {
                for t in 0..2 {
                    members += store.tube(round.id, &bc(&format!("QR{k}{t:07}"))).await.unwrap().unwrap().members;
                }
            }
            assert_eq!(members as usize, people.len(), "{:?}: the tubes count what they hold", s.kind);
            // Counted once, however the counts are spread over slots (PostgreSQL's connections
            // each add to their own).
            let c = officer.coverage(round.id, &code("140121100")).await.unwrap().unwrap();
            assert_eq!(c.area.sampled as usize, people.len(), "{:?}: counted once", s.kind);
            let by_hour = officer.progress(round.id, &code("140121100"), &["140121100".to_string()]).await.unwrap().hourly;
            let hourly: i64 = by_hour.iter().flat_map(|(_, h)| h.iter().map(|(_, n)| n)).sum();
            assert_eq!(hourly as usize, people.len(), "{:?}: each sample in its hour once", s.kind);
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_ten_tube_fills_seals_and_every_retry_changes_nothing() {
        for (s, store) in each_backend("station").await {
            seed_areas(&store).await;
            import_persons(&store, Cursor::new(people_csv(40).into_bytes()), &mut Collect::default()).await.unwrap();
            let officer = as_user(&store, "sampler", Role::TestingOfficer, "140121100").await;
            let (round, east, west) = round_with_two_sites(&officer).await;

            let tube = officer.open_tube(round.id, east.id, &bc("QX00000001"), SamplingGroup::Resident, Some(1)).await.unwrap();
            assert_eq!(tube.pool, PoolSize::People(10), "controlled zone → 10-in-1");
            let again = officer.open_tube(round.id, east.id, &bc("qx00000001"), SamplingGroup::Resident, Some(1)).await.unwrap();
            assert_eq!(again.id, tube.id, "opening again answers the same tube");
            let used = officer.open_tube(round.id, west.id, &bc("QX00000001"), SamplingGroup::Resident, None).await.refused();
            assert_eq!((used.kind, used.arg("site")), ("refused.barcode_used", Some("东关1号点")), "{used}");
            // A site of another round, another village's sampler, an unknown round: said, nothing opened.
            let village = as_user(&store, "west_sampler", Role::TestingOfficer, "140121100202").await;
            let other = village.open_tube(round.id, east.id, &bc("QX00000099"), SamplingGroup::Resident, None).await.refused();
            assert_eq!(other.kind, "refused.no_site_in_round", "{other}");
            let unknown = officer.open_tube(round.id, 999_999, &bc("QX00000099"), SamplingGroup::Resident, None).await.refused();
            assert_eq!(unknown.kind, "refused.no_site_in_round", "{unknown}");
            let no_round = officer.open_tube(999_999, east.id, &bc("QX00000099"), SamplingGroup::Resident, None).await.refused();
            assert_eq!(no_round.kind, "refused.no_round", "{no_round}");
            assert!(store.tube(round.id, &bc("QX00000099")).await.unwrap().is_none());
            let retest = officer.open_tube(round.id, west.id, &bc("QX00000098"), SamplingGroup::Retest, None).await.unwrap();
            assert_eq!((retest.pool, retest.retest), (PoolSize::People(1), true), "a re-test tube is single");

            let people = qingyuan_people(&store).await;
            assert_eq!(people.len(), 20);
            for (i, (p, _)) in people.iter().take(10).enumerate() {
                let scanned = officer.scan(round.id, &bc("QX00000001"), *p, Some(&format!("c{i}"))).await.unwrap();
                let expected = if i == 9 { AfterScan::Sealed } else { AfterScan::Open { remaining: 9 - i } };
                assert_eq!((scanned.after, scanned.repeat), (expected, false));
            }
            let retry = officer.scan(round.id, &bc("QX00000001"), people[3].0, Some("c3")).await.unwrap();
            assert!(retry.repeat, "a retried scan answers the same outcome");
            assert_eq!(retry.tube.members, 10);
            let full = officer.scan(round.id, &bc("QX00000001"), people[10].0, None).await.refused();
            assert_eq!((full.kind, full.arg("barcode")), ("refused.sealed", Some("QX00000001")));

            officer.open_tube(round.id, east.id, &bc("QX00000002"), SamplingGroup::Resident, Some(1)).await.unwrap();
            let twice = officer.scan(round.id, &bc("QX00000002"), people[0].0, None).await.refused();
            assert_eq!(
                (twice.kind, twice.arg("barcode"), twice.arg("site")),
                ("refused.already_sampled", Some("QX00000001"), Some("东关1号点"))
            );
            let unknown = officer.scan(round.id, &bc("QX99999999"), people[11].0, None).await.refused();
            assert_eq!((unknown.kind, unknown.class), ("refused.unknown_tube", cordon_domain::refusal::Class::Missing), "{unknown}");
            let empty = officer.close_tube(round.id, &bc("QX00000002")).await.refused();
            assert_eq!((empty.kind, empty.arg("barcode")), ("refused.empty", Some("QX00000002")));
            officer.scan(round.id, &bc("QX00000002"), people[11].0, None).await.unwrap();
            let closed = officer.close_tube(round.id, &bc("QX00000002")).await.unwrap();
            assert!(closed.sealed_at.is_some() && closed.members == 1);

            let single = officer.open_tube(round.id, west.id, &bc("KEY0000001"), SamplingGroup::KeyGroup, None).await.unwrap();
            assert_eq!(single.pool, PoolSize::People(1), "key groups are sampled alone");

            // Someone of 徐沟镇 can neither use these sites nor scan into these tubes.
            let other = as_user(&store, "other", Role::TestingOfficer, "140121101").await;
            assert!(other.open_tube(round.id, east.id, &bc("QX00000003"), SamplingGroup::Resident, None).await.is_err());
            assert!(matches!(
                other.scan(round.id, &bc("QX00000002"), people[12].0, None).await,
                Err(cordon_store::StoreError::Forbidden(_))
            ));
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_household_tube_in_a_sealed_zone_takes_one_whole_household() {
        for (s, store) in each_backend("household_tube").await {
            seed_areas(&store).await;
            import_persons(&store, Cursor::new(people_csv(20).into_bytes()), &mut Collect::default()).await.unwrap();
            let officer = as_user(&store, "sampler", Role::TestingOfficer, "140121100").await;
            let policy = PoolPolicy { sealed: PoolSize::Household, ..PoolPolicy::default() };
            let round = officer
                .create_round(NewRound {
                    name: "封控区".into(),
                    starts_at: Utc::now(),
                    target_end_at: None,
                    areas: vec![(code("140121100201"), Some(ZoneKind::Sealed))],
                    policy,
                })
                .await
                .unwrap();
            let site = officer
                .create_site(NewSite {
                    round_id: round.id,
                    area_code: code("140121100201"),
                    name: "上门".into(),
                    address: "东关村".into(),
                    stations: 1,
                })
                .await
                .unwrap();
            let tube = officer.open_tube(round.id, site.id, &bc("HH00000001"), SamplingGroup::Resident, None).await.unwrap();
            assert_eq!(tube.pool, PoolSize::Household);
            let people = qingyuan_people(&store).await;
            // Sample people 0 and 1 share a household (two per address); person 8 lives elsewhere.
            let (first, home) = people[0];
            let mate = people.iter().find(|(id, h)| *h == home && *id != first).unwrap().0;
            let stranger = people.iter().find(|(_, h)| *h != home).unwrap().0;
            assert_eq!(officer.scan(round.id, &bc("HH00000001"), first, None).await.unwrap().after, AfterScan::Open { remaining: 1 });
            let wrong = officer.scan(round.id, &bc("HH00000001"), stranger, None).await.refused();
            assert_eq!(wrong, Refusal::from(ScanRefusal::OtherHousehold));
            assert_eq!(officer.scan(round.id, &bc("HH00000001"), mate, None).await.unwrap().after, AfterScan::Sealed);

            // The same rules through a batch: a household tube seals on its household and
            // refuses a stranger.
            let (other_first, other_home) = *people.iter().find(|(_, h)| *h != home).unwrap();
            let other_mate = people.iter().find(|(id, h)| *h == other_home && *id != other_first).unwrap().0;
            let outsider = people.iter().find(|(_, h)| *h != home && *h != other_home).unwrap().0;
            let batch = BatchTube {
                barcode: bc("HH00000002"),
                site_id: site.id,
                group: SamplingGroup::Resident,
                members: vec![other_first, outsider, other_mate],
                seal: false,
                sampled_at: None,
            };
            let out = officer.register_batch(round.id, vec![batch], None).await.unwrap();
            let tube = out[0].tube.clone().unwrap();
            assert_eq!((tube.members, tube.sealed_at.is_some()), (2, true), "{out:?}");
            assert_eq!(out[0].refused.len(), 1, "{out:?}");
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_batch_decides_each_member_once_keeps_device_times_and_adds_to_stored_tubes() {
        for (s, store) in each_backend("batch").await {
            seed_areas(&store).await;
            import_persons(&store, Cursor::new(people_csv(40).into_bytes()), &mut Collect::default()).await.unwrap();
            let officer = as_user(&store, "sampler", Role::TestingOfficer, "140121100").await;
            let (round, east, west) = round_with_two_sites(&officer).await;
            let people: Vec<i64> = qingyuan_people(&store).await.into_iter().map(|(id, _)| id).collect();
            let two_hours_ago = Utc::now() - chrono::Duration::hours(2);
            let tube = |code: &str, site: i64, members: Vec<i64>, seal: bool| BatchTube {
                barcode: bc(code),
                site_id: site,
                group: SamplingGroup::Resident,
                members,
                seal,
                sampled_at: Some(two_hours_ago),
            };
            let open = officer.open_tube(round.id, east.id, &bc("EA00000009"), SamplingGroup::Resident, None).await.unwrap();
            officer.scan(round.id, &bc("EA00000009"), people[0], None).await.unwrap();
            let out = officer
                .register_batch(
                    round.id,
                    vec![
                        // Into the tube opened at the station: one repeat, two new.
                        tube("EA00000009", east.id, vec![people[0], people[1], people[2]], false),
                        // Person 1 again, in another tube of the same batch: refused, pointing to the first.
                        tube("EA00000010", east.id, vec![people[1], people[3], 999_999], true),
                        // A barcode already used at the other site.
                        tube("EA00000009", west.id, vec![people[4]], true),
                        tube("WE00000001", west.id, (5..16).map(|i| people[i]).collect(), false),
                    ],
                    Some("device-7"),
                )
                .await
                .unwrap();
            assert_eq!((out[0].added, out[0].repeats, out[0].tube.as_ref().unwrap().members), (2, 1, 3));
            assert_eq!(out[0].tube.as_ref().unwrap().id, open.id);
            assert_eq!(out[1].added, 1);
            let reasons: Vec<String> = out[1].refused.iter().map(|r| r.refusal.to_string()).collect();
            assert!(reasons[0].contains("EA00000009") && reasons[1].contains("999999"), "{reasons:?}");
            assert!(out[1].tube.as_ref().unwrap().sealed_at.is_some());
            assert_eq!(out[2].error.as_ref().map(|r| r.kind), Some("refused.barcode_used"), "{:?}", out[2]);
            let full = out[3].tube.clone().unwrap();
            assert_eq!(
                (full.members, full.sealed_at.is_some(), out[3].refused.len()),
                (10, true, 1),
                "the eleventh does not fit a 10-tube"
            );
            assert_eq!(full.opened_at.timestamp(), two_hours_ago.timestamp(), "the device's time is kept");
            let c = officer.coverage(round.id, &code("140121100")).await.unwrap().unwrap();
            assert_eq!(c.area.sampled, 14);

            // Resending the whole batch changes nothing.
            let again = officer
                .register_batch(
                    round.id,
                    vec![
                        tube("EA00000009", east.id, vec![people[0], people[1], people[2]], false),
                        tube("WE00000001", west.id, (5..16).map(|i| people[i]).collect(), false),
                    ],
                    Some("device-7"),
                )
                .await
                .unwrap();
            assert_eq!((again[0].added, again[0].repeats, again[1].added, again[1].repeats, again[1].refused.len()), (0, 3, 0, 10, 1));
            assert_eq!(officer.coverage(round.id, &code("140121100")).await.unwrap().unwrap().area.sampled, 14);

            // Someone sampled in a stored tube, named again in a new one: refused with where, the
            // rest of the tube kept; the tube answered is the tube stored.
            let later = officer
                .register_batch(round.id, vec![tube("EA00000011", east.id, vec![people[2], people[16]], true)], Some("device-8"))
                .await
                .unwrap();
            assert_eq!(later[0].added, 1);
            match &later[0].refused[..] {
                [MemberRefusal { person_id, refusal }] if refusal.kind == "refused.already_sampled" => {
                    assert_eq!((*person_id, refusal.arg("barcode")), (people[2], Some("EA00000009")));
                }
                other => panic!("expected one already-sampled refusal, got {other:?}"),
            }
            let stored = store.tube(round.id, &bc("EA00000011")).await.unwrap().unwrap();
            assert_eq!(later[0].tube.as_ref(), Some(&stored));
            assert_eq!(out[3].tube.as_ref(), store.tube(round.id, &bc("WE00000001")).await.unwrap().as_ref());
            s.finish(store).await.unwrap();
        }
    }
}

mod transport {
    use cordon_domain::access::Role;
    use cordon_domain::refusal::Refusal;
    use cordon_domain::testing::pooling::SamplingGroup;
    use cordon_domain::testing::result::{CtValues, TubeResult};
    use cordon_store::batch::BatchTube;
    use cordon_store::lab_csv::ingest_results_csv;
    use cordon_store::results::ResultOutcome;
    use cordon_store::results::{NewLab, ResultInput};
    use cordon_store::transport::NewBatch;

    use super::station::{Testing, as_user, bc, testing};
    use super::*;

    #[tokio::test]
    async fn a_box_goes_to_the_lab_and_the_receipt_lists_missing_and_extra_tubes() {
        for (s, store) in each_backend("transport").await {
            let Testing { officer, lab_user, round, east, west, people } = testing(&store).await;
            let tube = |code: &str, site: i64, members: &[i64], seal: bool| BatchTube {
                barcode: bc(code),
                site_id: site,
                group: SamplingGroup::Resident,
                members: members.to_vec(),
                seal,
                sampled_at: None,
            };
            officer
                .register_batch(
                    round.id,
                    vec![
                        tube("EA00000001", east.id, &people[0..3], true),
                        tube("EA00000002", east.id, &people[3..5], true),
                        tube("EA00000003", east.id, &people[5..6], true),
                        tube("EA00000004", east.id, &people[6..7], false),
                        tube("WE00000001", west.id, &people[7..8], true),
                    ],
                    None,
                )
                .await
                .unwrap();
            // A lab first by name, that this lab's staff do not work at.
            officer.create_lab(NewLab { name: "三方检测实验室".into(), area_code: code("140121100"), daily_capacity: 9000 }).await.unwrap();
            // A second lab of the same name is a conflict naming what repeats, not a server error.
            let twice = officer.create_lab(NewLab { name: "三方检测实验室".into(), area_code: code("140121100"), daily_capacity: 1 }).await;
            let refusal = twice.unwrap_err().refusal().cloned().expect("a refusal");
            assert_eq!(
                (refusal.kind, refusal.arg("what"), refusal.class),
                ("refused.duplicate", Some("labs"), cordon_domain::refusal::Class::Conflict),
                "{:?}",
                s.kind
            );
            let lab = officer
                .create_lab(NewLab { name: "县疾控实验室".into(), area_code: code("140121100"), daily_capacity: 20000 })
                .await
                .unwrap();
            let send = |label: &str, barcodes: Option<&[&str]>| NewBatch {
                round_id: round.id,
                site_id: east.id,
                lab_id: lab.id,
                label: label.into(),
                barcodes: barcodes.map(|b| b.iter().map(|s| s.to_string()).collect()),
                departed_at: None,
            };

            let refused =
                officer.dispatch(send("东关-01", Some(&["EA00000001", "EA00000004", "WE00000001", "ZZ00000009"]))).await.refused();
            assert_eq!((refused.kind, refused.arg("n")), ("refused.tubes_cannot_go", Some("3")));
            let problems: Vec<String> = refused.parts.iter().map(|p| p.to_string()).collect();
            assert_eq!(
                problems,
                [
                    "refused.tube_open barcode=EA00000004",
                    "refused.tube_other_site barcode=WE00000001 site=西关1号点",
                    "refused.tube_unknown barcode=ZZ00000009"
                ]
            );
            assert!(officer.batches(round.id).await.unwrap().is_empty(), "a refused box changes nothing");

            let batch = officer.dispatch(send("东关-01", None)).await.unwrap();
            assert_eq!(
                (batch.tubes, batch.received, batch.lab_name.as_str()),
                (3, 0, "县疾控实验室"),
                "every sealed tube waiting at the site"
            );
            let again = officer.dispatch(send("东关-01", None)).await.unwrap();
            assert_eq!(again.id, batch.id, "sending the same box again answers the same batch");
            let same_list = officer.dispatch(send("东关-01", Some(&["EA00000003", "EA00000001", "EA00000002"]))).await.unwrap();
            assert_eq!(same_list.id, batch.id);
            assert_eq!(
                officer.dispatch(send("东关-01", Some(&["EA00000001"]))).await.refused(),
                Refusal::conflict("refused.label_used").with("label", "东关-01")
            );
            assert_eq!(officer.dispatch(send("东关-02", None)).await.refused().kind, "refused.nothing_to_send");
            officer.close_tube(round.id, &bc("EA00000004")).await.unwrap();
            let twice = officer.dispatch(send("东关-02", Some(&["EA00000004", "EA00000001"]))).await.refused();
            assert_eq!(
                twice.parts.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                ["refused.tube_sent barcode=EA00000001 label=东关-01"]
            );

            // The lab scans what is in the box: one tube missing, one that was never in it.
            let scanned = |codes: &[&str]| codes.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            let detail =
                lab_user.receive(batch.id, &scanned(&["EA00000001", "EA00000003", "WE00000001", "EA00000001"])).await.unwrap().unwrap();
            assert_eq!(
                (detail.received.len(), detail.missing.clone(), detail.extra.clone()),
                (2, vec!["EA00000002".to_string()], vec!["WE00000001".to_string()])
            );
            assert!(detail.batch.received_at.is_some() && detail.batch.received_by.as_deref() == Some("lab"));
            // Their results page opens on the lab whose box they signed for.
            assert_eq!(lab_user.labs_mine_first().await.unwrap()[0].id, lab.id, "{:?}", s.kind);
            let later = lab_user.receive(batch.id, &scanned(&["EA00000002"])).await.unwrap().unwrap();
            assert!(later.missing.is_empty(), "a tube found later is scanned later");
            assert_eq!((later.batch.received, later.batch.extra), (3, 1));
            assert!(
                matches!(officer.receive(batch.id, &scanned(&["EA00000002"])).await, Err(cordon_store::StoreError::Forbidden(_))),
                "receipt is the lab's"
            );
            let elsewhere = as_user(&store, "other", Role::TestingOfficer, "140121101").await;
            assert!(matches!(elsewhere.batch_detail(batch.id).await, Err(cordon_store::StoreError::Forbidden(_))));

            let result = ResultInput {
                barcode: bc("EA00000001"),
                round_id: Some(round.id),
                result: Some(TubeResult::Negative),
                ct: CtValues::default(),
                at: None,
            };
            lab_user.record_result(lab.id, &result).await.unwrap();
            let flow = officer.tube_flow(round.id).await.unwrap();
            assert_eq!((flow.open, flow.sealed, flow.departed, flow.received, flow.resulted), (0, 2, 0, 2, 1));
            assert_eq!(flow.by_lab.len(), 1);
            assert_eq!((flow.by_lab[0].0.as_str(), flow.by_lab[0].1.tubes), ("县疾控实验室", 1));
            assert_eq!(flow.by_site[0].0, "东关1号点");
            s.finish(store).await.unwrap();
        }
    }
    #[tokio::test]
    async fn a_lab_reports_only_tubes_received_in_its_boxes_and_reads_the_times_and_words_lab_systems_write() {
        for (s, store) in each_backend("chain_of_custody").await {
            let Testing { officer, lab_user, round, east, west, people } = testing(&store).await;
            let tube = |code: &str, site: i64, member: i64| BatchTube {
                barcode: bc(code),
                site_id: site,
                group: SamplingGroup::Resident,
                members: vec![member],
                seal: true,
                sampled_at: None,
            };
            let tubes = vec![
                tube("EA00000001", east.id, people[0]),
                tube("EA00000002", east.id, people[1]),
                tube("EA00000003", east.id, people[2]),
                tube("WE00000001", west.id, people[3]),
            ];
            officer.register_batch(round.id, tubes, None).await.unwrap();
            let lab = |name: &str| NewLab { name: name.into(), area_code: code("140121100"), daily_capacity: 20000 };
            let cdc = officer.create_lab(lab("县疾控实验室")).await.unwrap();
            let other = officer.create_lab(lab("第三方实验室")).await.unwrap();
            let send = |site: i64, label: &str, barcodes: &[&str]| NewBatch {
                round_id: round.id,
                site_id: site,
                lab_id: cdc.id,
                label: label.into(),
                barcodes: Some(barcodes.iter().map(|s| s.to_string()).collect()),
                departed_at: None,
            };
            // 东关-01 goes to the CDC lab with two tubes and arrives with one; 西关-01 is on the
            // road; EA00000003 was never boxed.
            // A box entered after the fact keeps the time on its sheet; one "leaving" tomorrow is
            // refused and changes nothing.
            let tomorrow = NewBatch {
                departed_at: Some(chrono::Utc::now() + chrono::Duration::days(1)),
                ..send(east.id, "东关-01", &["EA00000001"])
            };
            assert_eq!(officer.dispatch(tomorrow).await.refused().kind, "refused.departed_in_future");
            let left = chrono::Utc::now() - chrono::Duration::hours(3);
            let east_box = officer
                .dispatch(NewBatch { departed_at: Some(left), ..send(east.id, "东关-01", &["EA00000001", "EA00000002"]) })
                .await
                .unwrap();
            assert_eq!(east_box.departed_at.timestamp(), left.timestamp(), "{:?}", s.kind);
            officer.dispatch(send(west.id, "西关-01", &["WE00000001"])).await.unwrap();
            lab_user.receive(east_box.id, &["EA00000001".to_string()]).await.unwrap();

            // The other lab's export names a tube it never received.
            let csv = "条码,结果,检测时间\r\nEA00000001,阴性,2026-12-02 14:10\r\n";
            let report = ingest_results_csv(&lab_user, other.id, Cursor::new(csv.as_bytes().to_vec())).await.unwrap();
            let kinds = |r: &cordon_store::lab_csv::CsvReport| -> Vec<(u64, String)> {
                r.problems
                    .iter()
                    .map(|(line, _, o)| match o {
                        ResultOutcome::Refused { refusal } => (*line, refusal.to_string()),
                        other => (*line, format!("{other:?}")),
                    })
                    .collect()
            };
            assert_eq!(report.recorded, 0, "{:?}", s.kind);
            assert_eq!(kinds(&report), [(2, "refused.result_other_lab barcode=EA00000001 label=东关-01".to_string())]);

            // The CDC lab's export: the received tube is recorded at the time written without
            // seconds; the tube missing at receipt, the box on the road and the tube never boxed
            // are refused with why; the words and times lab systems write are read.
            let csv = "条码,结果,检测时间\r\n\
                       EA00000001,阴性(-),2026-12-02 14:10\r\n\
                       EA00000002,未检出,2026/12/2 14:11\r\n\
                       WE00000001,阴性,2026年12月2日 14:12\r\n\
                       EA00000003,Negative,2026-12-02T14:13:00\r\n\
                       EA00000001,阴性,下午两点\r\n\
                       EA-1,阴性,2026-12-02 14:10\r\n\
                       EA00000009,阴,2026-12-02 14:10\r\n";
            let report = ingest_results_csv(&lab_user, cdc.id, Cursor::new(csv.as_bytes().to_vec())).await.unwrap();
            assert_eq!((report.rows, report.recorded), (7, 1), "{report:?}");
            assert_eq!(
                kinds(&report),
                [
                    (3, "refused.result_tube_missing barcode=EA00000002 label=东关-01".to_string()),
                    (4, "refused.result_box_not_received barcode=WE00000001 label=西关-01".to_string()),
                    (5, "refused.result_never_boxed barcode=EA00000003".to_string()),
                    (6, "refused.csv_time value=下午两点".to_string()),
                    (7, "refused.csv_barcode_characters barcode=EA-1".to_string()),
                    (8, "refused.csv_result value=阴".to_string()),
                ]
            );
            let flow = officer.tube_flow(round.id).await.unwrap();
            assert_eq!(flow.resulted, 1);
            let at = raw_time(&s, "SELECT resulted_at FROM tubes WHERE barcode = 'EA00000001'").await;
            assert_eq!(at.to_rfc3339(), "2026-12-02T06:10:00+00:00", "14:10 Beijing time");

            // Found later and scanned in, the missing tube's result is taken.
            lab_user.receive(east_box.id, &["EA00000002".to_string()]).await.unwrap();
            let csv = "barcode,result\nEA00000002,negative\n";
            let report = ingest_results_csv(&lab_user, cdc.id, Cursor::new(csv.as_bytes().to_vec())).await.unwrap();
            assert_eq!((report.recorded, report.problems.len()), (1, 0), "{report:?}");
            s.finish(store).await.unwrap();
        }
    }
}

mod retests_and_coverage {
    use cordon_domain::access::Role;
    use cordon_domain::refusal::Refusal;
    use cordon_domain::testing::exemption::ExemptionReason;
    use cordon_domain::testing::pooling::SamplingGroup;
    use cordon_domain::testing::result::{CtValues, TubeResult};
    use cordon_domain::testing::station::ScanRefusal;
    use cordon_store::batch::BatchTube;
    use cordon_store::results::{NewLab, ResultInput, ResultOutcome};

    use super::station::{Testing, as_user, bc, qingyuan_people, round_with_two_sites, testing};
    use super::*;

    #[tokio::test]
    async fn recalled_members_are_retested_in_the_same_round_and_coverage_counts_each_person_once() {
        for (s, store) in each_backend("retests").await {
            let Testing { officer, lab_user, round, east, people, .. } = testing(&store).await;
            let pool = BatchTube {
                barcode: bc("EA00000001"),
                site_id: east.id,
                group: SamplingGroup::Resident,
                members: people[0..5].to_vec(),
                seal: true,
                sampled_at: None,
            };
            officer.register_batch(round.id, vec![pool], None).await.unwrap();
            let lab = officer
                .create_lab(NewLab { name: "县疾控实验室".into(), area_code: code("140121100"), daily_capacity: 20000 })
                .await
                .unwrap();
            let result = |code: &str, r: TubeResult| ResultInput {
                barcode: bc(code),
                round_id: Some(round.id),
                result: Some(r),
                ct: CtValues::default(),
                at: None,
            };
            let positive = lab_user.record_result(lab.id, &result("EA00000001", TubeResult::Positive)).await.unwrap();
            assert!(matches!(positive, ResultOutcome::Recorded { recalls_opened: 5, .. }), "{positive:?}");

            // The door-to-door team re-samples a recalled member alone, in the same round.
            let single = officer.open_tube(round.id, east.id, &bc("RT00000001"), SamplingGroup::Retest, None).await.unwrap();
            assert!(single.retest);
            let scanned = officer.scan(round.id, &bc("RT00000001"), people[0], Some("r1")).await.unwrap();
            assert!(scanned.tube.sealed_at.is_some(), "a single tube seals on its one swab");
            assert!(officer.scan(round.id, &bc("RT00000001"), people[0], Some("r1")).await.unwrap().repeat);
            officer.open_tube(round.id, east.id, &bc("RT00000002"), SamplingGroup::Retest, None).await.unwrap();
            let stranger = officer.scan(round.id, &bc("RT00000002"), people[9], None).await.refused();
            assert_eq!(stranger, Refusal::from(ScanRefusal::NotRecalled));
            officer.scan(round.id, &bc("RT00000002"), people[1], None).await.unwrap();
            officer.open_tube(round.id, east.id, &bc("EA00000002"), SamplingGroup::Resident, None).await.unwrap();
            let twice = officer.scan(round.id, &bc("EA00000002"), people[0], None).await.refused();
            assert_eq!(twice.kind, "refused.already_sampled", "{twice}");

            let negative = lab_user.record_result(lab.id, &result("RT00000001", TubeResult::Negative)).await.unwrap();
            assert!(matches!(negative, ResultOutcome::Recorded { recalls_closed: 1, .. }), "{negative:?}");
            let positive = lab_user.record_result(lab.id, &result("RT00000002", TubeResult::Positive)).await.unwrap();
            assert!(matches!(positive, ResultOutcome::Recorded { recalls_closed: 1, positive_persons: 1, .. }), "{positive:?}");
            let open: Vec<i64> = officer.open_recalls().await.unwrap().iter().map(|r| r.person_id).collect();
            assert_eq!(open, people[2..5].to_vec());

            // Coverage counts each person once, re-tests or not; the accounted-for are not missing.
            let area = code("140121100");
            let c = officer.coverage(round.id, &area).await.unwrap().unwrap();
            assert_eq!((c.area.expected, c.area.sampled, c.area.exempted), (20, 5, 0));
            let away = officer.exempt(round.id, people[6], ExemptionReason::Away, Some("在太原打工")).await.unwrap();
            assert_eq!((away.reason, away.note.as_deref()), (ExemptionReason::Away, Some("在太原打工")));
            let again = officer.exempt(round.id, people[6], ExemptionReason::Hospital, None).await.unwrap();
            assert_eq!(again.reason, ExemptionReason::Hospital, "marking again changes the reason");
            officer.exempt(round.id, people[7], ExemptionReason::Quarantine, None).await.unwrap();
            let sampled = officer.exempt(round.id, people[0], ExemptionReason::Away, None).await.refused();
            assert_eq!(sampled.kind, "refused.already_sampled_no_exemption");
            let c = officer.coverage(round.id, &area).await.unwrap().unwrap();
            assert_eq!((c.area.sampled, c.area.exempted, c.area.missing()), (5, 2, 13));
            let missing = officer.missing(round.id, &area, None, 100).await.unwrap();
            assert_eq!(missing.items.len(), 13);
            assert!(!missing.items.iter().any(|p| p.id == people[6] || p.id == people[0]));

            // The person in hospital turns up at the station after all: sampled, no longer exempt.
            officer.scan(round.id, &bc("EA00000002"), people[6], None).await.unwrap();
            assert!(officer.unexempt(round.id, people[7]).await.unwrap());
            assert!(!officer.unexempt(round.id, people[7]).await.unwrap());
            let c = officer.coverage(round.id, &area).await.unwrap().unwrap();
            assert_eq!((c.area.sampled, c.area.exempted, c.area.missing()), (6, 0, 14));
            let sum: i64 = c.children.iter().map(|v| v.sampled).sum();
            assert_eq!(sum, 6, "villages add up to the township");
            assert!(officer.exemptions(round.id, &area).await.unwrap().is_empty());

            // A visitor registered on the spot and sampled: expected one more, so the count of
            // the missing stays the length of their list (issue 18, item 7).
            let born = NaiveDate::from_ymd_opt(1961, 8, 2).unwrap();
            let visitor = cordon_domain::NewPerson {
                document: cordon_domain::IdDocument::Resident(cordon_domain::ResidentId::from_parts("140121", born, 997).unwrap()),
                name: cordon_domain::PersonName::parse("郝建国").unwrap(),
                sex: cordon_domain::Sex::Male,
                birth_date: born,
                phone: None,
                area_code: code("140121100201"),
                address: Some("东关村西街9号".into()),
                tags: Default::default(),
            };
            let (visitor, created) = officer.register_person(&visitor).await.unwrap();
            assert!(created);
            officer.scan(round.id, &bc("EA00000002"), visitor.id, None).await.unwrap();
            let c = officer.coverage(round.id, &area).await.unwrap().unwrap();
            let missing = officer.missing(round.id, &area, None, 100).await.unwrap();
            assert_eq!((c.area.expected, c.area.sampled, c.area.missing()), (21, 7, missing.items.len() as i64), "{:?}", s.kind);
            for v in &c.children {
                let list = officer.missing(round.id, &code(&v.area_code), None, 100).await.unwrap();
                assert_eq!(v.missing(), list.items.len() as i64, "{}", v.name);
            }
            assert_eq!(store.area(&code("140121")).await.unwrap().unwrap().population, 41, "the county counts them too");
            let elsewhere = as_user(&store, "other", Role::TestingOfficer, "140121101").await;
            assert!(matches!(
                elsewhere.exempt(round.id, people[8], ExemptionReason::Away, None).await,
                Err(cordon_store::StoreError::Forbidden(_))
            ));
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test]
    async fn results_are_refused_with_a_kind_and_pooled_negatives_share_one_audit_event() {
        use cordon_store::audit::AuditFilter;
        for (s, store) in each_backend("result_audit").await {
            let Testing { officer, lab_user, round, east, people, .. } = testing(&store).await;
            let pools: Vec<BatchTube> = (0..3)
                .map(|i| BatchTube {
                    barcode: bc(&format!("AU0000000{i}")),
                    site_id: east.id,
                    group: SamplingGroup::Resident,
                    members: people[i * 5..i * 5 + 5].to_vec(),
                    seal: true,
                    sampled_at: None,
                })
                .collect();
            officer.register_batch(round.id, pools, None).await.unwrap();
            let lab = officer
                .create_lab(NewLab { name: "县疾控实验室".into(), area_code: code("140121100"), daily_capacity: 20000 })
                .await
                .unwrap();
            let result = |code: &str, r: TubeResult| ResultInput {
                barcode: bc(code),
                round_id: None,
                result: Some(r),
                ct: CtValues::default(),
                at: None,
            };
            let out = lab_user
                .record_results(
                    lab.id,
                    &[
                        result("AU00000000", TubeResult::Negative),
                        result("AU00000001", TubeResult::Negative),
                        result("AU00000002", TubeResult::PooledSuspect),
                        result("ZZ99999999", TubeResult::Negative),
                        result("AU00000000", TubeResult::PooledSuspect),
                    ],
                )
                .await
                .unwrap();
            assert!(out[..3].iter().all(|o| matches!(o, ResultOutcome::Recorded { .. })), "{out:?}");
            assert!(
                matches!(&out[3], ResultOutcome::Refused { refusal } if refusal.to_string() == "refused.unknown_barcode barcode=ZZ99999999"),
                "{:?}",
                out[3]
            );
            assert!(
                matches!(&out[4], ResultOutcome::Refused { refusal }
                    if refusal.to_string() == "refused.result_conflict barcode=AU00000000 recorded=negative sent=pooled_suspect"),
                "{:?}",
                out[4]
            );

            // The suspect pool (five people recalled) has its own event; the two negatives one together.
            let alone = store.audit_events(&AuditFilter { entity: Some("tube".into()), ..Default::default() }, 10).await.unwrap();
            assert_eq!(alone.len(), 1, "{alone:?}");
            assert!(alone[0].after_json.as_deref().unwrap().contains("AU00000002"));
            let shared = store.audit_events(&AuditFilter { entity: Some("lab".into()), ..Default::default() }, 10).await.unwrap();
            let shared: Vec<_> = shared.iter().filter(|e| e.action == "results").collect();
            assert_eq!(shared.len(), 1, "{shared:?}");
            let listed: serde_json::Value = serde_json::from_str(shared[0].after_json.as_deref().unwrap()).unwrap();
            assert_eq!(listed["count"], 2);
            let barcodes: Vec<&str> = listed["tubes"].as_array().unwrap().iter().map(|t| t[1].as_str().unwrap()).collect();
            assert_eq!(barcodes, ["AU00000000", "AU00000001"]);
            assert_eq!(shared[0].area_code.as_deref(), Some(east.area_code.as_str()), "filed under the area the tubes share");
            s.finish(store).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_site_staggers_its_slots_and_lists_who_is_sampled_at_home() {
        use cordon_store::sites::HomeVisit;
        use cordon_store::testing::NewSite;
        for (s, store) in each_backend("sites").await {
            seed_areas(&store).await;
            import_persons(&store, Cursor::new(people_csv(40).into_bytes()), &mut Collect::default()).await.unwrap();
            store.refresh_populations().await.unwrap();
            let officer = as_user(&store, "sampler", Role::TestingOfficer, "140121100").await;
            let lab_user = as_user(&store, "lab", Role::Lab, "140121").await;
            let (round, east, _) = round_with_two_sites(&officer).await;
            let town_site = officer
                .create_site(NewSite {
                    round_id: round.id,
                    area_code: code("140121100"),
                    name: "镇中心点".into(),
                    address: "镇政府广场".into(),
                    stations: 4,
                })
                .await
                .unwrap();
            let opens = chrono::DateTime::parse_from_rfc3339("2022-04-13T18:00:00+08:00").unwrap().with_timezone(&chrono::Utc);
            let slots = officer.plan_slots(round.id, town_site.id, opens, opens + chrono::Duration::hours(2)).await.unwrap();
            let plan: Vec<(&str, i64, u32)> =
                slots.iter().map(|s| (s.label.as_str(), (s.ends_at - s.starts_at).num_minutes(), s.expected)).collect();
            assert_eq!(plan, vec![("东关村", 60, 10), ("西关村", 60, 10)]);
            let (stored, window) = officer.slots(round.id, town_site.id).await.unwrap();
            assert_eq!((stored, window), (slots.clone(), Some((opens, opens + chrono::Duration::hours(2)))));
            let replanned = officer.plan_slots(round.id, town_site.id, opens, opens + chrono::Duration::hours(4)).await.unwrap();
            assert_eq!(officer.slots(round.id, town_site.id).await.unwrap().0, replanned, "planning again replaces the slots");
            assert!(officer.plan_slots(round.id, town_site.id, opens, opens).await.is_err());
            assert!(matches!(
                lab_user.plan_slots(round.id, town_site.id, opens, opens + chrono::Duration::hours(1)).await,
                Err(cordon_store::StoreError::Forbidden(_))
            ));

            // Door to door: the recalled members of a positive pool, and (everyone here being
            // born in the 1940s) the very old not yet sampled or accounted for.
            let people = qingyuan_people(&store).await;
            let east_people: Vec<i64> = {
                let page = store.list_persons(&[code("140121100201")], &PersonFilter::default(), None, 100, today()).await.unwrap();
                page.items.iter().map(|p| p.id).collect()
            };
            assert_eq!((people.len(), east_people.len()), (20, 10));
            let pool = BatchTube {
                barcode: bc("EA00000001"),
                site_id: east.id,
                group: SamplingGroup::Resident,
                members: east_people[0..5].to_vec(),
                seal: true,
                sampled_at: None,
            };
            officer.register_batch(round.id, vec![pool], None).await.unwrap();
            let lab = officer
                .create_lab(NewLab { name: "县疾控实验室".into(), area_code: code("140121100"), daily_capacity: 20000 })
                .await
                .unwrap();
            let positive = ResultInput {
                barcode: bc("EA00000001"),
                round_id: Some(round.id),
                result: Some(TubeResult::PooledSuspect),
                ct: CtValues::default(),
                at: None,
            };
            lab_user.record_result(lab.id, &positive).await.unwrap();
            officer.exempt(round.id, east_people[9], ExemptionReason::Hospital, None).await.unwrap();
            let list = officer.door_to_door(round.id, east.id, today()).await.unwrap();
            let recalled: Vec<i64> = list.iter().filter(|(_, why)| *why == HomeVisit::Recalled).map(|(p, _)| p.id).collect();
            let cannot: Vec<i64> = list.iter().filter(|(_, why)| *why == HomeVisit::CannotCome).map(|(p, _)| p.id).collect();
            assert_eq!(recalled.iter().copied().collect::<HashSet<_>>(), east_people[0..5].iter().copied().collect());
            assert_eq!(cannot.iter().copied().collect::<HashSet<_>>(), east_people[5..9].iter().copied().collect());
            officer.open_tube(round.id, east.id, &bc("RT00000001"), SamplingGroup::Retest, None).await.unwrap();
            officer.scan(round.id, &bc("RT00000001"), east_people[0], None).await.unwrap();
            let list = officer.door_to_door(round.id, east.id, today()).await.unwrap();
            assert_eq!(list.len(), 8, "the re-sampled member is off the list while their tube is at the lab");
            s.finish(store).await.unwrap();
        }
    }
}

#[path = "store/boundaries.rs"]
mod boundaries;
#[path = "store/cases.rs"]
mod cases;
#[path = "store/checkpoints.rs"]
mod checkpoints;
#[path = "store/command.rs"]
mod command;
#[path = "store/daily.rs"]
mod daily;
#[path = "store/health_codes.rs"]
mod health_codes;
#[path = "store/hotline.rs"]
mod hotline;
#[path = "store/observation.rs"]
mod observation;
#[path = "store/supplies.rs"]
mod supplies;
#[path = "store/zones.rs"]
mod zones;
