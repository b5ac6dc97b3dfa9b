//! Scratch databases for tests and benchmarks: a fresh SQLite file or a fresh PostgreSQL database
//! created next to the one a URL names (which is never touched), dropped when done.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor, PgConnection};

#[cfg(any(test, feature = "test-support"))]
use chrono::NaiveDate;
#[cfg(any(test, feature = "test-support"))]
use cordon_domain::{AreaCode, ResidentId};

#[cfg(any(test, feature = "test-support"))]
use crate::NewArea;
use crate::{BackendKind, Result, Store};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The PostgreSQL server tests use: `TEST_PG_URL`, or the local one.
pub fn test_pg_url() -> String {
    std::env::var("TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Splits `postgres://…/db?params` into the URL before the database name, the name, and the rest.
fn split_pg_url(url: &str) -> (&str, &str, &str) {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    match base[after_scheme..].find('/') {
        Some(slash) => {
            let at = after_scheme + slash;
            (&base[..at], &base[at + 1..], query)
        }
        None => (base, "", query),
    }
}

/// A database that exists only for one test or benchmark run.
pub struct Scratch {
    pub kind: BackendKind,
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<PathBuf>,
}

impl Scratch {
    /// A new SQLite file in the system temp directory.
    pub fn sqlite(label: &str) -> Scratch {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("cordon-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("cordon.db");
        Scratch {
            kind: BackendKind::Sqlite,
            url: format!("sqlite://{}", path.display()),
            admin_url: None,
            name: String::new(),
            _dir: Some(dir),
        }
    }

    /// A new, empty database on the server of `server_url`.
    pub async fn postgres(server_url: &str, label: &str) -> Result<Scratch> {
        let (base, _, query) = split_pg_url(server_url);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name =
            format!("cordon_t_{}_{}_{}", std::process::id(), n, label.replace(|c: char| !c.is_ascii_alphanumeric(), "_")).to_lowercase();
        let name: String = name.chars().take(63).collect();
        let mut admin = PgConnection::connect(server_url).await?;
        admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\""))).await?;
        admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).await?;
        admin.close().await?;
        Ok(Scratch {
            kind: BackendKind::Postgres,
            url: format!("{base}/{name}{query}"),
            admin_url: Some(server_url.to_string()),
            name,
            _dir: None,
        })
    }

    /// Opens and migrates the scratch database.
    pub async fn store(&self) -> Result<Store> {
        Store::open_and_migrate(&self.url).await
    }

    /// Removes the database (closing `store` first).
    pub async fn finish(mut self, store: Store) -> Result<()> {
        store.close().await;
        if let Some(admin_url) = self.admin_url.take() {
            drop_database(&admin_url, &self.name).await?;
        }
        Ok(())
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<()> {
    let mut admin = PgConnection::connect(admin_url).await?;
    admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))).await?;
    Ok(())
}

/// A test that panics never reaches [`Scratch::finish`]: the database is dropped here instead, on
/// a thread of its own since a destructor cannot await (`WITH (FORCE)` ends the test's connections).
impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(admin_url) = self.admin_url.take() {
            let name = std::mem::take(&mut self.name);
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
                rt.block_on(drop_database(&admin_url, &name)).map_err(|e| format!("{name}: {e}"))
            })
            .join();
            if let Ok(Err(e)) = dropped {
                eprintln!("warning: scratch database not dropped: {e}");
            }
        }
        if let Some(dir) = &self._dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[cfg(any(test, feature = "test-support"))]
/// Scratch databases on every backend a test must cover: always SQLite, and PostgreSQL at
/// [`test_pg_url`]. When PostgreSQL cannot be reached the run fails under CI (`CI` set) and
/// otherwise goes on without it, saying so.
pub async fn test_scratches(label: &str) -> Vec<Scratch> {
    let mut out = vec![Scratch::sqlite(label)];
    match Scratch::postgres(&test_pg_url(), label).await {
        Ok(s) => out.push(s),
        Err(e) if std::env::var_os("CI").is_some() => panic!("PostgreSQL is required under CI: {e}"),
        Err(e) => eprintln!("warning: PostgreSQL not reachable ({e}); testing SQLite only"),
    }
    out
}

#[cfg(any(test, feature = "test-support"))]
fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).expect("valid code")
}

#[cfg(any(test, feature = "test-support"))]
/// A small county for tests: two townships of two villages each.
pub async fn seed_sample_areas(store: &Store) {
    let areas = [
        ("140121", "清徐县"),
        ("140121100", "清源镇"),
        ("140121100201", "东关村"),
        ("140121100202", "西关村"),
        ("140121101", "徐沟镇"),
        ("140121101201", "北关村"),
        ("140121101202", "南关村"),
    ];
    let areas: Vec<NewArea> = areas.iter().map(|(c, n)| NewArea { code: code(c), name: n.to_string() }).collect();
    store.upsert_areas(&areas).await.expect("sample areas stored");
}

#[cfg(any(test, feature = "test-support"))]
/// The resident id of sample person `n` (all born in 1940–2022, registered in 140121).
pub fn sample_id(n: u32) -> String {
    let birth = NaiveDate::from_ymd_opt(1940, 1, 1).expect("valid date") + chrono::Days::new(u64::from(n % 30_000));
    ResidentId::from_parts("140121", birth, (n / 30_000 % 1000) as u16).expect("valid id").to_string()
}

#[cfg(any(test, feature = "test-support"))]
/// `n` people spread over the four villages, two per household, as CSV with Chinese headers.
pub fn sample_people_csv(n: u32) -> String {
    let villages = ["140121100201", "140121100202", "140121101201", "140121101202"];
    let surnames = ["王", "李", "张", "刘"];
    let mut s = String::from("身份证号,姓名,手机号,区划代码,住址,重点人群\n");
    for i in 0..n {
        let v = villages[(i / 2) as usize % 4];
        s.push_str(&format!(
            "{},{}{},139{:08},{},{}号院,{}\n",
            sample_id(i),
            surnames[i as usize % 4],
            ["秀英", "建国", "桂兰", "志强"][(i / 4) as usize % 4],
            i,
            v,
            i / 2,
            if i % 10 == 0 { "卧床" } else { "" }
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::split_pg_url;

    #[test]
    fn pg_urls_split_around_the_database_name() {
        assert_eq!(split_pg_url("postgres://u@h:5432/db?sslmode=disable"), ("postgres://u@h:5432", "db", "?sslmode=disable"));
        assert_eq!(split_pg_url("postgres://u@h"), ("postgres://u@h", "", ""));
    }
}
