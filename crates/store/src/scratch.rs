//! Scratch databases for tests and benchmarks: a fresh SQLite file or a fresh PostgreSQL database
//! created next to the one a URL names (which is never touched), dropped when done.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor, PgConnection};

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
        Scratch { kind: BackendKind::Sqlite, url: format!("sqlite://{}", path.display()), admin_url: None, name: String::new(), _dir: Some(dir) }
    }

    /// A new, empty database on the server of `server_url`.
    pub async fn postgres(server_url: &str, label: &str) -> Result<Scratch> {
        let (base, _, query) = split_pg_url(server_url);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("cordon_t_{}_{}_{}", std::process::id(), n, label.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
            .to_lowercase();
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
    pub async fn finish(self, store: Store) -> Result<()> {
        store.close().await;
        if let Some(admin_url) = &self.admin_url {
            let mut admin = PgConnection::connect(admin_url).await?;
            admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))).await?;
        }
        if let Some(dir) = &self._dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(())
    }
}

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

#[cfg(test)]
mod tests {
    use super::split_pg_url;

    #[test]
    fn pg_urls_split_around_the_database_name() {
        assert_eq!(split_pg_url("postgres://u@h:5432/db?sslmode=disable"), ("postgres://u@h:5432", "db", "?sslmode=disable"));
        assert_eq!(split_pg_url("postgres://u@h"), ("postgres://u@h", "", ""));
    }
}
