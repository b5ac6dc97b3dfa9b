//! Medical observation orders: the rule set in force (built in, or a copy an admin edited), each
//! order's schedule as `domain::observation` computes it, and the recompute that follows a new
//! last exposure, a new category or a new rule set.
//!
//! The schedule is stored beside the order (release day, last centralized day, planned test
//! days) so that lists — who goes home today, who is tested today, who is released — are plain
//! reads; it is always recomputable from the order, the rule set and the tests taken.

use crate::term;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::AreaCode;
use cordon_domain::local_date;
use cordon_domain::observation::{Blocker, Category, Moved, Outcome, RuleSet, Schedule, Status, Taken};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// A rule set as listed: built in or edited, with what it was copied from.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSetEntry {
    pub rule: RuleSet,
    pub built_in: bool,
    pub copied_from: Option<String>,
}

/// The columns of an order that hold its schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScheduleColumns {
    pub release_on: NaiveDate,
    pub centralized_until: Option<NaiveDate>,
    pub test_dates: String,
}

impl ScheduleColumns {
    pub(crate) fn of(s: &Schedule) -> ScheduleColumns {
        let test_dates = s
            .tests
            .iter()
            .filter(|t| t.planned)
            .map(|t| format!("{}{}", t.on.format("%F"), if t.double { "*" } else { "" }))
            .collect::<Vec<_>>()
            .join(",");
        ScheduleColumns { release_on: s.release_on, centralized_until: s.centralized_until(), test_dates }
    }
}

/// One observation order, with the person's name.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Order {
    pub id: i64,
    pub incident_id: i64,
    pub person_id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub category: Category,
    pub last_exposure_at: DateTime<Utc>,
    pub rule_set: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub area_code: String,
    pub found_on: Option<NaiveDate>,
    pub release_on: Option<NaiveDate>,
    pub centralized_until: Option<NaiveDate>,
    pub test_dates: String,
    pub via_person_id: Option<i64>,
    pub site_id: Option<i64>,
    pub room_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
}

pub(crate) const ORDER_COLUMNS: &str = "o.id, o.incident_id, o.person_id, p.name, o.category, o.last_exposure_at, o.rule_set, o.status, \
     o.area_code, o.found_on, o.release_on, o.centralized_until, o.test_dates, o.via_person_id, o.site_id, o.room_id, o.created_at, o.released_at";

impl Order {
    /// Whether a test is planned on `day`.
    pub fn tested_on(&self, day: NaiveDate) -> bool {
        let day = day.format("%F").to_string();
        self.test_dates.split(',').any(|d| d.trim_end_matches('*') == day)
    }
}

/// Which orders a list shows.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<Status>,
    pub site_id: Option<i64>,
    /// Released on or before this day and not yet released: who may go.
    pub release_by: Option<NaiveDate>,
    /// Only people observed at home (home quarantine or home monitoring).
    pub at_home: bool,
    /// Paging by key: only orders after this (release day, id) in the list's order (an order
    /// with no release day sorts last).
    pub after: Option<(NaiveDate, i64)>,
    /// At most this many (default and most 5000).
    pub limit: Option<u32>,
}

/// The release day an order without one sorts by: after every real day (9999-12-31, which
/// also sorts last as SQLite's text).
pub fn no_release_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid day")
}

/// What a batch release did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Release {
    pub released: Vec<Order>,
    /// Still held, with what holds them.
    pub not_yet: Vec<(Order, Vec<Blocker>)>,
    /// Not found in the jurisdiction, or already closed.
    pub refused: Vec<(i64, crate::Refusal)>,
}

/// What a batch start of home quarantine did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HomeStart {
    /// Now at home, in the stage their schedule puts today in.
    pub started: Vec<Order>,
    /// Not found, not waiting at home, or whose plan no longer starts at home.
    pub refused: Vec<(i64, crate::Refusal)>,
}

/// What a recompute did, for the audit event and the page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecomputeSummary {
    pub orders: u64,
    pub release_later: u64,
    pub release_earlier: u64,
    pub unchanged: u64,
    /// Orders whose stage today is another under the new schedule.
    pub stage_changed: u64,
    /// Orders whose category the rule set no longer observes: released.
    pub no_longer_observed: u64,
    /// Orders waiting or at home that the new schedule puts in a site: now waiting for a
    /// transfer.
    pub to_transfer: u64,
    /// Orders waiting for a transfer whose new schedule starts at home: now on the home list.
    pub to_home: u64,
}

