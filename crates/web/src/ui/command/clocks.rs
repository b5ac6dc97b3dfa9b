//! The clocks board (时限看板): every time target in one place — open, due soon, overdue per clock,
//! and per township — each count opening the board that acts on it.

use askama::Template;
use axum::response::Response;
use cordon_domain::access::Permission;
use cordon_domain::clocks::ClockKind;

use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::{Places, UserBadge, failure, render};

/// Where a clock's items are worked, for someone who may open that board: the dispatch board,
/// the investigation desk, the recall list, the lab's results (for others, the latest round's
/// coverage with its tubes on the way), the latest round's coverage, the instructions.
pub(crate) fn board_of(clock: ClockKind, can: impl Fn(Permission) -> bool) -> Option<&'static str> {
    let (board, needs) = match clock {
        ClockKind::PositiveToHospital | ClockKind::ContactsToQuarantine => ("/dispatch", Permission::QuarantineRead),
        ClockKind::CoreInvestigation | ClockKind::InvestigationReport => ("/tracing", Permission::TracingRead),
        ClockKind::PoolRecall => ("/recalls", Permission::TestingRead),
        ClockKind::LabTurnaround if can(Permission::LabWrite) => ("/results", Permission::LabWrite),
        ClockKind::LabTurnaround | ClockKind::RoundDeadline => ("/coverage", Permission::TestingRead),
        ClockKind::Instruction => ("/instructions", Permission::AreasRead),
    };
    can(needs).then_some(board)
}

/// One clock's totals.
pub struct ClockRow {
    kind: &'static str,
    label: String,
    href: Option<&'static str>,
    open: i64,
    due_soon: i64,
    overdue: i64,
}

/// One township's cells, in the clocks' order: the clock's name (a phone shows it beside the
/// figure), open, overdue.
pub struct AreaRow {
    name: String,
    cells: Vec<(String, i64, i64)>,
}

#[derive(Template)]
#[template(path = "clocks.html")]
struct ClocksPage {
    t: Tr,
    user: Option<UserBadge>,
    clocks: Vec<ClockRow>,
    areas: Vec<AreaRow>,
}

pub(super) async fn page(t: Tr, caller: Caller) -> Response {
    let loaded = async {
        let counts = caller.0.clock_counts().await?;
        let places = Places::of(&caller, counts.iter().map(|c| c.area_code.as_str())).await?;
        Ok::<_, cordon_store::StoreError>((counts, places))
    };
    let (counts, places) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let clocks = ClockKind::ALL
        .iter()
        .map(|k| {
            let of = counts.iter().filter(|c| c.clock == *k);
            let (open, due_soon, overdue) = of.fold((0, 0, 0), |(o, s, d), c| (o + c.open, s + c.due_soon, d + c.overdue));
            ClockRow {
                kind: k.as_str(),
                label: t.get(&format!("clocks.kind.{}", k.as_str())).to_string(),
                href: board_of(*k, |p| caller.0.principal().can(p)),
                open,
                due_soon,
                overdue,
            }
        })
        .collect();
    let mut codes: Vec<&str> = counts.iter().map(|c| c.area_code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let areas = codes
        .into_iter()
        .map(|code| AreaRow {
            name: places.name(code),
            cells: ClockKind::ALL
                .iter()
                .map(|k| {
                    let (open, overdue) = counts
                        .iter()
                        .filter(|c| c.clock == *k && c.area_code == code)
                        .fold((0, 0), |(o, d), c| (o + c.open, d + c.overdue));
                    (t.get(&format!("clocks.kind.{}", k.as_str())).to_string(), open, overdue)
                })
                .collect(),
        })
        .collect();
    render(&ClocksPage { t, user: UserBadge::of(&caller), clocks, areas })
}
