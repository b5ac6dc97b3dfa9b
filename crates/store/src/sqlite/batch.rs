//! Batch registration on SQLite: read, decide and write inside one immediate transaction on the
//! synchronous rusqlite connection, so no other writer comes between (SQLite has one writer at a
//! time). The decisions are the portable path's (`Store::decide` in `crate::batch`).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use cordon_domain::testing::pooling::PoolSize;
use cordon_domain::testing::station::EarlierSample;

use crate::batch::{
    BatchOutcome, BatchTube, CHUNK, Ids, ROWS, Reads, Writes, households_of, people_of, read_sql, retest_people, unexempt_sql, with_ids,
};
use crate::sqlite::time as sqlite_time;
use crate::station::{BUMP_COUNTS, BUMP_HOUR, ON_ROUND_CONFLICT, TubeRow, shanghai};
use crate::testing::Round;
use crate::{Result, SqliteBackend, Store, StoreError, sqlite_sql};

/// Registers a batch on SQLite (see [`Store::register_batch`](crate::Store)).
pub(crate) async fn register(
    b: &SqliteBackend,
    round: Round,
    tubes: Vec<BatchTube>,
    collector: Option<&str>,
    client_id: Option<&str>,
) -> Result<Vec<BatchOutcome>> {
    let round_id = round.id;
    // SQLite has one writer at a time: read, decide and write inside one immediate
    // transaction on the synchronous connection, so no other writer can come between.
    let (collector, client_id) = (collector.map(str::to_string), client_id.map(str::to_string));
    b.with_bulk(move |conn| {
        let mut tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // First without looking up where each person was already sampled: the
        // unique index refuses a second round sample, and only then (someone sampled
        // elsewhere) is the batch read in full and decided again.
        let mut outcomes = None;
        for in_full in [false, true] {
            let attempt = tx.savepoint()?;
            let reads = read(&attempt, &round, &tubes, in_full)?;
            let plan = Store::decide(&round, &tubes, reads, Utc::now());
            if let Some(ids) = write(&attempt, round_id, &plan.writes, collector.as_deref(), client_id.as_deref())? {
                outcomes = Some(with_ids(plan.outcomes, &ids));
                attempt.commit()?;
                break;
            }
        }
        let outcomes =
            outcomes.ok_or_else(|| StoreError::Task("a batch read in full still conflicted inside its own transaction".into()))?;
        tx.commit()?;
        Ok(outcomes)
    })
    .await
}

/// [`Store::write_batch`](crate::Store) on SQLite through rusqlite inside the caller's transaction: the same
/// statements one row at a time (prepared once per connection). False when a row was taken.
pub(crate) fn write(
    tx: &rusqlite::Connection,
    round_id: i64,
    w: &Writes,
    collector: Option<&str>,
    client_id: Option<&str>,
) -> Result<Option<Ids>> {
    let mut ids = w.stored_ids.clone();
    {
        let mut tube = tx.prepare_cached(
            "INSERT INTO tubes (round_id, barcode, site_id, area_code, pool_kind, pool_size, members, household_id, collector, \
             opened_at, sealed_at, purpose) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (round_id, barcode) DO NOTHING",
        )?;
        for t in &w.new_tubes {
            let n = tube.execute(rusqlite::params![
                round_id,
                t.barcode,
                t.site_id,
                t.area_code,
                t.pool_kind,
                t.pool_size,
                t.members,
                t.household_id,
                collector,
                sqlite_time(t.opened_at),
                t.sealed_at.map(sqlite_time),
                t.purpose
            ])?;
            if n != 1 {
                return Ok(None); // the savepoint rolls back when dropped
            }
            ids.insert(t.barcode.clone(), tx.last_insert_rowid());
        }
        let mut change = tx.prepare_cached(
            "UPDATE tubes SET members = members + ?1, sealed_at = COALESCE(?2, sealed_at), household_id = ?3, pool_size = ?4 \
             WHERE id = ?5 AND members = ?6 AND sealed_at IS NULL",
        )?;
        for c in &w.changed {
            if change.execute(rusqlite::params![c.add, c.sealed_at.map(sqlite_time), c.household_id, c.pool_size, c.id, c.old_members])?
                != 1
            {
                return Ok(None);
            }
        }
        let mut sample = tx.prepare_cached(&format!(
            "INSERT INTO samples (round_id, tube_id, person_id, area_code, sampled_at, client_id, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7){ON_ROUND_CONFLICT}"
        ))?;
        // A tube's members share its time and id: format and look them up once per tube.
        let mut last: Option<(&str, i64, DateTime<Utc>, String)> = None;
        for (barcode, person, area, at, kind) in &w.samples {
            if last.as_ref().is_none_or(|(b, _, t, _)| *b != &**barcode || t != at) {
                let tube = *ids.get(&**barcode).ok_or_else(|| StoreError::Task(format!("tube {barcode} vanished from its batch")))?;
                last = Some((&**barcode, tube, *at, sqlite_time(*at)));
            }
            let Some((_, tube, _, at_text)) = &last else { unreachable!("set just above") };
            if sample.execute(rusqlite::params![round_id, tube, person, &**area, at_text, client_id, kind])? != 1 {
                return Ok(None);
            }
        }
        let (by_area, by_hour, people) = w.counts();
        let mut exempted: BTreeMap<String, i64> = BTreeMap::new();
        for chunk in people.chunks(CHUNK) {
            let mut unexempt = tx.prepare(&sqlite_sql(&unexempt_sql(chunk)))?;
            let mut rows = unexempt.query([round_id])?;
            while let Some(row) = rows.next()? {
                *exempted.entry(row.get::<_, String>(0)?).or_default() -= 1;
            }
        }
        let mut bump = tx.prepare_cached(&sqlite_sql(BUMP_COUNTS))?;
        let areas: std::collections::BTreeSet<&str> = by_area.keys().copied().chain(exempted.keys().map(String::as_str)).collect();
        for area in areas {
            bump.execute(rusqlite::params![
                round_id,
                area,
                by_area.get(area).copied().unwrap_or(0),
                exempted.get(area).copied().unwrap_or(0)
            ])?;
        }
        let mut hour = tx.prepare_cached(&sqlite_sql(BUMP_HOUR))?;
        for ((area, h), n) in by_hour {
            hour.execute(rusqlite::params![round_id, area, sqlite_time(h), n])?;
        }
    }
    Ok(Some(ids))
}

