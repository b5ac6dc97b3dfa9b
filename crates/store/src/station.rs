//! Registration at the sampling station: open a tube by its barcode, scan people into it,
//! close it. Every step is safe to retry: opening the same barcode at the same site again, or
//! scanning the same person into the same tube again, answers the current state and changes
//! nothing. Refusals tell the sampler what to do.

use chrono::{DateTime, Utc};
use cordon_domain::Barcode;
use cordon_domain::testing::pooling::{PoolSize, SamplingGroup};
use cordon_domain::testing::station::{AfterScan, EarlierSample, OpenTube, ScanRefusal};
use serde::Serialize;

use crate::{Result, Store, StoreError, with_read_pool, with_write_pool};

/// A tube as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tube {
    pub id: i64,
    pub round_id: i64,
    pub barcode: String,
    pub site_id: i64,
    pub area_code: String,
    pub pool: PoolSize,
    pub members: i32,
    pub opened_at: DateTime<Utc>,
    pub sealed_at: Option<DateTime<Utc>>,
    /// A single tube re-sampling a recalled member of a positive pool.
    pub retest: bool,
}

#[derive(sqlx::FromRow)]
struct TubeRow {
    id: i64,
    round_id: i64,
    barcode: String,
    site_id: i64,
    area_code: String,
    pool_kind: String,
    pool_size: i32,
    members: i32,
    household_id: Option<i64>,
    opened_at: DateTime<Utc>,
    sealed_at: Option<DateTime<Utc>>,
    purpose: String,
}

impl TubeRow {
    fn retest(&self) -> bool {
        self.purpose == "retest"
    }
    /// The kind of the samples this tube takes.
    fn sample_kind(&self) -> &'static str {
        if self.retest() { "retest" } else { "round" }
    }
    fn pool(&self) -> PoolSize {
        if self.pool_kind == "household" { PoolSize::Household } else { PoolSize::People(self.pool_size as u8) }
    }
    fn tube(&self) -> Tube {
        Tube {
            id: self.id,
            round_id: self.round_id,
            barcode: self.barcode.clone(),
            site_id: self.site_id,
            area_code: self.area_code.clone(),
            pool: self.pool(),
            members: self.members,
            opened_at: self.opened_at,
            sealed_at: self.sealed_at,
            retest: self.retest(),
        }
    }
}

const TUBE_COLUMNS: &str =
    "id, round_id, barcode, site_id, area_code, pool_kind, pool_size, members, household_id, opened_at, sealed_at, purpose";

/// The insert of samples that keeps one round sample per person per round (re-test samples are
/// outside that rule); `$n` placeholders are appended by the caller.
const ON_ROUND_CONFLICT: &str = " ON CONFLICT (round_id, person_id) WHERE kind = 'round' DO NOTHING";

/// Adds to the maintained coverage counts of one area in a round: `$1` round, `$2` area, `$3`
/// people sampled, `$4` people exempted (either may be negative).
pub(crate) const BUMP_COUNTS: &str = "INSERT INTO round_area_counts (round_id, area_code, sampled, exempted) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (round_id, area_code) DO UPDATE SET sampled = round_area_counts.sampled + excluded.sampled, \
     exempted = round_area_counts.exempted + excluded.exempted";

/// A person sampled in the round is no longer "accounted for otherwise": drops their exemption
/// (`$1` round, `$2` person) and answers its area, when there was one.
const DROP_EXEMPTION: &str = "DELETE FROM round_exemptions WHERE round_id = $1 AND person_id = $2 RETURNING area_code";

/// Why the station cannot do what was asked; each says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum StationRefusal {
    #[error("{0}")]
    Scan(ScanRefusal),
    #[error("barcode {barcode} is already used in this round at {site} (opened {at}): use another tube")]
    BarcodeUsed { barcode: String, site: String, at: String },
    #[error("no tube {0} is open in this round: scan the tube's barcode to open it first")]
    UnknownTube(String),
    #[error("tube {0} is sealed: open a new tube")]
    Sealed(String),
    #[error("tube {0} is empty: scan someone into it before closing it")]
    Empty(String),
    #[error("tube {0} changed while scanning: scan the person again")]
    Busy(String),
    #[error("site {0} is not part of this round")]
    SiteNotInRound(i64),
    #[error("no person {0} in the register: register them first")]
    UnknownPerson(i64),
}

