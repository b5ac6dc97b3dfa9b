//! The investigation queue: every case recorded by hand or from a positive opens an
//! investigation with two clocks (core facts in 4 h, preliminary report in 24 h). A free
//! investigator of the case's area gets it at once, in turn; otherwise it waits until one takes
//! it. A second investigator may take the site visit while the first phones.

use crate::term;
use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use cordon_domain::cases::case::CaseClass;
use cordon_domain::cases::investigation::{Candidate, Clock, Part, next_in_turn};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Param, Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// One investigation with its case, clocks and investigators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Investigation {
    pub id: i64,
    pub case_id: i64,
    pub case_number: String,
    /// The case's person, when the case has a person record.
    pub person_name: Option<String>,
    pub classification: CaseClass,
    pub area_code: String,
    pub opened_at: DateTime<Utc>,
    pub core_due_at: DateTime<Utc>,
    pub report_due_at: DateTime<Utc>,
    pub core_done_at: Option<DateTime<Utc>>,
    pub report_done_at: Option<DateTime<Utc>>,
    pub source_hypothesis: Option<String>,
    pub assignments: Vec<Assignment>,
}

impl Investigation {
    pub fn core_clock(&self, now: DateTime<Utc>) -> Clock {
        Clock::at(self.core_due_at, self.core_done_at, now)
    }

    pub fn report_clock(&self, now: DateTime<Utc>) -> Clock {
        Clock::at(self.report_due_at, self.report_done_at, now)
    }

    /// Whether either clock has run out with its work undone.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.core_clock(now).is_overdue() || self.report_clock(now).is_overdue()
    }

    pub fn holder(&self, part: Part) -> Option<&Assignment> {
        self.assignments.iter().find(|a| a.part == part)
    }
}

/// Who holds one part of an investigation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Assignment {
    pub investigation_id: i64,
    pub user_id: i64,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub part: Part,
    pub assigned_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    case_id: i64,
    case_number: String,
    person_name: Option<String>,
    #[sqlx(try_from = "String")]
    classification: CaseClass,
    area_code: String,
    opened_at: DateTime<Utc>,
    core_due_at: DateTime<Utc>,
    report_due_at: DateTime<Utc>,
    core_done_at: Option<DateTime<Utc>>,
    report_done_at: Option<DateTime<Utc>>,
    source_hypothesis: Option<String>,
}

const SELECT: &str = "SELECT i.id, i.case_id, c.external_id AS case_number, p.name AS person_name, c.classification, i.area_code, \
     i.opened_at, i.core_due_at, i.report_due_at, i.core_done_at, i.report_done_at, i.source_hypothesis FROM investigations i \
     JOIN cases c ON c.id = i.case_id LEFT JOIN persons p ON p.id = c.person_id";

/// Opens the investigation of case `$case` in transaction `$tx` and gives it to the next free
/// investigator of its area, if any; evaluates to the investigation id.
macro_rules! open_investigation {
    ($tx:expr, $case:expr, $area:expr, $now:expr, $by:expr) => {{
        let (core_due, report_due) = cordon_domain::cases::investigation::deadlines($now);
        let (id,): (i64,) = sqlx::query_as($crate::investigations::OPEN)
            .bind($case)
            .bind($area)
            .bind($now)
            .bind(core_due)
            .bind(report_due)
            .fetch_one(&mut *$tx)
            .await?;
        let team: Vec<$crate::investigations::TeamRow> = sqlx::query_as($crate::investigations::TEAM).fetch_all(&mut *$tx).await?;
        if let Some(user) = $crate::investigations::first_in_turn($area, team) {
            sqlx::query($crate::investigations::ASSIGN_PHONE).bind(id).bind(user).bind($now).bind($by).execute(&mut *$tx).await?;
        }
        id
    }};
}
pub(crate) use open_investigation;

/// A case's investigation opened (`$1` case, `$2` area, `$3` opened, `$4` and `$5` the deadlines).
pub(crate) const OPEN: &str =
    "INSERT INTO investigations (case_id, area_code, opened_at, core_due_at, report_due_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";

