//! Registration at the sampling station: open a tube by its barcode, scan people into it,
//! close it. Every step is safe to retry: opening the same barcode at the same site again, or
//! scanning the same person into the same tube again, answers the current state and changes
//! nothing. Refusals tell the sampler what to do.

use chrono::{DateTime, Utc};
use cordon_domain::Barcode;
use cordon_domain::refusal::Refusal;
use cordon_domain::testing::pooling::{PoolPolicy, PoolSize, SamplingGroup, ZoneKind};
use cordon_domain::testing::station::{Admitted, AfterScan, Candidate, Earlier, EarlierSample, OpenTube, ScanRefusal, TubeFacts, admit};
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
pub(crate) struct TubeRow {
    pub(crate) id: i64,
    pub(crate) round_id: i64,
    pub(crate) barcode: String,
    pub(crate) site_id: i64,
    pub(crate) area_code: String,
    pub(crate) pool_kind: String,
    pub(crate) pool_size: i32,
    pub(crate) members: i32,
    pub(crate) household_id: Option<i64>,
    pub(crate) opened_at: DateTime<Utc>,
    pub(crate) sealed_at: Option<DateTime<Utc>>,
    pub(crate) purpose: String,
}

impl TubeRow {
    pub(crate) fn retest(&self) -> bool {
        self.purpose == "retest"
    }
    pub(crate) fn pool(&self) -> PoolSize {
        stored_pool(&self.pool_kind, self.pool_size)
    }
    pub(crate) fn tube(&self) -> Tube {
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

pub(crate) const TUBE_COLUMNS: &str =
    "id, round_id, barcode, site_id, area_code, pool_kind, pool_size, members, household_id, opened_at, sealed_at, purpose";

/// The insert of samples that keeps one round sample per person per round (re-test samples are
/// outside that rule); `$n` placeholders are appended by the caller.
pub(crate) const ON_ROUND_CONFLICT: &str = " ON CONFLICT (round_id, person_id) WHERE kind = 'round' DO NOTHING";

/// Adds to the maintained coverage counts of one area in a round (in its slot 0; readers sum the
/// slots): `$1` round, `$2` area, `$3` people sampled, `$4` people exempted (either may be
/// negative).
pub(crate) const BUMP_COUNTS: &str = "INSERT INTO round_area_counts (round_id, area_code, sampled, exempted) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (round_id, area_code, slot) DO UPDATE SET sampled = round_area_counts.sampled + excluded.sampled, \
     exempted = round_area_counts.exempted + excluded.exempted";

/// Adds `$4` people to the hourly progress of an area in a round: `$1` round, `$2` area, `$3`
/// the hour (see [`hour_of`]); slot 0, as [`BUMP_COUNTS`].
pub(crate) const BUMP_HOUR: &str = "INSERT INTO round_hour_counts (round_id, area_code, hour, sampled) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (round_id, area_code, hour, slot) DO UPDATE SET sampled = round_hour_counts.sampled + excluded.sampled";

/// The start of the hour `t` falls in.
pub(crate) fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp() - t.timestamp().rem_euclid(3600), 0).unwrap_or(t)
}

/// A person sampled in the round is no longer "accounted for otherwise": drops their exemption
/// (`$1` round, `$2` person) and answers its area, when there was one.
pub(crate) const DROP_EXEMPTION: &str = "DELETE FROM round_exemptions WHERE round_id = $1 AND person_id = $2 RETURNING area_code";

/// Why the station cannot do what was asked; each says what to do instead.
pub mod refuse {
    use std::fmt::Display;

    use cordon_domain::refusal::Refusal;

