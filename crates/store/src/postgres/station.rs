//! A scan at the station on PostgreSQL, in one transaction: the tube is locked until the commit,
//! so scans into the same tube take turns instead of refusing each other; one statement then
//! reads it with everything the rules need; `station::decide_scan` decides; the writes follow.

use chrono::{DateTime, Utc};
use cordon_domain::testing::pooling::PoolSize;
use sqlx::PgPool;

use crate::Result;
use crate::station::{
    BUMP_COUNTS, BUMP_HOUR, DROP_EXEMPTION, INSERT_SAMPLE, OPEN_READ, OPEN_TUBE, OpenAsk, OpenFacts, OpenPlan, ScanFacts, ScanPlan,
    Scanned, Tube, TubeRow, UPDATE_TUBE, decide_open, decide_scan, hour_of, refuse,
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

/// The columns of [`OPEN_READ`] on PostgreSQL.
#[derive(sqlx::FromRow)]
struct OpenRow {
    pool_policy: String,
    areas: Option<String>,
    site_area: Option<String>,
    #[sqlx(flatten)]
    tube: OpenTubeRow,
    tube_site: Option<String>,
}

/// The tube under the barcode, when there is one (every column null when not).
#[derive(sqlx::FromRow)]
struct OpenTubeRow {
    id: Option<i64>,
    round_id: Option<i64>,
    barcode: Option<String>,
    site_id: Option<i64>,
    area_code: Option<String>,
    pool_kind: Option<String>,
    pool_size: Option<i32>,
    members: Option<i32>,
    household_id: Option<i64>,
    opened_at: Option<DateTime<Utc>>,
    sealed_at: Option<DateTime<Utc>>,
    purpose: Option<String>,
}

impl OpenTubeRow {
    fn row(self) -> Option<TubeRow> {
        Some(TubeRow {
            id: self.id?,
            round_id: self.round_id?,
            barcode: self.barcode?,
            site_id: self.site_id?,
            area_code: self.area_code?,
            pool_kind: self.pool_kind?,
            pool_size: self.pool_size?,
            members: self.members?,
            household_id: self.household_id,
            opened_at: self.opened_at?,
            sealed_at: self.sealed_at,
            purpose: self.purpose?,
        })
    }
}

async fn open_facts(pool: &PgPool, ask: &OpenAsk) -> Result<OpenFacts> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        OPEN_READ
            .replace("{AGG}", "string_agg(a.area_code || '=' || COALESCE(a.zone_kind, ''), ',')")
            .replace("), st.area_code,", ") AS areas, st.area_code AS site_area,")
            .replace(", ts.name", ", ts.name AS tube_site")
    });
    let row: Option<OpenRow> = sqlx::query_as(sqlx::AssertSqlSafe(SQL.as_str()))
        .bind(ask.round_id)
        .bind(ask.site_id)
        .bind(&ask.barcode)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        None => OpenFacts { policy: None, areas: None, site_area: None, existing: None },
        Some(r) => {
            OpenFacts { policy: Some(r.pool_policy), areas: r.areas, site_area: r.site_area, existing: r.tube.row().zip(r.tube_site) }
        }
    })
}

/// [`crate::Store::open_tube`] on PostgreSQL: one read, the rules, the insert, and the tube read
/// back (a barcode taken in between by another request is said as it then stands).
pub(crate) async fn open_tube(pool: &PgPool, ask: &OpenAsk, inside: &(dyn Fn(&str) -> Result<()> + Sync)) -> Result<Tube> {
    let (site_area, (pool_kind, pool_size)) = match decide_open(ask, open_facts(pool, ask).await?, inside)? {
        OpenPlan::Answer(tube) => return Ok(tube),
        OpenPlan::Insert { site_area, pool } => (site_area, pool),
    };
    sqlx::query(OPEN_TUBE)
        .bind(ask.round_id)
        .bind(&ask.barcode)
        .bind(ask.site_id)
        .bind(&site_area)
        .bind(pool_kind)
        .bind(pool_size)
        .bind(ask.station.map(|s| s as i32))
        .bind(ask.collector.as_deref())
        .bind(Utc::now())
        .bind(ask.purpose())
        .execute(pool)
        .await?;
    match decide_open(ask, open_facts(pool, ask).await?, inside)? {
        OpenPlan::Answer(tube) => Ok(tube),
        OpenPlan::Insert { .. } => Err(crate::StoreError::Task("the tube opened is not there".into())),
    }
}