/// An investigation's phone part given to an investigator (`$1` investigation, `$2` user, `$3`
/// when, `$4` by whom).
pub(crate) const ASSIGN_PHONE: &str =
    "INSERT INTO investigation_assignments (investigation_id, user_id, part, assigned_at, assigned_by) VALUES ($1, $2, 'phone', $3, $4)";

/// Who takes a new investigation in `area` from the [`TEAM`] rows: the next in turn among those
/// with no open task, or nobody (the board shows it unassigned).
pub(crate) fn first_in_turn(area: &str, team: Vec<TeamRow>) -> Option<i64> {
    cordon_domain::cases::investigation::next_free_in_turn(&team_for(area, team))
}

/// A [`TEAM`] row: an investigator, one of their areas, their open tasks, their last assignment.
pub(crate) type TeamRow = (i64, String, i64, Option<DateTime<Utc>>);

/// Investigators with their areas, open tasks and last assignment (one row per area).
pub(crate) const TEAM: &str = "SELECT u.id, ua.area_code, \
     (SELECT COUNT(*) FROM investigation_assignments a JOIN investigations i ON i.id = a.investigation_id \
      WHERE a.user_id = u.id AND i.report_done_at IS NULL) AS open_tasks, \
     (SELECT MAX(a.assigned_at) FROM investigation_assignments a WHERE a.user_id = u.id) AS last_assigned \
     FROM users u JOIN user_areas ua ON ua.user_id = u.id WHERE u.role = 'investigator' AND NOT u.disabled";

/// The investigators whose jurisdiction holds `area`.
pub(crate) fn team_for(area: &str, rows: Vec<TeamRow>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for (user_id, code, open, last) in rows {
        if area.starts_with(code.as_str()) && !out.iter().any(|c| c.user_id == user_id) {
            out.push(Candidate { user_id, open_tasks: open as u32, last_assigned: last });
        }
    }
    out
}

