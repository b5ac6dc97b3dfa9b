//! Cordon's storage: one API in domain words over two backends, an embedded SQLite file (the
//! default) and PostgreSQL. SQL is written once where it is portable (`$1` placeholders, `ON
//! CONFLICT`); DDL and bulk ingest are per dialect.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

/// A request the rules refuse, with the values its text names: `refused!("refused.no_round", round = id)`
/// (a [`StoreError`]); the kind is the key of its text in the locale files.
macro_rules! refused {
    ($($t:tt)*) => {
        $crate::StoreError::from(cordon_domain::refusal!($($t)*))
    };
}

/// A record the request names does not exist (a case, a site, a round by its id): answered 404 by
/// the API and as "not found" by a page, with the values its text names.
macro_rules! missing {
    ($($t:tt)*) => {
        $crate::StoreError::from(cordon_domain::refusal::Refusal { class: cordon_domain::refusal::Class::Missing, ..cordon_domain::refusal!($($t)*) })
    };
}

/// The [`Refusal`] itself, for a batch that refuses some of its members and goes on.
macro_rules! refusal {
    ($($t:tt)*) => {
        cordon_domain::refusal!($($t)*)
    };
}

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod batch;
pub mod boundaries;
mod bulk;
pub mod cases;
pub mod checkins;
pub mod checkpoints;
pub mod checks;
pub mod clocks;
pub mod command;
pub mod contacts;
pub mod coverage;
pub mod daily;
pub mod decode;
pub mod exposures;
pub mod health_codes;
pub mod hotline;
pub mod import;
pub mod investigations;
pub mod lab_csv;
pub mod linelist;
pub mod observation;
mod people;
mod places;
/// The benchmark's plain baselines: the same rows written the plainest way, for `cordon bench`.
#[cfg(feature = "bench")]
pub mod plain;
#[cfg(feature = "bench")]
pub mod plain_report;
/// What runs only on PostgreSQL: the COPY paths.
mod postgres;
pub mod quarantine;
pub mod recalls;
pub mod results;
pub mod schema;
pub mod scoped;
/// Scratch databases for benchmarks, and the fixtures tests build their worlds from.
#[cfg(any(test, feature = "bench"))]
pub mod scratch;
pub mod screen;
pub mod sites;
/// What runs only on SQLite: the hot paths on the synchronous connection.
mod sqlite;
pub mod station;
pub mod supplies;
pub mod testing;
pub mod timeline;
pub mod trajectories;
pub mod transfers;
pub mod transport;
pub mod treatment;
pub mod workplaces;
pub mod zones;

pub use bulk::PersonWriter;
pub use people::{NowCase, NowContact, NowOrder, NowRecall, Person, PersonCursor, PersonFilter, PersonNow, PersonPage};
pub use places::{Area, NewArea, NewBuilding, NewGrid, NewHousehold, Table};

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value that does not read back (a failure of the system, not of the request).
    #[error("a stored value is unreadable: {0}")]
    Corrupt(String),
    /// A request the rules refuse; each face says it from its kind.
    #[error("refused: {0}")]
    Refused(Box<Refusal>),
    /// The caller's role or jurisdiction does not allow this.
    #[error("{0}")]
    Forbidden(Denied),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("background task failed: {0}")]
    Task(String),
    /// A backup or restore that cannot be done, and why.
    #[error("{0}")]
    Backup(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    /// A unique constraint the write broke (a second lab of the same name, a plate twice) is a
    /// conflict the person is told about, naming what must not repeat — never a server error.
    fn from(e: sqlx::Error) -> Self {
        match e.as_database_error().filter(|d| d.is_unique_violation()).map(|d| unique_table(d.constraint(), d.message())) {
            Some(table) => Refusal::conflict("refused.duplicate").with("what", term("unique", table)).into(),
            None => StoreError::Database(e),
        }
    }
}

/// The table a unique violation names: PostgreSQL gives the index (`labs_name`), SQLite the
/// columns in its message (`UNIQUE constraint failed: labs.name`).
fn unique_table(constraint: Option<&str>, message: &str) -> String {
    if let Some(c) = constraint {
        // Index names are the table's name and the columns': the longest known table first.
        const TABLES: [&str; 12] = [
            "transport_batches",
            "quarantine_sites",
            "workplaces",
            "hospitals",
            "vehicles",
            "persons",
            "venues",
            "users",
            "rooms",
            "cases",
            "labs",
            "tubes",
        ];
        return TABLES.iter().find(|t| c.starts_with(&format!("{t}_"))).map_or_else(|| c.to_string(), |t| t.to_string());
    }
    message.split_once("failed: ").and_then(|(_, cols)| cols.split('.').next()).unwrap_or("record").trim().to_string()
}

