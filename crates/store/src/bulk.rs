//! Bulk ingest of people: the fast paths behind imports and the demo generator. SQLite writes
//! through one rusqlite connection with prepared statements; PostgreSQL stages each batch with
//! `COPY` and merges it with set-based `INSERT … ON CONFLICT DO NOTHING` (idempotent, Citus-safe).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use cordon_domain::NewPerson;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use crate::{Backend, Result, Store, StoreError};

/// Writes batches of validated people; re-writing a person already stored changes nothing.
pub struct PersonWriter {
    inner: Inner,
}

enum Inner {
    // An Option so that the connection can move into a blocking task and come back.
    Sqlite(Option<SqliteBulk>),
    Postgres(PoolConnection<Postgres>),
}

struct SqliteBulk {
    conn: rusqlite::Connection,
    /// Household ids by area code, then address.
    households: HashMap<String, HashMap<String, i64>>,
}

pub(crate) fn open_rusqlite(path: &Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A large load touches index pages all over: keep them in memory (256 MiB) and let the WAL
    // grow (up to ~1 GiB) instead of checkpointing the same pages after every batch.
    conn.pragma_update(None, "cache_size", -262_144)?;
    conn.pragma_update(None, "wal_autocheckpoint", 262_144)?;
    Ok(conn)
}

const PERSON_COLUMNS: &str = "id_kind, id_number, id_tail, name, sex, birth_date, phone, household_id, area_code, tags";

impl SqliteBulk {
    fn write(&mut self, batch: &[NewPerson]) -> Result<u64> {
        let tx = self.conn.transaction()?;
        let mut inserted = 0;
        {
            let mut add_household = tx.prepare_cached(
                "INSERT INTO households (area_code, address) VALUES (?1, ?2) ON CONFLICT (area_code, address) DO NOTHING",
            )?;
            let mut find_household = tx.prepare_cached("SELECT id FROM households WHERE area_code = ?1 AND address = ?2")?;
            let mut add_person = tx.prepare_cached(&format!(
                "INSERT INTO persons ({PERSON_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (id_number) DO NOTHING"
            ))?;
            for p in batch {
                let area = p.area_code.as_str();
                let household = match &p.address {
                    None => None,
                    Some(addr) => match self.households.get(area).and_then(|m| m.get(addr.as_str())) {
                        Some(id) => Some(*id),
                        None => {
                            let id = if add_household.execute((area, addr))? == 1 {
                                tx.last_insert_rowid()
                            } else {
                                find_household.query_row((area, addr), |r| r.get(0))?
                            };
                            self.households.entry(area.to_string()).or_default().insert(addr.clone(), id);
                            Some(id)
                        }
                    },
                };
                let birth = p.birth_date.format("%Y-%m-%d").to_string();
                inserted += add_person.execute(rusqlite::params![
                    p.document.kind(),
                    p.document.number(),
                    p.document.tail4(),
                    p.name.as_str(),
                    p.sex.as_str(),
                    birth,
                    p.phone.as_ref().map(|x| x.as_str()),
                    household,
                    area,
                    p.tags.bits(),
                ])? as u64;
            }
        }
        tx.commit()?;
        Ok(inserted)
    }
}

/// Appends one field in PostgreSQL's COPY text format.
pub(crate) fn copy_field(buf: &mut String, value: Option<&str>, last: bool) {
    match value {
        None => buf.push_str("\\N"),
        Some(v) => {
            for c in v.chars() {
                match c {
                    '\\' => buf.push_str("\\\\"),
                    '\t' => buf.push_str("\\t"),
                    '\n' => buf.push_str("\\n"),
                    '\r' => buf.push_str("\\r"),
                    c => buf.push(c),
                }
            }
        }
    }
    buf.push(if last { '\n' } else { '\t' });
}

impl Store {
    /// A writer for bulk person loads. On SQLite it holds its own write connection for its life.
    pub async fn person_writer(&self) -> Result<PersonWriter> {
        let inner = match &*self.backend {
            Backend::Sqlite(b) => {
                let path = b.path.clone();
                let conn =
                    tokio::task::spawn_blocking(move || open_rusqlite(&path)).await.map_err(|e| StoreError::Task(e.to_string()))??;
                Inner::Sqlite(Some(SqliteBulk { conn, households: HashMap::new() }))
            }
            Backend::Postgres(b) => {
                let mut conn = b.pool.acquire().await?;
                sqlx::query(
                    "CREATE TEMP TABLE IF NOT EXISTS person_stage (id_kind TEXT, id_number TEXT, id_tail TEXT, \
                     name TEXT, sex TEXT, birth_date DATE, phone TEXT, area_code TEXT, address TEXT, tags BIGINT) \
                     ON COMMIT DELETE ROWS",
                )
                .execute(&mut *conn)
                .await?;
                Inner::Postgres(conn)
            }
        };
        Ok(PersonWriter { inner })
    }
}

