//! Cases and their transmission chains. Every write that adds a case or an infector link
//! re-forms, in the same transaction, only the clusters it touches: membership (cases joined by
//! links), size, generations, index case, first and last dates. Pages read the stored result and
//! never walk a chain.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::AreaCode;
use cordon_domain::cases::case::{CaseClass, CasePlace, HowFound, Origin, Severity};
use cordon_domain::cases::chain::{self, ChainCase};
use cordon_domain::cases::exposure::{Degree, ExposureStatus};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// Days without a new case after which a cluster counts as closed (the longest observation
/// period of the rule sets).
pub const CLUSTER_QUIET_DAYS: u32 = 14;

/// A stored case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Case {
    pub id: i64,
    pub incident_id: i64,
    pub external_id: String,
    pub person_id: Option<i64>,
    pub positive_id: Option<i64>,
    pub area_code: String,
    #[sqlx(try_from = "String")]
    pub classification: CaseClass,
    pub severity: Option<String>,
    #[sqlx(try_from = "String")]
    pub how_found: HowFound,
    #[sqlx(try_from = "String")]
    pub origin: Origin,
    pub onset_date: Option<NaiveDate>,
    pub sample_date: Option<NaiveDate>,
    pub report_date: Option<NaiveDate>,
    #[sqlx(try_from = "String")]
    pub place: CasePlace,
    pub label: Option<String>,
    pub cluster_id: Option<i64>,
    pub generation: i32,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// When an asymptomatic infection was converted to a confirmed case.
    pub converted_at: Option<DateTime<Utc>>,
}

pub(crate) const CASE_COLUMNS: &str = "id, incident_id, external_id, person_id, positive_id, area_code, classification, severity, \
     how_found, origin, onset_date, sample_date, report_date, place, label, cluster_id, generation, created_at, created_by, converted_at";

/// A case to record.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// The number people will call the case by; `None` numbers it within the incident.
    pub external_id: Option<String>,
    pub person_id: Option<i64>,
    pub positive_id: Option<i64>,
    pub area_code: AreaCode,
    pub classification: CaseClass,
    pub severity: Option<Severity>,
    pub how_found: HowFound,
    pub origin: Origin,
    pub onset_date: Option<NaiveDate>,
    pub sample_date: Option<NaiveDate>,
    pub report_date: Option<NaiveDate>,
    pub place: CasePlace,
    pub label: Option<String>,
    /// Cases (ids) known to have infected this one.
    pub infectors: Vec<i64>,
}

/// A person found positive by mass testing, with the case made of them (if any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Positive {
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    pub area_code: String,
    pub round_id: i64,
    pub barcode: String,
    pub sealed_at: Option<DateTime<Utc>>,
    pub found_at: DateTime<Utc>,
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
}

const POSITIVE_SELECT: &str = "SELECT p.id, p.person_id, pe.name, p.area_code, p.round_id, t.barcode, t.sealed_at, p.found_at, \
     c.id AS case_id, c.external_id AS case_number FROM positive_persons p JOIN persons pe ON pe.id = p.person_id \
     JOIN tubes t ON t.id = p.tube_id LEFT JOIN cases c ON c.positive_id = p.id";

/// A cluster as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Cluster {
    pub id: i64,
    pub incident_id: i64,
    pub area_code: String,
    pub label: Option<String>,
    pub index_case_id: Option<i64>,
    /// The index case's number.
    pub index_case: Option<String>,
    pub size: i64,
    pub generations: i32,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

impl Cluster {
    /// Whether a case came within the quiet period before `today`.
    pub fn active_on(&self, today: NaiveDate) -> bool {
        chain::is_active(self.last_date, today, CLUSTER_QUIET_DAYS)
    }
}

const CLUSTER_SELECT: &str = "SELECT c.id, c.incident_id, c.area_code, c.label, c.index_case_id, ic.external_id AS index_case, c.size, \
     c.generations, c.first_date, c.last_date, c.updated_at FROM clusters c LEFT JOIN cases ic ON ic.id = c.index_case_id";

/// A cluster with its cases and links, to draw the chain.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterDetail {
    pub cluster: Cluster,
    pub cases: Vec<Case>,
    /// (infector, infectee) case ids.
    pub links: Vec<(i64, i64)>,
    /// The people the cluster's cases reached who are not cases themselves.
    pub contacts: Vec<ClusterContact>,
}

/// A contact in a cluster's chain: who reached them (a case's person or a close contact), how
/// gravely, and how far their path got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterContact {
    pub person_id: i64,
    /// The person they met first (a case's person, or a close contact for a secondary).
    pub source_person_id: i64,
    /// The case the path leads back to.
    pub case_id: i64,
    pub degree: Degree,
    pub status: ExposureStatus,
}

/// What lists of clusters ask for.
#[derive(Debug, Clone, Default)]
pub struct ClusterFilter {
    pub incident_id: Option<i64>,
    /// Clusters of at least this many cases (default 2: a lone case is no cluster).
    pub min_size: Option<i64>,
    pub limit: Option<u32>,
}

