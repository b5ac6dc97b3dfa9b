//! A case recorded on PostgreSQL in four round trips: the transaction begun with the audit
//! lock taken; what the rules need in one read (the incident, the facts, the infectors' clusters,
//! the investigators in turn, the audit chain's head); every row in one statement; the commit.
//! The common case only — joining the infectors' one cluster or starting its own; the rest
//! takes the portable path (`cases`).

use std::sync::LazyLock;

use sqlx::PgPool;

use crate::audit::{Chain, INSERT_AUDIT_HEAD, INSERT_AUDIT_ROW_PARAMS, LAST_HASH};
use crate::cases::{CASE_COLUMNS, Case, CaseAsk, ClusterPlan, ClusterState, CreateFacts, Decision, INCIDENT_OF_AREA, Made, create_facts};
use crate::investigations::{TEAM, TeamRow, first_in_turn};
use crate::{Result, StoreError, bind_all};

/// [`create_facts`] in the incident holding area `$1`, with the infectors (`$4`, an array) and
/// their clusters, one row each (one row of NULLs when there is none), the chain's head, and
/// the [`TEAM`] rows as JSON arrays.
/// The statements built once: a case's SQL is the same every time.
static FACTS: LazyLock<String> = LazyLock::new(facts_sql);
static WRITE: LazyLock<String> = LazyLock::new(write_sql);

fn facts_sql() -> String {
    format!(
        "SELECT f.incident_id, f.existing, f.external, f.taken, f.involved, c.id, c.incident_id, c.cluster_id, c.generation, k.area_code, \
         ({LAST_HASH}) AS head, \
         (SELECT CAST(json_agg(json_build_array(t.id, t.area_code, t.open_tasks, t.last_assigned)) AS TEXT) FROM ({TEAM}) t) AS team \
         FROM ({}) f LEFT JOIN cases c ON c.id = ANY($4) LEFT JOIN clusters k ON k.id = c.cluster_id",
        create_facts(INCIDENT_OF_AREA)
    )
}

/// Every row of a new case in one statement: its id and, when it starts a cluster (`$15` NULL),
/// the cluster's taken from their sequences first, so that each row names the other; the case,
/// its first class, its links (`$19`), the cluster joined or started, its investigation and the
/// investigator in turn (`$24`, or nobody), and its audit event (`$25`…).
fn write_sql() -> String {
    let audit = crate::values_placeholders(1, INSERT_AUDIT_ROW_PARAMS, 24);
    format!(
        "WITH ids AS (SELECT nextval(pg_get_serial_sequence('cases', 'id')) AS case_id, \
           COALESCE($15::bigint, nextval(pg_get_serial_sequence('clusters', 'id'))) AS cluster_id), \
         started AS (INSERT INTO clusters (id, incident_id, area_code, label, index_case_id, size, generations, first_date, last_date, updated_at) \
           SELECT cluster_id, $1, $5, NULL, case_id, 1, 1, $20::date, $20::date, $17 FROM ids WHERE $15::bigint IS NULL), \
         joined AS (UPDATE clusters SET size = size + 1, generations = GREATEST(generations, $16 + 1), \
           first_date = LEAST(first_date, $20::date), last_date = GREATEST(last_date, $20::date), area_code = $21, updated_at = $17 \
           WHERE id = $15::bigint), \
         c AS (INSERT INTO cases (id, incident_id, external_id, person_id, positive_id, area_code, classification, severity, how_found, origin, \
           onset_date, sample_date, report_date, place, label, cluster_id, generation, created_at, created_by) \
           SELECT case_id, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, cluster_id, $16, $17, $18 FROM ids \
           RETURNING {CASE_COLUMNS}), \
         class AS (INSERT INTO case_class_changes (case_id, changed_at, from_class, to_class, changed_by) SELECT id, $17, NULL, $6, $18 FROM c), \
         links AS (INSERT INTO case_links (infector_id, case_id, source) SELECT i, c.id, 'investigation' FROM c, unnest($19::bigint[]) AS i \
           ON CONFLICT DO NOTHING), \
         inv AS (INSERT INTO investigations (case_id, area_code, opened_at, core_due_at, report_due_at) SELECT id, $5, $17, $22, $23 FROM c \
           RETURNING id), \
         assigned AS (INSERT INTO investigation_assignments (investigation_id, user_id, part, assigned_at, assigned_by) \
           SELECT inv.id, $24::bigint, 'phone', $17, $18 FROM inv WHERE $24::bigint IS NOT NULL), \
         audited AS ({INSERT_AUDIT_HEAD} VALUES {audit}) \
         SELECT {CASE_COLUMNS} FROM c"
    )
}