    pub fn barcode_used(barcode: impl Display, site: impl Display, at: impl Display) -> Refusal {
        Refusal::conflict("refused.barcode_used").with("barcode", barcode).with("site", site).with("at", at)
    }
    /// A barcode already on a tube elsewhere in the incident (another round, a door test).
    pub fn barcode_used_in_incident(barcode: impl Display, site: impl Display, at: impl Display) -> Refusal {
        Refusal::conflict("refused.barcode_used_in_incident").with("barcode", barcode).with("site", site).with("at", at)
    }
    pub fn unknown_tube(barcode: impl Display) -> Refusal {
        Refusal::missing("refused.unknown_tube").with("barcode", barcode)
    }
    pub fn empty(barcode: impl Display) -> Refusal {
        Refusal::conflict("refused.empty").with("barcode", barcode)
    }
    pub fn busy(barcode: impl Display) -> Refusal {
        Refusal::conflict("refused.busy").with("barcode", barcode)
    }
    pub fn site_not_in_round(site: i64) -> Refusal {
        Refusal::conflict("refused.site_not_in_round").with("site", site)
    }
}

/// The answer to an accepted scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scanned {
    pub tube: Tube,
    pub after: AfterScan,
    /// True when this scan had already been recorded (a retry): nothing changed.
    pub repeat: bool,
}

/// The pool size of a tube opened at a site in `site_area`: the round's policy for the zone the
/// pool follows (the kind typed for the most specific round area covering the site, or the zone
/// in force there if stricter), and the group sampled.
pub(crate) fn pool_for(round: &crate::testing::Round, site_area: &str, in_force: Option<ZoneKind>, group: SamplingGroup) -> PoolSize {
    pool_in(&round.areas, &round.policy, site_area, in_force, group)
}

fn pool_in(
    areas: &[crate::testing::RoundArea],
    policy: &PoolPolicy,
    site_area: &str,
    in_force: Option<ZoneKind>,
    group: SamplingGroup,
) -> PoolSize {
    let typed = areas.iter().filter(|a| site_area.starts_with(&a.area_code)).max_by_key(|a| a.area_code.len()).and_then(|a| a.zone);
    policy.pool_size(cordon_domain::zones::pool_zone(typed, in_force), group)
}

/// A tube to open: at `site_id` of round `round_id`, under `barcode`.
pub(crate) struct OpenAsk {
    pub(crate) round_id: i64,
    pub(crate) site_id: i64,
    pub(crate) barcode: String,
    pub(crate) group: SamplingGroup,
    pub(crate) station: Option<u32>,
    pub(crate) collector: Option<String>,
}

impl OpenAsk {
    pub(crate) fn purpose(&self) -> &'static str {
        if self.group.is_retest() { "retest" } else { "round" }
    }
}

/// What opening a tube reads, in one statement ([`OPEN_READ`]): the round's pool policy (none:
/// no such round), its areas with their zones, the site's area (none: not a site of the round),
/// and the tube already under the barcode in the round with its site's name.
pub(crate) struct OpenFacts {
    pub(crate) policy: Option<String>,
    pub(crate) areas: Option<String>,
    pub(crate) site_area: Option<String>,
    pub(crate) existing: Option<(TubeRow, String)>,
    /// The zone in force over the site's area (`zones::zone_in_force!`).
    pub(crate) zone_in_force: Option<String>,
}