/// A case as re-forming its cluster needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Member {
    pub(crate) id: i64,
    pub(crate) cluster_id: Option<i64>,
    generation: i32,
    onset_date: Option<NaiveDate>,
    report_date: Option<NaiveDate>,
    label: Option<String>,
    area_code: String,
}

/// A cluster to write: an existing row kept (the one holding most members) or a new one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ClusterWrite {
    pub(crate) keep: Option<i64>,
    pub(crate) members: Vec<i64>,
    pub(crate) label: Option<String>,
    pub(crate) area_code: String,
    pub(crate) index_case: i64,
    pub(crate) generations: i32,
    pub(crate) first_date: Option<NaiveDate>,
    pub(crate) last_date: Option<NaiveDate>,
    /// (case, generation) for members whose generation or cluster changes.
    pub(crate) moves: Vec<(i64, i32)>,
}

/// The clusters that `members` (whole clusters plus new cases) form with `links`, and the
/// cluster rows left empty. `fallback_area` is used when members share no area.
pub(crate) fn plan_clusters(members: &[Member], links: &[(i64, i64)], fallback_area: &str) -> (Vec<ClusterWrite>, Vec<i64>) {
    let by_id: HashMap<i64, &Member> = members.iter().map(|m| (m.id, m)).collect();
    let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
    let mut writes = Vec::new();
    let mut kept = HashSet::new();
    for part in chain::clusters(&ids, links) {
        let cases: Vec<ChainCase> =
            part.iter().map(|id| ChainCase { id: *id, date: by_id[id].onset_date.or(by_id[id].report_date) }).collect();
        let inside: HashSet<i64> = part.iter().copied().collect();
        let part_links: Vec<(i64, i64)> = links.iter().copied().filter(|(a, b)| inside.contains(a) && inside.contains(b)).collect();
        let shape = chain::shape(&cases, &part_links).expect("a part has members");
        let mut holders: BTreeMap<i64, usize> = BTreeMap::new();
        for id in &part {
            if let Some(c) = by_id[id].cluster_id {
                *holders.entry(c).or_default() += 1;
            }
        }
        let keep = holders.iter().max_by_key(|(c, n)| (**n, std::cmp::Reverse(**c))).map(|(c, _)| *c);
        kept.extend(keep);
        let mut labels: BTreeMap<&str, usize> = BTreeMap::new();
        for id in &part {
            if let Some(l) = by_id[id].label.as_deref() {
                *labels.entry(l).or_default() += 1;
            }
        }
        let label = labels.iter().max_by_key(|(l, n)| (**n, std::cmp::Reverse(*l))).map(|(l, _)| l.to_string());
        let area_code = part
            .iter()
            .filter_map(|id| AreaCode::parse(&by_id[id].area_code).ok())
            .try_fold(None::<AreaCode>, |acc, a| match acc {
                None => Some(Some(a)),
                Some(acc) => acc.common_ancestor(&a).map(Some),
            })
            .flatten()
            .map_or_else(|| fallback_area.to_string(), |a| a.to_string());
        let moves = part
            .iter()
            .filter_map(|id| {
                let g = shape.generation[id] as i32;
                let m = by_id[id];
                (m.cluster_id != keep || m.cluster_id.is_none() || m.generation != g).then_some((*id, g))
            })
            .collect();
        writes.push(ClusterWrite {
            keep,
            label,
            area_code,
            index_case: shape.index_case,
            generations: shape.generations as i32,
            first_date: shape.first_date,
            last_date: shape.last_date,
            moves,
            members: part,
        });
    }
    let mut dropped: Vec<i64> = members.iter().filter_map(|m| m.cluster_id).filter(|c| !kept.contains(c)).collect();
    dropped.sort_unstable();
    dropped.dedup();
    (writes, dropped)
}