/// An order as the recompute reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct OpenOrder {
    pub(crate) id: i64,
    #[sqlx(try_from = "String")]
    pub(crate) category: Category,
    pub(crate) last_exposure_at: DateTime<Utc>,
    pub(crate) found_on: Option<NaiveDate>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) release_on: Option<NaiveDate>,
    pub(crate) rule_set: String,
    #[sqlx(try_from = "String")]
    pub(crate) status: Status,
    /// The last day of centralized quarantine the stored schedule has (none: it puts no site).
    pub(crate) centralized_until: Option<NaiveDate>,
    pub(crate) room_id: Option<i64>,
    pub(crate) area_code: String,
}

/// The columns an [`OpenOrder`] is read from.
pub(crate) const OPEN_ORDER_COLUMNS: &str =
    "id, category, last_exposure_at, found_on, created_at, release_on, rule_set, status, centralized_until, room_id, area_code";

/// The schedule of an order under `rule`, or why there is none.
pub(crate) fn schedule_for(
    rule: &RuleSet,
    category: Category,
    last_exposure_at: DateTime<Utc>,
    found_on: NaiveDate,
    taken: &[Taken],
) -> Option<Schedule> {
    rule.plan(category).map(|plan| Schedule::compute(plan, local_date(last_exposure_at), found_on, taken))
}

/// An edited rule set as stored. One saved before rule sets had zones takes the zone rules of
/// the built-in set it was copied from (a copy of `protocol-8` keeps the 2021 scheme).
fn stored_rule(body: &str, copied_from: &str) -> Result<RuleSet> {
    let value: serde_json::Value = serde_json::from_str(body).map_err(StoreError::corrupt)?;
    let had_zones = value.get("zones").is_some();
    let mut rule: RuleSet = serde_json::from_value(value).map_err(StoreError::corrupt)?;
    if !had_zones {
        rule.zones = cordon_domain::zones::ZoneRules::built_in(copied_from).unwrap_or_default();
    }
    Ok(rule)
}

/// `('released', 'case')`: where an order ends, as the domain says.
pub(crate) fn final_statuses() -> String {
    crate::sql_set(&Status::FINAL)
}

impl Store {
    /// A rule set by name: built in, or an edited copy.
    pub(crate) async fn rule_set(&self, name: &str) -> Result<RuleSet> {
        if let Ok(r) = RuleSet::built_in(name) {
            return Ok(r);
        }
        let row: Option<(String, String)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT body, copied_from FROM rule_sets WHERE name = $1").bind(name).fetch_optional(pool).await?);
        let (body, copied_from) = row.ok_or_else(|| missing!("refused.no_rule_set", name = name))?;
        stored_rule(&body, &copied_from)
    }

    /// Every rule set: the built-in ones first, then the edited copies by name.
    pub(crate) async fn rule_sets(&self) -> Result<Vec<RuleSetEntry>> {
        let mut out: Vec<RuleSetEntry> = RuleSet::BUILT_IN
            .iter()
            .map(|n| RuleSetEntry { rule: RuleSet::built_in(n).expect("built in"), built_in: true, copied_from: None })
            .collect();
        let rows: Vec<(String, String)> =
            with_read_pool!(self, pool => sqlx::query_as("SELECT body, copied_from FROM rule_sets ORDER BY name").fetch_all(pool).await?);
        for (body, copied_from) in rows {
            let rule = stored_rule(&body, &copied_from)?;
            out.push(RuleSetEntry { rule, built_in: false, copied_from: Some(copied_from) });
        }
        Ok(out)
    }