/// What opening a tube decided: the tube as it stands (opened before at this site), or the row
/// to insert: the site's area and the pool (kind, size).
pub(crate) enum OpenPlan {
    Answer(Tube),
    Insert { site_area: String, pool: (&'static str, i32) },
}

/// The round (`$1`), the site (`$2`) and the tube under the barcode (`$3`), as [`OpenFacts`]:
/// the round's areas as `code=zone` joined by commas (`{AGG}` is the dialect's aggregate), and
/// last the zone in force at the site; the names are those PostgreSQL's row type reads, SQLite
/// reads by position.
pub(crate) const OPEN_READ: &str = concat!(
    "SELECT r.pool_policy, \
     (SELECT {AGG} FROM round_areas a WHERE a.round_id = r.id) AS areas, st.area_code AS site_area, \
     t.id, t.round_id, t.barcode, t.site_id, t.area_code, t.pool_kind, t.pool_size, t.members, \
     t.household_id, t.opened_at, t.sealed_at, t.purpose, ts.name AS tube_site, ",
    crate::zones::zone_in_force!(),
    " AS zone_in_force \
     FROM testing_rounds r LEFT JOIN sampling_sites st ON st.id = $2 AND st.round_id = r.id \
     LEFT JOIN tubes t ON t.round_id = r.id AND t.barcode = $3 LEFT JOIN sampling_sites ts ON ts.id = t.site_id \
     WHERE r.id = $1"
);

/// The station's rules on opening a tube, the same on both backends.
pub(crate) fn decide_open(ask: &OpenAsk, facts: OpenFacts, inside: &dyn Fn(&str) -> Result<()>) -> Result<OpenPlan> {
    let Some(policy) = facts.policy else { return Err(missing!("refused.no_round", round = ask.round_id)) };
    // A site outside the caller's jurisdiction is, for them, not a site of the round.
    let Some(site_area) = facts.site_area.filter(|a| inside(a).is_ok()) else {
        return Err(refused!("refused.no_site_in_round", site_id = ask.site_id, round_id = ask.round_id));
    };
    if let Some((row, site)) = facts.existing {
        if row.site_id == ask.site_id {
            return Ok(OpenPlan::Answer(row.tube()));
        }
        return Err(refuse::barcode_used(row.barcode, site, shanghai(row.opened_at)).into());
    }
    let policy: PoolPolicy = serde_json::from_str(&policy).map_err(StoreError::corrupt)?;
    let areas: Vec<crate::testing::RoundArea> = facts
        .areas
        .unwrap_or_default()
        .split(',')
        .filter_map(|a| a.split_once('='))
        .map(|(code, zone)| crate::testing::RoundArea { area_code: code.to_string(), zone: zone.parse().ok() })
        .collect();
    let in_force = facts.zone_in_force.and_then(|z| z.parse().ok());
    Ok(OpenPlan::Insert { site_area: site_area.clone(), pool: pool_columns(pool_in(&areas, &policy, &site_area, in_force, ask.group)) })
}

/// The values of `tubes.pool_kind` (the database checks them, `checks`).
pub(crate) const POOL_KINDS: [&str; 2] = ["people", "household"];

/// A pool size as stored: the inverse of [`pool_columns`].
pub(crate) fn stored_pool(kind: &str, size: i32) -> PoolSize {
    if kind == "household" { PoolSize::Household } else { PoolSize::People(size as u8) }
}

/// The stored form of a pool size: (pool_kind, pool_size); a household tube's size is set by its
/// first member's household.
pub(crate) fn pool_columns(pool: PoolSize) -> (&'static str, i32) {
    match pool {
        PoolSize::People(n) => ("people", i32::from(n)),
        PoolSize::Household => ("household", 0),
    }
}

pub(crate) fn shanghai(t: DateTime<Utc>) -> String {
    t.with_timezone(&cordon_domain::local_offset()).format("%m-%d %H:%M").to_string()
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

    /// Opens a tube at a site of the round whose area `inside` accepts (else the site is not in
    /// the round, for this caller); the pool size comes from the round's policy for the site's
    /// zone and the group sampled. Opening it again at the same site answers the same tube. On
    /// SQLite the whole of it — one read, the insert, the read back — runs on the one writer,
    /// beside the scans (`sqlite::station`); on PostgreSQL the same read and insert on the pool.
    pub(crate) async fn open_tube(&self, ask: OpenAsk, inside: impl Fn(&str) -> Result<()> + Send + Sync + 'static) -> Result<Tube> {
        match &*self.backend {
            crate::Backend::Sqlite(b) => b.writer.write_decided(move |c| crate::sqlite::station::open_tube(c, &ask, &inside)).await,
            crate::Backend::Postgres(b) => crate::postgres::station::open_tube(&b.pool, &ask, &inside).await,
        }
    }

    /// Scans a person into an open tube. A repeat of an accepted scan answers `repeat: true`.
    /// On SQLite the whole scan — its reads, the rules and its writes — runs on the one writer,
    /// committed with the scans beside it (`sqlite::station`); on PostgreSQL in one transaction
    /// that locks the tube first (`postgres::station`). Either way scans into one tube take
    /// turns, and each sees the ones before it.
    /// `inside` checks the tube's area against the caller's jurisdiction once the tube is read.
    pub(crate) async fn scan(
        &self,
        round_id: i64,
        barcode: &Barcode,
        person_id: i64,
        client_id: Option<&str>,
        inside: impl Fn(&str) -> Result<()> + Send + Sync + 'static,
    ) -> Result<Scanned> {
        match &*self.backend {
            crate::Backend::Sqlite(b) => {
                let (barcode, client_id) = (barcode.to_string(), client_id.map(str::to_string));
                b.writer
                    .write_decided_tallied(move |c, tallies| {
                        crate::sqlite::station::scan(c, round_id, &barcode, person_id, client_id.as_deref(), &inside, tallies)
                    })
                    .await
            }
            crate::Backend::Postgres(b) => {
                crate::postgres::station::scan(&b.pool, round_id, barcode.as_str(), person_id, client_id, &inside).await
            }
        }
    }

    /// Seals a tube on demand (an empty tube cannot be sealed).
    pub(crate) async fn close_tube(&self, round_id: i64, barcode: &Barcode) -> Result<Tube> {
        let Some(row) = self.tube_row(round_id, barcode.as_str()).await? else {
            return Err(refuse::unknown_tube(barcode.to_string()).into());
        };
        if row.sealed_at.is_none() && row.members > 0 {
            with_write_pool!(self, pool => {
                sqlx::query("UPDATE tubes SET sealed_at = $1 WHERE id = $2 AND sealed_at IS NULL").bind(Utc::now()).bind(row.id).execute(pool).await?;
            });
        } else if row.members == 0 {
            return Err(refuse::empty(row.barcode).into());
        }
        Ok(self.tube_row(round_id, barcode.as_str()).await?.ok_or_else(|| StoreError::Task("tube vanished".into()))?.tube())
    }
}

/// Who of `people` has an open recall in round `$1` (a re-test tube takes only them).
pub(crate) fn recalled_sql(people: &[i64]) -> String {
    let ids: Vec<String> = people.iter().map(i64::to_string).collect();
    format!("SELECT person_id FROM recalls WHERE round_id = $1 AND status = 'open' AND person_id IN ({})", ids.join(","))
}

/// A new tube: `$1` round, `$2` barcode, `$3` site, `$4` area, `$5` pool kind, `$6` pool size,
/// `$7` station, `$8` collector, `$9` opened at, `$10` purpose; answers its id and its opening
/// time as stored, nothing when the barcode is taken.
pub(crate) const OPEN_TUBE: &str = "INSERT INTO tubes (round_id, barcode, site_id, area_code, pool_kind, pool_size, members, station, collector, opened_at, purpose) \
     VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10) ON CONFLICT (round_id, barcode) DO NOTHING RETURNING id, opened_at";

/// The tube [`OPEN_TUBE`] inserted (`id`, `opened_at` as it answered), as [`Tube`]: what was
/// asked and decided is what was stored, so it is not read again.
pub(crate) fn opened(ask: &OpenAsk, site_area: String, (pool_kind, pool_size): (&str, i32), id: i64, opened_at: DateTime<Utc>) -> Tube {
    Tube {
        id,
        round_id: ask.round_id,
        barcode: ask.barcode.clone(),
        site_id: ask.site_id,
        area_code: site_area,
        pool: stored_pool(pool_kind, pool_size),
        members: 0,
        opened_at,
        sealed_at: None,
        retest: ask.purpose() == "retest",
    }
}

/// Counts one more member into tube `$4` — only if it still holds `$5` and is open (optimistic):
/// `$1` sealed at, `$2` household, `$3` pool size.
pub(crate) const UPDATE_TUBE: &str = "UPDATE tubes SET members = members + 1, sealed_at = $1, household_id = $2, pool_size = $3 \
     WHERE id = $4 AND members = $5 AND sealed_at IS NULL";

/// The sample of a scan: `$1` round, `$2` tube, `$3` person, `$4` area, `$5` at, `$6` client id,
/// `$7` kind.
pub(crate) static INSERT_SAMPLE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO samples (round_id, tube_id, person_id, area_code, sampled_at, client_id, kind) \
         VALUES ($1, $2, $3, $4, $5, $6, $7){ON_ROUND_CONFLICT}"
    )
});