impl PersonWriter {
    /// Stores a batch in one transaction; returns how many people were new.
    pub async fn write(&mut self, batch: Vec<NewPerson>) -> Result<u64> {
        match &mut self.inner {
            Inner::Sqlite(slot) => {
                let mut bulk = slot.take().ok_or_else(|| StoreError::Task("writer lost after an earlier failure".into()))?;
                let (bulk, result) = tokio::task::spawn_blocking(move || {
                    let r = bulk.write(&batch);
                    if r.is_err() {
                        bulk.households.clear();
                    }
                    (bulk, r)
                })
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?;
                *slot = Some(bulk);
                result
            }
            Inner::Postgres(conn) => {
                let mut buf = String::with_capacity(batch.len() * 96);
                for p in &batch {
                    let birth = p.birth_date.format("%Y-%m-%d").to_string();
                    let tags = p.tags.bits().to_string();
                    copy_field(&mut buf, Some(p.document.kind()), false);
                    copy_field(&mut buf, Some(p.document.number()), false);
                    copy_field(&mut buf, Some(&p.document.tail4()), false);
                    copy_field(&mut buf, Some(p.name.as_str()), false);
                    copy_field(&mut buf, Some(p.sex.as_str()), false);
                    copy_field(&mut buf, Some(&birth), false);
                    copy_field(&mut buf, p.phone.as_ref().map(|x| x.as_str()), false);
                    copy_field(&mut buf, Some(p.area_code.as_str()), false);
                    copy_field(&mut buf, p.address.as_deref(), false);
                    let _ = writeln!(&mut buf, "{tags}");
                }
                let mut tx = sqlx::Acquire::begin(&mut **conn).await?;
                let mut copy = tx
                    .copy_in_raw(
                        "COPY person_stage (id_kind, id_number, id_tail, name, sex, birth_date, phone, area_code, address, tags) FROM STDIN",
                    )
                    .await?;
                copy.send(buf.into_bytes()).await?;
                copy.finish().await?;
                sqlx::query(
                    "INSERT INTO households (area_code, address) SELECT DISTINCT area_code, address FROM person_stage \
                     WHERE address IS NOT NULL ON CONFLICT (area_code, address) DO NOTHING",
                )
                .execute(&mut *tx)
                .await?;
                let done = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO persons ({PERSON_COLUMNS}) SELECT s.id_kind, s.id_number, s.id_tail, s.name, s.sex, \
                     s.birth_date, s.phone, h.id, s.area_code, s.tags FROM person_stage s LEFT JOIN households h \
                     ON h.area_code = s.area_code AND h.address = s.address ON CONFLICT (id_number) DO NOTHING"
                )))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }
        }
    }
}

impl Store {
    /// The raw limit for benchmarks: the same people (and their households) stored by plain
    /// prepared statements, one row per statement, in one transaction — no parsing, no staging.
    pub async fn insert_persons_plain(&self, people: Vec<NewPerson>) -> Result<u64> {
        match &*self.backend {
            Backend::Sqlite(b) => {
                let path = b.path.clone();
                tokio::task::spawn_blocking(move || -> Result<u64> {
                    let mut conn = open_rusqlite(&path)?;
                    let tx = conn.transaction()?;
                    let mut n = 0;
                    {
                        let mut households: HashMap<(String, String), i64> = HashMap::new();
                        let mut add_household = tx.prepare("INSERT INTO households (area_code, address) VALUES (?1, ?2)")?;
                        let mut add_person = tx
                            .prepare(&format!("INSERT INTO persons ({PERSON_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"))?;
                        for p in &people {
                            let household = match &p.address {
                                None => None,
                                Some(a) => Some(match households.get(&(p.area_code.to_string(), a.clone())) {
                                    Some(id) => *id,
                                    None => {
                                        add_household.execute((p.area_code.as_str(), a))?;
                                        let id = tx.last_insert_rowid();
                                        households.insert((p.area_code.to_string(), a.clone()), id);
                                        id
                                    }
                                }),
                            };
                            n += add_person.execute(rusqlite::params![
                                p.document.kind(),
                                p.document.number(),
                                p.document.tail4(),
                                p.name.as_str(),
                                p.sex.as_str(),
                                p.birth_date.format("%Y-%m-%d").to_string(),
                                p.phone.as_ref().map(|x| x.as_str()),
                                household,
                                p.area_code.as_str(),
                                p.tags.bits(),
                            ])? as u64;
                        }
                    }
                    tx.commit()?;
                    Ok(n)
                })
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
            }
            Backend::Postgres(b) => {
                let mut tx = b.pool.begin().await?;
                let mut households: HashMap<(String, String), i64> = HashMap::new();
                let insert_person = format!("INSERT INTO persons ({PERSON_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
                let mut n = 0;
                for p in &people {
                    let household = match &p.address {
                        None => None,
                        Some(a) => Some(match households.get(&(p.area_code.to_string(), a.clone())) {
                            Some(id) => *id,
                            None => {
                                let (id,): (i64,) =
                                    sqlx::query_as("INSERT INTO households (area_code, address) VALUES ($1, $2) RETURNING id")
                                        .bind(p.area_code.as_str())
                                        .bind(a)
                                        .fetch_one(&mut *tx)
                                        .await?;
                                households.insert((p.area_code.to_string(), a.clone()), id);
                                id
                            }
                        }),
                    };
                    n += sqlx::query(sqlx::AssertSqlSafe(insert_person.as_str()))
                        .bind(p.document.kind())
                        .bind(p.document.number())
                        .bind(p.document.tail4())
                        .bind(p.name.as_str())
                        .bind(p.sex.as_str())
                        .bind(p.birth_date)
                        .bind(p.phone.as_ref().map(|x| x.as_str()))
                        .bind(household)
                        .bind(p.area_code.as_str())
                        .bind(p.tags.bits())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                tx.commit().await?;
                Ok(n)
            }
        }
    }
}
