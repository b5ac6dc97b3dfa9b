//! The clocks board: every open item of every time target, counted per clock and per township —
//! open, due soon, overdue — by index ranges over the open items' deadlines (each source keeps its
//! open items apart by status and deadline), never by reading closed work. A round's villages are
//! checked against the maintained coverage counts and populations, not the samples.

use chrono::{DateTime, Duration, Utc};
use cordon_domain::AreaCode;
use cordon_domain::cases::case::CasePlace;
use cordon_domain::clocks::{ClockKind, LAB_TURNAROUND_HOURS, thresholds};
use cordon_domain::command::RecipientState;
use cordon_domain::observation::Status;
use cordon_domain::testing::result::RecallStatus;
use cordon_domain::transfer::TransferKind;
use serde::Serialize;

use crate::{Param, Result, Store, bind_all, in_areas, sql_set, with_read_pool};

/// One clock's open items in one township (or at county level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockCount {
    pub clock: ClockKind,
    /// The township's code, or the county's for items held at county level.
    pub area_code: String,
    pub open: i64,
    pub due_soon: i64,
    pub overdue: i64,
}

/// Where a clock's open items are: the rows (`FROM … WHERE` open), the column giving their area,
/// the column giving their deadline, and how long after that column the deadline falls.
struct Source {
    clock: ClockKind,
    from: String,
    area: &'static str,
    deadline: &'static str,
    after: Duration,
}

fn sources() -> Vec<Source> {
    let not_in_hospital = sql_set(&[CasePlace::Home, CasePlace::QuarantineSite, CasePlace::InTransfer]);
    let not_in_site = sql_set(&[Status::AwaitingTransfer, Status::InTransit]);
    let open_recipients =
        sql_set(&[RecipientState::Issued, RecipientState::Received, RecipientState::InProgress, RecipientState::SentBack]);
    vec![
        // Every positive never admitted — waiting at home or in a site, or on the road — from
        // the case's identification, whether a transfer is planned or not (a discharged case is
        // home again, and off this clock).
        Source {
            clock: ClockKind::PositiveToHospital,
            from: format!(
                "cases c WHERE c.place IN {not_in_hospital} AND c.classification IN ('confirmed', 'asymptomatic') \
                 AND NOT EXISTS (SELECT 1 FROM hospital_stays h WHERE h.case_id = c.id)"
            ),
            area: "c.area_code",
            deadline: "c.created_at",
            after: Duration::hours(TransferKind::PositiveToHospital.deadline_hours()),
        },
        // Every contact whose quarantine starts in a site and who is not there yet, from the
        // hand-over, whether on a transfer or still waiting for one.
        Source {
            clock: ClockKind::ContactsToQuarantine,
            from: format!("observation_orders WHERE status IN {not_in_site}"),
            area: "area_code",
            deadline: "created_at",
            after: Duration::hours(TransferKind::ContactToSite.deadline_hours()),
        },
        Source {
            clock: ClockKind::CoreInvestigation,
            from: "investigations WHERE core_done_at IS NULL".into(),
            area: "area_code",
            deadline: "core_due_at",
            after: Duration::zero(),
        },
        Source {
            clock: ClockKind::InvestigationReport,
            from: "investigations WHERE report_done_at IS NULL".into(),
            area: "area_code",
            deadline: "report_due_at",
            after: Duration::zero(),
        },
        Source {
            clock: ClockKind::PoolRecall,
            from: format!("recalls WHERE status = '{}'", RecallStatus::Open.as_str()),
            area: "area_code",
            deadline: "deadline",
            after: Duration::zero(),
        },
        Source {
            clock: ClockKind::LabTurnaround,
            from: "tubes WHERE result IS NULL AND sealed_at IS NOT NULL".into(),
            area: "area_code",
            deadline: "sealed_at",
            after: Duration::hours(LAB_TURNAROUND_HOURS),
        },
        // Each area of a round under way whose people are not all sampled or exempted, by the
        // round's deadline, until a later round covering any of the same ground starts (its
        // stragglers are that round's). `$1` is the count's instant (its overdue threshold,
        // nothing added).
        Source {
            clock: ClockKind::RoundDeadline,
            from: "round_areas ra JOIN testing_rounds t ON t.id = ra.round_id JOIN areas a ON a.code = ra.area_code \
                   WHERE t.starts_at <= $1 AND NOT EXISTS (SELECT 1 FROM testing_rounds l JOIN round_areas la ON la.round_id = l.id \
                   WHERE l.incident_id = t.incident_id AND l.starts_at > t.starts_at AND l.starts_at <= $1 \
                   AND ((la.area_code >= ra.area_code AND la.area_code < ra.area_code || ':') \
                   OR (ra.area_code >= la.area_code AND ra.area_code < la.area_code || ':'))) \
                   AND a.population > (SELECT COALESCE(SUM(c.sampled + c.exempted), 0) FROM round_area_counts c \
                   WHERE c.round_id = ra.round_id AND c.area_code >= ra.area_code AND c.area_code < ra.area_code || ':')"
                .into(),
            area: "ra.area_code",
            deadline: "t.target_end_at",
            after: Duration::zero(),
        },
        Source {
            clock: ClockKind::Instruction,
            from: format!(
                "instruction_recipients r JOIN instructions i ON i.id = r.instruction_id JOIN incidents inc ON inc.id = i.incident_id \
                 WHERE r.state IN {open_recipients}"
            ),
            area: "COALESCE(r.area_code, inc.area_code)",
            deadline: "r.deadline",
            after: Duration::zero(),
        },
    ]
}

impl Store {
    /// Every clock's open items in `scope` at `now`, per township (items of a county-level area
    /// under the county's code), clocks in their order, townships by code.
    pub async fn clock_counts(&self, scope: &[AreaCode], now: DateTime<Utc>) -> Result<Vec<ClockCount>> {
        let mut out = Vec::new();
        for s in sources() {
            let (overdue_before, soon_until) = thresholds(s.clock, now);
            let mut params = vec![Param::Time(overdue_before - s.after), Param::Time(soon_until - s.after)];
            let Some(inside) = in_areas(s.area, scope, &mut params) else { return Ok(Vec::new()) };
            let (area, deadline, from) = (s.area, s.deadline, &s.from);
            // Grouped by the area's own code, in its index's order (no sort of the rows), and
            // gathered to townships here.
            let sql = format!(
                "SELECT {area}, COUNT(*), SUM(CASE WHEN {deadline} < $1 THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN {deadline} >= $1 AND {deadline} <= $2 THEN 1 ELSE 0 END) \
                 FROM {from} AND {inside} GROUP BY {area}"
            );
            let rows: Vec<(String, i64, i64, i64)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            let mut townships: std::collections::BTreeMap<String, (i64, i64, i64)> = std::collections::BTreeMap::new();
            for (code, open, overdue, due_soon) in rows {
                let t = townships.entry(code.chars().take(9).collect()).or_default();
                (t.0, t.1, t.2) = (t.0 + open, t.1 + overdue, t.2 + due_soon);
            }
            out.extend(townships.into_iter().map(|(area_code, (open, overdue, due_soon))| ClockCount {
                clock: s.clock,
                area_code,
                open,
                due_soon,
                overdue,
            }));
        }
        Ok(out)
    }
}