/// The answer to an accepted scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scanned {
    pub tube: Tube,
    pub after: AfterScan,
    /// True when this scan had already been recorded (a retry): nothing changed.
    pub repeat: bool,
}

fn shanghai(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")).format("%m-%d %H:%M").to_string()
}

impl Store {
    async fn tube_row(&self, round_id: i64, barcode: &str) -> Result<Option<TubeRow>> {
        let sql = format!("SELECT {TUBE_COLUMNS} FROM tubes WHERE round_id = $1 AND barcode = $2");
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as::<_, TubeRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(round_id).bind(barcode).fetch_optional(pool).await?))
    }

    /// A tube of a round by barcode.
    pub async fn tube(&self, round_id: i64, barcode: &Barcode) -> Result<Option<Tube>> {
        Ok(self.tube_row(round_id, barcode.as_str()).await?.map(|r| r.tube()))
    }

    /// Opens a tube at a site; the pool size comes from the round's policy for the site's zone
    /// and the group sampled. Opening it again at the same site answers the same tube.
    pub(crate) async fn open_tube(
        &self,
        round_id: i64,
        site_id: i64,
        barcode: &Barcode,
        group: SamplingGroup,
        station: Option<u32>,
        collector: Option<&str>,
    ) -> Result<Result<Tube, StationRefusal>> {
        let site: Option<(String, String)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT area_code, name FROM sampling_sites WHERE id = $1 AND round_id = $2")
                .bind(site_id).bind(round_id).fetch_optional(pool).await?);
        let Some((site_area, _)) = site else { return Ok(Err(StationRefusal::SiteNotInRound(site_id))) };
        if let Some(existing) = self.tube_row(round_id, barcode.as_str()).await? {
            return self.same_site_or_used(existing, site_id).await;
        }
        let round = self.round(round_id).await?.ok_or_else(|| StoreError::Invalid(format!("no round {round_id}")))?;
        let zone = round
            .areas
            .iter()
            .filter(|a| site_area.starts_with(&a.area_code))
            .max_by_key(|a| a.area_code.len())
            .and_then(|a| a.zone);
        let pool_size = round.policy.pool_size(zone, group);
        let (kind, size) = match pool_size {
            PoolSize::People(n) => ("people", i32::from(n)),
            PoolSize::Household => ("household", 0),
        };
        let inserted = with_write_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO tubes (round_id, barcode, site_id, area_code, pool_kind, pool_size, members, station, collector, opened_at, purpose) \
                 VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10) ON CONFLICT (round_id, barcode) DO NOTHING",
            )
            .bind(round_id).bind(barcode.as_str()).bind(site_id).bind(&site_area).bind(kind).bind(size)
            .bind(station.map(|s| s as i32)).bind(collector).bind(Utc::now())
            .bind(if group.is_retest() { "retest" } else { "round" })
            .execute(pool).await?.rows_affected()
        });
        let row = self.tube_row(round_id, barcode.as_str()).await?.ok_or_else(|| StoreError::Task("tube vanished".into()))?;
        if inserted == 1 { Ok(Ok(row.tube())) } else { self.same_site_or_used(row, site_id).await }
    }

    async fn same_site_or_used(&self, existing: TubeRow, site_id: i64) -> Result<Result<Tube, StationRefusal>> {
        if existing.site_id == site_id {
            return Ok(Ok(existing.tube()));
        }
        let (site,): (String,) = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT name FROM sampling_sites WHERE id = $1").bind(existing.site_id).fetch_one(pool).await?);
        Ok(Err(StationRefusal::BarcodeUsed { barcode: existing.barcode, site, at: shanghai(existing.opened_at) }))
    }

    /// Scans a person into an open tube. A repeat of an accepted scan answers `repeat: true`.
    pub(crate) async fn scan(
        &self,
        round_id: i64,
        barcode: &Barcode,
        person_id: i64,
        client_id: Option<&str>,
    ) -> Result<Result<Scanned, StationRefusal>> {
        let Some(row) = self.tube_row(round_id, barcode.as_str()).await? else {
            return Ok(Err(StationRefusal::UnknownTube(barcode.to_string())));
        };
        let person: Option<(String, Option<i64>)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT area_code, household_id FROM persons WHERE id = $1").bind(person_id).fetch_optional(pool).await?);
        let Some((person_area, household)) = person else { return Ok(Err(StationRefusal::UnknownPerson(person_id))) };
        // A round tube meets the person's round sample, if any; a re-test tube only its own samples.
        let earlier: Option<(i64, String, String, DateTime<Utc>)> = with_read_pool!(self, pool =>
            sqlx::query_as(
                "SELECT t.id, t.barcode, st.name, s.sampled_at FROM samples s JOIN tubes t ON t.id = s.tube_id \
                 JOIN sampling_sites st ON st.id = t.site_id WHERE s.round_id = $1 AND s.person_id = $2 \
                 AND ((s.kind = 'round' AND $3 = 'round') OR s.tube_id = $4)",
            ).bind(round_id).bind(person_id).bind(row.sample_kind()).bind(row.id).fetch_optional(pool).await?);
        if let Some((tube_id, ..)) = &earlier
            && *tube_id == row.id
        {
            let after = if row.sealed_at.is_some() {
                AfterScan::Sealed
            } else {
                AfterScan::Open { remaining: row.pool().capacity(row.pool_size as usize).saturating_sub(row.members as usize) }
            };
            return Ok(Ok(Scanned { tube: row.tube(), after, repeat: true }));
        }
        if row.sealed_at.is_some() {
            return Ok(Err(StationRefusal::Sealed(row.barcode)));
        }
        if row.retest() && self.recalled(round_id, &[person_id]).await?.is_empty() {
            return Ok(Err(StationRefusal::Scan(ScanRefusal::NotRecalled)));
        }
        let members: Vec<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT person_id FROM samples WHERE tube_id = $1 ORDER BY id").bind(row.id).fetch_all(pool).await?);
        let household_size = self.household_size(row.pool(), household).await?;
        let mut open = OpenTube::new(row.pool());
        open.members = members.into_iter().map(|(p,)| p).collect();
        open.household = row.household_id;
        open.household_size = if row.pool() == PoolSize::Household && row.pool_size > 0 { row.pool_size as usize } else { 0 };
        let earlier = earlier.map(|(_, barcode, site, at)| EarlierSample { barcode, site, at: shanghai(at) });
        let after = match open.scan(person_id, household, household_size, earlier) {
            Ok(a) => a,
            Err(refusal) => return Ok(Err(StationRefusal::Scan(refusal))),
        };
        let now = Utc::now();
        let sealed = (after == AfterScan::Sealed).then_some(now);
        let capacity = open.pool.capacity(open.household_size) as i32;
        let outcome = with_write_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // Optimistic: only if nobody else changed the tube since it was read.
            let changed = sqlx::query(
                "UPDATE tubes SET members = members + 1, sealed_at = $1, household_id = $2, pool_size = $3 \
                 WHERE id = $4 AND members = $5 AND sealed_at IS NULL",
            )
            .bind(sealed).bind(open.household).bind(if row.pool() == PoolSize::Household { capacity } else { row.pool_size })
            .bind(row.id).bind(row.members)
            .execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                tx.rollback().await?;
                Err(StationRefusal::Busy(row.barcode.clone()))
            } else {
                let sql = format!(
                    "INSERT INTO samples (round_id, tube_id, person_id, area_code, sampled_at, client_id, kind) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7){ON_ROUND_CONFLICT}"
                );
                let added = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(round_id).bind(row.id).bind(person_id).bind(&person_area).bind(now).bind(client_id).bind(row.sample_kind())
                .execute(&mut *tx).await?.rows_affected();
                if added == 0 {
                    // Sampled elsewhere a moment ago: leave the tube as it was.
                    tx.rollback().await?;
                    Err(StationRefusal::Busy(row.barcode.clone()))
                } else {
                    if !row.retest() {
                        let dropped: Option<(String,)> = sqlx::query_as(DROP_EXEMPTION).bind(round_id).bind(person_id).fetch_optional(&mut *tx).await?;
                        sqlx::query(BUMP_COUNTS).bind(round_id).bind(&person_area).bind(1i64).bind(-(dropped.is_some() as i64))
                            .execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }
            }
        });
        if let Err(refusal) = outcome {
            return Ok(Err(refusal));
        }
        let tube = self.tube_row(round_id, barcode.as_str()).await?.ok_or_else(|| StoreError::Task("tube vanished".into()))?.tube();
        Ok(Ok(Scanned { tube, after, repeat: false }))
    }

    /// Those of `people` with an open recall from a pool of this round.
    async fn recalled(&self, round_id: i64, people: &[i64]) -> Result<std::collections::HashSet<i64>> {
        if people.is_empty() {
            return Ok(Default::default());
        }
        // Ids are integers, so the list is safe to inline.
        let list = people.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(",");
        let sql = format!("SELECT person_id FROM recalls WHERE round_id = $1 AND status = 'open' AND person_id IN ({list})");
        let rows: Vec<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(round_id).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    /// How many people live in `household` — asked only for household tubes, whose capacity it
    /// sets; a pooled tube's capacity does not depend on it.
    async fn household_size(&self, pool: PoolSize, household: Option<i64>) -> Result<usize> {
        match (pool, household) {
            (PoolSize::Household, Some(h)) => {
                let (n,): (i64,) = with_read_pool!(self, p =>
                    sqlx::query_as("SELECT COUNT(*) FROM persons WHERE household_id = $1").bind(h).fetch_one(p).await?);
                Ok(n as usize)
            }
            _ => Ok(1),
        }
    }

    /// Seals a tube on demand (an empty tube cannot be sealed).
    pub(crate) async fn close_tube(&self, round_id: i64, barcode: &Barcode) -> Result<Result<Tube, StationRefusal>> {
        let Some(row) = self.tube_row(round_id, barcode.as_str()).await? else {
            return Ok(Err(StationRefusal::UnknownTube(barcode.to_string())));
        };
        if row.sealed_at.is_none() && row.members > 0 {
            with_write_pool!(self, pool => {
                sqlx::query("UPDATE tubes SET sealed_at = $1 WHERE id = $2 AND sealed_at IS NULL").bind(Utc::now()).bind(row.id).execute(pool).await?;
            });
        } else if row.members == 0 {
            return Ok(Err(StationRefusal::Empty(row.barcode)));
        }
        Ok(Ok(self.tube_row(round_id, barcode.as_str()).await?.ok_or_else(|| StoreError::Task("tube vanished".into()))?.tube()))
    }
}

