//! The "raw limit" side of `cordon bench`: the same rows the product writes, with none of the
//! product's checks, decisions or audit, stored the fastest plain way each database has — on
//! SQLite by prepared one-row statements in one transaction, on PostgreSQL by `COPY` for the
//! bulk loads (one-row statements there are a round trip each, far below the machine's limit)
//! and by the same transaction's plain statements for a single request. Also the reads a
//! benchmark needs to set up.

use chrono::{DateTime, Utc};

use std::collections::HashMap;

use cordon_domain::NewPerson;

use std::fmt::Write as _;

use crate::BeginWrite as _;
use crate::postgres::copy_field;
use crate::{Backend, Result, Store, StoreError};

/// How much COPY text a raw load sends at a time.
const COPY_CHUNK: usize = 1 << 20;

/// Locks `table` for the transaction and answers the first id past the highest stored, for
/// rows COPYed with their ids; the identity is moved past them by [`ids_used`].
async fn next_ids(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, table: &str) -> Result<i64> {
    sqlx::query(sqlx::AssertSqlSafe(format!("LOCK TABLE {table} IN EXCLUSIVE MODE"))).execute(&mut **tx).await?;
    let (max,): (Option<i64>,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT MAX(id) FROM {table}"))).fetch_one(&mut **tx).await?;
    Ok(max.unwrap_or(0) + 1)
}

/// Moves `table`'s identity past `last`, the highest id COPYed in.
async fn ids_used(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, table: &str, last: i64) -> Result<()> {
    if last < 1 {
        return Ok(());
    }
    sqlx::query("SELECT setval(pg_get_serial_sequence($1, 'id'), $2)").bind(table).bind(last).execute(&mut **tx).await?;
    Ok(())
}

/// An exposure row as a bench's raw side stores it.
#[derive(Debug, Clone)]
pub struct PlainExposure {
    pub source: i64,
    pub contact: i64,
    pub kind: &'static str,
    pub degree: &'static str,
    pub area: String,
}

/// A tube with its members, as the registration benchmark writes it.
#[derive(Debug, Clone)]
pub struct PlainTube {
    pub barcode: String,
    pub site_id: i64,
    pub area_code: String,
    /// (person id, the person's area)
    pub members: Vec<(i64, String)>,
    pub at: DateTime<Utc>,
}

/// Plans each statement of a long raw transaction afresh. A foreign-key check is a cached plan;
/// planned while the referenced table was empty (a fresh benchmark database), it stays a
/// sequential scan as that table grows inside the transaction, and a million one-row INSERTs
/// turn quadratic — a trap, not the machine's limit.
async fn custom_plans(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<()> {
    sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan").execute(&mut **tx).await?;
    Ok(())
}

impl Store {
    /// Every registered person's id and area, by area and id (for generators and benchmarks).
    pub async fn people_by_area(&self) -> Result<Vec<(i64, String)>> {
        Ok(crate::with_read_pool!(self, pool =>
            sqlx::query_as("SELECT id, area_code FROM persons ORDER BY area_code, id").fetch_all(pool).await?))
    }

    /// Stores tubes and their samples in round `round_id` in one transaction: plain one-row
    /// INSERTs on SQLite, COPY on PostgreSQL. Answers the rows written.
    pub async fn insert_registrations_plain(&self, round_id: i64, tubes: Vec<PlainTube>) -> Result<u64> {
        const TUBE: &str = "INSERT INTO tubes (round_id, barcode, site_id, area_code, pool_kind, pool_size, members, opened_at, sealed_at) \
             VALUES ($1, $2, $3, $4, 'people', 10, $5, $6, $6)";
        const SAMPLE: &str = "INSERT INTO samples (round_id, tube_id, person_id, area_code, sampled_at) VALUES ($1, $2, $3, $4, $5)";
        match &*self.backend {
            Backend::Sqlite(b) => {
                b.with_bulk(move |conn| {
                    let tx = conn.transaction()?;
                    let mut n = 0u64;
                    {
                        let mut tube = tx.prepare(&crate::sqlite_sql(TUBE))?;
                        let mut sample = tx.prepare(&crate::sqlite_sql(SAMPLE))?;
                        for t in &tubes {
                            let at = t.at.to_rfc3339();
                            tube.execute(rusqlite::params![round_id, t.barcode, t.site_id, t.area_code, t.members.len() as i64, at])?;
                            let id = tx.last_insert_rowid();
                            n += 1;
                            for (person, area) in &t.members {
                                n += sample.execute(rusqlite::params![round_id, id, person, area, at])? as u64;
                            }
                        }
                    }
                    tx.commit()?;
                    Ok(n)
                })
                .await
            }
            Backend::Postgres(b) => {
                // COPY, the machine's limit for bulk rows on PostgreSQL: the tubes with ids taken
                // past the highest stored (the table is locked for the transaction), then their
                // samples, each streamed in chunks.
                let mut tx = b.pool.begin().await?;
                let first = next_ids(&mut tx, "tubes").await?;
                let mut copy = tx
                    .copy_in_raw(
                        "COPY tubes (id, round_id, barcode, site_id, area_code, pool_kind, pool_size, members, opened_at, sealed_at) FROM STDIN",
                    )
                    .await?;
                let mut buf = String::new();
                for (i, t) in tubes.iter().enumerate() {
                    let at = t.at.to_rfc3339();
                    let _ = write!(buf, "{}\t{round_id}\t", first + i as i64);
                    copy_field(&mut buf, Some(&t.barcode), false);
                    let _ = write!(buf, "{}\t", t.site_id);
                    copy_field(&mut buf, Some(&t.area_code), false);
                    let _ = writeln!(buf, "people\t10\t{}\t{at}\t{at}", t.members.len());
                    if buf.len() > COPY_CHUNK {
                        copy.send(std::mem::take(&mut buf).into_bytes()).await?;
                    }
                }
                copy.send(std::mem::take(&mut buf).into_bytes()).await?;
                let mut n = copy.finish().await?;
                let mut copy = tx.copy_in_raw("COPY samples (round_id, tube_id, person_id, area_code, sampled_at) FROM STDIN").await?;
                for (i, t) in tubes.iter().enumerate() {
                    let at = t.at.to_rfc3339();
                    for (person, area) in &t.members {
                        let _ = write!(buf, "{round_id}\t{}\t{person}\t", first + i as i64);
                        copy_field(&mut buf, Some(area), false);
                        buf.push_str(&at);
                        buf.push('\n');
                    }
                    if buf.len() > COPY_CHUNK {
                        copy.send(std::mem::take(&mut buf).into_bytes()).await?;
                    }
                }
                copy.send(buf.into_bytes()).await?;
                n += copy.finish().await?;
                ids_used(&mut tx, "tubes", first + tubes.len() as i64 - 1).await?;
                tx.commit().await?;
                Ok(n)
            }
        }
    }

    /// Sets results on tubes of round `round_id` in one transaction, and for each positive tube
    /// inserts its members' recalls: plain one-row statements on SQLite, the results COPYed into
    /// a stage and applied set-based on PostgreSQL. Answers the rows written.
    pub async fn record_results_plain(
        &self,
        round_id: i64,
        lab_id: i64,
        results: Vec<(String, &'static str, DateTime<Utc>)>,
    ) -> Result<u64> {
        const SET: &str = "UPDATE tubes SET result = $1, lab_id = $2, resulted_at = $3 WHERE round_id = $4 AND barcode = $5";
        const RECALL: &str = "INSERT INTO recalls (round_id, tube_id, person_id, area_code, status, created_at, deadline) \
             SELECT s.round_id, s.tube_id, s.person_id, s.area_code, 'open', $1, $1 FROM samples s \
             WHERE s.tube_id = (SELECT id FROM tubes WHERE round_id = $2 AND barcode = $3)";
        match &*self.backend {
            Backend::Sqlite(b) => {
                b.with_bulk(move |conn| {
                    let tx = conn.transaction()?;
                    let mut n = 0u64;
                    {
                        let mut set = tx.prepare(&crate::sqlite_sql(SET))?;
                        let mut recall = tx.prepare(&crate::sqlite_sql(RECALL))?;
                        for (barcode, result, at) in &results {
                            let at = at.to_rfc3339();
                            n += set.execute(rusqlite::params![result, lab_id, at, round_id, barcode])? as u64;
                            if *result != "negative" {
                                n += recall.execute(rusqlite::params![at, round_id, barcode])? as u64;
                            }
                        }
                    }
                    tx.commit()?;
                    Ok(n)
                })
                .await
            }
            Backend::Postgres(b) => {
                // COPY, the machine's limit for bulk rows on PostgreSQL: the results into a
                // stage, then one set-based UPDATE and the positive tubes' members' recalls.
                let mut tx = b.pool.begin().await?;
                sqlx::query("CREATE TEMP TABLE result_stage (barcode TEXT COLLATE \"C\" NOT NULL, result TEXT NOT NULL, at TIMESTAMPTZ NOT NULL) ON COMMIT DROP")
                    .execute(&mut *tx)
                    .await?;
                let mut copy = tx.copy_in_raw("COPY result_stage (barcode, result, at) FROM STDIN").await?;
                let mut buf = String::new();
                for (barcode, result, at) in &results {
                    copy_field(&mut buf, Some(barcode), false);
                    let _ = writeln!(buf, "{result}\t{}", at.to_rfc3339());
                    if buf.len() > COPY_CHUNK {
                        copy.send(std::mem::take(&mut buf).into_bytes()).await?;
                    }
                }
                copy.send(buf.into_bytes()).await?;
                copy.finish().await?;
                let mut n = sqlx::query(
                    "UPDATE tubes t SET result = s.result, lab_id = $1, resulted_at = s.at FROM result_stage s \
                     WHERE t.round_id = $2 AND t.barcode = s.barcode",
                )
                .bind(lab_id)
                .bind(round_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                n += sqlx::query(
                    "INSERT INTO recalls (round_id, tube_id, person_id, area_code, status, created_at, deadline) \
                     SELECT m.round_id, m.tube_id, m.person_id, m.area_code, 'open', s.at, s.at FROM result_stage s \
                     JOIN tubes t ON t.round_id = $1 AND t.barcode = s.barcode JOIN samples m ON m.tube_id = t.id \
                     WHERE s.result <> 'negative'",
                )
                .bind(round_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(n)
            }
        }
    }

    /// One person by primary key, the plainest read there is (the latency benchmarks' yardstick).
    pub async fn person_exists_plain(&self, id: i64) -> Result<bool> {
        let row: Option<(i64,)> = crate::with_read_pool!(self, pool =>
            sqlx::query_as("SELECT id FROM persons WHERE id = $1").bind(id).fetch_optional(pool).await?);
        Ok(row.is_some())
    }
}

impl Store {
    /// The raw limit of recording one case: its row and its infector links by plain statements
    /// in one transaction — no cluster, investigation or audit — through the door the product's
    /// case takes: SQLite's one writer (prepared statements), PostgreSQL's pool. Answers the
    /// case id.
    pub async fn insert_case_plain(&self, incident_id: i64, number: &str, area_code: &str, infectors: &[i64]) -> Result<i64> {
        let now = Utc::now();
        if let Backend::Sqlite(b) = &*self.backend {
            let (number, area_code, infectors, now) =
                (number.to_string(), area_code.to_string(), infectors.to_vec(), crate::sqlite::time(now));
            return b
                .writer
                .write(move |c| {
                    c.prepare_cached(
                        "INSERT INTO cases (incident_id, external_id, area_code, classification, how_found, origin, place, created_at, created_by) \
                         VALUES (?1, ?2, ?3, 'confirmed', 'other', 'local', 'home', ?4, 'plain')",
                    )?
                    .execute(rusqlite::params![incident_id, number, area_code, now])?;
                    let id = c.last_insert_rowid();
                    let mut link = c.prepare_cached("INSERT INTO case_links (infector_id, case_id, source) VALUES (?1, ?2, 'plain')")?;
                    for i in &infectors {
                        link.execute(rusqlite::params![i, id])?;
                    }
                    Ok(id)
                })
                .await;
        }
        Ok(crate::with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO cases (incident_id, external_id, area_code, classification, how_found, origin, place, created_at, created_by) \
                 VALUES ($1, $2, $3, 'confirmed', 'other', 'local', 'home', $4, 'plain') RETURNING id",
            )
            .bind(incident_id).bind(number).bind(area_code).bind(now).fetch_one(&mut *tx).await?;
            for i in infectors {
                sqlx::query("INSERT INTO case_links (infector_id, case_id, source) VALUES ($1, $2, 'plain')").bind(*i).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            id
        }))
    }

    /// Every person's household, for a bench to know whom a contact lives with.
    pub async fn person_households_plain(&self) -> Result<Vec<(i64, i64)>> {
        Ok(crate::with_read_pool!(self, pool =>
            sqlx::query_as("SELECT id, household_id FROM persons WHERE household_id IS NOT NULL ORDER BY id").fetch_all(pool).await?))
    }

    /// The raw limit of recording a case's contacts: the same exposure rows the product stores
    /// for them (the contacts, and the household members proposed as secondary contacts) in one
    /// transaction — no degree rule, lookup, cluster or audit — by prepared one-row INSERTs on
    /// SQLite's one writer (the door the product's case takes), and on PostgreSQL by one multi-row INSERT (one round trip; a COPY of a few dozen
    /// rows waits ~40 ms on a delayed ACK between its data and its end, a trap rather than the
    /// limit).
    pub async fn insert_exposures_plain(&self, incident_id: i64, case_id: i64, rows: &[PlainExposure], at: DateTime<Utc>) -> Result<u64> {
        const SQL: &str = "INSERT INTO exposures (incident_id, case_id, source_person_id, contact_person_id, kind, degree, first_at, last_at, status, area_code, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 'proposed', $8, $7, 'plain')";
        if rows.is_empty() {
            return Ok(0);
        }
        let b = match &*self.backend {
            Backend::Sqlite(b) => b,
            Backend::Postgres(b) => {
                let values = crate::values_placeholders(rows.len(), 5, 3);
                let sql = format!(
                    "INSERT INTO exposures (incident_id, case_id, source_person_id, contact_person_id, kind, degree, first_at, last_at, status, \
                 area_code, created_at, created_by) SELECT $1, $2, v.column1, v.column2, v.column3, v.column4, $3, $3, 'proposed', v.column5, $3, 'plain' \
                 FROM (VALUES {values}) AS v"
                );
                let mut params = vec![crate::Param::Int(incident_id), crate::Param::Int(case_id), crate::Param::Time(at)];
                for r in rows {
                    params.extend([
                        crate::Param::Int(r.source),
                        crate::Param::Int(r.contact),
                        crate::Param::Text(r.kind.into()),
                        crate::Param::Text(r.degree.into()),
                        crate::Param::Text(r.area.clone()),
                    ]);
                }
                let mut tx = b.pool.begin().await?;
                let n =
                    crate::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
                tx.commit().await?;
                return Ok(n);
            }
        };
        let (rows, at) = (rows.to_vec(), crate::sqlite::time(at));
        b.writer
            .write(move |c| {
                let mut insert = c.prepare_cached(&crate::sqlite_sql(SQL))?;
                for r in &rows {
                    insert.execute(rusqlite::params![incident_id, case_id, r.source, r.contact, r.kind, r.degree, at, r.area])?;
                }
                Ok(rows.len() as u64)
            })
            .await
    }

    /// The raw limit of "which cluster is this case in": one row by primary key.
    pub async fn case_cluster_plain(&self, case_id: i64) -> Result<Option<i64>> {
        let row: Option<(Option<i64>,)> = crate::with_read_pool!(self, pool =>
            sqlx::query_as("SELECT cluster_id FROM cases WHERE id = $1").bind(case_id).fetch_optional(pool).await?);
        Ok(row.and_then(|(c,)| c))
    }
}

impl Store {
    /// An incident row for a benchmark's raw side.
    pub async fn insert_incident_plain(&self, name: &str, area_code: &str) -> Result<i64> {
        let (id,): (i64,) = crate::with_write_pool!(self, pool => sqlx::query_as(
            "INSERT INTO incidents (name, area_code, started_at, rule_set) VALUES ($1, $2, $3, 'protocol-9') RETURNING id",
        ).bind(name).bind(area_code).bind(Utc::now()).fetch_one(pool).await?);
        Ok(id)
    }
}

/// An observation order as the schedule benchmark stores it.
#[derive(Debug, Clone)]
pub struct PlainOrder {
    pub person_id: i64,
    pub area_code: String,
    pub category: &'static str,
    pub last_exposure_at: DateTime<Utc>,
}

/// The schedule columns of one order: (id, rule set, release day, last centralized day, test
/// days, found on).
pub type ScheduleRow = (i64, String, chrono::NaiveDate, Option<chrono::NaiveDate>, String, Option<chrono::NaiveDate>);

impl Store {
    /// Observation orders awaiting transfer for a benchmark's setup, 500 rows a statement.
    pub async fn insert_orders_plain(&self, incident_id: i64, orders: &[PlainOrder]) -> Result<u64> {
        let now = Utc::now();
        let mut n = 0;
        crate::with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for chunk in orders.chunks(500) {
                let mut params = Vec::with_capacity(chunk.len() * 4);
                for o in chunk {
                    params.extend([
                        crate::Param::Int(o.person_id),
                        crate::Param::Text(o.category.to_string()),
                        crate::Param::Time(o.last_exposure_at),
                        crate::Param::Text(o.area_code.clone()),
                    ]);
                }
                let sql = format!(
                    "INSERT INTO observation_orders (incident_id, person_id, category, last_exposure_at, rule_set, status, area_code, created_at, created_by) \
                     SELECT $1, v.column1, v.column2, v.column3, 'protocol-9', 'awaiting_transfer', v.column4, $2, 'bench' FROM (VALUES {}) AS v WHERE true",
                    crate::values_placeholders(chunk.len(), 4, 2)
                );
                n += crate::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(incident_id).bind(now), params.iter()).execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(n)
    }

    /// The schedule columns of every order of an incident, by id.
    pub async fn schedule_rows_plain(&self, incident_id: i64) -> Result<Vec<ScheduleRow>> {
        Ok(crate::with_read_pool!(self, pool => sqlx::query_as(
            "SELECT id, rule_set, release_on, centralized_until, test_dates, found_on FROM observation_orders WHERE incident_id = $1 ORDER BY id",
        ).bind(incident_id).fetch_all(pool).await?))
    }

    /// Writes schedule columns by plain one-row prepared UPDATEs in one transaction.
    pub async fn update_schedules_plain(&self, rows: Vec<ScheduleRow>) -> Result<u64> {
        const SQL: &str = "UPDATE observation_orders SET rule_set = $1, release_on = $2, centralized_until = $3, test_dates = $4, found_on = $5, updated_at = $6 WHERE id = $7";
        let now = Utc::now();
        match &*self.backend {
            Backend::Sqlite(b) => {
                b.with_bulk(move |conn| {
                    let tx = conn.transaction()?;
                    let mut n = 0u64;
                    {
                        let mut update = tx.prepare(&crate::sqlite_sql(SQL))?;
                        let at = crate::sqlite::time(now);
                        for (id, rule, release, centralized, tests, found) in &rows {
                            let day = |d: &chrono::NaiveDate| d.format("%F").to_string();
                            n += update.execute(rusqlite::params![
                                rule,
                                day(release),
                                centralized.as_ref().map(day),
                                tests,
                                found.as_ref().map(day),
                                at,
                                id
                            ])? as u64;
                        }
                    }
                    tx.commit()?;
                    Ok(n)
                })
                .await
            }
            Backend::Postgres(b) => {
                let mut tx = b.pool.begin().await?;
                custom_plans(&mut tx).await?;
                let mut n = 0u64;
                for (id, rule, release, centralized, tests, found) in &rows {
                    n += sqlx::query(SQL)
                        .bind(rule)
                        .bind(release)
                        .bind(centralized)
                        .bind(tests)
                        .bind(found)
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                tx.commit().await?;
                Ok(n)
            }
        }
    }

    /// Fills three rooms in five (a benchmark's occupancy).
    pub async fn fill_rooms_plain(&self) -> Result<u64> {
        Ok(crate::with_write_pool!(self, pool => sqlx::query(
            "UPDATE rooms SET occupants = beds, status = 'occupied' WHERE id % 5 < 3",
        ).execute(pool).await?.rows_affected()))
    }
}

impl Store {
    /// The raw limit for benchmarks: the same people (and their households) in one transaction,
    /// no parsing, no staging — plain prepared one-row statements on SQLite, COPY on PostgreSQL.
    pub async fn insert_persons_plain(&self, people: Vec<NewPerson>) -> Result<u64> {
        match &*self.backend {
            Backend::Sqlite(b) => {
                let path = b.path.clone();
                tokio::task::spawn_blocking(move || -> Result<u64> {
                    let mut conn = crate::sqlite::open(&path)?;
                    let tx = conn.transaction()?;
                    let mut n = 0;
                    {
                        let mut households: HashMap<(String, String), i64> = HashMap::new();
                        let mut add_household = tx.prepare("INSERT INTO households (area_code, address) VALUES (?1, ?2)")?;
                        let mut add_person = tx.prepare(&format!(
                            "INSERT INTO persons ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                            crate::bulk::PERSON_COLUMNS
                        ))?;
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
                // COPY, the machine's limit for bulk rows on PostgreSQL: the households with ids
                // taken past the highest stored, then the people naming them.
                let mut tx = b.pool.begin().await?;
                let first = next_ids(&mut tx, "households").await?;
                let mut households: HashMap<(&str, &str), i64> = HashMap::new();
                let mut copy = tx.copy_in_raw("COPY households (id, area_code, address) FROM STDIN").await?;
                let mut buf = String::new();
                for p in &people {
                    if let Some(a) = &p.address {
                        let next = first + households.len() as i64;
                        if let std::collections::hash_map::Entry::Vacant(v) = households.entry((p.area_code.as_str(), a.as_str())) {
                            v.insert(next);
                            let _ = write!(buf, "{next}\t");
                            copy_field(&mut buf, Some(p.area_code.as_str()), false);
                            copy_field(&mut buf, Some(a), true);
                        }
                    }
                    if buf.len() > COPY_CHUNK {
                        copy.send(std::mem::take(&mut buf).into_bytes()).await?;
                    }
                }
                copy.send(std::mem::take(&mut buf).into_bytes()).await?;
                copy.finish().await?;
                ids_used(&mut tx, "households", first + households.len() as i64 - 1).await?;
                let mut copy = tx.copy_in_raw(&format!("COPY persons ({}) FROM STDIN", crate::bulk::PERSON_COLUMNS)).await?;
                for p in &people {
                    let household = p.address.as_ref().map(|a| households[&(p.area_code.as_str(), a.as_str())].to_string());
                    crate::postgres::people::copy_person_head(&mut buf, p);
                    copy_field(&mut buf, household.as_deref(), false);
                    copy_field(&mut buf, Some(p.area_code.as_str()), false);
                    let _ = writeln!(buf, "{}", p.tags.bits());
                    if buf.len() > COPY_CHUNK {
                        copy.send(std::mem::take(&mut buf).into_bytes()).await?;
                    }
                }
                copy.send(buf.into_bytes()).await?;
                let n = copy.finish().await?;
                tx.commit().await?;
                Ok(n)
            }
        }
    }
}

impl Store {
    /// The raw limit for benchmarks: the same scans with nothing else — on SQLite by plain
    /// prepared INSERTs, one row each, in one transaction; on PostgreSQL by a plain `COPY`
    /// straight into the table (one-row INSERTs there run at a few thousand rows a second,
    /// hours for a city's scans, so COPY is the stricter limit).
    pub async fn insert_checkins_plain(&self, rows: Vec<crate::contacts::CheckIn>) -> Result<u64> {
        match &*self.backend {
            Backend::Sqlite(b) => {
                b.with_bulk(move |conn| {
                    let tx = conn.transaction()?;
                    {
                        let mut add =
                            tx.prepare_cached("INSERT INTO checkins (person_id, venue_id, at_s, left_s) VALUES (?1, ?2, ?3, ?4)")?;
                        for c in &rows {
                            add.execute(rusqlite::params![c.person_id, c.venue_id, c.at, c.left])?;
                        }
                    }
                    tx.commit()?;
                    Ok(rows.len() as u64)
                })
                .await
            }
            Backend::Postgres(b) => {
                let buf = crate::postgres::checkins::copy_text(&rows);
                let mut tx = b.pool.begin().await?;
                let mut copy = tx.copy_in_raw("COPY checkins (person_id, venue_id, at_s, left_s) FROM STDIN").await?;
                copy.send(buf.into_bytes()).await?;
                let n = copy.finish().await?;
                tx.commit().await?;
                Ok(n)
            }
        }
    }
}

impl Store {
    /// Makes the table of [`Store::commit_one_plain`].
    pub async fn prepare_commits_plain(&self) -> Result<()> {
        const TABLE: &str =
            "CREATE TABLE IF NOT EXISTS bench_commits (person_id BIGINT NOT NULL, client_id TEXT NOT NULL, at TEXT NOT NULL)";
        match &*self.backend {
            Backend::Sqlite(b) => b.writer.write(|c| Ok(c.execute_batch(TABLE)?)).await,
            Backend::Postgres(b) => {
                sqlx::query(TABLE).execute(&b.pool).await?;
                Ok(())
            }
        }
    }

    /// The raw side of `http_register`: one row committed per request through the same door a
    /// scan's writes take — the one writer on SQLite (grouped commits, without a savepoint of
    /// its own, as a scan), the pool on PostgreSQL.
    pub async fn commit_one_plain(&self, person_id: i64, client_id: String) -> Result<()> {
        let at = crate::sqlite::time(Utc::now());
        match &*self.backend {
            Backend::Sqlite(b) => {
                b.writer
                    .write_decided(move |c| {
                        c.prepare_cached("INSERT INTO bench_commits (person_id, client_id, at) VALUES (?1, ?2, ?3)")?
                            .execute(rusqlite::params![person_id, client_id, at])?;
                        Ok(())
                    })
                    .await
            }
            Backend::Postgres(b) => {
                sqlx::query("INSERT INTO bench_commits (person_id, client_id, at) VALUES ($1, $2, $3)")
                    .bind(person_id)
                    .bind(client_id)
                    .bind(at)
                    .execute(&b.pool)
                    .await?;
                Ok(())
            }
        }
    }
}

impl Store {
    /// The raw side of `zone_designate`: the same people's stored codes written by plain one-row
    /// prepared UPDATEs in one transaction.
    pub async fn update_codes_plain(&self, ids: Vec<i64>, colour: &'static str, code: String) -> Result<u64> {
        const SQL: &str = "UPDATE health_codes SET colour = $1, code = $2, changed_at = $3, computed_at = $3 WHERE person_id = $4";
        let now = Utc::now();
        match &*self.backend {
            Backend::Sqlite(b) => {
                b.with_bulk(move |conn| {
                    let tx = conn.transaction()?;
                    let mut n = 0u64;
                    {
                        let mut update = tx.prepare(&crate::sqlite_sql(SQL))?;
                        let at = crate::sqlite::time(now);
                        for id in &ids {
                            n += update.execute(rusqlite::params![colour, code, at, id])? as u64;
                        }
                    }
                    tx.commit()?;
                    Ok(n)
                })
                .await
            }
            Backend::Postgres(b) => {
                let mut tx = b.pool.begin().await?;
                custom_plans(&mut tx).await?;
                let mut n = 0u64;
                for id in &ids {
                    n += sqlx::query(SQL).bind(colour).bind(&code).bind(now).bind(id).execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(n)
            }
        }
    }

    /// `n` more people made by SQL alone, for a look-up at a scale no generator holds in memory:
    /// passport numbers `X` and 17 digits, living in `area_code`, each with a green code stored.
    /// A million a transaction.
    pub async fn insert_coded_people_plain(&self, n: i64, area_code: &str) -> Result<u64> {
        const CHUNK: i64 = 1_000_000;
        let now = Utc::now();
        let green = r#"{"colour":"green","reasons":[]}"#;
        let mut done = 0;
        while done < n {
            let (from, to) = (done + 1, (done + CHUNK).min(n));
            crate::with_write_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                let people = if self.kind() == crate::BackendKind::Postgres {
                    "INSERT INTO persons (id_kind, id_number, id_tail, name, sex, birth_date, area_code, tags) \
                     SELECT 'passport', 'X' || lpad(i::text, 17, '0'), lpad((i % 10000)::text, 4, '0'), '测试' || i, 'male', DATE '1980-01-01', $3, 0 \
                     FROM generate_series($1::bigint, $2::bigint) AS g(i)"
                } else {
                    "WITH RECURSIVE seq(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM seq WHERE i < $2) \
                     INSERT INTO persons (id_kind, id_number, id_tail, name, sex, birth_date, area_code, tags) \
                     SELECT 'passport', printf('X%017d', i), printf('%04d', i % 10000), '测试' || i, 'male', '1980-01-01', $3, 0 FROM seq"
                };
                sqlx::query(sqlx::AssertSqlSafe(people)).bind(from).bind(to).bind(area_code).execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO health_codes (person_id, area_code, colour, code, review_at, changed_at, computed_at) \
                     SELECT id, area_code, 'green', $1, NULL, $2, $2 FROM persons \
                     WHERE id > (SELECT COALESCE(MAX(person_id), 0) FROM health_codes)",
                ).bind(green).bind(now).execute(&mut *tx).await?;
                tx.commit().await?;
            });
            done = to;
        }
        Ok(n as u64)
    }
}

impl Store {
    /// Passages logged at checkpoint `id`.
    pub async fn passages_plain(&self, id: i64) -> Result<u64> {
        let (n,): (i64,) = crate::with_read_pool!(self, pool => sqlx::query_as("SELECT COUNT(*) FROM passages WHERE checkpoint_id = $1")
            .bind(id).fetch_one(pool).await?);
        Ok(n as u64)
    }
}

/// A hotline ticket as the board benchmark seeds it: its village, category, status and due time.
pub struct PlainTicket {
    pub area_code: String,
    pub category: &'static str,
    pub status: &'static str,
    pub due_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Hotline tickets stored by plain prepared one-row INSERTs in one transaction (the board
    /// benchmark's setup), each dispatched to its own village.
    pub async fn insert_tickets_plain(&self, rows: &[PlainTicket], at: DateTime<Utc>) -> Result<u64> {
        const SQL: &str = "INSERT INTO hotline_tickets (channel, category, urgency, caller, phone, address, area_code, unit_area, content, \
             status, step_at, due_at, last_call_at, accepted_at, accepted_by, dispatched_at) \
             VALUES ('phone', $1, 'normal', '市民', $2, '演练地址', $3, $3, '演练', $4, $5, $6, $5, $5, 'bench', $5)";
        crate::with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (i, r) in rows.iter().enumerate() {
                sqlx::query(SQL).bind(r.category).bind(format!("139{:08}", i)).bind(&r.area_code).bind(r.status).bind(at).bind(r.due_at)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(rows.len() as u64)
    }

    /// Whether hotline ticket `id` exists: a primary-key read, the board benchmark's raw side.
    pub async fn ticket_exists_plain(&self, id: i64) -> Result<bool> {
        let row: Option<(i64,)> = crate::with_read_pool!(self, pool =>
            sqlx::query_as("SELECT id FROM hotline_tickets WHERE id = $1").bind(id).fetch_optional(pool).await?);
        Ok(row.is_some())
    }
}

/// A stock movement as the movements benchmark writes it.
pub struct PlainMovement {
    pub kind: &'static str,
    pub item_id: i64,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub quantity: i64,
}

impl Store {
    /// Stock movements stored by plain prepared one-row INSERTs in one transaction, with none of
    /// the balances, checks or audit: the movements benchmark's raw side.
    pub async fn insert_movements_plain(&self, rows: &[PlainMovement], at: DateTime<Utc>) -> Result<u64> {
        const SQL: &str = "INSERT INTO stock_movements (kind, item_id, from_warehouse, to_warehouse, quantity, moved_at, recorded_by) \
             VALUES ($1, $2, $3, $4, $5, $6, 'bench')";
        crate::with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for r in rows {
                sqlx::query(SQL).bind(r.kind).bind(r.item_id).bind(r.from).bind(r.to).bind(r.quantity).bind(at).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(rows.len() as u64)
    }
}
