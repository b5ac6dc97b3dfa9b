//! A scan at the station on PostgreSQL, in one transaction: the tube is locked until the commit,
//! so scans into the same tube take turns instead of refusing each other; one statement then
//! reads it with everything the rules need; `station::decide_scan` decides; the writes follow.

use chrono::{DateTime, Utc};
use cordon_domain::testing::pooling::PoolSize;
use sqlx::PgPool;

use crate::Result;
use crate::station::{
    BUMP_COUNTS, BUMP_HOUR, DROP_EXEMPTION, INSERT_SAMPLE, ScanFacts, ScanPlan, Scanned, TubeRow, UPDATE_TUBE, decide_scan, hour_of, refuse,
};

/// The tube (`$1` round, `$2` barcode) with the person (`$3`), the earlier sample the
/// tube meets, an open recall, the members, and the size of the person's household.
const SCAN_READ: &str = "SELECT t.id, t.round_id, t.barcode, t.site_id, t.area_code, t.pool_kind, t.pool_size, t.members, \
     t.household_id, t.opened_at, t.sealed_at, t.purpose, \
     p.area_code AS person_area, p.household_id AS person_household, (p.id IS NOT NULL) AS person_known, \
     e.tube_id AS earlier_tube, e.barcode AS earlier_barcode, e.site AS earlier_site, e.sampled_at AS earlier_at, \
     EXISTS (SELECT 1 FROM recalls r WHERE r.round_id = t.round_id AND r.status = 'open' AND r.person_id = $3) AS recalled, \
     ARRAY(SELECT s.person_id FROM samples s WHERE s.tube_id = t.id ORDER BY s.id) AS members_now, \
     (SELECT COUNT(*) FROM persons h WHERE h.household_id = p.household_id) AS household_size \
     FROM tubes t LEFT JOIN persons p ON p.id = $3 \
     LEFT JOIN LATERAL (SELECT s.tube_id, tt.barcode, st.name AS site, s.sampled_at FROM samples s \
        JOIN tubes tt ON tt.id = s.tube_id JOIN sampling_sites st ON st.id = tt.site_id \
        WHERE s.round_id + 0 = t.round_id AND s.person_id = $3 \
        AND ((s.kind = 'round' AND t.purpose <> 'retest') OR s.tube_id = t.id) LIMIT 1) e ON TRUE \
     WHERE t.round_id = $1 AND t.barcode = $2";

/// Locks the tube until the commit. Its own statement: a statement that waits for a lock reads
/// its subqueries as they were before it waited, so the read follows the lock.
const LOCK_TUBE: &str = "SELECT id FROM tubes WHERE round_id = $1 AND barcode = $2 FOR UPDATE";

#[derive(sqlx::FromRow)]
struct ScanRead {
    #[sqlx(flatten)]
    tube: TubeRow,
    person_area: Option<String>,
    person_household: Option<i64>,
    person_known: bool,
    earlier_tube: Option<i64>,
    earlier_barcode: Option<String>,
    earlier_site: Option<String>,
    earlier_at: Option<DateTime<Utc>>,
    recalled: bool,
    members_now: Vec<i64>,
    household_size: Option<i64>,
}

/// [`crate::Store::scan`] on PostgreSQL.
pub(crate) async fn scan(
    pool: &PgPool,
    round_id: i64,
    barcode: &str,
    person_id: i64,
    client_id: Option<&str>,
    inside: &(dyn Fn(&str) -> Result<()> + Sync),
) -> Result<Scanned> {
    let mut tx = pool.begin().await?;
    sqlx::query(LOCK_TUBE).bind(round_id).bind(barcode).execute(&mut *tx).await?;
    let read: Option<ScanRead> = sqlx::query_as(SCAN_READ).bind(round_id).bind(barcode).bind(person_id).fetch_optional(&mut *tx).await?;
    let Some(r) = read else {
        return Err(refuse::unknown_tube(barcode).into());
    };
    inside(&r.tube.area_code)?;
    let person = match (r.person_known, r.person_area) {
        (true, Some(area)) => Some((area, r.person_household)),
        _ => None,
    };
    let earlier = match (r.earlier_tube, r.earlier_barcode, r.earlier_site, r.earlier_at) {
        (Some(t), Some(b), Some(s), Some(at)) => Some((t, b, s, at)),
        _ => None,
    };
    let household_size = match (r.tube.pool(), r.person_household) {
        (PoolSize::Household, Some(_)) => r.household_size.unwrap_or(1) as usize,
        _ => 1,
    };
    let recalled = r.tube.retest() && r.recalled;
    let facts = ScanFacts { row: r.tube, person, earlier, recalled, members: r.members_now, household_size };
    let w = match decide_scan(facts, person_id)? {
        ScanPlan::Answer(scanned) => return Ok(scanned),
        ScanPlan::Write(w) => w,
    };
    // The tube is locked: it is as read (the check stays, to be sure).
    let changed = sqlx::query(UPDATE_TUBE)
        .bind(w.tube_after.sealed_at)
        .bind(w.household)
        .bind(w.pool_size)
        .bind(w.tube_after.id)
        .bind(w.members_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(refuse::busy(&w.tube_after.barcode).into());
    }
    let added = sqlx::query(sqlx::AssertSqlSafe(INSERT_SAMPLE.as_str()))
        .bind(round_id)
        .bind(w.tube_after.id)
        .bind(person_id)
        .bind(&w.person_area)
        .bind(w.now)
        .bind(client_id)
        .bind(w.tube_after.sample_kind())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if added == 0 {
        // Sampled elsewhere a moment ago: the transaction rolls back, the tube as it was.
        return Err(refuse::busy(&w.tube_after.barcode).into());
    }
    if !w.tube_after.retest {
        let dropped: Option<(String,)> = sqlx::query_as(DROP_EXEMPTION).bind(round_id).bind(person_id).fetch_optional(&mut *tx).await?;
        sqlx::query(BUMP_COUNTS).bind(round_id).bind(&w.person_area).bind(1i64).bind(-(dropped.is_some() as i64)).execute(&mut *tx).await?;
        sqlx::query(BUMP_HOUR).bind(round_id).bind(&w.person_area).bind(hour_of(w.now)).bind(1i64).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Scanned { tube: w.tube_after, after: w.after, repeat: false })
}
