//! A scan at the station on SQLite, run whole on the one writer (`sqlite::writer`): what it
//! needs read with prepared statements on the writer's connection (so it sees the scans
//! committed with it), decided by `station::decide_scan`, written, and read back.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use super::{parse_time, time};
use crate::station::{
    BUMP_COUNTS, BUMP_HOUR, DROP_EXEMPTION, INSERT_SAMPLE, ScanFacts, ScanPlan, Scanned, TubeRow, UPDATE_TUBE, decide_scan, hour_of, refuse,
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

/// The tube (`?1` round, `?2` barcode) with the person (`?3`) and all a scan's rules read.
const SCAN_READ: &str = "SELECT t.id, t.round_id, t.barcode, t.site_id, t.area_code, t.pool_kind, t.pool_size, t.members, \
     t.household_id, t.opened_at, t.sealed_at, t.purpose, \
     p.id, p.area_code, p.household_id, \
     e.tube_id, e.barcode, e.site, e.sampled_at, \
     EXISTS (SELECT 1 FROM recalls r WHERE r.round_id = t.round_id AND r.status = 'open' AND r.person_id = ?3), \
     (SELECT group_concat(m.person_id) FROM (SELECT person_id FROM samples WHERE tube_id = t.id ORDER BY id) m), \
     CASE WHEN t.pool_kind = 'household' AND p.household_id IS NOT NULL \
          THEN (SELECT COUNT(*) FROM persons h WHERE h.household_id = p.household_id) END \
     FROM tubes t LEFT JOIN persons p ON p.id = ?3 \
     LEFT JOIN (SELECT s.tube_id, tt.barcode, st.name AS site, s.sampled_at, s.kind FROM samples s \
        JOIN tubes tt ON tt.id = s.tube_id JOIN sampling_sites st ON st.id = tt.site_id \
        WHERE s.round_id + 0 = ?1 AND s.person_id = ?3) e \
        ON ((e.kind = 'round' AND t.purpose <> 'retest') OR e.tube_id = t.id) \
     WHERE t.round_id = ?1 AND t.barcode = ?2 LIMIT 1";

/// [`crate::Store::scan`] on the writer's connection.
pub(crate) fn scan(
    c: &Connection,
    round_id: i64,
    barcode: &str,
    person_id: i64,
    client_id: Option<&str>,
    inside: &dyn Fn(&str) -> Result<()>,
) -> Result<Scanned> {
    // One statement reads all the rules need: the tube, the person, the earlier sample the tube
    // meets, an open recall, the members, and (for a household tube) the household's size.
    let mut read = c.prepare_cached(SCAN_READ)?;
    let mut rows = read.query(rusqlite::params![round_id, barcode, person_id])?;
    let Some(r) = rows.next()? else {
        return Err(refuse::unknown_tube(barcode).into());
    };
    let row = tube_row(r)?;
    inside(&row.area_code)?;
    let person: Option<(String, Option<i64>)> = match r.get::<_, Option<i64>>(12)? {
        Some(_) => Some((r.get(13)?, r.get(14)?)),
        None => None,
    };
    let earlier: Option<(i64, String, String, DateTime<Utc>)> = match r.get::<_, Option<i64>>(15)? {
        Some(tube) => Some((tube, r.get(16)?, r.get(17)?, stored_time(r.get(18)?)?)),
        None => None,
    };
    let recalled = row.retest() && r.get::<_, bool>(19)?;
    let members: Vec<i64> =
        r.get::<_, Option<String>>(20)?.map(|list| list.split(',').filter_map(|p| p.parse().ok()).collect()).unwrap_or_default();
    let household_size = match (row.pool(), person.as_ref().and_then(|p| p.1)) {
        (cordon_domain::testing::pooling::PoolSize::Household, Some(_)) => r.get::<_, i64>(21)? as usize,
        _ => 1,
    };
    drop(rows);
    let facts = ScanFacts { row, person, earlier, recalled, members, household_size };
    let w = match decide_scan(facts, person_id)? {
        ScanPlan::Answer(scanned) => return Ok(scanned),
        ScanPlan::Write(w) => w,
    };
    // Read and written on the one writer: the tube is as read (the check stays, to be sure).
    let changed = c.prepare_cached(&sqlite_sql(UPDATE_TUBE))?.execute(rusqlite::params![
        w.tube_after.sealed_at.map(time),
        w.household,
        w.pool_size,
        w.tube_after.id,
        w.members_before
    ])?;
    if changed == 0 {
        return Err(refuse::busy(&w.tube_after.barcode).into());
    }
    let now = time(w.now);
    let added = c.prepare_cached(&sqlite_sql(&INSERT_SAMPLE))?.execute(rusqlite::params![
        round_id,
        w.tube_after.id,
        person_id,
        w.person_area,
        now,
        client_id,
        w.tube_after.sample_kind()
    ])?;
    if added == 0 {
        // The writer's savepoint rolls the tube's count back with this refusal.
        return Err(refuse::busy(&w.tube_after.barcode).into());
    }
    if !w.tube_after.retest {
        let dropped = c.prepare_cached(&sqlite_sql(DROP_EXEMPTION))?.query_row([round_id, person_id], |_| Ok(())).optional()?.is_some();
        c.prepare_cached(&sqlite_sql(BUMP_COUNTS))?.execute(rusqlite::params![round_id, w.person_area, 1i64, -(dropped as i64)])?;
        c.prepare_cached(&sqlite_sql(BUMP_HOUR))?.execute(rusqlite::params![round_id, w.person_area, time(hour_of(w.now)), 1i64])?;
    }
    Ok(Scanned { tube: w.tube_after, after: w.after, repeat: false })
}