/// Re-forms, inside transaction `$tx`, the clusters of the cases `$touched` (ids): reads them
/// and the rest of their clusters, plans in memory, and writes the clusters and the members
/// that moved. A macro so that one text serves both backends' transactions.
macro_rules! recluster {
    ($tx:expr, $touched:expr, $fallback_area:expr, $now:expr) => {{
        let touched: &[i64] = $touched;
        let mut members: Vec<$crate::cases::Member> = Vec::new();
        let mut clusters: Vec<i64> = Vec::new();
        for chunk in touched.chunks(500) {
            let sql = format!(
                "SELECT id, cluster_id, generation, onset_date, report_date, label, area_code FROM cases WHERE id IN ({})",
                $crate::list_placeholders(0, chunk.len())
            );
            let params: Vec<$crate::Param> = chunk.iter().map(|i| $crate::Param::Int(*i)).collect();
            let rows: Vec<$crate::cases::Member> =
                $crate::bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(&mut *$tx).await?;
            clusters.extend(rows.iter().filter_map(|m| m.cluster_id));
            members.extend(rows);
        }
        clusters.sort_unstable();
        clusters.dedup();
        for chunk in clusters.chunks(500) {
            let sql = format!(
                "SELECT id, cluster_id, generation, onset_date, report_date, label, area_code FROM cases WHERE cluster_id IN ({})",
                $crate::list_placeholders(0, chunk.len())
            );
            let params: Vec<$crate::Param> = chunk.iter().map(|i| $crate::Param::Int(*i)).collect();
            let rows: Vec<$crate::cases::Member> =
                $crate::bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(&mut *$tx).await?;
            members.extend(rows);
        }
        members.sort_by_key(|m| m.id);
        members.dedup_by_key(|m| m.id);
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        let mut links: Vec<(i64, i64)> = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!("SELECT infector_id, case_id FROM case_links WHERE case_id IN ({})", $crate::list_placeholders(0, chunk.len()));
            let params: Vec<$crate::Param> = chunk.iter().map(|i| $crate::Param::Int(*i)).collect();
            let rows: Vec<(i64, i64)> =
                $crate::bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(&mut *$tx).await?;
            links.extend(rows);
        }
        let (writes, dropped) = $crate::cases::plan_clusters(&members, &links, $fallback_area);
        for w in &writes {
            let id = match w.keep {
                Some(id) => {
                    sqlx::query(
                        "UPDATE clusters SET area_code = $1, label = $2, index_case_id = $3, size = $4, generations = $5, \
                         first_date = $6, last_date = $7, updated_at = $8 WHERE id = $9",
                    )
                    .bind(&w.area_code).bind(&w.label).bind(w.index_case).bind(w.members.len() as i64).bind(w.generations)
                    .bind(w.first_date).bind(w.last_date).bind($now).bind(id)
                    .execute(&mut *$tx).await?;
                    id
                }
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO clusters (incident_id, area_code, label, index_case_id, size, generations, first_date, last_date, updated_at) \
                         SELECT incident_id, $1, $2, $3, $4, $5, $6, $7, $8 FROM cases WHERE id = $3 RETURNING id",
                    )
                    .bind(&w.area_code).bind(&w.label).bind(w.index_case).bind(w.members.len() as i64).bind(w.generations)
                    .bind(w.first_date).bind(w.last_date).bind($now)
                    .fetch_one(&mut *$tx).await?;
                    id
                }
            };
            for chunk in w.moves.chunks(300) {
                let sql = format!(
                    "UPDATE cases SET cluster_id = $1, generation = v.column2 FROM (VALUES {}) AS v WHERE cases.id = v.column1",
                    $crate::values_placeholders(chunk.len(), 2, 1)
                );
                let mut params = vec![$crate::Param::Int(id)];
                for (case, g) in chunk {
                    params.push($crate::Param::Int(*case));
                    params.push($crate::Param::Int(i64::from(*g)));
                }
                $crate::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *$tx).await?;
            }
        }
        for chunk in dropped.chunks(500) {
            let sql = format!("DELETE FROM clusters WHERE id IN ({})", $crate::list_placeholders(0, chunk.len()));
            let params: Vec<$crate::Param> = chunk.iter().map(|i| $crate::Param::Int(*i)).collect();
            $crate::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).execute(&mut *$tx).await?;
        }
        writes.len()
    }};
}
pub(crate) use recluster;

/// The read before a case is made (`$2` person, `$3` the number given or NULL), in the incident
/// `incident` (an SQL expression: `$1`, or [`INCIDENT_OF_AREA`]): the incident, the person's
/// case in it, the number (the next in the incident when none is given), whether that number is
/// taken, and whether the person is anyone's contact or has an observation order in it. The
/// incident is NULL when there is none.
pub(crate) fn create_facts(incident: &str) -> String {
    format!(
        "SELECT f.incident_id, (SELECT id FROM cases WHERE incident_id = f.incident_id AND person_id = $2) AS existing, f.external, \
         EXISTS (SELECT 1 FROM cases WHERE incident_id = f.incident_id AND external_id = f.external) AS taken, \
         (EXISTS (SELECT 1 FROM exposures WHERE contact_person_id = $2 AND incident_id = f.incident_id) \
          OR EXISTS (SELECT 1 FROM exposures WHERE source_person_id = $2 AND incident_id = f.incident_id) \
          OR EXISTS (SELECT 1 FROM observation_orders WHERE person_id = $2 AND incident_id = f.incident_id) \
          OR EXISTS (SELECT 1 FROM observation_orders WHERE via_person_id = $2 AND incident_id = f.incident_id)) AS involved \
         FROM (SELECT i.incident_id, COALESCE($3, CAST((SELECT COUNT(*) FROM cases WHERE incident_id = i.incident_id) + 1 AS TEXT)) AS external \
         FROM (SELECT {incident} AS incident_id) i) f"
    )
}

/// [`create_facts`] in the incident `$1`, built once.
static FACTS_IN_INCIDENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| create_facts("CAST($1 AS BIGINT)"));

