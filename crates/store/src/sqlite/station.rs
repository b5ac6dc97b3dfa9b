//! A scan at the station on SQLite, run whole on the one writer (`sqlite::writer`): what it
//! needs read with prepared statements on the writer's connection (so it sees the scans
//! committed with it), decided by `station::decide_scan`, written, and read back.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use super::writer::Tallies;
use super::{parse_time, time};
use crate::station::{
    DROP_EXEMPTION, INSERT_SAMPLE, OPEN_READ, OPEN_TUBE, OpenAsk, OpenFacts, OpenPlan, ScanFacts, ScanPlan, Scanned, Tube, TubeRow,
    UPDATE_TUBE, decide_open, decide_scan, hour_of, opened, refuse,
};
use crate::{Result, sqlite_sql};

fn stored_time(text: String) -> rusqlite::Result<DateTime<Utc>> {
    parse_time(&text).ok_or_else(|| rusqlite::Error::InvalidColumnType(0, text, rusqlite::types::Type::Text))
}

fn tube_row(r: &Row<'_>) -> rusqlite::Result<TubeRow> {
    tube_row_at(r, 0)
}

/// A tube's columns (`TUBE_COLUMNS`' order) from column `at` on.
fn tube_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<TubeRow> {
    Ok(TubeRow {
        id: r.get(at)?,
        round_id: r.get(at + 1)?,
        barcode: r.get(at + 2)?,
        site_id: r.get(at + 3)?,
        area_code: r.get(at + 4)?,
        pool_kind: r.get(at + 5)?,
        pool_size: r.get(at + 6)?,
        members: r.get(at + 7)?,
        household_id: r.get(at + 8)?,
        opened_at: stored_time(r.get(at + 9)?)?,
        sealed_at: r.get::<_, Option<String>>(at + 10)?.map(stored_time).transpose()?,
        purpose: r.get(at + 11)?,
    })
}

/// The tube (`?1` round, `?2` barcode) with the person (`?3`), all a scan's rules read, and
/// whether the person was marked accounted for in the round. The earlier sample the tube meets
/// is named by its id alone (most people have none; [`EARLIER`] reads the rest when there is
/// one); an open recall is looked for only for a re-test tube, the household only for a
/// household tube.
const SCAN_READ: &str = "SELECT t.id, t.round_id, t.barcode, t.site_id, t.area_code, t.pool_kind, t.pool_size, t.members, \
     t.household_id, t.opened_at, t.sealed_at, t.purpose, \
     p.id, p.area_code, p.household_id, \
     (SELECT s.id FROM samples s WHERE s.round_id + 0 = ?1 AND s.person_id = ?3 \
        AND ((s.kind = 'round' AND t.purpose <> 'retest') OR s.tube_id = t.id) LIMIT 1), \
     CASE WHEN t.purpose = 'retest' \
          THEN EXISTS (SELECT 1 FROM recalls r WHERE r.round_id = t.round_id AND r.status = 'open' AND r.person_id = ?3) END, \
     CASE WHEN t.pool_kind = 'household' AND p.household_id IS NOT NULL \
          THEN (SELECT COUNT(*) FROM persons h WHERE h.household_id = p.household_id) END, \
     EXISTS (SELECT 1 FROM round_exemptions x WHERE x.round_id = ?1 AND x.person_id = ?3) \
     FROM tubes t LEFT JOIN persons p ON p.id = ?3 \
     WHERE t.round_id = ?1 AND t.barcode = ?2";

/// An earlier sample (`?1`) as a scan tells it: its tube, the tube's barcode, its site's name
/// and when it was taken.
const EARLIER: &str = "SELECT s.tube_id, tt.barcode, st.name, s.sampled_at FROM samples s \
     JOIN tubes tt ON tt.id = s.tube_id JOIN sampling_sites st ON st.id = tt.site_id WHERE s.id = ?1";

/// The shared statements in SQLite's placeholders, made once (the writer runs them thousands
/// of times a second).
struct Statements {
    update_tube: String,
    insert_sample: String,
    drop_exemption: String,
    open_read: String,
    open_tube: String,
}

static SQL: std::sync::LazyLock<Statements> = std::sync::LazyLock::new(|| Statements {
    update_tube: sqlite_sql(UPDATE_TUBE),
    insert_sample: sqlite_sql(&INSERT_SAMPLE),
    drop_exemption: sqlite_sql(DROP_EXEMPTION),
    open_read: sqlite_sql(&OPEN_READ.replace("{AGG}", "group_concat(a.area_code || '=' || IFNULL(a.zone_kind, ''), ',')")),
    open_tube: sqlite_sql(OPEN_TUBE),
});

