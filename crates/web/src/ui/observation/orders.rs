//! The observation orders, with the list of those due for release and the batch release.

use crate::ui::form::Query;
use askama::Template;
use axum::response::Response;
use chrono::NaiveDate;
use cordon_domain::access::Permission;
use cordon_domain::observation::Status;
use cordon_store::observation::{Order, OrderFilter};
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::{day, local, today};
use crate::i18n::Tr;
use crate::ui::form::{Form, Ids};
use crate::ui::observation::{blocker_text, category_label, status_label};
use crate::ui::{UserBadge, failure, render, said};

pub struct OrderRow {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) category: String,
    pub(super) status: String,
    pub(super) last_exposure: String,
    pub(super) release_on: String,
    pub(super) centralized_until: String,
    pub(super) rule_set: String,
    pub(super) due: bool,
}

#[derive(Template)]
#[template(path = "observation.html")]
struct OrdersPage {
    t: Tr,
    user: Option<UserBadge>,
    statuses: Vec<(&'static str, String, bool)>,
    due_only: bool,
    can_write: bool,
    notice: Option<String>,
    error: Option<String>,
    orders: Vec<OrderRow>,
    /// The next page, when this one is full; the first page when this is a later one.
    next_url: Option<String>,
    first_url: Option<String>,
}

/// Orders a page shows.
const PAGE: u32 = 200;

#[derive(Deserialize, Default)]
pub struct OrdersQuery {
    status: Option<String>,
    due: Option<String>,
    /// Paging by key: the release day and id of the last order of the page before.
    after: Option<String>,
    /// Orders a page (default 200, at most 500).
    per: Option<u32>,
}

/// `2022-04-20,838` → the key to page after; anything else starts at the beginning.
fn page_key(after: Option<&str>) -> Option<(NaiveDate, i64)> {
    let (day, id) = after?.split_once(',')?;
    Some((day.parse().ok()?, id.parse().ok()?))
}

pub(super) fn order_row(t: Tr, o: Order, today: NaiveDate) -> OrderRow {
    OrderRow {
        id: o.id,
        category: category_label(t, o.category),
        status: status_label(t, o.status),
        last_exposure: local(o.last_exposure_at),
        release_on: day(o.release_on),
        centralized_until: day(o.centralized_until),
        due: o.release_on.is_some_and(|r| r <= today) && !o.status.is_final(),
        rule_set: super::labels::rule_set_label(t, &o.rule_set),
        name: o.name,
    }
}

pub async fn orders(t: Tr, caller: Caller, Query(q): Query<OrdersQuery>) -> Response {
    orders_view(t, &caller, q, None, None).await
}

async fn orders_view(t: Tr, caller: &Caller, q: OrdersQuery, notice: Option<String>, error: Option<String>) -> Response {
    let today = today();
    let status = q.status.as_deref().filter(|s| !s.is_empty()).and_then(|s| s.parse::<Status>().ok());
    // A filter the page does not know lists nobody rather than everyone: it says so.
    if let Some(v) = q.status.as_deref().filter(|s| !s.is_empty() && status.is_none()) {
        return crate::ui::message(
            t,
            Some(caller),
            axum::http::StatusCode::BAD_REQUEST,
            t.get("form.bad_link"),
            &t.fill("list.bad_filter", &[("value", v)]),
        );
    }
    let due_only = q.due.is_some();
    let after = page_key(q.after.as_deref());
    let per = q.per.unwrap_or(PAGE).clamp(1, 500);
    let filter = OrderFilter { status, release_by: due_only.then_some(today), after, limit: Some(per), ..Default::default() };
    let mut base = match (status, due_only) {
        (_, true) => "/observation?due=1".to_string(),
        (Some(s), _) => format!("/observation?status={}", s.as_str()),
        (None, _) => "/observation?".to_string(),
    };
    if per != PAGE {
        base.push_str(&format!("{}per={per}", if base.ends_with('?') { "" } else { "&" }));
    }
    let sep = if base.ends_with('?') { "" } else { "&" };
    match caller.0.observation_orders(&filter).await {
        Ok(orders) => render(&OrdersPage {
            next_url: (orders.len() == per as usize).then(|| orders.last()).flatten().map(|o| {
                let day = o.release_on.unwrap_or_else(cordon_store::observation::no_release_day);
                format!("{base}{sep}after={day},{}", o.id)
            }),
            first_url: after.map(|_| base.trim_end_matches('?').to_string()),
            t,
            user: UserBadge::of(caller),
            statuses: Status::ALL.iter().map(|s| (s.as_str(), status_label(t, s.as_str()), Some(*s) == status)).collect(),
            due_only,
            can_write: caller.0.principal().can(Permission::QuarantineWrite),
            notice,
            error,
            orders: orders.into_iter().map(|o| order_row(t, o, today)).collect(),
        }),
        Err(e) => failure(t, caller, e),
    }
}

#[derive(Deserialize)]
pub struct ReleaseForm {
    #[serde(default)]
    order: Ids,
    /// `home` when sent from the community's home list, which the answer goes back to.
    from: Option<String>,
    /// The area the home list was narrowed to.
    area: Option<String>,
}

/// Releases the people ticked on the list of those due (解除医学观察): those with nothing
/// holding them go; the others are named with what holds them.
pub async fn release(t: Tr, caller: Caller, Form(f): Form<ReleaseForm>) -> Response {
    let chosen = f.order.0;
    let from_home = f.from.as_deref() == Some("home");
    let outcome = if chosen.is_empty() {
        Err(t.get("obs.pick_release").to_string())
    } else {
        match caller.0.release_orders(&chosen).await {
            Ok(done) => {
                let notice = t.fill("obs.released", &[("n", &done.released.len().to_string()), ("held", &done.not_yet.len().to_string())]);
                let held = done
                    .not_yet
                    .iter()
                    .map(|(o, b)| format!("{}：{}", o.name, b.iter().map(|b| blocker_text(t, b)).collect::<Vec<_>>().join("，")));
                let errors: Vec<String> = held.chain(done.refused.iter().map(|(_, r)| t.refusal(r))).collect();
                Ok((notice, (!errors.is_empty()).then(|| errors.join("；"))))
            }
            Err(e) if e.is_refusal() => Err(said(t, &e)),
            Err(e) => return failure(t, &caller, e),
        }
    };
    let (notice, error) = match outcome {
        Ok((n, e)) => (Some(n), e),
        Err(e) => (None, Some(e)),
    };
    if from_home {
        super::home::home_view(t, &caller, notice, error, f.area.as_deref().unwrap_or("")).await
    } else {
        orders_view(t, &caller, OrdersQuery { due: Some("1".into()), ..Default::default() }, notice, error).await
    }
}