/// The incident a case in area `$1` joins: the newest holding the area (as `Store::incident_for`
/// picks it, which makes one when there is none).
pub(crate) const INCIDENT_OF_AREA: &str =
    "(SELECT id FROM incidents WHERE substr($1, 1, length(area_code)) = area_code ORDER BY started_at DESC, id DESC LIMIT 1)";

/// A case's row (`$1`…`$18`), without its RETURNING.
pub(crate) const INSERT_CASE: &str = "INSERT INTO cases (incident_id, external_id, person_id, positive_id, area_code, classification, \
     severity, how_found, origin, onset_date, sample_date, report_date, place, label, cluster_id, generation, created_at, created_by) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

/// A new case's first classification (`$1` case, `$2` when, `$3` class, `$4` by whom).
pub(crate) const FIRST_CLASS: &str =
    "INSERT INTO case_class_changes (case_id, changed_at, from_class, to_class, changed_by) VALUES ($1, $2, NULL, $3, $4)";

/// One infector link (`$1` infector, `$2` case, `$3` source).
pub(crate) const LINK: &str = "INSERT INTO case_links (infector_id, case_id, source) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// A case joins its infectors' cluster (`$1` its generation + 1, `$2` its date, `$3` the
/// cluster's area now, `$4` when, `$5` the cluster).
pub(crate) const JOIN_CLUSTER: &str = "UPDATE clusters SET size = size + 1, \
     generations = CASE WHEN generations < $1 THEN $1 ELSE generations END, \
     first_date = CASE WHEN $2 IS NOT NULL AND (first_date IS NULL OR $2 < first_date) THEN $2 ELSE first_date END, \
     last_date = CASE WHEN $2 IS NOT NULL AND (last_date IS NULL OR $2 > last_date) THEN $2 ELSE last_date END, \
     area_code = $3, updated_at = $4 WHERE id = $5";

/// A case with no infector starts a cluster of its own (`$1` incident, `$2` area, `$3` the case,
/// `$4` its date, `$5` when).
pub(crate) const START_CLUSTER: &str = "INSERT INTO clusters (incident_id, area_code, label, index_case_id, size, generations, \
     first_date, last_date, updated_at) VALUES ($1, $2, NULL, $3, 1, 1, $4, $4, $5) RETURNING id";

/// One case and its cluster, as a new case's infector.
pub(crate) const CLUSTER_STATE: &str = "SELECT c.id, c.incident_id, c.cluster_id, c.generation, k.area_code AS cluster_area FROM cases c \
     LEFT JOIN clusters k ON k.id = c.cluster_id WHERE c.id = $1";

/// What [`create_facts`] reads.
pub(crate) struct CreateFacts {
    pub(crate) incident_id: i64,
    pub(crate) existing: Option<i64>,
    pub(crate) external: String,
    pub(crate) taken: bool,
    pub(crate) involved: bool,
}

/// A stored case as a new case's infector: its incident and cluster.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ClusterState {
    pub(crate) id: i64,
    pub(crate) incident_id: i64,
    pub(crate) cluster_id: Option<i64>,
    pub(crate) generation: i32,
    /// The area of its cluster.
    pub(crate) cluster_area: Option<String>,
}

/// The cases `$ids` with their clusters, inside transaction `$tx` (a macro, as [`recluster`]).
macro_rules! cluster_states {
    ($tx:expr, $ids:expr) => {{
        let mut out: Vec<ClusterState> = Vec::new();
        for id in $ids {
            out.extend(sqlx::query_as::<_, ClusterState>(CLUSTER_STATE).bind(*id).fetch_optional(&mut *$tx).await?);
        }
        out
    }};
}

/// Where a new case's cluster comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ClusterPlan {
    /// The one cluster all its infectors are in, the case's generation in it, and the
    /// cluster's area once it holds the case.
    Join { cluster: i64, generation: i32, area: String },
    /// No infector: a cluster of its own.
    Start,
    /// Infectors in several clusters (or none), a label, a contact: re-formed from its members.
    Reform,
}

impl ClusterPlan {
    fn of(infectors: &[ClusterState], area: &AreaCode) -> ClusterPlan {
        let Some(first) = infectors.first() else { return ClusterPlan::Start };
        match (first.cluster_id, &first.cluster_area) {
            (Some(cluster), Some(held)) if infectors.iter().all(|s| s.cluster_id == Some(cluster)) => {
                let generation = infectors.iter().map(|s| s.generation).min().unwrap_or(0) + 1;
                let area = AreaCode::parse(held).ok().and_then(|h| h.common_ancestor(area)).map_or_else(|| held.clone(), |a| a.to_string());
                ClusterPlan::Join { cluster, generation, area }
            }
            _ => ClusterPlan::Reform,
        }
    }
}

/// A case to record, with everything known before its transaction begins.
#[derive(Debug, Clone)]
pub(crate) struct CaseAsk {
    pub(crate) new: NewCase,
    /// The number given, trimmed.
    pub(crate) number: Option<String>,
    pub(crate) area: String,
    /// The date that places it in its cluster: onset, else report, else sampling.
    pub(crate) date: Option<NaiveDate>,
    pub(crate) now: DateTime<Utc>,
    pub(crate) actor: Actor,
}