    /// Stores an edited rule set (new, or replacing an earlier edit of the same name). A
    /// built-in name is refused: copy it under a new name. Orders under it are recomputed.
    pub(crate) async fn save_rule_set(&self, actor: &Actor, rule: &RuleSet, copied_from: &str) -> Result<RecomputeSummary> {
        rule.validate().map_err(|e| StoreError::from(cordon_domain::refusal::Refusal::from(e)))?;
        if RuleSet::BUILT_IN.contains(&rule.name.as_str()) {
            return Err(refused!("refused.rule_set_built_in", name = rule.name));
        }
        let body = serde_json::to_string(rule).map_err(|e| StoreError::Task(e.to_string()))?;
        let change = Change::new("save", "rule_set", &rule.name).after(serde_json::to_value(rule).unwrap_or_default());
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO rule_sets (name, title, body, copied_from, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (name) DO UPDATE SET title = excluded.title, body = excluded.body, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(&rule.name).bind(&rule.title).bind(&body).bind(copied_from).bind(Utc::now()).bind(&actor.name)
            .execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        let incidents: Vec<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT id FROM incidents WHERE rule_set = $1").bind(&rule.name).fetch_all(pool).await?);
        let mut total = RecomputeSummary::default();
        for (incident,) in incidents {
            total.add(&self.recompute_incident(actor, incident).await?);
        }
        Ok(total)
    }

    /// Puts `name` in force for an incident and recomputes every open order of it.
    pub(crate) async fn set_incident_rule_set(&self, actor: &Actor, incident_id: i64, name: &str) -> Result<RecomputeSummary> {
        self.rule_set(name).await?;
        let (area, before): (String, String) = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT area_code, rule_set FROM incidents WHERE id = $1").bind(incident_id).fetch_optional(pool).await?)
        .ok_or_else(|| missing!("refused.no_incident", incident_id = incident_id))?;
        let change = Change::new("set_rule_set", "incident", incident_id)
            .area(&area)
            .before(serde_json::json!({"rule_set": before}))
            .after(serde_json::json!({"rule_set": name}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE incidents SET rule_set = $1 WHERE id = $2").bind(name).bind(incident_id).execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        self.recompute_incident(actor, incident_id).await
    }

    /// Recomputes every open order of an incident under the incident's rule set, in batches,
    /// with one audit event that sums up what moved.
    pub(crate) async fn recompute_incident(&self, actor: &Actor, incident_id: i64) -> Result<RecomputeSummary> {
        let rule_name = self.incident_rule_set(incident_id).await?;
        let rule = self.rule_set(&rule_name).await?;
        // The rules name the zones too: their people's codes say it the new way.
        self.mark_incident_zones(incident_id).await?;
        if let crate::Backend::Sqlite(b) = &*self.backend {
            let rules: HashMap<String, RuleSet> = self.rule_sets().await?.into_iter().map(|e| (e.rule.name.clone(), e.rule)).collect();
            return crate::sqlite::observation::recompute_incident(b, actor, incident_id, rule, rules).await;
        }
        let open = format!("incident_id = $1 AND status NOT IN {}", final_statuses());
        let orders: Vec<OpenOrder> = with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {OPEN_ORDER_COLUMNS} FROM observation_orders WHERE {open} ORDER BY id"
        ))).bind(incident_id).fetch_all(pool).await?);
        let taken = self.taken_tests(&format!("order_id IN (SELECT id FROM observation_orders WHERE {open})"), incident_id).await?;
        let summary = self.write_schedules(&rule, orders, &taken).await?;
        let change = recompute_change(incident_id, &rule_name, &summary);
        self.record(actor, &change).await?;
        Ok(summary)
    }

    /// Recomputes the given orders (a new last exposure, a new category, a test taken).
    pub(crate) async fn recompute_orders(&self, ids: &[i64]) -> Result<RecomputeSummary> {
        let mut total = RecomputeSummary::default();
        let mut by_incident: HashMap<i64, Vec<i64>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!("SELECT id, incident_id FROM observation_orders WHERE id IN ({})", crate::list_placeholders(0, chunk.len()));
            let params: Vec<Param> = chunk.iter().map(|i| Param::Int(*i)).collect();
            let rows: Vec<(i64, i64)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            for (id, incident) in rows {
                by_incident.entry(incident).or_default().push(id);
            }
        }
        for (incident, ids) in by_incident {
            let rule = self.rule_set(&self.incident_rule_set(incident).await?).await?;
            for chunk in ids.chunks(500) {
                let list = crate::list_placeholders(1, chunk.len());
                let open = format!("id IN ({list}) AND status NOT IN {} AND incident_id = $1", final_statuses());
                let mut params = vec![Param::Int(incident)];
                params.extend(chunk.iter().map(|i| Param::Int(*i)));
                let sql = format!("SELECT {OPEN_ORDER_COLUMNS} FROM observation_orders WHERE {open}");
                let orders: Vec<OpenOrder> = with_read_pool!(self, pool =>
                    bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
                let mut taken: HashMap<i64, Vec<Taken>> = HashMap::new();
                let sql = format!(
                    "SELECT order_id, taken_on, outcome FROM observation_tests WHERE order_id IN ({})",
                    crate::list_placeholders(0, chunk.len())
                );
                let rows: Vec<(i64, NaiveDate, String)> = with_read_pool!(self, pool =>
                    bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params[1..].iter()).fetch_all(pool).await?);
                for (order, on, outcome) in rows {
                    taken.entry(order).or_default().push(Taken { on, outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Pending) });
                }
                total.add(&self.write_schedules(&rule, orders, &taken).await?);
            }
        }
        Ok(total)
    }

    /// The tests taken by the orders a condition selects (`$1` bound to `arg`), by order.
    async fn taken_tests(&self, condition: &str, arg: i64) -> Result<HashMap<i64, Vec<Taken>>> {
        let sql = format!("SELECT order_id, taken_on, outcome FROM observation_tests WHERE {condition}");
        let rows: Vec<(i64, NaiveDate, String)> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(arg).fetch_all(pool).await?);
        let mut out: HashMap<i64, Vec<Taken>> = HashMap::new();
        for (order, on, outcome) in rows {
            out.entry(order).or_default().push(Taken { on, outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Pending) });
        }
        Ok(out)
    }

    /// Computes and writes the schedules of `orders` under `rule`, a hundred orders per
    /// statement in one transaction.
    async fn write_schedules(&self, rule: &RuleSet, orders: Vec<OpenOrder>, taken: &HashMap<i64, Vec<Taken>>) -> Result<RecomputeSummary> {
        let mut previous: HashMap<String, RuleSet> = HashMap::new();
        for o in &orders {
            if !previous.contains_key(&o.rule_set)
                && let Ok(r) = self.rule_set(&o.rule_set).await
            {
                previous.insert(o.rule_set.clone(), r);
            }
        }
        let now = Utc::now();
        let plan = plan_schedules(rule, &previous, &orders, taken, local_date(now));
        let mut params: Vec<Param> = Vec::with_capacity(plan.updates.len() * 8);
        for u in &plan.updates {
            params.extend([
                Param::Int(u.id),
                Param::Text(rule.name.clone()),
                Param::Date(u.cols.release_on),
                Param::OptDate(u.cols.centralized_until),
                Param::Text(u.cols.test_dates.clone()),
                Param::Date(u.found_on),
                Param::Text(u.status.0.as_str().into()),
                Param::Text(u.status.1.as_str().into()),
            ]);
        }
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // The status moves only if nobody moved it since it was read.
            for chunk in params.chunks(8 * 100) {
                let sql = format!(
                    "UPDATE observation_orders SET rule_set = v.column2, release_on = v.column3, centralized_until = v.column4, \
                     test_dates = v.column5, found_on = v.column6, updated_at = $1, \
                     status = CASE WHEN observation_orders.status = v.column7 THEN v.column8 ELSE observation_orders.status END \
                     FROM (VALUES {}) AS v WHERE observation_orders.id = v.column1",
                    crate::values_placeholders(chunk.len() / 8, 8, 1)
                );
                bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(now), chunk.iter()).execute(&mut *tx).await?;
            }
            // Each order moved to another list is audited — when the move took (nobody moved it
            // meanwhile).
            for u in &plan.updates {
                let Some(change) = u.moved() else { continue };
                let (now_status,): (String,) =
                    sqlx::query_as("SELECT status FROM observation_orders WHERE id = $1").bind(u.id).fetch_one(&mut *tx).await?;
                if now_status == u.status.1.as_str() {
                    tx.append(&Actor::system("recompute"), &change).await?;
                }
            }
            for chunk in plan.dropped.chunks(500) {
                let sql = format!(
                    "UPDATE observation_orders SET status = 'released', released_at = $1, updated_at = $1, rule_set = $2 WHERE id IN ({})",
                    crate::list_placeholders(2, chunk.len())
                );
                let ids: Vec<Param> = chunk.iter().map(|i| Param::Int(*i)).collect();
                bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(now).bind(&rule.name), ids.iter()).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(plan.summary)
    }

    /// Observation orders in `scope`, by release day.
    pub(crate) async fn orders(&self, scope: &[AreaCode], filter: &OrderFilter) -> Result<Vec<Order>> {
        let mut params = Vec::new();
        let Some(inside) = crate::in_areas("o.area_code", scope, &mut params) else { return Ok(vec![]) };
        let mut sql = format!("SELECT {ORDER_COLUMNS} FROM observation_orders o JOIN persons p ON p.id = o.person_id WHERE {inside}");
        if let Some(status) = filter.status {
            params.push(Param::Text(status.as_str().into()));
            sql.push_str(&format!(" AND o.status = ${}", params.len()));
        }
        if let Some(site) = filter.site_id {
            params.push(Param::Int(site));
            sql.push_str(&format!(" AND o.site_id = ${}", params.len()));
        }
        if let Some(day) = filter.release_by {
            params.push(Param::Date(day));
            sql.push_str(&format!(" AND o.release_on <= ${} AND o.status NOT IN {}", params.len(), final_statuses()));
        }
        if filter.at_home {
            sql.push_str(" AND o.status IN ('awaiting_home', 'home_quarantine', 'home_monitoring')");
        }
        let limit = filter.limit.unwrap_or(5000).clamp(1, 5000);
        if filter.at_home {
            sql.push_str(&format!(" ORDER BY o.area_code, o.release_on, o.id LIMIT {limit}"));
        } else {
            params.push(Param::Date(no_release_day()));
            let day = format!("COALESCE(o.release_on, ${})", params.len());
            if let Some((after_day, after_id)) = filter.after {
                params.push(Param::Date(after_day));
                params.push(Param::Int(after_id));
                let (d, i) = (params.len() - 1, params.len());
                sql.push_str(&format!(" AND ({day} > ${d} OR ({day} = ${d} AND o.id > ${i}))"));
            }
            sql.push_str(&format!(" ORDER BY {day}, o.id LIMIT {limit}"));
        }
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, Order>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?))
    }

    pub(crate) async fn order(&self, id: i64) -> Result<Option<Order>> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM observation_orders o JOIN persons p ON p.id = o.person_id WHERE o.id = $1");
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, Order>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?))
    }

    /// Orders by id, in one query a 500.
    pub(crate) async fn orders_by_ids(&self, ids: &[i64]) -> Result<Vec<Order>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT {ORDER_COLUMNS} FROM observation_orders o JOIN persons p ON p.id = o.person_id WHERE o.id IN ({})",
                crate::list_placeholders(0, chunk.len())
            );
            let params: Vec<Param> = chunk.iter().map(|i| Param::Int(*i)).collect();
            out.extend(with_read_pool!(self, pool =>
                bind_all(sqlx::query_as::<_, Order>(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?));
        }
        Ok(out)
    }

    /// The order of a person in an incident, if any.
    pub(crate) async fn order_of_person(&self, incident_id: i64, person_id: i64) -> Result<Option<Order>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM observation_orders o JOIN persons p ON p.id = o.person_id WHERE o.incident_id = $1 AND o.person_id = $2"
        );
        Ok(
            with_read_pool!(self, pool => sqlx::query_as::<_, Order>(sqlx::AssertSqlSafe(sql)).bind(incident_id).bind(person_id).fetch_optional(pool).await?),
        )
    }

    /// The tests an order has taken, oldest first.
    pub(crate) async fn order_tests(&self, order_id: i64) -> Result<Vec<Taken>> {
        Ok(self.taken_tests("order_id = $1 ORDER BY taken_on", order_id).await?.remove(&order_id).unwrap_or_default())
    }

    /// An order's full schedule, computed afresh from its rule set and its tests.
    pub(crate) async fn order_schedule(&self, order: &Order) -> Result<Option<Schedule>> {
        let rule = self.rule_set(&order.rule_set).await?;
        let category = order.category;
        let taken = self.order_tests(order.id).await?;
        let found_on = order.found_on.unwrap_or_else(|| local_date(order.created_at));
        Ok(schedule_for(&rule, category, order.last_exposure_at, found_on, &taken))
    }

    /// What stands before release on `today` for each open order of `orders` (closed ones
    /// have nothing): the schedule from its tests, and for a secondary contact the first tests
    /// of the close contact they met — the same reasons the order's page lists, in two reads
    /// per 500 orders.
    pub(crate) async fn release_blockers(&self, orders: &[Order], today: NaiveDate) -> Result<HashMap<i64, Vec<Blocker>>> {
        let mut taken: HashMap<i64, Vec<Taken>> = HashMap::new();
        let mut close: HashMap<i64, Vec<Outcome>> = HashMap::new();
        for chunk in orders.chunks(500) {
            let ids = crate::list_placeholders(0, chunk.len());
            let own = format!("SELECT order_id, taken_on, outcome FROM observation_tests WHERE order_id IN ({ids}) ORDER BY taken_on");
            let theirs = format!(
                "SELECT s.id, t.taken_on, t.outcome FROM observation_orders s \
                 JOIN observation_orders c ON c.incident_id = s.incident_id AND c.person_id = s.via_person_id \
                 JOIN observation_tests t ON t.order_id = c.id WHERE s.id IN ({ids}) ORDER BY t.taken_on"
            );
            for (sql, into_close) in [(own, false), (theirs, true)] {
                let params: Vec<Param> = chunk.iter().map(|o| Param::Int(o.id)).collect();
                let rows: Vec<(i64, NaiveDate, String)> = with_read_pool!(self, pool =>
                    bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
                for (order, on, outcome) in rows {
                    let outcome = Outcome::parse(&outcome).unwrap_or(Outcome::Pending);
                    if into_close {
                        close.entry(order).or_default().push(outcome);
                    } else {
                        taken.entry(order).or_default().push(Taken { on, outcome });
                    }
                }
            }
        }
        let mut rules: HashMap<String, RuleSet> = HashMap::new();
        let mut out = HashMap::with_capacity(orders.len());
        for o in orders {
            let (status, category) = (o.status, o.category);
            if status.is_final() {
                out.insert(o.id, vec![]);
                continue;
            }
            if !rules.contains_key(&o.rule_set) {
                rules.insert(o.rule_set.clone(), self.rule_set(&o.rule_set).await?);
            }
            let rule = &rules[&o.rule_set];
            let found_on = o.found_on.unwrap_or_else(|| local_date(o.created_at));
            let own = taken.get(&o.id).map(Vec::as_slice).unwrap_or_default();
            let blockers = match schedule_for(rule, category, o.last_exposure_at, found_on, own) {
                Some(s) => {
                    let needs = if category == Category::SecondaryContact { rule.secondary_needs_close_tests } else { 0 };
                    let first = o.via_person_id.map(|_| close.get(&o.id).cloned().unwrap_or_default());
                    s.release_blockers(today, first.as_deref(), needs)
                }
                // No longer observed under its rule set: nothing holds the person.
                None => vec![],
            };
            out.insert(o.id, blockers);
        }
        Ok(out)
    }

    /// Releases orders that hold no room, in one transaction: a status change and an audit
    /// event each, the orders changed meanwhile left as they are. Answers the orders released.
    pub(crate) async fn release_without_room(&self, actor: &Actor, orders: &[Order]) -> Result<Vec<Order>> {
        let now = Utc::now();
        let mut released: Vec<i64> = Vec::with_capacity(orders.len());
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for chunk in orders.chunks(500) {
                let sql = format!(
                    "UPDATE observation_orders SET status = 'released', released_at = $1, updated_at = $1 \
                     WHERE room_id IS NULL AND status NOT IN {} AND id IN ({}) RETURNING id",
                    final_statuses(),
                    crate::list_placeholders(1, chunk.len())
                );
                let params: Vec<Param> = std::iter::once(Param::Time(now)).chain(chunk.iter().map(|o| Param::Int(o.id))).collect();
                let rows: Vec<(i64,)> = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(&mut *tx).await?;
                released.extend(rows.into_iter().map(|(id,)| id));
            }
            let done: std::collections::HashSet<i64> = released.iter().copied().collect();
            for o in orders.iter().filter(|o| done.contains(&o.id)) {
                let change = Change::new("status", "observation_order", o.id)
                    .area(&o.area_code)
                    .before(serde_json::json!({"status": o.status}))
                    .after(serde_json::json!({"status": Status::Released.as_str()}));
                tx.append(actor, &change).await?;
            }
            tx.commit().await?;
        });
        self.orders_by_ids(&released).await
    }

    /// Starts home quarantine (or monitoring, as the schedule says for today) for orders
    /// waiting on the home list, in one transaction with an audit event each; those that are
    /// not waiting at home, or whose schedule puts today in a site or past the release day,
    /// are refused with why. An order moved meanwhile is left as it is.
    pub(crate) async fn start_home(&self, actor: &Actor, orders: Vec<Order>, today: NaiveDate) -> Result<HomeStart> {
        let mut out = HomeStart::default();
        let mut rules: HashMap<String, RuleSet> = HashMap::new();
        let mut go: Vec<(Order, Status)> = Vec::with_capacity(orders.len());
        for o in orders {
            if o.status != Status::AwaitingHome {
                out.refused.push((o.id, refusal!("refused.not_awaiting_home", name = o.name, status = term("obs.status", o.status))));
                continue;
            }
            if !rules.contains_key(&o.rule_set) {
                rules.insert(o.rule_set.clone(), self.rule_set(&o.rule_set).await?);
            }
            let found_on = o.found_on.unwrap_or_else(|| local_date(o.created_at));
            let schedule = schedule_for(&rules[&o.rule_set], o.category, o.last_exposure_at, found_on, &[]);
            match schedule.as_ref().map(|s| (s.serving_on(today), s.release_on)) {
                Some((Some(stage), _)) if Status::serving(stage) != Status::Centralized => go.push((o, Status::serving(stage))),
                Some((Some(_), _)) => out.refused.push((o.id, refusal!("refused.plan_starts_in_site", name = o.name))),
                Some((None, day)) => out.refused.push((o.id, refusal!("refused.home_period_over", name = o.name, day = day))),
                None => {
                    out.refused.push((o.id, refusal!("refused.not_awaiting_home", name = o.name, status = term("obs.status", o.status))))
                }
            }
        }
        let now = Utc::now();
        let mut started = Vec::with_capacity(go.len());
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (o, to) in &go {
                let n = sqlx::query("UPDATE observation_orders SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
                    .bind(to.as_str()).bind(now).bind(o.id).bind(Status::AwaitingHome.as_str())
                    .execute(&mut *tx).await?.rows_affected();
                if n == 0 {
                    out.refused.push((o.id, refusal!("refused.order_changed", id = o.id)));
                    continue;
                }
                let change = Change::new("status", "observation_order", o.id)
                    .area(&o.area_code)
                    .before(serde_json::json!({"status": o.status.as_str()}))
                    .after(serde_json::json!({"status": to.as_str()}));
                tx.append(actor, &change).await?;
                started.push(o.id);
            }
            tx.commit().await?;
        });
        out.started = self.orders_by_ids(&started).await?;
        Ok(out)
    }

    /// Moves an order to `to` when the state machine allows it.
    pub(crate) async fn set_order_status(&self, actor: &Actor, order: &Order, to: Status) -> Result<Order> {
        let from = order.status;
        if !from.may_become(to) {
            return Err(refused!(
                "refused.order_cannot_become",
                from = term("obs.status", from.as_str()),
                to = term("obs.status", to.as_str())
            ));
        }
        let now = Utc::now();
        let change = Change::new("status", "observation_order", order.id)
            .area(&order.area_code)
            .before(serde_json::json!({"status": from.as_str()}))
            .after(serde_json::json!({"status": to.as_str()}));
        let released = (to == Status::Released).then_some(now);
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE observation_orders SET status = $1, updated_at = $2, released_at = COALESCE($3, released_at) WHERE id = $4 AND status = $5")
                .bind(to.as_str()).bind(now).bind(released).bind(order.id).bind(from.as_str())
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(refused!("refused.order_changed", id = order.id));
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        self.order(order.id).await?.ok_or_else(|| StoreError::Task("order vanished".into()))
    }
}