/// One tube of a batch registration: its barcode, site, and everyone in it.
#[derive(Debug, Clone)]
pub struct BatchTube {
    pub barcode: Barcode,
    pub site_id: i64,
    pub group: SamplingGroup,
    pub members: Vec<i64>,
    /// Seal the tube after these members even if it is not full.
    pub seal: bool,
}

/// A member of a batch tube that was not registered, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberRefusal {
    pub person_id: i64,
    pub refusal: StationRefusal,
}

/// What a batch did with one tube.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchOutcome {
    pub barcode: String,
    /// The tube after the batch (absent when the tube itself was refused).
    pub tube: Option<Tube>,
    pub added: usize,
    /// Members already registered in this tube (a resent batch): nothing changed.
    pub repeats: usize,
    pub refused: Vec<MemberRefusal>,
    /// Why the whole tube was refused, if it was.
    pub error: Option<StationRefusal>,
}

impl Store {
    /// Registers many tubes with their members, each tube in one transaction. Sending the same
    /// batch again changes nothing (every member is a repeat).
    pub(crate) async fn register_batch(
        &self,
        round_id: i64,
        tubes: Vec<BatchTube>,
        collector: Option<&str>,
        client_id: Option<&str>,
    ) -> Result<Vec<BatchOutcome>> {
        let mut out = Vec::with_capacity(tubes.len());
        for t in tubes {
            out.push(self.register_tube(round_id, t, collector, client_id).await?);
        }
        Ok(out)
    }

