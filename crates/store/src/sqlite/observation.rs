//! Observation on SQLite: recomputing an incident's open orders under a new rule set, read,
//! computed and written on the synchronous connection in one immediate transaction, one prepared
//! UPDATE a row, with its audit event. The plan is the portable path's (`plan_schedules`). And a
//! door or site test, a request of the one writer.

use std::collections::HashMap;

use chrono::Utc;
use cordon_domain::local_date;
use cordon_domain::observation::{Outcome, RuleSet, Status, Taken};

use crate::audit::{Actor, Chain, INSERT_AUDIT};
use crate::observation::{OPEN_ORDER_COLUMNS, OpenOrder, RecomputeSummary, final_statuses, plan_schedules, recompute_change};
use crate::{Result, SqliteBackend};

/// Recomputes every open order of an incident under `rule` (see `Store::recompute_incident`).
pub(crate) async fn recompute_incident(
    b: &SqliteBackend,
    actor: &Actor,
    incident_id: i64,
    rule: RuleSet,
    rules: HashMap<String, RuleSet>,
) -> Result<RecomputeSummary> {
    let actor = actor.clone();
    b.with_bulk(move |conn| {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut orders = Vec::new();
        let mut taken: HashMap<i64, Vec<Taken>> = HashMap::new();
        {
            let mut q = tx.prepare(&format!(
                "SELECT {OPEN_ORDER_COLUMNS} FROM observation_orders WHERE incident_id = ?1 AND status NOT IN {}",
                final_statuses()
            ))?;
            let mut rows = q.query([incident_id])?;
            while let Some(r) = rows.next()? {
                let (category, status): (String, String) = (r.get(1)?, r.get(7)?);
                orders.push(OpenOrder {
                    id: r.get(0)?,
                    category: category.parse().map_err(crate::StoreError::corrupt)?,
                    last_exposure_at: r.get(2)?,
                    found_on: r.get(3)?,
                    created_at: r.get(4)?,
                    release_on: r.get(5)?,
                    rule_set: r.get(6)?,
                    status: status.parse().map_err(crate::StoreError::corrupt)?,
                    centralized_until: r.get(8)?,
                    room_id: r.get(9)?,
                    area_code: r.get(10)?,
                });
            }
            let mut q = tx.prepare(&format!(
                "SELECT t.order_id, t.taken_on, t.outcome FROM observation_tests t JOIN observation_orders o ON o.id = t.order_id \
                 WHERE o.incident_id = ?1 AND o.status NOT IN {}",
                final_statuses()
            ))?;
            let mut rows = q.query([incident_id])?;
            while let Some(r) = rows.next()? {
                let outcome: String = r.get(2)?;
                taken.entry(r.get(0)?).or_default().push(Taken { on: r.get(1)?, outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Pending) });
            }
        }
        let now = Utc::now();
        let plan = plan_schedules(&rule, &rules, &orders, &taken, local_date(now));
        {
            let at = crate::sqlite::time(now);
            let mut update = tx.prepare(
                "UPDATE observation_orders SET rule_set = ?1, release_on = ?2, centralized_until = ?3, test_dates = ?4, found_on = ?5, updated_at = ?6, \
                 status = ?8 WHERE id = ?7",
            )?;
            // Read and written in one immediate transaction: the status read is the status now.
            for u in &plan.updates {
                let (_, status) = u.status;
                update.execute(rusqlite::params![
                    rule.name,
                    u.cols.release_on,
                    u.cols.centralized_until,
                    u.cols.test_dates,
                    u.found_on,
                    at,
                    u.id,
                    status.as_str()
                ])?;
            }
            let mut release = tx.prepare(
                "UPDATE observation_orders SET status = ?4, released_at = ?1, updated_at = ?1, rule_set = ?2 WHERE id = ?3",
            )?;
            for id in &plan.dropped {
                release.execute(rusqlite::params![at, rule.name, id, Status::Released.as_str()])?;
            }
            // Read and written in one immediate transaction: every move takes, and is audited.
            let mut chain = Chain::rusqlite(&tx)?;
            for change in plan.updates.iter().filter_map(|u| u.moved()) {
                let by = crate::audit::Actor::system("recompute");
                let params: Vec<rusqlite::types::Value> = chain.seal(&by, &change).iter().map(crate::param_value).collect();
                tx.execute(&crate::sqlite_sql(INSERT_AUDIT), rusqlite::params_from_iter(params))?;
            }
            let change = recompute_change(incident_id, &rule.name, &plan.summary);
            let params: Vec<rusqlite::types::Value> = chain.seal(&actor, &change).iter().map(crate::param_value).collect();
            tx.execute(&crate::sqlite_sql(INSERT_AUDIT), rusqlite::params_from_iter(params))?;
        }
        tx.commit()?;
        Ok(plan.summary)
    })
    .await
}

/// [`crate::Store::take_observation_test`] on the writer's connection.
pub(crate) fn take_test(c: &rusqlite::Connection, test: &crate::quarantine::DoorTest) -> Result<()> {
    use crate::quarantine::{TEST_BARCODE_USED, TEST_PENDING, TEST_SAMPLE, TEST_TUBE};
    use rusqlite::OptionalExtension;
    let sql = |s: &str| crate::sqlite_sql(s);
    let used: Option<(String, String)> = c
        .prepare_cached(&sql(TEST_BARCODE_USED))?
        .query_row(rusqlite::params![test.barcode.as_str(), test.incident_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((site, at)) = used {
        let at = super::parse_time(&at).unwrap_or(test.now);
        return Err(test.used(site, at));
    }
    let now = super::time(test.now);
    let tube: Option<i64> = c
        .prepare_cached(&sql(TEST_TUBE))?
        .query_row(rusqlite::params![test.round_id, test.barcode.as_str(), test.site_id, test.area, test.actor.name, now], |r| r.get(0))
        .optional()?;
    let Some(tube_id) = tube else { return Err(test.tube_used()) };
    c.prepare_cached(&sql(TEST_SAMPLE))?.execute(rusqlite::params![test.round_id, tube_id, test.person_id, test.person_area, now])?;
    let added = c.prepare_cached(&sql(TEST_PENDING))?.execute(rusqlite::params![
        test.order_id,
        test.today.format("%F").to_string(),
        now,
        tube_id
    ])?;
    if added == 0 {
        return Err(test.tested_today());
    }
    let mut chain = Chain::rusqlite(c)?;
    let params: Vec<rusqlite::types::Value> = chain.seal(&test.actor, &test.change).iter().map(crate::param_value).collect();
    c.prepare_cached(&sql(INSERT_AUDIT))?.execute(rusqlite::params_from_iter(params))?;
    Ok(())
}
