//! The community's list of people observed at home, and the tube taken at their door.

use crate::ui::form::Query;
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::Barcode;
use cordon_domain::access::Permission;
use cordon_domain::observation::Status;
use cordon_domain::refusal;
use cordon_store::StoreError;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::{day, percent, today};
use crate::i18n::Tr;
use crate::ui::form::{Form, Ids};
use crate::ui::observation::{category_label, status_label};
use crate::ui::{UserBadge, barcode_reason, failure, render, said};

pub struct HomeRow {
    order_id: i64,
    name: String,
    /// The household's address: where the door is.
    address: String,
    category: String,
    status: String,
    release_on: String,
    /// The period is over: may be released when nothing else holds them.
    release_due: bool,
    test_due: bool,
    double: bool,
    taken: Option<String>,
}

pub struct HomeGroup {
    area_code: String,
    area_name: String,
    /// How many are listed under the village (its rows are left out when the list is folded).
    count: usize,
    people: Vec<HomeRow>,
}

/// A list longer than this opens folded, village by village: a county's 550 people are a
/// page to choose a village from, not 92,000 pixels of cards.
const UNFOLDED: usize = 100;

#[derive(Deserialize, Default)]
pub struct HomeQuery {
    notice: Option<String>,
    error: Option<String>,
    /// One village's (or township's) list, by area code.
    area: Option<String>,
}

#[derive(Template)]
#[template(path = "observation_home.html")]
struct HomePage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    today: String,
    notice: Option<String>,
    error: Option<String>,
    total: usize,
    tests_due: usize,
    /// Handed over with a plan that starts at home, not yet started (待居家隔离), by village.
    waiting: Vec<HomeGroup>,
    waiting_total: usize,
    groups: Vec<HomeGroup>,
    /// Villages shown by their counts only, each a link to its list.
    folded: bool,
    /// The area the list is narrowed to (its name), kept by every act on the page.
    area: String,
    area_name: String,
}

/// The community's list of people observed at home (居家观察名单), by village: who is waiting
/// to start (ticked and started in one batch), who must stay in, who is tested at the door
/// today (the tube is scanned here), who may be released.
pub async fn home(t: Tr, caller: Caller, Query(q): Query<HomeQuery>) -> Response {
    home_view(t, &caller, q.notice, q.error, q.area.as_deref().unwrap_or("")).await
}

pub(super) async fn home_view(t: Tr, caller: &Caller, notice: Option<String>, error: Option<String>, area: &str) -> Response {
    let scope = &caller.0;
    let today = today();
    let area = area.trim();
    let mut list = match scope.home_list(today).await {
        Ok(l) => l,
        Err(e) => return failure(t, caller, e),
    };
    list.retain(|s| s.order.area_code.starts_with(area));
    let folded = area.is_empty() && list.len() > UNFOLDED;
    // The villages' names (with their townships) in one read.
    let names = match crate::ui::Places::of(caller, list.iter().map(|s| s.order.area_code.as_str()).chain([area])).await {
        Ok(n) => n,
        Err(e) => return failure(t, caller, e),
    };
    let (mut groups, mut waiting): (Vec<HomeGroup>, Vec<HomeGroup>) = (Vec::new(), Vec::new());
    let waits = |s: &cordon_store::quarantine::ToSample| s.order.status == Status::AwaitingHome;
    let waiting_total = list.iter().filter(|s| waits(s)).count();
    let total = list.len() - waiting_total;
    let tests_due = list.iter().filter(|s| !waits(s) && s.due && s.taken.is_none()).count();
    for s in list {
        let into = if waits(&s) { &mut waiting } else { &mut groups };
        let o = s.order;
        if into.last().is_none_or(|g| g.area_code != o.area_code) {
            let name = names.name(&o.area_code);
            into.push(HomeGroup { area_code: o.area_code.clone(), area_name: name, count: 0, people: vec![] });
        }
        if let Some(g) = into.last_mut() {
            g.count += 1;
            if folded {
                continue;
            }
        }
        let row = HomeRow {
            order_id: o.id,
            address: s.address.unwrap_or_default(),
            category: category_label(t, o.category),
            status: status_label(t, o.status),
            release_on: day(o.release_on),
            release_due: o.release_on.is_some_and(|r| r <= today),
            test_due: s.due,
            double: s.double,
            taken: s.taken,
            name: o.name,
        };
        if let Some(g) = into.last_mut() {
            g.people.push(row);
        }
    }
    render(&HomePage {
        t,
        user: UserBadge::of(caller),
        can_write: scope.principal().can(Permission::QuarantineWrite) || scope.principal().can(Permission::CommunityWrite),
        today: today.format("%F").to_string(),
        notice,
        error,
        total,
        tests_due,
        waiting,
        waiting_total,
        groups,
        folded,
        area_name: if area.is_empty() { String::new() } else { names.name(area) },
        area: area.to_string(),
    })
}

/// The home list again after an act, narrowed to the area it was done in.
fn back_home(notice: &str, area: &str) -> Response {
    let area = if area.is_empty() { String::new() } else { format!("&area={}", percent(area)) };
    Redirect::to(&format!("/observation/home?notice={}{area}", percent(notice))).into_response()
}

#[derive(Deserialize)]
pub struct StartHomeForm {
    #[serde(default)]
    order: Ids,
    #[serde(default)]
    area: String,
}

/// Starts home quarantine for the people ticked on the waiting list, in one batch; says how
/// many started and, by name, who could not and why.
pub async fn start_home(t: Tr, caller: Caller, Form(f): Form<StartHomeForm>) -> Response {
    let Ids(order) = f.order;
    if order.is_empty() {
        return home_view(t, &caller, None, Some(t.get("home.none_ticked").to_string()), &f.area).await;
    }
    match caller.0.start_home_observation(&order).await {
        Ok(done) => {
            let started = t.fill("home.started", &[("n", &done.started.len().to_string())]);
            if done.refused.is_empty() {
                back_home(&started, &f.area)
            } else {
                let why: Vec<String> = done.refused.iter().map(|(_, r)| t.refusal(r)).collect();
                home_view(t, &caller, Some(started), Some(why.join("；")), &f.area).await
            }
        }
        Err(e) if e.is_refusal() => home_view(t, &caller, None, Some(said(t, &e)), &f.area).await,
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct DoorTestForm {
    order_id: i64,
    barcode: String,
    #[serde(default)]
    area: String,
}

/// A tube taken at the door of a person observed at home.
pub async fn home_test(t: Tr, caller: Caller, Form(f): Form<DoorTestForm>) -> Response {
    let done = match Barcode::parse(f.barcode.trim()) {
        Ok(b) => caller.0.take_home_test(f.order_id, &b).await.map(|_| t.fill("quarantine.sampled", &[("barcode", b.as_str())])),
        Err(e) => Err(StoreError::from(refusal!("transport.bad_barcode", barcode = f.barcode, reason = barcode_reason(t, &e)))),
    };
    match done {
        Ok(notice) => back_home(&notice, &f.area),
        Err(e) if e.is_refusal() => home_view(t, &caller, None, Some(said(t, &e)), &f.area).await,
        Err(e) => failure(t, &caller, e),
    }
}