/// What a scan reads before it decides.
pub(crate) struct ScanFacts {
    pub(crate) row: TubeRow,
    /// The person's area and household, when the person is known.
    pub(crate) person: Option<(String, Option<i64>)>,
    /// The person's earlier sample this tube meets: its tube, barcode, site and time.
    pub(crate) earlier: Option<(i64, String, String, DateTime<Utc>)>,
    pub(crate) recalled: bool,
    /// People in the person's household (asked only for household tubes, else 1).
    pub(crate) household_size: usize,
}

/// What a scan decided: an answer as it stands (a repeat), or the writes to make.
pub(crate) enum ScanPlan {
    Answer(Scanned),
    Write(ScanWrite),
}

/// The writes of an accepted scan: the tube as it will be (its id, barcode, seal, re-test or
/// not), what it held before, and the sample.
pub(crate) struct ScanWrite {
    pub(crate) tube_after: Tube,
    pub(crate) members_before: i32,
    pub(crate) household: Option<i64>,
    /// The stored pool size (a household tube's is set by its first household).
    pub(crate) pool_size: i32,
    pub(crate) person_area: String,
    pub(crate) now: DateTime<Utc>,
    pub(crate) after: AfterScan,
}

impl Tube {
    /// The kind of the samples this tube takes (`samples.kind`).
    pub(crate) fn sample_kind(&self) -> &'static str {
        if self.retest { "retest" } else { "round" }
    }
}