/// The audit event of a recompute, with what moved.
pub(crate) fn recompute_change(incident_id: i64, rule_name: &str, summary: &RecomputeSummary) -> Change {
    Change::new("recompute", "incident", incident_id).after(serde_json::json!({"rule_set": rule_name, "summary": summary}))
}

/// One order's new schedule columns.
pub(crate) struct ScheduleUpdate {
    pub(crate) id: i64,
    pub(crate) cols: ScheduleColumns,
    pub(crate) found_on: NaiveDate,
    /// The status read, and the one the new schedule places the order in (the same when it
    /// does not move).
    pub(crate) status: (Status, Status),
    pub(crate) area_code: String,
}

impl ScheduleUpdate {
    /// The audit event of an order the recompute moved to another list, if it did.
    pub(crate) fn moved(&self) -> Option<Change> {
        let (from, to) = self.status;
        (from != to).then(|| {
            Change::new("status", "observation_order", self.id)
                .area(&self.area_code)
                .before(serde_json::json!({"status": from.as_str()}))
                .after(serde_json::json!({"status": to.as_str(), "by": "recompute"}))
        })
    }
}

/// What a recompute writes: the new schedules, the orders no longer observed, the summary.
pub(crate) struct SchedulePlan {
    pub(crate) updates: Vec<ScheduleUpdate>,
    pub(crate) dropped: Vec<i64>,
    pub(crate) summary: RecomputeSummary,
}