/// What the rules make of a new case's facts.
pub(crate) enum Decision {
    /// The person is a case of the incident already: that case.
    Existing(i64),
    /// Written in the incident under `external`; `plan` says where its cluster comes from.
    Write { incident_id: i64, external: String, plan: ClusterPlan },
}

/// What the quick path of recording a case did.
pub(crate) enum Made {
    Case(Box<Case>),
    /// The person is a case of the incident already.
    Existing(i64),
    /// Nothing: the case re-forms clusters or moves contacts, or is the first of a new
    /// incident — the full path's work.
    Reform,
}

impl CaseAsk {
    /// The rules over what was read: the person's case if they are one, a refusal (an infector
    /// of another incident, an empty or taken number), or where its cluster comes from — joined
    /// or started with the case in the common case, re-formed once it is in when its infectors
    /// are in several clusters, it carries a source label (which may change the cluster's), or
    /// the person was a contact or under observation.
    pub(crate) fn decide(&self, facts: CreateFacts, infectors: &[ClusterState]) -> Result<Decision> {
        if let Some(existing) = facts.existing {
            return Ok(Decision::Existing(existing));
        }
        for i in &self.new.infectors {
            if !infectors.iter().any(|s| s.id == *i && s.incident_id == facts.incident_id) {
                return Err(refused!("refused.case_of_other_incident", i = i));
            }
        }
        if facts.external.is_empty() {
            return Err(refused!("refused.case_number_empty"));
        }
        if facts.taken {
            return Err(refused!("refused.case_number_taken", external = facts.external));
        }
        let involved = facts.involved && self.new.person_id.is_some();
        let plan = if involved || self.new.label.is_some() { ClusterPlan::Reform } else { ClusterPlan::of(infectors, &self.new.area_code) };
        Ok(Decision::Write { incident_id: facts.incident_id, external: facts.external, plan })
    }

    /// The case's audit event, under its number.
    pub(crate) fn change(&self, external: &str) -> Change {
        let new = &self.new;
        Change::new("create", "case", external).area(&self.area).after(serde_json::json!({
            "person": new.person_id, "classification": new.classification.as_str(), "how_found": new.how_found.as_str(),
            "infectors": new.infectors,
        }))
    }

    /// The case as stored once written with `id` in the incident, under `external`, with its
    /// place in a cluster.
    pub(crate) fn case(&self, id: i64, incident_id: i64, external: String, cluster_id: Option<i64>, generation: i32) -> Case {
        let new = &self.new;
        Case {
            id,
            incident_id,
            external_id: external,
            person_id: new.person_id,
            positive_id: new.positive_id,
            area_code: self.area.clone(),
            classification: new.classification,
            severity: new.severity.map(|s| s.as_str().to_string()),
            how_found: new.how_found,
            origin: new.origin,
            onset_date: new.onset_date,
            sample_date: new.sample_date,
            report_date: new.report_date,
            place: new.place,
            label: new.label.clone(),
            cluster_id,
            generation,
            created_at: self.now,
            created_by: self.actor.name.clone(),
            converted_at: None,
        }
    }
}