impl Store {
    async fn assignments(&self, ids: &[i64]) -> Result<Vec<Assignment>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT a.investigation_id, a.user_id, u.display_name, a.part, a.assigned_at FROM investigation_assignments a \
                 JOIN users u ON u.id = a.user_id WHERE a.investigation_id IN ({}) ORDER BY a.assigned_at, a.id",
                crate::list_placeholders(0, chunk.len())
            );
            let params: Vec<Param> = chunk.iter().map(|i| Param::Int(*i)).collect();
            let rows: Vec<Assignment> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            out.extend(rows);
        }
        Ok(out)
    }

    async fn with_assignments(&self, rows: Vec<Row>) -> Result<Vec<Investigation>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut assignments = self.assignments(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let (mine, rest): (Vec<Assignment>, Vec<Assignment>) = assignments.drain(..).partition(|a| a.investigation_id == r.id);
                assignments = rest;
                Investigation {
                    id: r.id,
                    case_id: r.case_id,
                    case_number: r.case_number,
                    person_name: r.person_name,
                    classification: r.classification,
                    area_code: r.area_code,
                    opened_at: r.opened_at,
                    core_due_at: r.core_due_at,
                    report_due_at: r.report_due_at,
                    core_done_at: r.core_done_at,
                    report_done_at: r.report_done_at,
                    source_hypothesis: r.source_hypothesis,
                    assignments: mine,
                }
            })
            .collect())
    }

    pub(crate) async fn investigation(&self, id: i64) -> Result<Option<Investigation>> {
        let sql = format!("{SELECT} WHERE i.id = $1");
        let row: Option<Row> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?);
        Ok(self.with_assignments(row.into_iter().collect()).await?.pop())
    }

    pub(crate) async fn investigation_of_case(&self, case_id: i64) -> Result<Option<Investigation>> {
        let sql = format!("{SELECT} WHERE i.case_id = $1");
        let row: Option<Row> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(case_id).fetch_optional(pool).await?);
        Ok(self.with_assignments(row.into_iter().collect()).await?.pop())
    }

    /// Investigations in `scope` without a report yet: overdue first, then by the nearest
    /// deadline.
    pub(crate) async fn investigation_queue(&self, scope: &[AreaCode], now: DateTime<Utc>) -> Result<Vec<Investigation>> {
        let mut params = Vec::new();
        let Some(in_scope) = crate::in_areas("i.area_code", scope, &mut params) else { return Ok(vec![]) };
        let sql = format!("{SELECT} WHERE i.report_done_at IS NULL AND {in_scope} ORDER BY i.opened_at, i.id LIMIT 2000");
        let rows: Vec<Row> = with_read_pool!(self, pool =>
            bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        let mut out = self.with_assignments(rows).await?;
        out.sort_by_key(|i| {
            let due = if i.core_done_at.is_none() { i.core_due_at } else { i.report_due_at };
            (!i.overdue(now), due, i.id)
        });
        Ok(out)
    }

    /// Gives one part of an investigation to `user_id`. Taking what one already holds changes
    /// nothing; a part another investigator holds is refused.
    pub(crate) async fn assign_part(&self, actor: &Actor, inv: &Investigation, part: Part, user_id: i64) -> Result<Investigation> {
        if let Some(held) = inv.holder(part) {
            if held.user_id == user_id {
                return Ok(inv.clone());
            }
            return Err(refused!(
                "refused.investigation_part_held",
                what = term("investigation.part", part.as_str()),
                case = inv.case_number,
                who = held.display_name
            ));
        }
        let investigator: Option<(String,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT role FROM users WHERE id = $1 AND NOT disabled").bind(user_id).fetch_optional(pool).await?);
        if investigator.as_ref().is_none_or(|(r,)| r != "investigator") {
            return Err(refused!("refused.not_an_investigator", user_id = user_id));
        }
        let now = Utc::now();
        let change = Change::new("assign", "investigation", inv.id).area(&inv.area_code).after(serde_json::json!({
            "case": inv.case_number, "part": part.as_str(), "user": user_id,
        }));
        let done = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "INSERT INTO investigation_assignments (investigation_id, user_id, part, assigned_at, assigned_by) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (investigation_id, part) DO NOTHING",
            )
            .bind(inv.id).bind(user_id).bind(part.as_str()).bind(now).bind(&actor.name).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                tx.append(actor, &change).await?;
            }
            tx.commit().await?;
            n == 1
        });
        let now = self.investigation(inv.id).await?.ok_or_else(|| StoreError::Task("investigation vanished".into()))?;
        if !done && now.holder(part).is_none_or(|h| h.user_id != user_id) {
            return Err(refused!(
                "refused.investigation_part_taken",
                what = term("investigation.part", part.as_str()),
                case = inv.case_number
            ));
        }
        Ok(now)
    }

    /// The next investigator in turn among those whose jurisdiction holds `area`.
    pub(crate) async fn next_investigator(&self, area: &str) -> Result<Option<i64>> {
        let team: Vec<TeamRow> = with_read_pool!(self, pool => sqlx::query_as(TEAM).fetch_all(pool).await?);
        Ok(next_in_turn(&team_for(area, team)))
    }

    /// Marks the core facts gathered, or the preliminary report done (with the source
    /// hypothesis); marking again changes nothing.
    pub(crate) async fn complete_investigation(&self, actor: &Actor, inv: &Investigation, report: Option<&str>) -> Result<Investigation> {
        let now = Utc::now();
        let (action, sql) = match report {
            None => ("core_done", "UPDATE investigations SET core_done_at = $1 WHERE id = $2 AND core_done_at IS NULL"),
            Some(_) => (
                "reported",
                "UPDATE investigations SET report_done_at = $1, core_done_at = COALESCE(core_done_at, $1), source_hypothesis = $3 \
                 WHERE id = $2 AND report_done_at IS NULL",
            ),
        };
        let change = Change::new(action, "investigation", inv.id)
            .area(&inv.area_code)
            .after(serde_json::json!({"case": inv.case_number, "source": report}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut q = sqlx::query(sql).bind(now).bind(inv.id);
            if let Some(r) = report {
                q = q.bind(r.trim().to_string());
            }
            if q.execute(&mut *tx).await?.rows_affected() == 1 {
                tx.append(actor, &change).await?;
            }
            tx.commit().await?;
        });
        self.investigation(inv.id).await?.ok_or_else(|| StoreError::Task("investigation vanished".into()))
    }
}
