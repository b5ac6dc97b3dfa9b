//! Batch registration: many tubes with their members in one request (station devices that
//! upload what they scanned, integrations, the demo replay). Set-based: a handful of reads for
//! the whole batch, every decision made in memory by the same domain rules as a single scan,
//! then one transaction of multi-row writes. Resending a batch changes nothing (every member is
//! a repeat); if another writer touched the same tubes or people meanwhile, the batch is read
//! and decided again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cordon_domain::Barcode;
use cordon_domain::refusal::Refusal;
use cordon_domain::testing::pooling::{PoolSize, SamplingGroup, ZoneKind};
use cordon_domain::testing::station::{Admitted, AfterScan, Candidate, Earlier, EarlierSample, OpenTube, TubeFacts, admit};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::station::{BUMP_COUNTS, BUMP_HOUR, ON_ROUND_CONFLICT, Tube, TubeRow, hour_of, pool_columns, pool_for, refuse, shanghai};
use crate::testing::Round;
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// One tube of a batch registration: its barcode, site, and everyone in it.
#[derive(Debug, Clone)]
pub struct BatchTube {
    pub barcode: Barcode,
    pub site_id: i64,
    pub group: SamplingGroup,
    pub members: Vec<i64>,
    /// Seal the tube after these members even if it is not full.
    pub seal: bool,
    /// When the swabs were taken, for a device that uploads later; now when absent.
    pub sampled_at: Option<DateTime<Utc>>,
}

/// A member of a batch tube that was not registered, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberRefusal {
    pub person_id: i64,
    pub refusal: Refusal,
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
    pub error: Option<Refusal>,
}

/// Ids per `IN (…)` list.
pub(crate) const CHUNK: usize = 1000;
/// Rows per multi-row `INSERT`: larger statements cost more per row to prepare and bind (on
/// SQLite several times more at 1,000 rows than at 100).
pub(crate) const ROWS: usize = 100;

/// What the batch will write, decided before the transaction.
#[derive(Default)]
pub(crate) struct Plan {
    pub(crate) outcomes: Vec<BatchOutcome>,
    pub(crate) writes: Writes,
}