/// Computes the schedules of `orders` under `rule`; `previous` holds the rule sets they were
/// computed under, to tell whose stage today moves (a category changed since keeps its old
/// rule set name, which is close enough).
pub(crate) fn plan_schedules(
    rule: &RuleSet,
    previous: &HashMap<String, RuleSet>,
    orders: &[OpenOrder],
    taken: &HashMap<i64, Vec<Taken>>,
    today: NaiveDate,
) -> SchedulePlan {
    let mut plan = SchedulePlan { updates: Vec::with_capacity(orders.len()), dropped: Vec::new(), summary: RecomputeSummary::default() };
    let no_tests = Vec::new();
    for o in orders {
        plan.summary.orders += 1;
        let found_on = o.found_on.unwrap_or_else(|| local_date(o.created_at));
        let taken = taken.get(&o.id).unwrap_or(&no_tests);
        let category = Some(o.category);
        let Some(schedule) = category.and_then(|c| schedule_for(rule, c, o.last_exposure_at, found_on, taken)) else {
            plan.summary.no_longer_observed += 1;
            plan.dropped.push(o.id);
            continue;
        };
        match o.release_on {
            Some(old) if old < schedule.release_on => plan.summary.release_later += 1,
            Some(old) if old > schedule.release_on => plan.summary.release_earlier += 1,
            _ => plan.summary.unchanged += 1,
        }
        let before = previous.get(&o.rule_set).zip(category).and_then(|(r, c)| schedule_for(r, c, o.last_exposure_at, found_on, taken));
        if before.is_some_and(|b| Moved::between(&b, &schedule, today).stage_changed) {
            plan.summary.stage_changed += 1;
        }
        // A site the stored schedule did not have: the new plan puts them in one for the
        // first time (a secondary contact become close), not someone back from one.
        let site_newly_due = o.centralized_until.is_none() && schedule.centralized_until().is_some();
        let placed = o.status.placed(schedule.serving_on(today), o.room_id.is_some(), site_newly_due);
        if placed != o.status {
            match placed {
                Status::AwaitingTransfer => plan.summary.to_transfer += 1,
                _ => plan.summary.to_home += 1,
            }
        }
        plan.updates.push(ScheduleUpdate {
            id: o.id,
            cols: ScheduleColumns::of(&schedule),
            found_on,
            status: (o.status, placed),
            area_code: o.area_code.clone(),
        });
    }
    plan
}

