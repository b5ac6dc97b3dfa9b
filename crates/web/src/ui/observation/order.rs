//! One observation order: its schedule, what holds its release, and its status moves.

use crate::ui::form::Path;
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::access::Permission;
use cordon_domain::observation::{Outcome, Status};
use serde::Deserialize;

use super::orders::OrderRow;
use crate::auth::Caller;
use crate::format::{month_day, today};
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::observation::{blocker_text, stage_label, status_label};
use crate::ui::{UserBadge, failure, render, said};

pub struct StageRow {
    kind: String,
    first: String,
    last: String,
    skipped: bool,
    current: bool,
}

pub struct TestRow {
    on: String,
    day: i64,
    stage: String,
    planned: bool,
    double: bool,
    taken: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "observation_order.html")]
struct OrderPage {
    t: Tr,
    user: Option<UserBadge>,
    order: OrderRow,
    area_code: String,
    /// The village (with its township) of the order, by name.
    place: String,
    site_id: Option<i64>,
    stages: Vec<StageRow>,
    tests: Vec<TestRow>,
    blockers: Vec<String>,
    /// Status moves the caller may make: (status, label).
    moves: Vec<(&'static str, String)>,
    error: Option<String>,
    /// For an order that ended: how (已解除, 转为病例), said above its schedule.
    ended: Option<String>,
}

pub async fn order(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    order_view(t, &caller, id, None).await
}

async fn order_view(t: Tr, caller: &Caller, id: i64, error: Option<String>) -> Response {
    let scope = &caller.0;
    let today = today();
    let (order, schedule) = match scope.order_schedule(id).await {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    // What holds the person: the same reasons a batch release gives.
    let blockers: Vec<String> = match scope.release_blockers(&order).await {
        Ok(b) => b.iter().map(|b| blocker_text(t, b)).collect(),
        Err(e) => return failure(t, caller, e),
    };
    let from = order.status;
    // An order that ended (released, or the person became a case) has no stage now and no
    // tests ahead: its schedule shows what was done.
    let ended = from.is_final();
    let blockers = if ended { vec![] } else { blockers };
    let can_quarantine = scope.principal().can(Permission::QuarantineWrite);
    let can_transfer = scope.principal().can(Permission::TransferWrite);
    let moves: Vec<(&'static str, String)> = Status::ALL
        .iter()
        .filter(|s| **s != Status::Case && from.may_become(**s))
        .filter(|s| if **s == Status::InTransit { can_transfer } else { can_quarantine })
        .filter(|s| **s != Status::Centralized || order.room_id.is_some())
        .map(|s| (s.as_str(), status_label(t, s.as_str())))
        .collect();
    let (stages, tests) = match &schedule {
        Some(s) => (
            s.stages
                .iter()
                .map(|st| StageRow {
                    kind: stage_label(t, st.kind.as_str()),
                    first: month_day(st.first),
                    last: month_day(st.last),
                    skipped: st.skipped,
                    current: !ended && st.first <= today && today <= st.last,
                })
                .collect(),
            s.tests
                .iter()
                .filter(|x| !ended || x.taken.is_some())
                .map(|x| TestRow {
                    on: month_day(x.on),
                    day: x.day,
                    stage: x.stage.map(|k| stage_label(t, k.as_str())).unwrap_or_default(),
                    planned: x.planned,
                    double: x.double,
                    taken: x.taken.map(|o| t.get(&format!("obs.outcome.{}", o.as_str())).to_string()).unwrap_or_default(),
                    state: match x.taken {
                        Some(Outcome::Positive) => "overdue",
                        None if x.on < today => "missed",
                        _ => "",
                    },
                })
                .collect(),
        ),
        None => (vec![], vec![]),
    };
    // Release is offered only when nothing holds the person.
    let moves = moves.into_iter().filter(|(s, _)| *s != Status::Released.as_str() || blockers.is_empty()).collect();
    let place = match crate::ui::Places::of(caller, [order.area_code.as_str()]).await {
        Ok(n) => n.name(&order.area_code),
        Err(e) => return failure(t, caller, e),
    };
    let page = OrderPage {
        place,
        t,
        user: UserBadge::of(caller),
        area_code: order.area_code.clone(),
        site_id: order.site_id,
        stages,
        tests,
        blockers,
        moves,
        error,
        ended: ended.then(|| t.fill("obs.ended", &[("status", &status_label(t, from.as_str()))])),
        order: super::orders::order_row(t, order, today),
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct MoveForm {
    to: Status,
}

pub async fn move_order(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<MoveForm>) -> Response {
    match caller.0.set_order_status(id, f.to).await {
        Ok(_) => Redirect::to(&format!("/observation/orders/{id}")).into_response(),
        Err(e) if e.is_refusal() => order_view(t, &caller, id, Some(said(t, &e))).await,
        Err(e) => failure(t, &caller, e),
    }
}
