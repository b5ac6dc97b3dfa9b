//! A scan at the station on SQLite, run whole on the one writer (`sqlite::writer`): what it
//! needs read with prepared statements on the writer's connection (so it sees the scans
//! committed with it), decided by `station::decide_scan`, written, and read back.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use super::{parse_time, time};
use crate::station::{
    BUMP_COUNTS, BUMP_HOUR, DROP_EXEMPTION, EARLIER_SAMPLE, INSERT_SAMPLE, ScanFacts, ScanPlan, Scanned, TUBE_COLUMNS, TUBE_MEMBERS,
    TubeRow, UPDATE_TUBE, decide_scan, hour_of, refuse,
};
use crate::{Result, sqlite_sql};

fn stored_time(text: String) -> rusqlite::Result<DateTime<Utc>> {
    parse_time(&text).ok_or_else(|| rusqlite::Error::InvalidColumnType(0, text, rusqlite::types::Type::Text))
}

fn tube_row(r: &Row<'_>) -> rusqlite::Result<TubeRow> {
    Ok(TubeRow {
        id: r.get(0)?,
        round_id: r.get(1)?,
        barcode: r.get(2)?,
        site_id: r.get(3)?,
        area_code: r.get(4)?,
        pool_kind: r.get(5)?,
        pool_size: r.get(6)?,
        members: r.get(7)?,
        household_id: r.get(8)?,
        opened_at: stored_time(r.get(9)?)?,
        sealed_at: r.get::<_, Option<String>>(10)?.map(stored_time).transpose()?,
        purpose: r.get(11)?,
    })
}

fn read_tube(c: &Connection, round_id: i64, barcode: &str) -> Result<Option<TubeRow>> {
    let mut q = c.prepare_cached(&format!("SELECT {TUBE_COLUMNS} FROM tubes WHERE round_id = ?1 AND barcode = ?2"))?;
    Ok(q.query_row(rusqlite::params![round_id, barcode], tube_row).optional()?)
}

/// [`crate::Store::scan`] on the writer's connection.
pub(crate) fn scan(
    c: &Connection,
    round_id: i64,
    barcode: &str,
    person_id: i64,
    client_id: Option<&str>,
    inside: &dyn Fn(&str) -> Result<()>,
) -> Result<Scanned> {
    let Some(row) = read_tube(c, round_id, barcode)? else {
        return Err(refuse::unknown_tube(barcode).into());
    };
    inside(&row.area_code)?;
    let person: Option<(String, Option<i64>)> = c
        .prepare_cached("SELECT area_code, household_id FROM persons WHERE id = ?1")?
        .query_row([person_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let earlier: Option<(i64, String, String, DateTime<Utc>)> = c
        .prepare_cached(&sqlite_sql(EARLIER_SAMPLE))?
        .query_row(rusqlite::params![round_id, person_id, row.sample_kind(), row.id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, stored_time(r.get(3)?)?))
        })
        .optional()?;
    let recalled = row.retest()
        && c.prepare_cached("SELECT 1 FROM recalls WHERE round_id = ?1 AND status = 'open' AND person_id = ?2")?
            .exists(rusqlite::params![round_id, person_id])?;
    let members: Vec<i64> =
        c.prepare_cached(&sqlite_sql(TUBE_MEMBERS))?.query_map([row.id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let household_size = match (row.pool(), person.as_ref().and_then(|p| p.1)) {
        (cordon_domain::testing::pooling::PoolSize::Household, Some(h)) => {
            c.prepare_cached("SELECT COUNT(*) FROM persons WHERE household_id = ?1")?.query_row([h], |r| r.get::<_, i64>(0))? as usize
        }
        _ => 1,
    };
    let facts = ScanFacts { row, person, earlier, recalled, members, household_size };
    let w = match decide_scan(facts, person_id)? {
        ScanPlan::Answer(scanned) => return Ok(scanned),
        ScanPlan::Write(w) => w,
    };
    // Read and written on the one writer: the tube is as read (the check stays, to be sure).
    let changed = c.prepare_cached(&sqlite_sql(UPDATE_TUBE))?.execute(rusqlite::params![
        w.sealed.map(time),
        w.household,
        w.pool_size,
        w.tube_id,
        w.members_before
    ])?;
    if changed == 0 {
        return Err(refuse::busy(&w.barcode).into());
    }
    let now = time(w.now);
    let added = c.prepare_cached(&sqlite_sql(&INSERT_SAMPLE))?.execute(rusqlite::params![
        round_id,
        w.tube_id,
        person_id,
        w.person_area,
        now,
        client_id,
        w.kind
    ])?;
    if added == 0 {
        // The writer's savepoint rolls the tube's count back with this refusal.
        return Err(refuse::busy(&w.barcode).into());
    }
    if !w.retest {
        let dropped = c.prepare_cached(&sqlite_sql(DROP_EXEMPTION))?.query_row([round_id, person_id], |_| Ok(())).optional()?.is_some();
        c.prepare_cached(&sqlite_sql(BUMP_COUNTS))?.execute(rusqlite::params![round_id, w.person_area, 1i64, -(dropped as i64)])?;
        c.prepare_cached(&sqlite_sql(BUMP_HOUR))?.execute(rusqlite::params![round_id, w.person_area, time(hour_of(w.now)), 1i64])?;
    }
    Ok(Scanned { tube: w.tube_after, after: w.after, repeat: false })
}