pub use cordon_domain::refusal::{Refusal, term};

impl From<Refusal> for StoreError {
    fn from(r: Refusal) -> Self {
        StoreError::Refused(Box::new(r))
    }
}

impl StoreError {
    /// A stored value that does not read back.
    pub(crate) fn corrupt(e: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(e.to_string())
    }

    /// The refusal, when the rules refused the request (not a failure of the system itself).
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            StoreError::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the rules refused the request, which the person asking should be told.
    pub fn is_refusal(&self) -> bool {
        self.refusal().is_some()
    }
}

/// Why a caller was refused, so that each face (API, Chinese or English page) can say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    OutsideJurisdiction { area: String, yours: Vec<String> },
    MissingPermission { role: cordon_domain::access::Role, permission: cordon_domain::access::Permission },
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denied::OutsideJurisdiction { area, yours } => {
                write!(f, "area {area} is outside your jurisdiction ({})", yours.join(", "))
            }
            Denied::MissingPermission { role, permission } => {
                write!(f, "your role ({}) does not have the permission {}", role.as_str(), permission.as_str())
            }
        }
    }
}

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

pub(crate) struct SqliteBackend {
    pub(crate) path: PathBuf,
    /// Readers: several connections in WAL mode.
    pub(crate) read: SqlitePool,
    /// The one writer connection; SQLite admits one writer at a time anyway.
    pub(crate) write: SqlitePool,
    /// A synchronous connection for set-based writes (batch registration, results), opened on
    /// first use; it takes its turn with the writer above through SQLite's lock.
    pub(crate) bulk: std::sync::Arc<std::sync::Mutex<Option<rusqlite::Connection>>>,
    /// The one writer of per-request writes, committing them in groups (`sqlite::writer`).
    pub(crate) writer: crate::sqlite::writer::Writer,
}

impl SqliteBackend {
    /// Runs `f` on the synchronous bulk connection, on a blocking thread.
    pub(crate) async fn with_bulk<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (path, conn) = (self.path.clone(), self.bulk.clone());
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StoreError::Task("bulk connection poisoned".into()))?;
            let conn = match guard.as_mut() {
                Some(c) => c,
                None => guard.insert(crate::sqlite::open(&path)?),
            };
            f(conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// A statement written with `$n` placeholders (both backends' form) as rusqlite numbers them.
pub(crate) fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

/// `$offset+1, …, $offset+n`: the placeholders of an `IN (…)` list.
pub(crate) fn list_placeholders(offset: usize, n: usize) -> String {
    (offset + 1..=offset + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `($n+1, …, $n+width), …` for `rows` rows of a multi-row `VALUES`, numbering from `$first+1`.
pub(crate) fn values_placeholders(rows: usize, width: usize, first: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", (1..=width).map(|k| format!("${}", first + r * width + k)).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) struct PgBackend {
    pub(crate) pool: PgPool,
}

pub(crate) enum Backend {
    Sqlite(SqliteBackend),
    Postgres(PgBackend),
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: std::sync::Arc<Backend>,
    /// Check-ins as a graph in memory, built on first use.
    pub(crate) contacts: std::sync::Arc<contacts::ContactIndex>,
    /// Failed sign-ins are counted one at a time: a burst of guesses in parallel counts each.
    pub(crate) sign_ins: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Stored health codes are refreshed one refresh at a time (`health_codes::refresh_codes`).
    pub(crate) codes: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Callers of bearer tokens met a moment ago (`accounts::Callers`).
    pub(crate) callers: std::sync::Arc<accounts::Callers>,
}

/// Runs `$body` with `$pool` bound to the backend's reader pool; the body is compiled once per
/// backend, so the same query text serves both.
macro_rules! with_read_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &*$store.backend {
            $crate::Backend::Sqlite(b) => {
                let $pool = &b.read;
                $body
            }
            $crate::Backend::Postgres(b) => {
                let $pool = &b.pool;
                $body
            }
        }
    };
}

/// Like [`with_read_pool`], with the writer pool.
macro_rules! with_write_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &*$store.backend {
            $crate::Backend::Sqlite(b) => {
                let $pool = &b.write;
                $body
            }
            $crate::Backend::Postgres(b) => {
                let $pool = &b.pool;
                $body
            }
        }
    };
}
pub(crate) use {with_read_pool, with_write_pool};