/// `Store::read_batch` on SQLite, inside the batch's own transaction.
pub(crate) fn read(tx: &rusqlite::Connection, round: &Round, tubes: &[BatchTube], in_full: bool) -> Result<Reads> {
    let round_id = round.id;
    let mut r = Reads::default();
    let mut stmt = tx.prepare_cached(&sqlite_sql(read_sql::SITES))?;
    let mut rows = stmt.query([round_id])?;
    while let Some(row) = rows.next()? {
        let zone: Option<String> = row.get(3)?;
        r.sites.insert(row.get(0)?, (row.get(1)?, row.get(2)?, zone.and_then(|z| z.parse().ok())));
    }
    let barcodes: Vec<String> = tubes.iter().map(|t| t.barcode.to_string()).collect();
    r.existing = tubes_by_barcode(tx, round_id, &barcodes)?;
    let existing_ids: Vec<i64> = r.existing.values().map(|t| t.id).collect();
    for chunk in existing_ids.chunks(CHUNK) {
        let mut stmt = tx.prepare(&read_sql::members(chunk))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            r.current.entry(row.get(0)?).or_default().push(row.get(1)?);
        }
    }
    for chunk in people_of(tubes).chunks(CHUNK) {
        let sql = if in_full { read_sql::persons(chunk) } else { read_sql::persons_only(chunk) };
        let mut stmt = tx.prepare(&sqlite_sql(&sql))?;
        let mut rows = if in_full { stmt.query([round_id])? } else { stmt.query([])? };
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            r.persons.insert(row.get(0)?, (row.get::<_, String>(1)?.into(), row.get(2)?));
            found.extend(row.get::<_, Option<i64>>(3)?);
        }
        if !found.is_empty() {
            let mut stmt = tx.prepare(&read_sql::earlier(&found))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let at: DateTime<Utc> = row.get(4)?;
                r.earlier.insert(row.get(0)?, (row.get(1)?, EarlierSample { barcode: row.get(2)?, site: row.get(3)?, at: shanghai(at) }));
            }
        }
    }
    for chunk in retest_people(tubes).chunks(CHUNK) {
        let mut stmt = tx.prepare(&sqlite_sql(&read_sql::recalled(chunk)))?;
        let mut rows = stmt.query([round_id])?;
        while let Some(row) = rows.next()? {
            r.recalled.insert(row.get(0)?);
        }
    }
    if round.policy.sealed == PoolSize::Household {
        for chunk in households_of(&r.persons).chunks(CHUNK) {
            let mut stmt = tx.prepare(&read_sql::household_sizes(chunk))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                r.household_sizes.insert(row.get(0)?, row.get::<_, i64>(1)? as usize);
            }
        }
    }
    Ok(r)
}

/// `Store::tubes_by_barcode` on SQLite.
pub(crate) fn tubes_by_barcode(tx: &rusqlite::Connection, round_id: i64, barcodes: &[String]) -> Result<HashMap<String, TubeRow>> {
    let mut out = HashMap::with_capacity(barcodes.len());
    for chunk in barcodes.chunks(ROWS) {
        let mut stmt = tx.prepare_cached(&sqlite_sql(&read_sql::tubes(chunk.len())))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(chunk.iter()))?;
        while let Some(row) = rows.next()? {
            let t = TubeRow {
                id: row.get(0)?,
                round_id: row.get(1)?,
                barcode: row.get(2)?,
                site_id: row.get(3)?,
                area_code: row.get(4)?,
                pool_kind: row.get(5)?,
                pool_size: row.get(6)?,
                members: row.get(7)?,
                household_id: row.get(8)?,
                opened_at: row.get(9)?,
                sealed_at: row.get(10)?,
                purpose: row.get(11)?,
            };
            if t.round_id == round_id {
                out.insert(t.barcode.clone(), t);
            }
        }
    }
    Ok(out)
}