type FactRow = (
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<bool>,
    Option<bool>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The [`TEAM`] rows from their JSON arrays.
fn team(json: Option<&str>) -> Result<Vec<TeamRow>> {
    let rows: Vec<TeamRow> = match json {
        Some(text) => serde_json::from_str(text).map_err(|e| StoreError::Task(format!("the investigators read back unreadable: {e}")))?,
        None => Vec::new(),
    };
    Ok(rows)
}

/// [`crate::Store::create_case`]'s quick path: [`Made::Reform`] (nothing written) when the case
/// needs the full path.
pub(crate) async fn create_case(pool: &PgPool, ask: &CaseAsk) -> Result<Made> {
    let new = &ask.new;
    let mut tx = pool.begin_with(super::BEGIN_LOCKED).await?;
    let rows: Vec<FactRow> = sqlx::query_as(sqlx::AssertSqlSafe(FACTS.as_str()))
        .bind(&ask.area)
        .bind(new.person_id)
        .bind(ask.number.as_deref())
        .bind(&new.infectors)
        .fetch_all(&mut *tx)
        .await?;
    let Some(first) = rows.first() else { return Err(StoreError::Task("the case's facts read no row".into())) };
    // No incident holds the area yet: the full path makes one.
    let (Some(incident_id), Some(external), Some(taken), Some(involved)) = (first.0, first.2.clone(), first.3, first.4) else {
        return Ok(Made::Reform);
    };
    let facts = CreateFacts { incident_id, existing: first.1, external, taken, involved };
    let (head, team) = (first.10.clone(), team(first.11.as_deref())?);
    let infectors: Vec<ClusterState> = rows
        .iter()
        .filter_map(|r| Some(ClusterState { id: r.5?, incident_id: r.6?, cluster_id: r.7, generation: r.8?, cluster_area: r.9.clone() }))
        .collect();
    let (incident_id, external, plan) = match ask.decide(facts, &infectors)? {
        Decision::Existing(id) => return Ok(Made::Existing(id)),
        Decision::Write { plan: ClusterPlan::Reform, .. } => return Ok(Made::Reform),
        Decision::Write { incident_id, external, plan } => (incident_id, external, plan),
    };
    let assignee = first_in_turn(&ask.area, team);
    let (cluster, generation, cluster_area) = match plan {
        ClusterPlan::Join { cluster, generation, area } => (Some(cluster), generation, Some(area)),
        _ => (None, 0, None),
    };
    let (core_due, report_due) = cordon_domain::cases::investigation::deadlines(ask.now);
    let audit = Chain::onto(head).seal(&ask.actor, &ask.change(&external));
    let query = sqlx::query_as::<_, Case>(sqlx::AssertSqlSafe(WRITE.as_str()))
        .bind(incident_id)
        .bind(&external)
        .bind(new.person_id)
        .bind(new.positive_id)
        .bind(&ask.area)
        .bind(new.classification.as_str())
        .bind(new.severity.map(|s| s.as_str()))
        .bind(new.how_found.as_str())
        .bind(new.origin.as_str())
        .bind(new.onset_date)
        .bind(new.sample_date)
        .bind(new.report_date)
        .bind(new.place.as_str())
        .bind(&new.label)
        .bind(cluster)
        .bind(generation)
        .bind(ask.now)
        .bind(&ask.actor.name)
        .bind(&new.infectors)
        .bind(ask.date)
        .bind(cluster_area)
        .bind(core_due)
        .bind(report_due)
        .bind(assignee);
    let case = bind_all(query, audit.iter()).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(Made::Case(Box::new(case)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_transaction_begins_with_the_audit_lock_every_chained_write_takes() {
        assert_eq!(
            crate::postgres::BEGIN_LOCKED,
            format!("BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SELECT pg_advisory_xact_lock({})", crate::audit::AUDIT_LOCK)
        );
    }
}
