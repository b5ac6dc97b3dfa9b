//! A scan at the station on PostgreSQL in two statements: one reads the tube with everything the
//! rules need, `station::decide_scan` decides, one writes it all if the tube is still as read
//! (scans into the same tube that cross read again); the opening of a tube likewise.

use chrono::{DateTime, Utc};
use cordon_domain::testing::pooling::PoolSize;
use sqlx::PgPool;

use crate::Result;
use crate::station::{
    BUMP_COUNTS, BUMP_HOUR, DROP_EXEMPTION, INSERT_SAMPLE, OPEN_READ, OPEN_TUBE, OpenAsk, OpenFacts, OpenPlan, ScanFacts, ScanPlan,
    Scanned, Tube, TubeRow, UPDATE_TUBE, decide_open, decide_scan, hour_of, opened, refuse,
};

/// The tube (`$1` round, `$2` barcode) with the person (`$3`), the earlier sample the
/// tube meets, an open recall (asked only for a re-test tube), and the size of the person's
/// household.
const SCAN_READ: &str = "SELECT t.id, t.round_id, t.barcode, t.site_id, t.area_code, t.pool_kind, t.pool_size, t.members, \
     t.household_id, t.opened_at, t.sealed_at, t.purpose, \
     p.area_code AS person_area, p.household_id AS person_household, (p.id IS NOT NULL) AS person_known, \
     e.tube_id AS earlier_tube, e.barcode AS earlier_barcode, e.site AS earlier_site, e.sampled_at AS earlier_at, \
     (t.purpose = 'retest' AND EXISTS (SELECT 1 FROM recalls r WHERE r.round_id = t.round_id AND r.status = 'open' AND r.person_id = $3)) AS recalled, \
     (SELECT COUNT(*) FROM persons h WHERE h.household_id = p.household_id) AS household_size \
     FROM tubes t LEFT JOIN persons p ON p.id = $3 \
     LEFT JOIN LATERAL (SELECT s.tube_id, tt.barcode, st.name AS site, s.sampled_at FROM samples s \
        JOIN tubes tt ON tt.id = s.tube_id JOIN sampling_sites st ON st.id = tt.site_id \
        WHERE s.round_id + 0 = t.round_id AND s.person_id = $3 \
        AND ((s.kind = 'round' AND t.purpose <> 'retest') OR s.tube_id = t.id) LIMIT 1) e ON TRUE \
     WHERE t.round_id = $1 AND t.barcode = $2";

/// All of an accepted scan's writes in one statement, committed alone: the tube counted one more
/// — only if it still holds what was read and is open (`$1` sealed at, `$2` household, `$3` pool
/// size, `$4` tube, `$5` members read) —, the sample (`$6` round, `$7` person, `$8` area, `$9`
/// at, `$10` client id, `$11` kind), and for a round sample (`$12`) the person's exemption
/// dropped and the area's and the hour's (`$13`) counts — in the connection's own slot, so that
/// scans of one village on several connections do not wait for each other's commits on one
/// row. Answers whether the tube was counted.
/// A tube counted whose sample is refused (the person sampled elsewhere a moment ago) fails the
/// whole statement by a division by zero: nothing of it stays, and the scan reads again.
const WRITE_SCAN: &str = "WITH t AS ( \
       UPDATE tubes SET members = members + 1, sealed_at = $1, household_id = $2, pool_size = $3 \
       WHERE id = $4 AND members = $5 AND sealed_at IS NULL RETURNING id), \
     s AS ( \
       INSERT INTO samples (round_id, tube_id, person_id, area_code, sampled_at, client_id, kind) \
       SELECT $6, t.id, $7, $8, $9, $10, $11 FROM t \
       ON CONFLICT (round_id, person_id) WHERE kind = 'round' DO NOTHING RETURNING id), \
     x AS ( \
       DELETE FROM round_exemptions WHERE $12 AND round_id = $6 AND person_id = $7 AND EXISTS (SELECT 1 FROM s) RETURNING 1), \
     c AS ( \
       INSERT INTO round_area_counts (round_id, area_code, sampled, exempted, slot) \
       SELECT $6, $8, 1, -(SELECT COUNT(*) FROM x), pg_backend_pid() % 16 FROM s WHERE $12 \
       ON CONFLICT (round_id, area_code, slot) DO UPDATE SET sampled = round_area_counts.sampled + excluded.sampled, \
       exempted = round_area_counts.exempted + excluded.exempted), \
     h AS ( \
       INSERT INTO round_hour_counts (round_id, area_code, hour, sampled, slot) SELECT $6, $8, $13, 1, pg_backend_pid() % 16 FROM s WHERE $12 \
       ON CONFLICT (round_id, area_code, hour, slot) DO UPDATE SET sampled = round_hour_counts.sampled + excluded.sampled) \
     SELECT (SELECT COUNT(*) FROM t) = 1 AS counted, 1 / (1 - (SELECT COUNT(*) FROM t) + (SELECT COUNT(*) FROM s))::int AS guard";