/// A write transaction on the writer pool of either backend. On SQLite it is `BEGIN IMMEDIATE`:
/// it holds the write lock from its first statement. A deferred one that read first and wrote
/// later would be refused outright (SQLITE_BUSY, no waiting) whenever the one writer or a bulk
/// load committed in between — under a station's load, every few milliseconds.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, Self::Db>>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.begin().await
    }
}

/// A bind parameter for SQL assembled at run time.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
    Date(chrono::NaiveDate),
    OptDate(Option<chrono::NaiveDate>),
    OptText(Option<String>),
    OptInt(Option<i64>),
    Time(chrono::DateTime<chrono::Utc>),
    OptTime(Option<chrono::DateTime<chrono::Utc>>),
    OptReal(Option<f32>),
    Real(f64),
}

/// A bind parameter as rusqlite takes it (times as the sqlx SQLite driver writes them).
pub(crate) fn param_value(p: &Param) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match p {
        Param::Text(s) => Value::Text(s.clone()),
        Param::Int(i) => Value::Integer(*i),
        Param::Date(d) => Value::Text(d.format("%F").to_string()),
        Param::OptDate(d) => d.map(|d| Value::Text(d.format("%F").to_string())).unwrap_or(Value::Null),
        Param::OptText(s) => s.clone().map(Value::Text).unwrap_or(Value::Null),
        Param::OptInt(i) => i.map(Value::Integer).unwrap_or(Value::Null),
        Param::Time(t) => Value::Text(crate::sqlite::time(*t)),
        Param::OptTime(t) => t.map(|t| Value::Text(crate::sqlite::time(t))).unwrap_or(Value::Null),
        Param::OptReal(v) => v.map(|v| Value::Real(f64::from(v))).unwrap_or(Value::Null),
        Param::Real(v) => Value::Real(*v),
    }
}

/// The SQL condition "`column` lies in one of these areas' subtrees" (one key range per area),
/// pushing its bind parameters; `None` for an empty scope, which matches nothing.
/// Stored values of a domain enum as an SQL list, `('planned', 'dispatched')`, so that a query
/// names a set the domain defines instead of repeating its words.
pub(crate) fn sql_set<T: Copy + Into<&'static str>>(values: &[T]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("'{}'", Into::<&'static str>::into(*v))).collect();
    format!("({})", quoted.join(", "))
}

pub(crate) fn in_areas(column: &str, scope: &[cordon_domain::AreaCode], params: &mut Vec<Param>) -> Option<String> {
    let ranges: Vec<String> = scope
        .iter()
        .map(|a| {
            let (lo, hi) = a.subtree_range();
            params.push(Param::Text(lo));
            params.push(Param::Text(hi));
            format!("({column} >= ${} AND {column} < ${})", params.len() - 1, params.len())
        })
        .collect();
    (!ranges.is_empty()).then(|| format!("({})", ranges.join(" OR ")))
}

/// A query of either backend (`sqlx::query` or `query_as`) that takes a [`Param`].
pub(crate) trait BindParam: Sized {
    fn bind_param(self, p: &Param) -> Self;
}

impl<'q, DB> BindParam for sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    String: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    chrono::NaiveDate: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    chrono::DateTime<chrono::Utc>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<String>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<i64>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<f32>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    f64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<chrono::NaiveDate>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<chrono::DateTime<chrono::Utc>>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    fn bind_param(self, p: &Param) -> Self {
        match p {
            Param::Text(s) => self.bind(s.clone()),
            Param::Int(i) => self.bind(*i),
            Param::Date(d) => self.bind(*d),
            Param::OptDate(d) => self.bind(*d),
            Param::OptText(s) => self.bind(s.clone()),
            Param::OptInt(i) => self.bind(*i),
            Param::Time(t) => self.bind(*t),
            Param::OptTime(t) => self.bind(*t),
            Param::OptReal(v) => self.bind(*v),
            Param::Real(v) => self.bind(*v),
        }
    }
}

impl<'q, DB, O> BindParam for sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    String: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    i64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    chrono::NaiveDate: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    chrono::DateTime<chrono::Utc>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<String>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<i64>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<f32>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    f64: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<chrono::NaiveDate>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    Option<chrono::DateTime<chrono::Utc>>: for<'t> sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    fn bind_param(self, p: &Param) -> Self {
        match p {
            Param::Text(s) => self.bind(s.clone()),
            Param::Int(i) => self.bind(*i),
            Param::Date(d) => self.bind(*d),
            Param::OptDate(d) => self.bind(*d),
            Param::OptText(s) => self.bind(s.clone()),
            Param::OptInt(i) => self.bind(*i),
            Param::Time(t) => self.bind(*t),
            Param::OptTime(t) => self.bind(*t),
            Param::OptReal(v) => self.bind(*v),
            Param::Real(v) => self.bind(*v),
        }
    }
}