/// [`crate::Store::scan`] on the writer's connection; the round's counts added to the group's
/// `tallies`.
pub(crate) fn scan(
    c: &Connection,
    round_id: i64,
    barcode: &str,
    person_id: i64,
    client_id: Option<&str>,
    inside: &dyn Fn(&str) -> Result<()>,
    tallies: &mut Tallies,
) -> Result<Scanned> {
    // One statement reads all the rules need: the tube, the person, the earlier sample the tube
    // meets, an open recall, and (for a household tube) the household's size.
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
    let earlier_sample: Option<i64> = r.get(15)?;
    let recalled = row.retest() && r.get::<_, Option<bool>>(16)?.unwrap_or(false);
    let household_size = match (row.pool(), person.as_ref().and_then(|p| p.1)) {
        (cordon_domain::testing::pooling::PoolSize::Household, Some(_)) => r.get::<_, i64>(17)? as usize,
        _ => 1,
    };
    let exempted: bool = r.get(18)?;
    drop(rows);
    let earlier =
        match earlier_sample {
            Some(sample) => Some(c.prepare_cached(EARLIER)?.query_row([sample], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, stored_time(r.get(3)?)?))
            })?),
            None => None,
        };
    let facts = ScanFacts { row, person, earlier, recalled, household_size };
    let w = match decide_scan(facts, person_id)? {
        ScanPlan::Answer(scanned) => return Ok(scanned),
        ScanPlan::Write(w) => w,
    };
    // Written on the one writer, which runs the scan without a savepoint of its own
    // (`Writer::write_decided`): a refusal comes before the first change. The sample first —
    // should the round already hold one for the person after all, nothing is written — then the
    // tube, which is as read (the check stays, to be sure; failing after the sample's insert,
    // it would fail the writer's whole group, nothing of it stored).
    let now = time(w.now);
    let added = c.prepare_cached(&SQL.insert_sample)?.execute(rusqlite::params![
        round_id,
        w.tube_after.id,
        person_id,
        w.person_area,
        now,
        client_id,
        w.tube_after.sample_kind()
    ])?;
    if added == 0 {
        return Err(refuse::busy(&w.tube_after.barcode).into());
    }
    let changed = c.prepare_cached(&SQL.update_tube)?.execute(rusqlite::params![
        w.tube_after.sealed_at.map(time),
        w.household,
        w.pool_size,
        w.tube_after.id,
        w.members_before
    ])?;
    if changed == 0 {
        return Err(refuse::busy(&w.tube_after.barcode).into());
    }
    if !w.tube_after.retest {
        // Sampled after all: no longer accounted for otherwise (read with the tube; most are not).
        let dropped = exempted && c.prepare_cached(&SQL.drop_exemption)?.query_row([round_id, person_id], |_| Ok(())).optional()?.is_some();
        tallies.area(round_id, &w.person_area, 1, -(dropped as i64));
        tallies.hour(round_id, &w.person_area, time(hour_of(w.now)), 1);
    }
    Ok(Scanned { tube: w.tube_after, after: w.after, repeat: false })
}

/// [`crate::Store::open_tube`] on the writer's connection: one read, the rules, the insert and
/// the tube read back; a refusal comes before the insert (`Writer::write_decided`).
pub(crate) fn open_tube(c: &Connection, ask: &OpenAsk, inside: &dyn Fn(&str) -> Result<()>) -> Result<Tube> {
    let read = |c: &Connection| -> Result<OpenFacts> {
        let mut stmt = c.prepare_cached(&SQL.open_read)?;
        let mut rows = stmt.query(rusqlite::params![ask.round_id, ask.site_id, ask.barcode])?;
        let Some(r) = rows.next()? else {
            return Ok(OpenFacts { policy: None, areas: None, site_area: None, existing: None, zone_in_force: None });
        };
        let existing = match r.get::<_, Option<i64>>(3)? {
            Some(_) => Some((tube_row_at(r, 3)?, r.get(15)?)),
            None => None,
        };
        Ok(OpenFacts { policy: r.get(0)?, areas: r.get(1)?, site_area: r.get(2)?, existing, zone_in_force: r.get(16)? })
    };
    let (site_area, (pool_kind, pool_size)) = match decide_open(ask, read(c)?, inside)? {
        OpenPlan::Answer(tube) => return Ok(tube),
        OpenPlan::Insert { site_area, pool } => (site_area, pool),
    };
    let inserted = c
        .prepare_cached(&SQL.open_tube)?
        .query_row(
            rusqlite::params![
                ask.round_id,
                ask.barcode,
                ask.site_id,
                site_area,
                pool_kind,
                pool_size,
                ask.station,
                ask.collector,
                time(Utc::now()),
                ask.purpose()
            ],
            |r| Ok((r.get::<_, i64>(0)?, stored_time(r.get(1)?)?)),
        )
        .optional()?;
    if let Some((id, opened_at)) = inserted {
        return Ok(opened(ask, site_area, (pool_kind, pool_size), id, opened_at));
    }
    // Taken a moment ago by a batch upload's connection: said as it now stands.
    match decide_open(ask, read(c)?, inside)? {
        OpenPlan::Answer(tube) => Ok(tube),
        OpenPlan::Insert { .. } => Err(crate::StoreError::Task("the tube opened is not there".into())),
    }
}
