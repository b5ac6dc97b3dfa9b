//! A case recorded on SQLite's one writer: the common case — joining its infectors' one cluster
//! or starting its own — read, decided and written with prepared statements in one request,
//! committed with its group. The statements and the rules are the portable path's (`cases`).

use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension, params};

use crate::audit::{Chain, INSERT_AUDIT};
use crate::cases::{
    CLUSTER_STATE, CaseAsk, ClusterPlan, ClusterState, CreateFacts, Decision, FIRST_CLASS, INCIDENT_OF_AREA, INSERT_CASE, JOIN_CLUSTER,
    LINK, Made, START_CLUSTER, create_facts,
};
use crate::investigations::{ASSIGN_PHONE, OPEN, TEAM, first_in_turn};
use crate::{Result, sqlite_sql};

/// The facts' read in the incident holding the area, built once.
static FACTS: LazyLock<String> = LazyLock::new(|| sqlite_sql(&create_facts(INCIDENT_OF_AREA)));

/// [`crate::Store::create_case`]'s quick path on the writer's connection: [`Made::Reform`]
/// (nothing written) when the case needs the full path.
pub(crate) fn create_case(c: &Connection, ask: &CaseAsk) -> Result<Made> {
    let new = &ask.new;
    let facts = c.prepare_cached(&FACTS)?.query_row(params![ask.area, new.person_id, ask.number], |r| {
        Ok(r.get::<_, Option<i64>>(0)?.map(|incident_id| -> rusqlite::Result<CreateFacts> {
            Ok(CreateFacts { incident_id, existing: r.get(1)?, external: r.get(2)?, taken: r.get(3)?, involved: r.get(4)? })
        }))
    })?;
    // No incident holds the area yet: the full path makes one.
    let Some(facts) = facts.transpose()? else { return Ok(Made::Reform) };
    let mut infectors = Vec::with_capacity(new.infectors.len());
    {
        let mut state = c.prepare_cached(&sqlite_sql(CLUSTER_STATE))?;
        for id in &new.infectors {
            infectors.extend(
                state
                    .query_row([id], |r| {
                        Ok(ClusterState {
                            id: r.get(0)?,
                            incident_id: r.get(1)?,
                            cluster_id: r.get(2)?,
                            generation: r.get(3)?,
                            cluster_area: r.get(4)?,
                        })
                    })
                    .optional()?,
            );
        }
    }
    let (incident_id, external, plan) = match ask.decide(facts, &infectors)? {
        Decision::Existing(id) => return Ok(Made::Existing(id)),
        Decision::Write { plan: ClusterPlan::Reform, .. } => return Ok(Made::Reform),
        Decision::Write { incident_id, external, plan } => (incident_id, external, plan),
    };
    let (cluster, generation) = match &plan {
        ClusterPlan::Join { cluster, generation, .. } => (Some(*cluster), *generation),
        _ => (None, 0),
    };
    let now = super::time(ask.now);
    c.prepare_cached(&sqlite_sql(INSERT_CASE))?.execute(params![
        incident_id,
        external,
        new.person_id,
        new.positive_id,
        ask.area,
        new.classification.as_str(),
        new.severity.map(|s| s.as_str()),
        new.how_found.as_str(),
        new.origin.as_str(),
        new.onset_date,
        new.sample_date,
        new.report_date,
        new.place.as_str(),
        new.label,
        cluster,
        generation,
        now,
        ask.actor.name,
    ])?;
    let id = c.last_insert_rowid();
    c.prepare_cached(&sqlite_sql(FIRST_CLASS))?.execute(params![id, now, new.classification.as_str(), ask.actor.name])?;
    {
        let mut link = c.prepare_cached(&sqlite_sql(LINK))?;
        for i in &new.infectors {
            link.execute(params![i, id, "investigation"])?;
        }
    }
    let cluster = match plan {
        ClusterPlan::Join { cluster, generation, area } => {
            c.prepare_cached(&sqlite_sql(JOIN_CLUSTER))?.execute(params![generation + 1, ask.date, area, now, cluster])?;
            cluster
        }
        _ => {
            let cluster: i64 =
                c.prepare_cached(&sqlite_sql(START_CLUSTER))?.query_row(params![incident_id, ask.area, id, ask.date, now], |r| r.get(0))?;
            c.prepare_cached("UPDATE cases SET cluster_id = ?1 WHERE id = ?2")?.execute(params![cluster, id])?;
            cluster
        }
    };
    let (core_due, report_due) = cordon_domain::cases::investigation::deadlines(ask.now);
    let investigation: i64 = c
        .prepare_cached(&sqlite_sql(OPEN))?
        .query_row(params![id, ask.area, now, super::time(core_due), super::time(report_due)], |r| r.get(0))?;
    let team = {
        let mut q = c.prepare_cached(TEAM)?;
        let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, Option<String>>(3)?)))?;
        let mut team = Vec::new();
        for row in rows {
            let (user, area, open, last): (i64, String, i64, Option<String>) = row?;
            team.push((user, area, open, last.as_deref().and_then(super::parse_time)));
        }
        team
    };
    if let Some(user) = first_in_turn(&ask.area, team) {
        c.prepare_cached(&sqlite_sql(ASSIGN_PHONE))?.execute(params![investigation, user, now, ask.actor.name])?;
    }
    let params: Vec<rusqlite::types::Value> =
        Chain::rusqlite(c)?.seal(&ask.actor, &ask.change(&external)).iter().map(crate::param_value).collect();
    c.prepare_cached(&sqlite_sql(INSERT_AUDIT))?.execute(rusqlite::params_from_iter(params))?;
    Ok(Made::Case(Box::new(ask.case(id, incident_id, external, Some(cluster), generation))))
}