/// How often a scan reads again when other scans moved its tube between its read and its write,
/// before it takes the tube's lock instead.
const ATTEMPTS: usize = 2;

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
    household_size: Option<i64>,
}

impl ScanRead {
    fn facts(self) -> ScanFacts {
        let person = match (self.person_known, self.person_area) {
            (true, Some(area)) => Some((area, self.person_household)),
            _ => None,
        };
        let earlier = match (self.earlier_tube, self.earlier_barcode, self.earlier_site, self.earlier_at) {
            (Some(t), Some(b), Some(s), Some(at)) => Some((t, b, s, at)),
            _ => None,
        };
        let household_size = match (self.tube.pool(), self.person_household) {
            (PoolSize::Household, Some(_)) => self.household_size.unwrap_or(1) as usize,
            _ => 1,
        };
        let recalled = self.tube.retest() && self.recalled;
        ScanFacts { row: self.tube, person, earlier, recalled, household_size }
    }
}

/// [`crate::Store::scan`] on PostgreSQL: two round trips, no transaction held open — one
/// statement reads what the rules need, `station::decide_scan` decides, one statement writes it
/// all ([`WRITE_SCAN`]) if the tube is still as read; else the scan reads again, and after
/// [`ATTEMPTS`] takes the tube's lock ([`scan_locked`]). Rows locked (the tube, the area's
/// counts) are held only while that statement commits.
pub(crate) async fn scan(
    pool: &PgPool,
    round_id: i64,
    barcode: &str,
    person_id: i64,
    client_id: Option<&str>,
    inside: &(dyn Fn(&str) -> Result<()> + Sync),
) -> Result<Scanned> {
    for attempt in 0..ATTEMPTS + 2 {
        if attempt == ATTEMPTS {
            match scan_locked(pool, ScanAsk { round_id, barcode, person_id, client_id }, inside).await? {
                Some(scanned) => return Ok(scanned),
                // Sampled elsewhere while it waited: read once more, and the rules say where.
                None => continue,
            }
        }
        let read: Option<ScanRead> = sqlx::query_as(SCAN_READ).bind(round_id).bind(barcode).bind(person_id).fetch_optional(pool).await?;
        let Some(r) = read else {
            return Err(refuse::unknown_tube(barcode).into());
        };
        inside(&r.tube.area_code)?;
        let w = match decide_scan(r.facts(), person_id)? {
            ScanPlan::Answer(scanned) => return Ok(scanned),
            ScanPlan::Write(w) => w,
        };
        let written: std::result::Result<(bool, i32), sqlx::Error> = sqlx::query_as(WRITE_SCAN)
            .bind(w.tube_after.sealed_at)
            .bind(w.household)
            .bind(w.pool_size)
            .bind(w.tube_after.id)
            .bind(w.members_before)
            .bind(round_id)
            .bind(person_id)
            .bind(&w.person_area)
            .bind(w.now)
            .bind(client_id)
            .bind(w.tube_after.sample_kind())
            .bind(!w.tube_after.retest)
            .bind(hour_of(w.now))
            .fetch_one(pool)
            .await;
        match written {
            Ok((true, _)) => return Ok(Scanned { tube: w.tube_after, after: w.after, repeat: false }),
            // The tube moved on since the read (another scan into it): read again.
            Ok((false, _)) => continue,
            // Sampled elsewhere since the read (22012: the guard's division by zero): read again,
            // and the rules will say where.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("22012") => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(refuse::busy(barcode).into())
}

/// What a scan asks: the round, the tube's barcode, the person, the station's id for the scan.
#[derive(Clone, Copy)]
struct ScanAsk<'a> {
    round_id: i64,
    barcode: &'a str,
    person_id: i64,
    client_id: Option<&'a str>,
}

/// A scan in one transaction that locks the tube first: scans into the same tube take turns.
/// For a scan whose tube other scans keep moving between its read and its write. None when the
/// person was sampled elsewhere meanwhile (rolled back; the caller reads again).
async fn scan_locked(pool: &PgPool, ask: ScanAsk<'_>, inside: &(dyn Fn(&str) -> Result<()> + Sync)) -> Result<Option<Scanned>> {
    let ScanAsk { round_id, barcode, person_id, client_id } = ask;
    let mut tx = pool.begin().await?;
    sqlx::query(LOCK_TUBE).bind(round_id).bind(barcode).execute(&mut *tx).await?;
    let read: Option<ScanRead> = sqlx::query_as(SCAN_READ).bind(round_id).bind(barcode).bind(person_id).fetch_optional(&mut *tx).await?;
    let Some(r) = read else {
        return Err(refuse::unknown_tube(barcode).into());
    };
    inside(&r.tube.area_code)?;
    let w = match decide_scan(r.facts(), person_id)? {
        ScanPlan::Answer(scanned) => return Ok(Some(scanned)),
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
        return Ok(None);
    }
    if !w.tube_after.retest {
        let dropped: Option<(String,)> = sqlx::query_as(DROP_EXEMPTION).bind(round_id).bind(person_id).fetch_optional(&mut *tx).await?;
        sqlx::query(BUMP_COUNTS).bind(round_id).bind(&w.person_area).bind(1i64).bind(-(dropped.is_some() as i64)).execute(&mut *tx).await?;
        sqlx::query(BUMP_HOUR).bind(round_id).bind(&w.person_area).bind(hour_of(w.now)).bind(1i64).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(Some(Scanned { tube: w.tube_after, after: w.after, repeat: false }))
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
    zone_in_force: Option<String>,
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
    static SQL: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| OPEN_READ.replace("{AGG}", "string_agg(a.area_code || '=' || COALESCE(a.zone_kind, ''), ',')"));
    let row: Option<OpenRow> = sqlx::query_as(sqlx::AssertSqlSafe(SQL.as_str()))
        .bind(ask.round_id)
        .bind(ask.site_id)
        .bind(&ask.barcode)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        None => OpenFacts { policy: None, areas: None, site_area: None, existing: None, zone_in_force: None },
        Some(r) => OpenFacts {
            policy: Some(r.pool_policy),
            areas: r.areas,
            site_area: r.site_area,
            existing: r.tube.row().zip(r.tube_site),
            zone_in_force: r.zone_in_force,
        },
    })
}

/// [`crate::Store::open_tube`] on PostgreSQL: one read, the rules, the insert, and the tube read
/// back (a barcode taken in between by another request is said as it then stands).
pub(crate) async fn open_tube(pool: &PgPool, ask: &OpenAsk, inside: &(dyn Fn(&str) -> Result<()> + Sync)) -> Result<Tube> {
    let (site_area, (pool_kind, pool_size)) = match decide_open(ask, open_facts(pool, ask).await?, inside)? {
        OpenPlan::Answer(tube) => return Ok(tube),
        OpenPlan::Insert { site_area, pool } => (site_area, pool),
    };
    let inserted: Option<(i64, chrono::DateTime<Utc>)> = sqlx::query_as(OPEN_TUBE)
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
        .fetch_optional(pool)
        .await?;
    if let Some((id, opened_at)) = inserted {
        return Ok(opened(ask, site_area, (pool_kind, pool_size), id, opened_at));
    }
    // Taken a moment ago by another request: said as it now stands.
    match decide_open(ask, open_facts(pool, ask).await?, inside)? {
        OpenPlan::Answer(tube) => Ok(tube),
        OpenPlan::Insert { .. } => Err(crate::StoreError::Task("the tube opened is not there".into())),
    }
}