/// A sample to write: (tube barcode, person, person's area, sampled at, kind).
pub(crate) type SampleWrite = (Arc<str>, i64, Arc<str>, DateTime<Utc>, &'static str);

#[derive(Default)]
pub(crate) struct Writes {
    pub(crate) new_tubes: Vec<NewTube>,
    pub(crate) changed: Vec<TubeChange>,
    pub(crate) samples: Vec<SampleWrite>,
    /// Ids of the batch's tubes that were already stored, by barcode.
    pub(crate) stored_ids: HashMap<String, i64>,
}

pub(crate) struct NewTube {
    pub(crate) barcode: String,
    pub(crate) site_id: i64,
    pub(crate) area_code: String,
    pub(crate) pool_kind: &'static str,
    pub(crate) pool_size: i32,
    pub(crate) members: i32,
    pub(crate) household_id: Option<i64>,
    pub(crate) opened_at: DateTime<Utc>,
    pub(crate) sealed_at: Option<DateTime<Utc>>,
    pub(crate) purpose: &'static str,
}

pub(crate) struct TubeChange {
    pub(crate) id: i64,
    pub(crate) old_members: i32,
    pub(crate) add: i32,
    pub(crate) sealed_at: Option<DateTime<Utc>>,
    pub(crate) household_id: Option<i64>,
    pub(crate) pool_size: i32,
}

/// What deciding a batch needs from the store, read by the same statements on either backend.
#[derive(Default)]
pub(crate) struct Reads {
    /// The round's sites: id → (area, name, the zone in force there).
    pub(crate) sites: HashMap<i64, (String, String, Option<ZoneKind>)>,
    /// Tubes of the batch already stored, by barcode, and their members in order.
    pub(crate) existing: HashMap<String, TubeRow>,
    pub(crate) current: HashMap<i64, Vec<i64>>,
    /// The people named: id → (area, household).
    pub(crate) persons: HashMap<i64, (Arc<str>, Option<i64>)>,
    /// Where each of them was already sampled in the round: person → (tube, sample).
    pub(crate) earlier: HashMap<i64, (i64, EarlierSample)>,
    /// Those with an open recall (asked only for re-test tubes).
    pub(crate) recalled: HashSet<i64>,
    /// People per household (asked only for household tubes).
    pub(crate) household_sizes: HashMap<i64, usize>,
}

/// The statements planning reads, shared by both backends; `$1` is the round where it appears.
pub(crate) mod read_sql {
    use super::id_list;
    pub(crate) const SITES: &str =
        concat!("SELECT st.id, st.area_code, st.name, ", crate::zones::zone_in_force!(), " FROM sampling_sites st WHERE st.round_id = $1");
    pub(crate) fn members(tubes: &[i64]) -> String {
        format!("SELECT tube_id, person_id FROM samples WHERE tube_id IN ({}) ORDER BY id", id_list(tubes))
    }
    /// The people named, where they live, and the id of their round sample if they have one
    /// (a correlated lookup per person, so no planner ever scans a round's samples for it).
    /// `round_id + 0` keeps the round's index out of it: PostgreSQL, whose statistics were taken
    /// before the round had a sample, picked `samples_round_area` (dropped since) and read the whole round per
    /// person (seen at 10,000,000 samples); the person's own few samples are the way in.
    pub(crate) fn persons(people: &[i64]) -> String {
        format!(
            "SELECT p.id, p.area_code, p.household_id, \
             (SELECT s.id FROM samples s WHERE s.round_id + 0 = $1 AND s.person_id = p.id AND s.kind = 'round') \
             FROM persons p WHERE p.id IN ({})",
            id_list(people)
        )
    }
    /// [`persons`] without the sample (the same columns, no parameter).
    pub(crate) fn persons_only(people: &[i64]) -> String {
        format!("SELECT id, area_code, household_id, NULL FROM persons WHERE id IN ({})", id_list(people))
    }
    /// Where the samples found by [`persons`] were taken.
    pub(crate) fn earlier(samples: &[i64]) -> String {
        format!(
            "SELECT s.person_id, s.tube_id, t.barcode, st.name, s.sampled_at FROM samples s JOIN tubes t ON t.id = s.tube_id \
             JOIN sampling_sites st ON st.id = t.site_id WHERE s.id IN ({})",
            id_list(samples)
        )
    }
    /// Those of `people` with an open recall in the round (`$1`); a single scan asks it too.
    pub(crate) fn recalled(people: &[i64]) -> String {
        crate::station::recalled_sql(people)
    }
    pub(crate) fn household_sizes(households: &[i64]) -> String {
        format!("SELECT household_id, COUNT(*) FROM persons WHERE household_id IN ({}) GROUP BY household_id", id_list(households))
    }
    /// Tubes with one of `n` barcodes bound as `$1…`, in any round (the caller keeps its
    /// round's): one index lookup per barcode. Naming the round too would let a planner whose
    /// statistics predate a new round read all of that round's tubes and filter them.
    pub(crate) fn tubes(n: usize) -> String {
        let placeholders: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
        format!("SELECT {} FROM tubes WHERE barcode IN ({})", crate::station::TUBE_COLUMNS, placeholders.join(","))
    }
}

/// Everyone named in the batch, once each, in id order.
pub(crate) fn people_of(tubes: &[BatchTube]) -> Vec<i64> {
    let mut people: Vec<i64> = tubes.iter().flat_map(|t| t.members.iter().copied()).collect();
    people.sort_unstable();
    people.dedup();
    people
}

/// The people named in re-test tubes.
pub(crate) fn retest_people(tubes: &[BatchTube]) -> Vec<i64> {
    tubes.iter().filter(|t| t.group.is_retest()).flat_map(|t| t.members.iter().copied()).collect()
}

/// The households of the people found, once each.
pub(crate) fn households_of(persons: &HashMap<i64, (Arc<str>, Option<i64>)>) -> Vec<i64> {
    let mut h: Vec<i64> = persons.values().filter_map(|p| p.1).collect();
    h.sort_unstable();
    h.dedup();
    h
}

/// People sampled per area, per (area, hour), and who (round samples only: re-tests count
/// nowhere).
pub(crate) type Counts<'a> = (BTreeMap<&'a str, i64>, BTreeMap<(&'a str, DateTime<Utc>), i64>, Vec<i64>);

impl Writes {
    pub(crate) fn counts(&self) -> Counts<'_> {
        let mut by_area: BTreeMap<&str, i64> = BTreeMap::new();
        let mut by_hour: BTreeMap<(&str, DateTime<Utc>), i64> = BTreeMap::new();
        let mut people: Vec<i64> = Vec::new();
        for (_, person, area, at, kind) in &self.samples {
            if *kind == "round" {
                *by_area.entry(area).or_default() += 1;
                *by_hour.entry((area, hour_of(*at))).or_default() += 1;
                people.push(*person);
            }
        }
        (by_area, by_hour, people)
    }
}

/// The batch's tube ids by barcode: those stored before it and those it inserted.
pub(crate) type Ids = HashMap<String, i64>;

/// Drops the exemptions of people now sampled (`$1` the round), answering their areas.
pub(crate) fn unexempt_sql(people: &[i64]) -> String {
    format!("DELETE FROM round_exemptions WHERE round_id = $1 AND person_id IN ({}) RETURNING area_code", id_list(people))
}

/// Gives each decided tube its id (the tubes the batch opened got theirs on insert).
pub(crate) fn with_ids(mut outcomes: Vec<BatchOutcome>, ids: &Ids) -> Vec<BatchOutcome> {
    for tube in outcomes.iter_mut().filter_map(|o| o.tube.as_mut()) {
        if let Some(id) = ids.get(&tube.barcode) {
            tube.id = *id;
        }
    }
    outcomes
}

/// Integers joined for an inline `IN (…)` list (safe: we format them ourselves).
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

impl Store {
    /// Registers many tubes with their members. Sending the same batch again changes nothing.
    pub(crate) async fn register_batch(
        &self,
        round: Round,
        tubes: Vec<BatchTube>,
        collector: Option<&str>,
        client_id: Option<&str>,
    ) -> Result<Vec<BatchOutcome>> {
        let round_id = round.id;
        if let crate::Backend::Sqlite(b) = &*self.backend {
            return crate::sqlite::batch::register(b, round, tubes, collector, client_id).await;
        }
        for _ in 0..3 {
            let reads = self.read_batch(&round, &tubes).await?;
            let plan = Self::decide(&round, &tubes, reads, Utc::now());
            if let Some(ids) = self.write_batch(round_id, &plan.writes, collector, client_id).await? {
                return Ok(with_ids(plan.outcomes, &ids));
            }
        }
        // Three races in a row with other writers: say so per tube; the device resends.
        Ok(tubes
            .iter()
            .map(|t| BatchOutcome {
                barcode: t.barcode.to_string(),
                tube: None,
                added: 0,
                repeats: 0,
                refused: vec![],
                error: Some(refuse::busy(&t.barcode)),
            })
            .collect())
    }

    /// Reads what the batch touches through the pools (PostgreSQL; SQLite reads inside its one
    /// write transaction, see [`read_batch_sqlite`]).
    async fn read_batch(&self, round: &Round, tubes: &[BatchTube]) -> Result<Reads> {
        let round_id = round.id;
        let mut r = Reads::default();
        let sites: Vec<(i64, String, String, Option<String>)> =
            with_read_pool!(self, pool => sqlx::query_as(read_sql::SITES).bind(round_id).fetch_all(pool).await?);
        r.sites = sites.into_iter().map(|(id, area, name, zone)| (id, (area, name, zone.and_then(|z| z.parse().ok())))).collect();
        let barcodes: Vec<String> = tubes.iter().map(|t| t.barcode.to_string()).collect();
        r.existing = self.tubes_by_barcode(round_id, &barcodes).await?;
        let existing_ids: Vec<i64> = r.existing.values().map(|t| t.id).collect();
        for chunk in existing_ids.chunks(CHUNK) {
            let sql = read_sql::members(chunk);
            let rows: Vec<(i64, i64)> =
                with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?);
            for (tube, person) in rows {
                r.current.entry(tube).or_default().push(person);
            }
        }
        for chunk in people_of(tubes).chunks(CHUNK) {
            let sql = read_sql::persons(chunk);
            let rows: Vec<(i64, String, Option<i64>, Option<i64>)> =
                with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(round_id).fetch_all(pool).await?);
            let mut found = Vec::new();
            for (person, area, household, sample) in rows {
                r.persons.insert(person, (area.into(), household));
                found.extend(sample);
            }
            if !found.is_empty() {
                let sql = read_sql::earlier(&found);
                let rows: Vec<(i64, i64, String, String, DateTime<Utc>)> =
                    with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?);
                for (person, tube, barcode, site, at) in rows {
                    r.earlier.insert(person, (tube, EarlierSample { barcode, site, at: shanghai(at) }));
                }
            }
        }
        for chunk in retest_people(tubes).chunks(CHUNK) {
            let sql = read_sql::recalled(chunk);
            let rows: Vec<(i64,)> =
                with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(round_id).fetch_all(pool).await?);
            r.recalled.extend(rows.into_iter().map(|(p,)| p));
        }
        if round.policy.sealed == PoolSize::Household {
            for chunk in households_of(&r.persons).chunks(CHUNK) {
                let sql = read_sql::household_sizes(chunk);
                let rows: Vec<(i64, i64)> =
                    with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?);
                r.household_sizes.extend(rows.into_iter().map(|(h, n)| (h, n as usize)));
            }
        }
        Ok(r)
    }

    /// Decides every tube and member of a batch from what was read, in memory.
    pub(crate) fn decide(round: &Round, tubes: &[BatchTube], reads: Reads, now: DateTime<Utc>) -> Plan {
        let Reads { sites, existing, current, persons, earlier, recalled, household_sizes } = reads;
        // Where people were sampled earlier in this batch: person → index in `here`.
        let mut here: Vec<(i64, EarlierSample)> = Vec::new();
        let mut sampled_here: HashMap<i64, usize> = HashMap::new();
        let mut plan = Plan::default();
        plan.writes.stored_ids = existing.iter().map(|(b, r)| (b.clone(), r.id)).collect();
        let mut seen_barcodes = HashSet::new();
        for t in tubes {
            let barcode = t.barcode.to_string();
            let mut outcome = BatchOutcome { barcode: barcode.clone(), tube: None, added: 0, repeats: 0, refused: vec![], error: None };
            let Some((site_area, _, in_force)) = sites.get(&t.site_id) else {
                outcome.error = Some(refuse::site_not_in_round(t.site_id));
                plan.outcomes.push(outcome);
                continue;
            };
            if !seen_barcodes.insert(barcode.clone()) {
                // The same barcode twice in one batch: the first one counts.
                outcome.error = Some(refuse::barcode_used(&barcode, &sites[&t.site_id].1, shanghai(now)));
                plan.outcomes.push(outcome);
                continue;
            }
            // Microseconds, as both backends keep them, so the tube answered is the tube stored.
            let at = chrono::SubsecRound::trunc_subsecs(t.sampled_at.unwrap_or(now), 6);
            // The tube as it stands: stored, or opened by this batch.
            let (pool, tube_id, old_members, was_sealed, household, household_size, retest) = match existing.get(&barcode) {
                Some(row) if row.site_id != t.site_id => {
                    let site = sites.get(&row.site_id).map(|s| s.1.clone()).unwrap_or_default();
                    outcome.error = Some(refuse::barcode_used(&barcode, site, shanghai(row.opened_at)));
                    plan.outcomes.push(outcome);
                    continue;
                }
                Some(row) => {
                    let size = if row.pool() == PoolSize::Household && row.pool_size > 0 { row.pool_size as usize } else { 0 };
                    (
                        row.pool(),
                        Some(row.id),
                        current.get(&row.id).cloned().unwrap_or_default(),
                        row.sealed_at.is_some(),
                        row.household_id,
                        size,
                        row.retest(),
                    )
                }
                None => (pool_for(round, site_area, *in_force, t.group), None, vec![], false, None, 0, t.group.is_retest()),
            };
            let mut members = t.members.clone();
            members.sort_unstable();
            members.dedup();
            // Each member in order, as if scanned one after another: the round's checks, then
            // the tube's own rule.
            let mut open = OpenTube::new(pool);
            open.held = old_members.len();
            open.members = old_members.clone();
            open.household = household;
            open.household_size = household_size;
            let mut accepted: Vec<i64> = Vec::new();
            let mut sealed = was_sealed;
            for m in members {
                let earlier = if old_members.contains(&m) {
                    Earlier::ThisTube
                } else {
                    match earlier.get(&m).or_else(|| sampled_here.get(&m).map(|&i| &here[i])) {
                        Some((tube, _)) if Some(*tube) == tube_id => Earlier::ThisTube,
                        Some((_, e)) => Earlier::Elsewhere(e.clone()),
                        None => Earlier::Nowhere,
                    }
                };
                let candidate = Candidate { known: persons.contains_key(&m), earlier, recalled: recalled.contains(&m) };
                let facts = TubeFacts { barcode: &barcode, sealed, retest };
                let decided = admit(facts, m, &candidate).and_then(|admitted| match admitted {
                    Admitted::Repeat => Ok(None),
                    Admitted::New => {
                        let (_, home) = &persons[&m];
                        let size = match (pool, home) {
                            (PoolSize::Household, Some(h)) => household_sizes.get(h).copied().unwrap_or(1),
                            _ => 1,
                        };
                        open.scan(m, *home, size).map(Some)
                    }
                });
                match decided {
                    Ok(None) => outcome.repeats += 1,
                    Ok(Some(after)) => {
                        accepted.push(m);
                        sealed = after == AfterScan::Sealed;
                    }
                    Err(refusal) => outcome.refused.push(MemberRefusal { person_id: m, refusal: Refusal::from(refusal) }),
                }
            }
            let total = old_members.len() + accepted.len();
            let seal_now = (sealed || t.seal) && total > 0 && !was_sealed;
            let kind = if retest { "retest" } else { "round" };
            if !retest && !accepted.is_empty() {
                // Later tubes of the batch see these people as sampled here.
                here.push((
                    tube_id.unwrap_or(-1),
                    EarlierSample { barcode: barcode.clone(), site: sites[&t.site_id].1.clone(), at: shanghai(at) },
                ));
                sampled_here.extend(accepted.iter().map(|m| (*m, here.len() - 1)));
            }
            let capacity = open.pool.capacity(open.household_size) as i32;
            match tube_id {
                None => {
                    let (pool_kind, size) = pool_columns(pool);
                    plan.writes.new_tubes.push(NewTube {
                        barcode: barcode.clone(),
                        site_id: t.site_id,
                        area_code: site_area.clone(),
                        pool_kind,
                        pool_size: if pool == PoolSize::Household && !accepted.is_empty() { capacity } else { size },
                        members: accepted.len() as i32,
                        household_id: open.household,
                        opened_at: at,
                        sealed_at: seal_now.then_some(at),
                        purpose: kind,
                    });
                }
                Some(id) if !accepted.is_empty() || seal_now => {
                    let row = &existing[&barcode];
                    plan.writes.changed.push(TubeChange {
                        id,
                        old_members: row.members,
                        add: accepted.len() as i32,
                        sealed_at: seal_now.then_some(at),
                        household_id: open.household,
                        pool_size: if pool == PoolSize::Household { capacity } else { row.pool_size },
                    });
                }
                Some(_) => {}
            }
            let shared: Arc<str> = barcode.as_str().into();
            for m in &accepted {
                plan.writes.samples.push((shared.clone(), *m, persons[m].0.clone(), at, kind));
            }
            // The tube as it will stand after the batch (a new tube's id comes on insert).
            let mut after = match existing.get(&barcode) {
                Some(row) => row.tube(),
                None => Tube {
                    id: 0,
                    round_id: round.id,
                    barcode: barcode.clone(),
                    site_id: t.site_id,
                    area_code: site_area.clone(),
                    pool,
                    members: 0,
                    opened_at: at,
                    sealed_at: None,
                    retest,
                },
            };
            after.members = total as i32;
            if seal_now {
                after.sealed_at = Some(at);
            }
            outcome.tube = Some(after);
            outcome.added = accepted.len();
            plan.outcomes.push(outcome);
        }
        plan
    }

    /// Writes a plan in one transaction. False when another writer got there first (a tube or a
    /// round sample already taken): nothing is written and the caller plans again.
    async fn write_batch(&self, round_id: i64, plan: &Writes, collector: Option<&str>, client_id: Option<&str>) -> Result<Option<Ids>> {
        if plan.new_tubes.is_empty() && plan.changed.is_empty() && plan.samples.is_empty() {
            return Ok(Some(plan.stored_ids.clone()));
        }
        let (sampled_by_area, sampled_by_hour, round_people) = plan.counts();
        let written = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut ok = true;
            let mut tube_ids: HashMap<String, i64> = plan.stored_ids.clone();
            for chunk in plan.new_tubes.chunks(ROWS) {
                let mut sql = String::from(
                    "INSERT INTO tubes (round_id, barcode, site_id, area_code, pool_kind, pool_size, members, household_id, collector, \
                     opened_at, sealed_at, purpose) VALUES ",
                );
                let mut params = Vec::with_capacity(chunk.len() * 12);
                sql.push_str(&crate::values_placeholders(chunk.len(), 12, 0));
                for t in chunk {
                    params.extend([
                        Param::Int(round_id),
                        Param::Text(t.barcode.clone()),
                        Param::Int(t.site_id),
                        Param::Text(t.area_code.clone()),
                        Param::Text(t.pool_kind.to_string()),
                        Param::Int(i64::from(t.pool_size)),
                        Param::Int(i64::from(t.members)),
                        Param::OptInt(t.household_id),
                        Param::OptText(collector.map(str::to_string)),
                        Param::Time(t.opened_at),
                        Param::OptTime(t.sealed_at),
                        Param::Text(t.purpose.to_string()),
                    ]);
                }
                sql.push_str(" ON CONFLICT (round_id, barcode) DO NOTHING RETURNING id, barcode");
                let rows: Vec<(i64, String)> =
                    bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(&mut *tx).await?;
                if rows.len() != chunk.len() {
                    ok = false;
                    break;
                }
                tube_ids.extend(rows.into_iter().map(|(id, b)| (b, id)));
            }
            if ok {
                for c in &plan.changed {
                    let n = sqlx::query(
                        "UPDATE tubes SET members = members + $1, sealed_at = COALESCE($2, sealed_at), household_id = $3, pool_size = $4 \
                         WHERE id = $5 AND members = $6 AND sealed_at IS NULL",
                    )
                    .bind(c.add).bind(c.sealed_at).bind(c.household_id).bind(c.pool_size).bind(c.id).bind(c.old_members)
                    .execute(&mut *tx).await?.rows_affected();
                    if n != 1 {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                for chunk in plan.samples.chunks(ROWS) {
                    let mut sql = String::from("INSERT INTO samples (round_id, tube_id, person_id, area_code, sampled_at, client_id, kind) VALUES ");
                    let mut params = Vec::with_capacity(chunk.len() * 7);
                    sql.push_str(&crate::values_placeholders(chunk.len(), 7, 0));
                    for (barcode, person, area, at, kind) in chunk {
                        let tube = *tube_ids.get(&**barcode).ok_or_else(|| StoreError::Task(format!("tube {barcode} vanished from its batch")))?;
                        params.extend([
                            Param::Int(round_id),
                            Param::Int(tube),
                            Param::Int(*person),
                            Param::Text(area.to_string()),
                            Param::Time(*at),
                            Param::OptText(client_id.map(str::to_string)),
                            Param::Text(kind.to_string()),
                        ]);
                    }
                    sql.push_str(ON_ROUND_CONFLICT);
                    let n = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *tx).await?.rows_affected();
                    if n as usize != chunk.len() {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                let mut exempted_by_area: BTreeMap<String, i64> = BTreeMap::new();
                for chunk in round_people.chunks(CHUNK) {
                    let sql = unexempt_sql(chunk);
                    let dropped: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(round_id).fetch_all(&mut *tx).await?;
                    for (area,) in dropped {
                        *exempted_by_area.entry(area).or_default() -= 1;
                    }
                }
                let areas: HashSet<&str> = sampled_by_area.keys().copied().chain(exempted_by_area.keys().map(String::as_str)).collect();
                for area in areas {
                    let sampled = sampled_by_area.get(area).copied().unwrap_or(0);
                    let exempted = exempted_by_area.get(area).copied().unwrap_or(0);
                    sqlx::query(BUMP_COUNTS).bind(round_id).bind(area).bind(sampled).bind(exempted).execute(&mut *tx).await?;
                }
                for ((area, hour), n) in &sampled_by_hour {
                    sqlx::query(BUMP_HOUR).bind(round_id).bind(*area).bind(*hour).bind(*n).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            ok.then_some(tube_ids)
        });
        Ok(written)
    }

    /// The stored tubes of a round among `barcodes`, by barcode.
    async fn tubes_by_barcode(&self, round_id: i64, barcodes: &[String]) -> Result<HashMap<String, TubeRow>> {
        let mut out = HashMap::with_capacity(barcodes.len());
        for chunk in barcodes.chunks(ROWS) {
            let rows: Vec<TubeRow> = match &*self.backend {
                crate::Backend::Sqlite(b) => {
                    let sql = read_sql::tubes(chunk.len());
                    let params: Vec<Param> = chunk.iter().map(|b| Param::Text(b.clone())).collect();
                    bind_all(sqlx::query_as::<_, TubeRow>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(&b.read).await?
                }
                crate::Backend::Postgres(b) => crate::postgres::batch::tubes_by_barcode(b, chunk).await?,
            };
            out.extend(rows.into_iter().filter(|r| r.round_id == round_id).map(|r| (r.barcode.clone(), r)));
        }
        Ok(out)
    }
}
