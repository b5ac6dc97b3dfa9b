//! The clocks board: every open item of every time target, counted per clock and per township —
//! open, due soon, overdue — by index ranges over the open items' deadlines (each source keeps its
//! open items apart by status and deadline), never by reading closed work.

use chrono::{DateTime, Duration, Utc};
use cordon_domain::AreaCode;
use cordon_domain::clocks::{ClockKind, LAB_TURNAROUND_HOURS, thresholds};
use cordon_domain::command::RecipientState;
use cordon_domain::testing::result::RecallStatus;
use cordon_domain::transfer::{TransferKind, TransferStatus};
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
    let open_transfers = sql_set(&[TransferStatus::Planned, TransferStatus::Dispatched, TransferStatus::PickedUp]);
    let open_recipients =
        sql_set(&[RecipientState::Issued, RecipientState::Received, RecipientState::InProgress, RecipientState::SentBack]);
    vec![
        Source {
            clock: ClockKind::PositiveToHospital,
            from: format!("transfers WHERE status IN {open_transfers} AND kind = '{}'", TransferKind::PositiveToHospital.as_str()),
            area: "area_code",
            deadline: "deadline",
            after: Duration::zero(),
        },
        Source {
            clock: ClockKind::ContactsToQuarantine,
            from: format!("transfers WHERE status IN {open_transfers} AND kind = '{}'", TransferKind::ContactToSite.as_str()),
            area: "area_code",
            deadline: "deadline",
            after: Duration::zero(),
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
            let sql = format!(
                "SELECT substr({area}, 1, 9), COUNT(*), SUM(CASE WHEN {deadline} < $1 THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN {deadline} >= $1 AND {deadline} <= $2 THEN 1 ELSE 0 END) \
                 FROM {from} AND {inside} GROUP BY substr({area}, 1, 9) ORDER BY 1"
            );
            let rows: Vec<(String, i64, i64, i64)> = with_read_pool!(self, pool =>
                bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
            out.extend(rows.into_iter().map(|(area_code, open, overdue, due_soon)| ClockCount {
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