    async fn register_tube(&self, round_id: i64, t: BatchTube, collector: Option<&str>, client_id: Option<&str>) -> Result<BatchOutcome> {
        let mut outcome = BatchOutcome { barcode: t.barcode.to_string(), tube: None, added: 0, repeats: 0, refused: vec![], error: None };
        let tube = match self.open_tube(round_id, t.site_id, &t.barcode, t.group, None, collector).await? {
            Ok(tube) => tube,
            Err(refusal) => {
                outcome.error = Some(refusal);
                return Ok(outcome);
            }
        };
        let row = self.tube_row(round_id, t.barcode.as_str()).await?.ok_or_else(|| StoreError::Task("tube vanished".into()))?;
        let mut members = t.members.clone();
        members.sort_unstable();
        members.dedup();
        if members.is_empty() {
            outcome.tube = Some(tube);
            return Ok(outcome);
        }
        let list = members.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(",");
        // Ids are integers we formatted ourselves, so the lists below are safe to inline.
        let people_sql = format!("SELECT id, area_code, household_id FROM persons WHERE id IN ({list})");
        let people: Vec<(i64, String, Option<i64>)> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(people_sql.as_str())).fetch_all(pool).await?);
        let earlier_sql = format!(
            "SELECT s.person_id, t.id, t.barcode, st.name, s.sampled_at FROM samples s JOIN tubes t ON t.id = s.tube_id \
             JOIN sampling_sites st ON st.id = t.site_id WHERE s.round_id = $1 AND s.person_id IN ({list}) \
             AND ((s.kind = 'round' AND $2 = 'round') OR s.tube_id = $3)"
        );
        let earlier: Vec<(i64, i64, String, String, DateTime<Utc>)> = with_read_pool!(self, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(earlier_sql.as_str())).bind(round_id).bind(row.sample_kind()).bind(row.id).fetch_all(pool).await?);
        let recalled = if row.retest() { self.recalled(round_id, &members).await? } else { Default::default() };
        let mut fresh: Vec<(i64, String, Option<i64>)> = Vec::new();
        for m in &members {
            if let Some((_, tube_id, barcode, site, at)) = earlier.iter().find(|e| e.0 == *m) {
                if *tube_id == row.id {
                    outcome.repeats += 1;
                } else {
                    let earlier = EarlierSample { barcode: barcode.clone(), site: site.clone(), at: shanghai(*at) };
                    outcome.refused.push(MemberRefusal { person_id: *m, refusal: StationRefusal::Scan(ScanRefusal::AlreadySampled { earlier }) });
                }
            } else if let Some(p) = people.iter().find(|p| p.0 == *m) {
                if row.retest() && !recalled.contains(m) {
                    outcome.refused.push(MemberRefusal { person_id: *m, refusal: StationRefusal::Scan(ScanRefusal::NotRecalled) });
                } else {
                    fresh.push(p.clone());
                }
            } else {
                outcome.refused.push(MemberRefusal { person_id: *m, refusal: StationRefusal::UnknownPerson(*m) });
            }
        }
        // The domain decides each new member in order, as if scanned one after another.
        let current: Vec<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT person_id FROM samples WHERE tube_id = $1 ORDER BY id").bind(row.id).fetch_all(pool).await?);
        let mut open = OpenTube::new(row.pool());
        open.members = current.into_iter().map(|(p,)| p).collect();
        open.household = row.household_id;
        open.household_size = if row.pool() == PoolSize::Household && row.pool_size > 0 { row.pool_size as usize } else { 0 };
        let mut accepted = Vec::new();
        let mut sealed = row.sealed_at.is_some();
        for (id, area, household) in fresh {
            if sealed {
                outcome.refused.push(MemberRefusal { person_id: id, refusal: StationRefusal::Sealed(row.barcode.clone()) });
                continue;
            }
            let size = self.household_size(row.pool(), household).await?;
            match open.scan(id, household, size, None) {
                Ok(after) => {
                    accepted.push((id, area));
                    sealed = after == AfterScan::Sealed;
                }
                Err(refusal) => outcome.refused.push(MemberRefusal { person_id: id, refusal: StationRefusal::Scan(refusal) }),
            }
        }
        let seal_now = (sealed || t.seal) && (row.members as usize + accepted.len()) > 0 && row.sealed_at.is_none();
        if !accepted.is_empty() || seal_now {
            let now = Utc::now();
            let capacity = open.pool.capacity(open.household_size) as i32;
            let done = with_write_pool!(self, pool => {
                let mut tx = pool.begin().await?;
                let changed = sqlx::query(
                    "UPDATE tubes SET members = members + $1, sealed_at = $2, household_id = $3, pool_size = $4 \
                     WHERE id = $5 AND members = $6 AND sealed_at IS NULL",
                )
                .bind(accepted.len() as i32).bind(seal_now.then_some(now)).bind(open.household)
                .bind(if row.pool() == PoolSize::Household { capacity } else { row.pool_size })
                .bind(row.id).bind(row.members)
                .execute(&mut *tx).await?.rows_affected();
                let mut inserted = 0;
                if changed == 1 && !accepted.is_empty() {
                    let mut sql = String::from("INSERT INTO samples (round_id, tube_id, person_id, area_code, sampled_at, client_id, kind) VALUES ");
                    let mut params = Vec::new();
                    for (i, (id, area)) in accepted.iter().enumerate() {
                        let n = params.len();
                        sql.push_str(&format!(
                            "{}(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                            if i == 0 { "" } else { ", " },
                            n + 1, n + 2, n + 3, n + 4, n + 5, n + 6, n + 7
                        ));
                        params.extend([
                            crate::Param::Int(round_id),
                            crate::Param::Int(row.id),
                            crate::Param::Int(*id),
                            crate::Param::Text(area.clone()),
                            crate::Param::Time(now),
                            crate::Param::OptText(client_id.map(str::to_string)),
                            crate::Param::Text(row.sample_kind().to_string()),
                        ]);
                    }
                    sql.push_str(ON_ROUND_CONFLICT);
                    inserted = crate::bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
                }
                if changed == 1 && inserted == accepted.len() as u64 {
                    if !row.retest() {
                        let mut by_area: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
                        for (_, area) in &accepted {
                            by_area.entry(area.clone()).or_default().0 += 1;
                        }
                        // Ids are integers, so the list is safe to inline.
                        let list = accepted.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>().join(",");
                        let sql = format!("DELETE FROM round_exemptions WHERE round_id = $1 AND person_id IN ({list}) RETURNING area_code");
                        let dropped: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(round_id).fetch_all(&mut *tx).await?;
                        for (area,) in dropped {
                            by_area.entry(area).or_default().1 -= 1;
                        }
                        for (area, (sampled, exempted)) in by_area {
                            sqlx::query(BUMP_COUNTS).bind(round_id).bind(area).bind(sampled).bind(exempted).execute(&mut *tx).await?;
                        }
                    }
                    tx.commit().await?;
                    true
                } else {
                    tx.rollback().await?;
                    false
                }
            });
            if done {
                outcome.added = accepted.len();
            } else {
                outcome.error = Some(StationRefusal::Busy(row.barcode.clone()));
            }
        }
        outcome.tube = self.tube_row(round_id, t.barcode.as_str()).await?.map(|r| r.tube());
        Ok(outcome)
    }
}