/// The station's rules on what a scan read (`domain`'s `admit` and `OpenTube::scan`), the same
/// on both backends.
pub(crate) fn decide_scan(facts: ScanFacts, person_id: i64) -> Result<ScanPlan> {
    let ScanFacts { row, person, earlier, recalled, household_size } = facts;
    let earlier = match earlier {
        None => Earlier::Nowhere,
        Some((tube_id, ..)) if tube_id == row.id => Earlier::ThisTube,
        Some((_, barcode, site, at)) => Earlier::Elsewhere(EarlierSample { barcode, site, at: shanghai(at) }),
    };
    let candidate = Candidate { known: person.is_some(), earlier, recalled };
    let facts = TubeFacts { barcode: &row.barcode, sealed: row.sealed_at.is_some(), retest: row.retest() };
    if admit(facts, person_id, &candidate).map_err(Refusal::from)? == Admitted::Repeat {
        let after = if row.sealed_at.is_some() {
            AfterScan::Sealed
        } else {
            AfterScan::Open { remaining: row.pool().capacity(row.pool_size as usize).saturating_sub(row.members as usize) }
        };
        return Ok(ScanPlan::Answer(Scanned { tube: row.tube(), after, repeat: true }));
    }
    let (person_area, household) = person.ok_or(ScanRefusal::UnknownPerson { person: person_id }).map_err(Refusal::from)?;
    let mut open = OpenTube::new(row.pool());
    // Someone already in this tube is a repeat, answered above: the count is all the rule needs.
    open.held = row.members.max(0) as usize;
    open.household = row.household_id;
    open.household_size = if row.pool() == PoolSize::Household && row.pool_size > 0 { row.pool_size as usize } else { 0 };
    let after = open.scan(person_id, household, household_size).map_err(Refusal::from)?;
    let now = Utc::now();
    let capacity = open.pool.capacity(open.household_size) as i32;
    let sealed = (after == AfterScan::Sealed).then_some(now);
    let pool_size = if row.pool() == PoolSize::Household { capacity } else { row.pool_size };
    let tube_after = Tube { members: row.members + 1, sealed_at: sealed, pool: stored_pool(&row.pool_kind, pool_size), ..row.tube() };
    Ok(ScanPlan::Write(ScanWrite {
        tube_after,
        members_before: row.members,
        household: open.household,
        pool_size,
        person_area,
        now,
        after,
    }))
}