/// Binds `params` in order onto a query of either backend.
pub(crate) fn bind_all<'p, Q: BindParam>(query: Q, params: impl IntoIterator<Item = &'p Param>) -> Q {
    params.into_iter().fold(query, Q::bind_param)
}

impl Store {
    /// Opens (creating when missing) the database named by `url`: `sqlite://PATH`, `sqlite:PATH`,
    /// a bare file path, or `postgres://…`. Does not migrate.
    pub async fn open(url: &str) -> Result<Store> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // JIT compiling costs ~140 ms a query and pays only for long analytical scans;
            // every query here is short, and a cost estimate inflated by missing statistics
            // would otherwise switch it on.
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::Executor::execute(conn, "SET jit = off").await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await?;
            Backend::Postgres(PgBackend { pool })
        } else {
            let path = sqlite_path(url);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                .pragma("temp_store", "memory");
            // The pool's writer as the synchronous writers (`sqlite::open`): a zone act's refresh
            // writes 100,000 codes in one transaction — with SQLite's 2 MiB cache it spilled
            // pages to the WAL before its commit, and the commit then checkpointed the lot.
            let write_opts = opts.clone().pragma("cache_size", "-262144").pragma("wal_autocheckpoint", "262144");
            let write = SqlitePoolOptions::new().max_connections(1).connect_with(write_opts).await?;
            let read = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await?;
            let writer = crate::sqlite::writer::Writer::start(&path)?;
            Backend::Sqlite(SqliteBackend { path, read, write, bulk: Default::default(), writer })
        };
        Ok(Store {
            backend: std::sync::Arc::new(backend),
            contacts: Default::default(),
            sign_ins: Default::default(),
            codes: Default::default(),
            callers: Default::default(),
        })
    }

    /// Opens, brings the schema up to date and gives roles without permissions their defaults.
    pub async fn open_and_migrate(url: &str) -> Result<Store> {
        let store = Store::open(url).await?;
        store.migrate().await?;
        store.seed_role_permissions().await?;
        Ok(store)
    }

    pub fn kind(&self) -> BackendKind {
        match &*self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Applies the pending migrations of this backend's dialect, then the checks of the enum
    /// columns generated from the domain's enums (`checks`).
    pub async fn migrate(&self) -> Result<()> {
        match &*self.backend {
            Backend::Sqlite(b) => sqlx::migrate!("./migrations/sqlite").run(&b.write).await?,
            Backend::Postgres(b) => sqlx::migrate!("./migrations/postgres").run(&b.pool).await?,
        }
        self.ensure_enum_checks().await
    }

    /// Closes every connection (SQLite checkpoints its WAL).
    pub async fn close(&self) {
        match &*self.backend {
            Backend::Sqlite(b) => {
                if let Ok(mut bulk) = b.bulk.lock() {
                    bulk.take();
                }
                b.read.close().await;
                b.write.close().await;
            }
            Backend::Postgres(b) => b.pool.close().await,
        }
    }

    /// Writes everything logged so far into the database files (SQLite: a truncating WAL
    /// checkpoint; PostgreSQL: `CHECKPOINT` and `ANALYZE`), so that a measurement that follows
    /// does not pay for the writes before it.
    pub async fn checkpoint(&self) -> Result<()> {
        match &*self.backend {
            Backend::Sqlite(b) => {
                b.with_bulk(|conn| {
                    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
                    Ok(())
                })
                .await
            }
            Backend::Postgres(b) => {
                sqlx::query("CHECKPOINT").execute(&b.pool).await?;
                // Statistics as autovacuum would have taken them by now (it may be off, or
                // behind a load of millions of rows), so that plans are those of a live server.
                sqlx::query("ANALYZE").execute(&b.pool).await?;
                Ok(())
            }
        }
    }

    /// Whether the database can answer a trivial query.
    pub async fn ping(&self) -> Result<()> {
        with_read_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ())?);
        Ok(())
    }
}

/// The file path named by a SQLite URL or a bare path.
pub fn sqlite_path(url: &str) -> PathBuf {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let rest = rest.split('?').next().unwrap_or(rest);
    Path::new(rest).to_path_buf()
}