impl Store {
    pub(crate) async fn case(&self, id: i64) -> Result<Option<Case>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Case>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
    }

    pub(crate) async fn case_by_number(&self, incident_id: i64, external_id: &str) -> Result<Option<Case>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE incident_id = $1 AND external_id = $2");
        Ok(with_read_pool!(self, pool =>
            sqlx::query_as::<_, Case>(sqlx::AssertSqlSafe(sql.as_str())).bind(incident_id).bind(external_id).fetch_optional(pool).await?))
    }

    /// Records a case in the incident holding its area, linked to its known infectors, and
    /// re-forms the clusters it joins. A person already a case of the incident answers that case.
    pub(crate) async fn create_case(&self, actor: &Actor, new: NewCase) -> Result<Case> {
        cordon_domain::cases::case::identified(new.person_id.is_some(), new.external_id.as_deref())?;
        let ask = CaseAsk {
            number: new.external_id.as_deref().map(|n| n.trim().to_string()),
            area: new.area_code.to_string(),
            date: new.onset_date.or(new.report_date).or(new.sample_date),
            // Microseconds: what both databases keep, so that the case answered is the case stored.
            now: chrono::SubsecRound::trunc_subsecs(Utc::now(), 6),
            actor: actor.clone(),
            new,
        };
        // The common case — a case joining its infectors' one cluster or starting its own, in
        // an incident that exists — in one request of SQLite's writer, or in four round trips
        // on PostgreSQL; the rest (clusters re-formed, contacts turning positive, the first
        // case of an incident) on the full path below.
        if ask.new.label.is_none() {
            let made = match &*self.backend {
                crate::Backend::Sqlite(b) => {
                    let quick = ask.clone();
                    b.writer.write(move |c| crate::sqlite::cases::create_case(c, &quick)).await?
                }
                crate::Backend::Postgres(b) => crate::postgres::cases::create_case(&b.pool, &ask).await?,
            };
            match made {
                Made::Case(case) => return Ok(*case),
                Made::Existing(id) => return self.case(id).await?.ok_or_else(|| StoreError::Task("case vanished".into())),
                Made::Reform => {}
            }
        }
        let incident_id = self.incident_for(actor, &ask.new.area_code).await?;
        self.create_case_reforming(incident_id, ask).await
    }

    /// [`Store::create_case`]'s full path: the case written, then its clusters re-formed from
    /// their members; a contact or observed person turning positive moves their contacts and
    /// orders.
    async fn create_case_reforming(&self, incident_id: i64, ask: CaseAsk) -> Result<Case> {
        let (new, now, actor) = (&ask.new, ask.now, &ask.actor);
        let mut reclassified: Vec<i64> = Vec::new();
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (_, existing, external, taken, involved): (i64, Option<i64>, String, bool, bool) =
                sqlx::query_as(sqlx::AssertSqlSafe(FACTS_IN_INCIDENT.as_str()))
                    .bind(incident_id).bind(new.person_id).bind(ask.number.as_deref()).fetch_one(&mut *tx).await?;
            let infectors = cluster_states!(tx, &new.infectors);
            let external = match ask.decide(CreateFacts { incident_id, existing, external, taken, involved }, &infectors)? {
                Decision::Existing(id) => {
                    drop(tx);
                    return self.case(id).await?.ok_or_else(|| StoreError::Task("case vanished".into()));
                }
                Decision::Write { external, .. } => external,
            };
            let insert = format!("{INSERT_CASE} RETURNING id");
            let (id,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(insert))
                .bind(incident_id).bind(&external).bind(new.person_id).bind(new.positive_id).bind(&ask.area)
                .bind(new.classification.as_str()).bind(new.severity.map(|s| s.as_str())).bind(new.how_found.as_str())
                .bind(new.origin.as_str()).bind(new.onset_date).bind(new.sample_date).bind(new.report_date)
                .bind(new.place.as_str()).bind(&new.label).bind(None::<i64>).bind(0i32).bind(now).bind(&actor.name)
                .fetch_one(&mut *tx).await?;
            sqlx::query(FIRST_CLASS).bind(id).bind(now).bind(new.classification.as_str()).bind(&actor.name).execute(&mut *tx).await?;
            for i in &new.infectors {
                sqlx::query(LINK).bind(*i).bind(id).bind("investigation").execute(&mut *tx).await?;
            }
            let mut touched = vec![id];
            touched.extend(&new.infectors);
            if let (true, Some(person)) = (involved, new.person_id) {
                // A contact who turns positive: the cases they were a close contact of infected
                // them, their own secondary contacts become close contacts, their observation
                // order ends as a case.
                // The infector is whom they met: the case itself, or a contact of it who is
                // now a case too.
                let sources: Vec<(i64,)> = sqlx::query_as(
                    "SELECT DISTINCT COALESCE(sc.id, e.case_id) FROM exposures e LEFT JOIN cases sc \
                     ON sc.person_id = e.source_person_id AND sc.incident_id = e.incident_id \
                     WHERE e.contact_person_id = $1 AND e.incident_id = $2 AND e.status IN ('confirmed', 'handed_over') \
                     AND e.degree = 'close' AND COALESCE(sc.id, e.case_id) <> $3",
                )
                .bind(person).bind(incident_id).bind(id).fetch_all(&mut *tx).await?;
                for (source,) in sources {
                    sqlx::query(LINK).bind(source).bind(id).bind("contact").execute(&mut *tx).await?;
                    touched.push(source);
                }
                // What follows is domain's rule (turns_positive); the schedules of the orders
                // moved are recomputed once this commits.
                let rule = cordon_domain::observation::turns_positive();
                sqlx::query("UPDATE exposures SET degree = $3 WHERE source_person_id = $1 AND incident_id = $2 AND degree = $4")
                    .bind(person).bind(incident_id).bind(rule.exposures_to.as_str()).bind(rule.exposures_from.as_str())
                    .execute(&mut *tx).await?;
                sqlx::query("UPDATE observation_orders SET status = $3 WHERE person_id = $1 AND incident_id = $2")
                    .bind(person).bind(incident_id).bind(rule.own_order.as_str()).execute(&mut *tx).await?;
                let sql = format!(
                    "UPDATE observation_orders SET category = $3 WHERE via_person_id = $1 AND incident_id = $2 \
                     AND category = $4 AND status NOT IN {} RETURNING id",
                    crate::observation::final_statuses()
                );
                let moved: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(person).bind(incident_id).bind(rule.orders_to.as_str()).bind(rule.orders_from.as_str())
                    .fetch_all(&mut *tx).await?;
                reclassified.extend(moved.into_iter().map(|(id,)| id));
            }
            recluster!(tx, &touched, &ask.area, now);
            crate::investigations::open_investigation!(tx, id, &ask.area, now, &actor.name);
            tx.append(actor, &ask.change(&external)).await?;
            tx.commit().await?;
            id
        });
        if !reclassified.is_empty() {
            self.recompute_orders(&reclassified).await?;
        }
        self.case(id).await?.ok_or_else(|| StoreError::Task("case vanished".into()))
    }

    /// Positives in `scope`, newest first; with `waiting`, only those not yet made a case.
    pub(crate) async fn positives(&self, scope: &[AreaCode], waiting: bool) -> Result<Vec<Positive>> {
        let mut params = Vec::new();
        let Some(in_scope) = crate::in_areas("p.area_code", scope, &mut params) else { return Ok(vec![]) };
        let waiting = if waiting { " AND c.id IS NULL" } else { "" };
        let sql = format!("{POSITIVE_SELECT} WHERE {in_scope}{waiting} ORDER BY p.found_at DESC, p.id DESC LIMIT 1000");
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, Positive>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    pub(crate) async fn positive(&self, id: i64) -> Result<Option<Positive>> {
        let sql = format!("{POSITIVE_SELECT} WHERE p.id = $1");
        Ok(
            with_read_pool!(self, pool => sqlx::query_as::<_, Positive>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?),
        )
    }

    /// Makes a case of a mass-testing positive in one action: the person, their area, the
    /// sampling day; asymptomatic until a clinician says otherwise. Again: the same case.
    pub(crate) async fn case_from_positive(
        &self,
        actor: &Actor,
        positive: &Positive,
        classification: CaseClass,
        onset: Option<NaiveDate>,
    ) -> Result<Case> {
        if let Some(id) = positive.case_id {
            return self.case(id).await?.ok_or_else(|| StoreError::Task("case vanished".into()));
        }
        let area = AreaCode::parse(&positive.area_code).map_err(|e| StoreError::Task(e.to_string()))?;
        // Found under observation: in a site (集中隔离中发现) or at home under control.
        let sql = format!(
            "SELECT status FROM observation_orders WHERE person_id = $1 AND status NOT IN {} ORDER BY id DESC LIMIT 1",
            crate::observation::final_statuses()
        );
        let observed: Option<(String,)> = with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(positive.person_id).fetch_optional(pool).await?);
        // Or living in a sealed or controlled zone (封控管控区内发现).
        let zone = self.zone_of_person(positive.person_id).await?;
        let (how_found, place) = cordon_domain::cases::case::found_under(observed.and_then(|(s,)| s.parse().ok()), zone);
        self.create_case(
            actor,
            NewCase {
                external_id: None,
                person_id: Some(positive.person_id),
                positive_id: Some(positive.id),
                area_code: area,
                classification,
                severity: None,
                how_found,
                origin: Origin::Local,
                onset_date: onset,
                sample_date: Some(cordon_domain::local_date(positive.sealed_at.unwrap_or(positive.found_at))),
                report_date: Some(cordon_domain::local_date(Utc::now())),
                place,
                label: None,
                infectors: vec![],
            },
        )
        .await
    }

    /// Records that `infector` infected `case` (both of one incident) and re-forms their clusters.
    /// Linking again changes nothing.
    pub(crate) async fn link_cases(&self, actor: &Actor, infector: &Case, case: &Case, source: &str) -> Result<()> {
        if infector.incident_id != case.incident_id {
            return Err(refused!("refused.cases_different_incidents_linked"));
        }
        if infector.id == case.id {
            return Err(refused!("refused.case_infects_itself"));
        }
        let now = Utc::now();
        let change = Change::new("link", "case", &case.external_id)
            .area(&case.area_code)
            .after(serde_json::json!({"infector": infector.external_id, "source": source}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let added = sqlx::query("INSERT INTO case_links (infector_id, case_id, source) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(infector.id).bind(case.id).bind(source).execute(&mut *tx).await?.rows_affected();
            if added > 0 {
                recluster!(tx, &[infector.id, case.id], &case.area_code, now);
                tx.append(actor, &change).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Clusters whose area lies in `scope`, largest first.
    pub(crate) async fn clusters(&self, scope: &[AreaCode], filter: &ClusterFilter) -> Result<Vec<Cluster>> {
        let mut params = vec![Param::Int(filter.min_size.unwrap_or(2))];
        let Some(in_scope) = crate::in_areas("c.area_code", scope, &mut params) else { return Ok(vec![]) };
        let mut sql = format!("{CLUSTER_SELECT} WHERE c.size >= $1 AND {in_scope}");
        if let Some(i) = filter.incident_id {
            params.push(Param::Int(i));
            sql.push_str(&format!(" AND c.incident_id = ${}", params.len()));
        }
        sql.push_str(&format!(" ORDER BY c.size DESC, c.id LIMIT {}", filter.limit.unwrap_or(200).min(5000)));
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, Cluster>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    pub(crate) async fn cluster(&self, id: i64) -> Result<Option<Cluster>> {
        let sql = format!("{CLUSTER_SELECT} WHERE c.id = $1");
        Ok(
            with_read_pool!(self, pool => sqlx::query_as::<_, Cluster>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?),
        )
    }

    /// A cluster with every case and link, generation by generation.
    pub(crate) async fn cluster_detail(&self, id: i64) -> Result<Option<ClusterDetail>> {
        let Some(cluster) = self.cluster(id).await? else { return Ok(None) };
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE cluster_id = $1 ORDER BY generation, id");
        let cases: Vec<Case> = with_read_pool!(self, pool =>
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_all(pool).await?);
        let links: Vec<(i64, i64)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT l.infector_id, l.case_id FROM case_links l JOIN cases c ON c.id = l.case_id WHERE c.cluster_id = $1 ORDER BY 1, 2",
        ).bind(id).fetch_all(pool).await?);
        let paths: Vec<(i64, i64, i64, String, String)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT e.contact_person_id, e.source_person_id, e.case_id, e.degree, e.status FROM exposures e JOIN cases c ON c.id = e.case_id \
             WHERE c.cluster_id = $1 AND e.status <> 'dismissed' ORDER BY e.id",
        ).bind(id).fetch_all(pool).await?);
        let case_people: std::collections::HashSet<i64> = cases.iter().filter_map(|c| c.person_id).collect();
        let mut contacts: Vec<ClusterContact> = Vec::new();
        let mut at: HashMap<i64, usize> = HashMap::new();
        for (person, source, case_id, degree, status) in paths {
            if case_people.contains(&person) {
                continue;
            }
            let degree: Degree = degree.parse().map_err(StoreError::Corrupt)?;
            let status: ExposureStatus = status.parse().map_err(StoreError::Corrupt)?;
            match at.get(&person) {
                Some(&i) => {
                    let c = &mut contacts[i];
                    c.degree = c.degree.higher(degree);
                    c.status = c.status.furthest(status);
                }
                None => {
                    at.insert(person, contacts.len());
                    contacts.push(ClusterContact { person_id: person, source_person_id: source, case_id, degree, status });
                }
            }
        }
        Ok(Some(ClusterDetail { cluster, cases, links, contacts }))
    }

    /// The rule set an incident runs under.
    pub(crate) async fn incident_rule_set(&self, incident_id: i64) -> Result<String> {
        let (r,): (String,) = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT rule_set FROM incidents WHERE id = $1").bind(incident_id).fetch_one(pool).await?);
        Ok(r)
    }

    /// The incident with this name, created over `area` when there is none.
    pub(crate) async fn incident_named(&self, actor: &Actor, name: &str, area: &AreaCode) -> Result<i64> {
        let found: Option<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT id FROM incidents WHERE name = $1 ORDER BY id LIMIT 1").bind(name).fetch_optional(pool).await?);
        if let Some((id,)) = found {
            return Ok(id);
        }
        if self.area(area).await?.is_none() {
            return Err(refused!("refused.area_unregistered", area = area));
        }
        let change = Change::new("create", "incident", name).area(area.as_str()).after(serde_json::json!({"name": name}));
        Ok(with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO incidents (name, area_code, started_at, response_level, rule_set) VALUES ($1, $2, $3, NULL, $4) RETURNING id",
            )
            .bind(name).bind(area.as_str()).bind(Utc::now()).bind(crate::testing::DEFAULT_RULE_SET).fetch_one(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: i64, cluster: Option<i64>, generation: i32, area: &str) -> Member {
        Member { id, cluster_id: cluster, generation, onset_date: None, report_date: None, label: None, area_code: area.into() }
    }

    #[test]
    fn a_link_between_two_clusters_keeps_the_larger_row_and_drops_the_other() {
        let members = [
            m(1, Some(10), 0, "140121100201"),
            m(2, Some(10), 1, "140121100201"),
            m(3, Some(10), 1, "140121100202"),
            m(4, Some(11), 0, "140121101201"),
            m(5, Some(11), 1, "140121101201"),
        ];
        let (writes, dropped) = plan_clusters(&members, &[(1, 2), (1, 3), (4, 5), (3, 4)], "140121");
        assert_eq!(writes.len(), 1);
        let w = &writes[0];
        assert_eq!((w.keep, w.index_case, w.generations), (Some(10), 1, 4));
        assert_eq!(w.area_code, "140121");
        assert_eq!(w.moves, vec![(4, 2), (5, 3)], "only the cases that moved are written");
        assert_eq!(dropped, vec![11]);
    }

    #[test]
    fn new_cases_without_links_form_their_own_clusters() {
        let (writes, dropped) = plan_clusters(&[m(7, None, 0, "140121100201"), m(8, None, 0, "140121100201")], &[], "140121");
        assert_eq!(writes.len(), 2);
        assert!(writes.iter().all(|w| w.keep.is_none() && w.members.len() == 1 && w.moves.len() == 1));
        assert!(dropped.is_empty());
    }
}