impl RecomputeSummary {
    fn add(&mut self, o: &RecomputeSummary) {
        self.orders += o.orders;
        self.release_later += o.release_later;
        self.release_earlier += o.release_earlier;
        self.unchanged += o.unchanged;
        self.stage_changed += o.stage_changed;
        self.no_longer_observed += o.no_longer_observed;
        self.to_transfer += o.to_transfer;
        self.to_home += o.to_home;
    }
}

#[cfg(test)]
mod tests {
    use cordon_domain::observation::RuleSet;
    use cordon_domain::zones::Scheme;

    #[test]
    fn a_copy_saved_before_zones_takes_the_zone_rules_of_the_set_it_was_copied_from() {
        let mut old = serde_json::to_value(RuleSet::built_in("protocol-8").unwrap()).unwrap();
        old.as_object_mut().unwrap().remove("zones");
        assert_eq!(super::stored_rule(&old.to_string(), "protocol-8").unwrap().zones.scheme, Scheme::Zones2021);
        // Zones saved with the copy are kept as saved.
        let saved = serde_json::to_string(&RuleSet::built_in("protocol-9").unwrap()).unwrap();
        assert_eq!(super::stored_rule(&saved, "protocol-8").unwrap().zones.scheme, Scheme::RiskAreas);
    }
}
