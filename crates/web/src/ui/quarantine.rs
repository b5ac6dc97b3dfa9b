//! Medical observation pages: the quarantine board (sites, beds, who waits for a room), a site's
//! own page for its head (rooms, arrivals, today's tests, health checks, cleaning, check-out,
//! the floor restart), the observation orders with each one's schedule, and the rule sets.

use askama::Template;
use axum::extract::{Path, Query, RawForm};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use cordon_domain::access::Permission;
use cordon_domain::observation::{Blocker, Category, Outcome, RuleSet, Status, rules::format_days, rules::parse_days};
use cordon_domain::{AreaCode, Barcode, local_date};
use cordon_store::StoreError;
use cordon_store::observation::{Order, OrderFilter, RecomputeSummary};
use cordon_store::quarantine::{NewQuarantineSite, ROOM_STATUSES, SITE_KINDS, SiteBoard};
use serde::Deserialize;

use super::investigation::{ids, pairs, value};
use super::{UserBadge, failure, message, render, said};
use crate::auth::Caller;
use crate::i18n::Tr;

fn status_label(t: Tr, s: &str) -> String {
    t.get(&format!("obs.status.{s}")).to_string()
}

fn category_label(t: Tr, c: &str) -> String {
    t.get(&format!("obs.category.{c}")).to_string()
}

fn stage_label(t: Tr, s: &str) -> String {
    t.get(&format!("obs.stage.{s}")).to_string()
}

fn day(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%m-%d").to_string()).unwrap_or_else(|| "—".into())
}

/// Percent-decodes a form value (`+` is a space).
fn decoded(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn form_value(form: &[(String, String)], key: &str) -> String {
    value(form, key).map(decoded).unwrap_or_default()
}

// ---------------------------------------------------------------- the board

pub struct BoardRow {
    site: SiteBoard,
    kind: String,
    occupancy: String,
}

pub struct WaitingRow {
    id: i64,
    name: String,
    category: String,
    status: String,
    release_on: String,
    centralized_until: String,
}

#[derive(Template)]
#[template(path = "quarantine.html")]
struct BoardPage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    notice: Option<String>,
    error: Option<String>,
    kinds: Vec<(&'static str, String)>,
    sites: Vec<BoardRow>,
    total_beds: i64,
    total_occupants: i64,
    total_free: i64,
    waiting: Vec<WaitingRow>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
    error: Option<String>,
}

pub async fn board(t: Tr, caller: Caller, Query(q): Query<NoticeQuery>) -> Response {
    board_view(t, &caller, q.notice, q.error).await
}

async fn board_view(t: Tr, caller: &Caller, notice: Option<String>, error: Option<String>) -> Response {
    let scope = &caller.0;
    let loaded = async {
        let sites = scope.quarantine_board().await?;
        let mut waiting = scope.observation_orders(&OrderFilter { status: Some(Status::AwaitingTransfer), ..Default::default() }).await?;
        waiting.extend(scope.observation_orders(&OrderFilter { status: Some(Status::InTransit), ..Default::default() }).await?);
        // Someone riding home from a site waits for no room.
        let riding = scope.orders_on_open_transfers().await?;
        waiting.retain(|o| !riding.contains(&o.id));
        Ok::<_, StoreError>((sites, waiting))
    };
    let (sites, waiting) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    let page = BoardPage {
        t,
        user: UserBadge::of(caller),
        can_write: scope.principal().can(Permission::QuarantineWrite),
        notice,
        error,
        kinds: SITE_KINDS.iter().map(|(k, _)| (*k, t.get(&format!("quarantine.kind.{k}")).to_string())).collect(),
        total_beds: sites.iter().map(|s| s.beds).sum(),
        total_occupants: sites.iter().map(|s| s.occupants).sum(),
        total_free: sites.iter().map(|s| s.beds - s.occupants).sum(),
        sites: sites
            .into_iter()
            .map(|s| BoardRow {
                kind: t.get(&format!("quarantine.kind.{}", s.kind)).to_string(),
                occupancy: if s.beds > 0 { format!("{:.0}%", 100.0 * s.occupants as f64 / s.beds as f64) } else { "—".into() },
                site: s,
            })
            .collect(),
        // People who wait for a room: those whose plan starts with centralized quarantine.
        waiting: waiting
            .into_iter()
            .filter(|o| o.room_id.is_none() && o.centralized_until.is_some())
            .map(|o| WaitingRow {
                id: o.id,
                category: category_label(t, &o.category),
                status: status_label(t, &o.status),
                release_on: day(o.release_on),
                centralized_until: day(o.centralized_until),
                name: o.name,
            })
            .collect(),
    };
    render(&page)
}

pub async fn create_site(t: Tr, caller: Caller, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let Some(area) = caller.0.principal().user.jurisdiction.areas().first().cloned() else {
        return board_view(t, &caller, None, Some(t.get("homes.empty").to_string())).await;
    };
    let area = AreaCode::parse(&form_value(&form, "area_code")).unwrap_or(area);
    let new = NewQuarantineSite {
        name: form_value(&form, "name"),
        kind: form_value(&form, "kind"),
        area_code: area,
        address: form_value(&form, "address"),
        head_name: form_value(&form, "head_name"),
        head_phone: Some(form_value(&form, "head_phone")).filter(|p| !p.trim().is_empty()),
        staff: form_value(&form, "staff").parse().unwrap_or(0),
        households_share: value(&form, "households_share").is_some(),
    };
    match caller.0.create_quarantine_site(&new).await {
        Ok(site) => Redirect::to(&format!("/quarantine/sites/{}", site.id)).into_response(),
        Err(e) if e.is_refusal() => board_view(t, &caller, None, Some(said(t, &e))).await,
        Err(e) => failure(t, &caller, e),
    }
}

/// Rooms at one site for the ticked people, in one batch.
pub async fn assign(t: Tr, caller: Caller, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let Ok(site) = form_value(&form, "site_id").parse::<i64>() else {
        return board_view(t, &caller, None, Some(t.get("quarantine.pick_site").to_string())).await;
    };
    let chosen = ids(&form, "order");
    if chosen.is_empty() {
        return board_view(t, &caller, None, Some(t.get("quarantine.pick_people").to_string())).await;
    }
    match caller.0.assign_rooms(site, &chosen).await {
        Ok(done) => {
            let notice =
                t.fill("quarantine.assigned", &[("n", &done.assigned.len().to_string()), ("refused", &done.refused.len().to_string())]);
            let error = (!done.refused.is_empty()).then(|| done.refused.iter().map(|(_, r)| r.text(t.zh())).collect::<Vec<_>>().join("；"));
            board_view(t, &caller, Some(notice), error).await
        }
        Err(e) if e.is_refusal() => board_view(t, &caller, None, Some(said(t, &e))).await,
        Err(e) => failure(t, &caller, e),
    }
}

// ---------------------------------------------------------------- a site

pub struct PersonRow {
    order_id: i64,
    name: String,
    room: String,
    category: String,
    status: String,
    arrived: bool,
    day_n: i64,
    release_on: String,
    release_due: bool,
    morning: String,
    evening: String,
    fever: bool,
    next_stage: &'static str,
    out_label: String,
}

pub struct SampleRow {
    order_id: i64,
    name: String,
    room: String,
    double: bool,
    taken: Option<String>,
}

#[derive(Template)]
#[template(path = "quarantine_site.html")]
struct SitePage {
    t: Tr,
    user: Option<UserBadge>,
    site: SiteBoard,
    kind: String,
    can_write: bool,
    notice: Option<String>,
    error: Option<String>,
    today: String,
    people: Vec<PersonRow>,
    samples: Vec<SampleRow>,
    sampled: usize,
    /// Rooms waiting for cleaning: (id, number).
    cleaning: Vec<(i64, String)>,
    /// Free rooms, which may be taken out of use, and rooms out of use: (id, building and number).
    free: Vec<(i64, String)>,
    out_of_use: Vec<(i64, String)>,
    /// Rooms by status with counts, for the summary line.
    room_counts: Vec<(String, usize)>,
    tomorrow: String,
    tomorrow_count: usize,
    /// Tomorrow's sampling list, for the head to plan staff and tubes.
    tomorrow_rows: Vec<SampleRow>,
    restart: Option<RestartView>,
}

pub struct RestartView {
    order_id: i64,
    summary: String,
    environmental: bool,
    affected: Vec<(String, String)>,
}

pub async fn site(t: Tr, caller: Caller, Path(id): Path<i64>, Query(q): Query<NoticeQuery>) -> Response {
    site_view(t, &caller, id, q.notice, q.error, None).await
}

async fn site_view(
    t: Tr,
    caller: &Caller,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
    restart: Option<RestartView>,
) -> Response {
    let scope = &caller.0;
    let today = local_date(Utc::now());
    let tomorrow = today.succ_opt().unwrap_or(today);
    let loaded = async {
        let site = scope.quarantine_site(id).await?;
        let people = scope.site_people(id).await?;
        let samples = scope.sampling_list(id, today).await?;
        let tomorrow_list = scope.sampling_list(id, tomorrow).await?;
        let checks = scope.health_checks(id, today).await?;
        let rooms = scope.rooms(id).await?;
        Ok::<_, StoreError>((site, people, samples, tomorrow_list, checks, rooms))
    };
    let (site, people, samples, tomorrow_list, checks, rooms) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    let temp = |order: i64, slot: &str| checks.iter().find(|c| c.order_id == order && c.slot == slot);
    // The stage after centralized quarantine, from each order's plan under its rule set.
    let mut rules: std::collections::HashMap<String, Option<cordon_domain::observation::RuleSet>> = std::collections::HashMap::new();
    let mut next_stages = std::collections::HashMap::new();
    for (o, _) in &people {
        if !rules.contains_key(&o.rule_set) {
            rules.insert(o.rule_set.clone(), scope.rule_set(&o.rule_set).await.ok());
        }
        let plan = rules.get(&o.rule_set).and_then(Option::as_ref).zip(o.category()).and_then(|(r, c)| r.plan(c));
        let next = plan.map(|p| {
            let s = cordon_domain::observation::Schedule::compute(p, local_date(o.last_exposure_at), today, &[]);
            s.stage_after(cordon_domain::observation::StageKind::Centralized)
        });
        // Past the release day there is no next stage: release.
        let next = if o.release_on.is_some_and(|r| r > today) { next.flatten() } else { None };
        next_stages.insert(o.id, next);
    }
    let people = people
        .into_iter()
        .map(|(o, r)| {
            let (m, e) = (temp(o.id, "morning"), temp(o.id, "evening"));
            let fever = [m, e].iter().flatten().any(|c| cordon_domain::observation::needs_attention(c.temperature, &c.symptoms));
            let show = |c: Option<&cordon_store::quarantine::HealthCheck>| {
                c.map(|c| {
                    if c.symptoms.is_empty() {
                        format!("{:.1}℃", c.temperature)
                    } else {
                        format!("{:.1}℃ {}", c.temperature, c.symptoms)
                    }
                })
                .unwrap_or_default()
            };
            let day0 = local_date(o.last_exposure_at);
            // Where the person goes after the centralized stage: the plan's next stage, or release.
            let next_stage = next_stages.get(&o.id).copied().flatten().map_or("released", |k| k.as_str());
            PersonRow {
                order_id: o.id,
                room: r.number.clone(),
                category: category_label(t, &o.category),
                status: status_label(t, &o.status),
                arrived: o.status == "centralized",
                day_n: (today - day0).num_days(),
                release_on: day(o.release_on),
                release_due: o.centralized_until.is_some_and(|c| c <= today),
                morning: show(m),
                evening: show(e),
                fever,
                next_stage,
                out_label: t.get(&format!("quarantine.out_{next_stage}")).to_string(),
                name: o.name,
            }
        })
        .collect();
    let sampled = samples.iter().filter(|s| s.taken.is_some()).count();
    let room_counts = ROOM_STATUSES
        .iter()
        .map(|(k, _)| (t.get(&format!("quarantine.room.{k}")).to_string(), rooms.iter().filter(|r| r.status == *k).count()))
        .collect();
    let page = SitePage {
        t,
        user: UserBadge::of(caller),
        kind: t.get(&format!("quarantine.kind.{}", site.kind)).to_string(),
        can_write: scope.principal().can(Permission::QuarantineWrite),
        notice,
        error,
        today: t.fill("quarantine.sampling_list", &[("day", &today.format("%m-%d").to_string())]),
        people,
        samples: samples
            .into_iter()
            .map(|s| SampleRow {
                order_id: s.order.id,
                name: s.order.name,
                room: s.room.unwrap_or_default(),
                double: s.double,
                taken: s.taken,
            })
            .collect(),
        sampled,
        cleaning: rooms.iter().filter(|r| r.status == "cleaning").map(|r| (r.id, r.number.clone())).collect(),
        free: rooms.iter().filter(|r| r.status == "free").map(|r| (r.id, format!("{} {}", r.building, r.number))).collect(),
        out_of_use: rooms.iter().filter(|r| r.status == "out_of_use").map(|r| (r.id, format!("{} {}", r.building, r.number))).collect(),
        room_counts,
        tomorrow: t.fill("quarantine.tomorrow", &[("day", &tomorrow.format("%m-%d").to_string())]),
        tomorrow_count: tomorrow_list.len(),
        tomorrow_rows: tomorrow_list
            .into_iter()
            .map(|s| SampleRow {
                order_id: s.order.id,
                name: s.order.name,
                room: s.room.unwrap_or_default(),
                double: s.double,
                taken: None,
            })
            .collect(),
        restart,
        site,
    };
    let status = if page.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    (status, render(&page)).into_response()
}

fn back(site: i64, notice: &str) -> Response {
    Redirect::to(&format!("/quarantine/sites/{site}?notice={}", super::transport::utf8_percent(notice))).into_response()
}

async fn site_outcome(t: Tr, caller: &Caller, site: i64, done: Result<String, StoreError>) -> Response {
    match done {
        Ok(notice) => back(site, &notice),
        Err(e) if e.is_refusal() => site_view(t, caller, site, None, Some(said(t, &e)), None).await,
        Err(e) => failure(t, caller, e),
    }
}

pub async fn add_rooms(t: Tr, caller: Caller, Path(site): Path<i64>, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let num = |k: &str| form_value(&form, k).trim().parse::<i64>().unwrap_or(0);
    let done = caller
        .0
        .add_rooms(
            site,
            &form_value(&form, "building"),
            (num("from_floor") as i32, num("to_floor") as i32),
            num("rooms_per_floor") as u32,
            num("beds") as u32,
        )
        .await
        .map(|n| t.fill("quarantine.rooms_added", &[("n", &n.to_string())]));
    site_outcome(t, &caller, site, done).await
}

pub async fn check_in(t: Tr, caller: Caller, Path((site, order)): Path<(i64, i64)>) -> Response {
    let done = caller.0.check_in(site, order).await.map(|o| t.fill("quarantine.checked_in", &[("name", &o.name)]));
    site_outcome(t, &caller, site, done).await
}

pub async fn check_out(t: Tr, caller: Caller, Path((site, order)): Path<(i64, i64)>, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let to = form_value(&form, "to").parse::<Status>().unwrap_or(Status::HomeMonitoring);
    let done = caller
        .0
        .check_out(site, order, to)
        .await
        .map(|o| t.fill("quarantine.checked_out", &[("name", &o.name), ("to", &status_label(t, o.status.as_str()))]));
    site_outcome(t, &caller, site, done).await
}

pub async fn take_test(t: Tr, caller: Caller, Path(site): Path<i64>, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let order = form_value(&form, "order_id").parse::<i64>().unwrap_or(0);
    let raw = form_value(&form, "barcode");
    let barcode = match Barcode::parse(raw.trim()) {
        Ok(b) => b,
        Err(e) => {
            return site_view(
                t,
                &caller,
                site,
                None,
                Some(t.fill("transport.bad_barcode", &[("barcode", &raw), ("reason", &super::barcode_reason(t, &e))])),
                None,
            )
            .await;
        }
    };
    let done =
        caller.0.take_observation_test(site, order, &barcode).await.map(|_| t.fill("quarantine.sampled", &[("barcode", barcode.as_str())]));
    site_outcome(t, &caller, site, done).await
}

pub async fn health(t: Tr, caller: Caller, Path(site): Path<i64>, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let order = form_value(&form, "order_id").parse::<i64>().unwrap_or(0);
    let Ok(temperature) = form_value(&form, "temperature").trim().parse::<f32>() else {
        return site_view(t, &caller, site, None, Some(t.get("quarantine.bad_temperature").to_string()), None).await;
    };
    let done = caller
        .0
        .record_health_check(site, order, &form_value(&form, "slot"), temperature, &form_value(&form, "symptoms"))
        .await
        .map(|c| t.fill("quarantine.health_saved", &[("temperature", &format!("{:.1}", c.temperature))]));
    site_outcome(t, &caller, site, done).await
}

pub async fn room_status(t: Tr, caller: Caller, Path((site, room)): Path<(i64, i64)>, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let to = form_value(&form, "to");
    let done = caller.0.set_room_status(site, room, &to).await.map(|_| t.get("quarantine.room_saved").to_string());
    site_outcome(t, &caller, site, done).await
}

/// A room picked from a list (taken out of use: a broken fitting, a staff room).
pub async fn room_status_picked(t: Tr, caller: Caller, Path(site): Path<i64>, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let room = form_value(&form, "room_id").parse::<i64>().unwrap_or(0);
    let done = caller.0.set_room_status(site, room, &form_value(&form, "to")).await.map(|_| t.get("quarantine.room_saved").to_string());
    site_outcome(t, &caller, site, done).await
}

/// The restart rule: first the list of who would restart, then, confirmed, the restart.
pub async fn restart(t: Tr, caller: Caller, Path(site): Path<i64>, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let order = form_value(&form, "order_id").parse::<i64>().unwrap_or(0);
    let environmental = value(&form, "environmental").is_some();
    let confirmed = value(&form, "confirm").is_some();
    let scope = &caller.0;
    let result = if confirmed {
        scope.apply_restart(site, order, environmental).await
    } else {
        scope.restart_preview(site, order, environmental).await
    };
    match result {
        Ok(r) if confirmed => back(site, &t.fill("quarantine.restarted", &[("n", &r.affected.len().to_string())])),
        Ok(r) => {
            let name = scope.observation_order(order).await.ok().flatten().map(|o| o.name).unwrap_or_default();
            let n = r.affected.len().to_string();
            let view = RestartView {
                order_id: order,
                summary: t.fill("quarantine.restart_preview", &[("name", &name), ("floor", &r.floor.to_string()), ("n", &n)]),
                environmental: r.environmental,
                affected: r.affected.into_iter().map(|o| (o.name, day(o.release_on))).collect(),
            };
            site_view(t, &caller, site, None, None, Some(view)).await
        }
        Err(e) if e.is_refusal() => site_view(t, &caller, site, None, Some(said(t, &e)), None).await,
        Err(e) => failure(t, &caller, e),
    }
}

// ---------------------------------------------------------------- orders

pub struct OrderRow {
    id: i64,
    name: String,
    category: String,
    status: String,
    last_exposure: String,
    release_on: String,
    centralized_until: String,
    rule_set: String,
    due: bool,
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
}

#[derive(Deserialize, Default)]
pub struct OrdersQuery {
    status: Option<String>,
    due: Option<String>,
}

fn order_row(t: Tr, o: Order, today: NaiveDate) -> OrderRow {
    OrderRow {
        id: o.id,
        category: category_label(t, &o.category),
        status: status_label(t, &o.status),
        last_exposure: super::testing::local(o.last_exposure_at),
        release_on: day(o.release_on),
        centralized_until: day(o.centralized_until),
        due: o.release_on.is_some_and(|r| r <= today) && !o.status().is_some_and(Status::is_final),
        rule_set: o.rule_set,
        name: o.name,
    }
}

pub async fn orders(t: Tr, caller: Caller, Query(q): Query<OrdersQuery>) -> Response {
    orders_view(t, &caller, q, None, None).await
}

async fn orders_view(t: Tr, caller: &Caller, q: OrdersQuery, notice: Option<String>, error: Option<String>) -> Response {
    let today = local_date(Utc::now());
    let status = q.status.as_deref().and_then(|s| s.parse::<Status>().ok());
    let due_only = q.due.is_some();
    let filter = OrderFilter { status, release_by: due_only.then_some(today), ..Default::default() };
    match caller.0.observation_orders(&filter).await {
        Ok(orders) => render(&OrdersPage {
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

/// Releases the people ticked on the list of those due (解除医学观察): those with nothing
/// holding them go; the others are named with what holds them.
pub async fn release(t: Tr, caller: Caller, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let chosen = ids(&form, "order");
    let from_home = form_value(&form, "from") == "home";
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
                let errors: Vec<String> = held.chain(done.refused.iter().map(|(_, r)| r.text(t.zh()).to_string())).collect();
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
        home_view(t, &caller, notice, error).await
    } else {
        orders_view(t, &caller, OrdersQuery { due: Some("1".into()), ..Default::default() }, notice, error).await
    }
}

pub struct HomeRow {
    order_id: i64,
    name: String,
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
    people: Vec<HomeRow>,
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
    groups: Vec<HomeGroup>,
}

/// The community's list of people observed at home (居家观察名单), by village: who must stay
/// in, who is tested at the door today (the tube is scanned here), who may be released.
pub async fn home(t: Tr, caller: Caller, Query(q): Query<NoticeQuery>) -> Response {
    home_view(t, &caller, q.notice, q.error).await
}

async fn home_view(t: Tr, caller: &Caller, notice: Option<String>, error: Option<String>) -> Response {
    let scope = &caller.0;
    let today = local_date(Utc::now());
    let list = match scope.home_list(today).await {
        Ok(l) => l,
        Err(e) => return failure(t, caller, e),
    };
    let mut groups: Vec<HomeGroup> = Vec::new();
    let (total, tests_due) = (list.len(), list.iter().filter(|s| s.due && s.taken.is_none()).count());
    for s in list {
        let o = s.order;
        if groups.last().is_none_or(|g| g.area_code != o.area_code) {
            let name = match AreaCode::parse(&o.area_code) {
                Ok(code) => scope.area(&code).await.ok().flatten().map(|a| a.name).unwrap_or_default(),
                Err(_) => String::new(),
            };
            groups.push(HomeGroup { area_code: o.area_code.clone(), area_name: name, people: vec![] });
        }
        let row = HomeRow {
            order_id: o.id,
            category: category_label(t, &o.category),
            status: status_label(t, &o.status),
            release_on: day(o.release_on),
            release_due: o.release_on.is_some_and(|r| r <= today),
            test_due: s.due,
            double: s.double,
            taken: s.taken,
            name: o.name,
        };
        if let Some(g) = groups.last_mut() {
            g.people.push(row);
        }
    }
    render(&HomePage {
        t,
        user: UserBadge::of(caller),
        can_write: scope.principal().can(Permission::QuarantineWrite),
        today: today.format("%F").to_string(),
        notice,
        error,
        total,
        tests_due,
        groups,
    })
}

/// A tube taken at the door of a person observed at home.
pub async fn home_test(t: Tr, caller: Caller, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let order = form_value(&form, "order_id").parse::<i64>().unwrap_or(0);
    let raw = form_value(&form, "barcode");
    let done = match Barcode::parse(raw.trim()) {
        Ok(b) => caller.0.take_home_test(order, &b).await.map(|_| t.fill("quarantine.sampled", &[("barcode", b.as_str())])),
        Err(e) => {
            Err(StoreError::Invalid(t.fill("transport.bad_barcode", &[("barcode", &raw), ("reason", &super::barcode_reason(t, &e))])))
        }
    };
    match done {
        Ok(notice) => Redirect::to(&format!("/observation/home?notice={}", super::transport::utf8_percent(&notice))).into_response(),
        Err(e) if e.is_refusal() => home_view(t, &caller, None, Some(said(t, &e))).await,
        Err(e) => failure(t, &caller, e),
    }
}

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
    site_id: Option<i64>,
    stages: Vec<StageRow>,
    tests: Vec<TestRow>,
    blockers: Vec<String>,
    /// Status moves the caller may make: (status, label).
    moves: Vec<(&'static str, String)>,
    error: Option<String>,
}

pub async fn order(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    order_view(t, &caller, id, None).await
}

fn blocker_text(t: Tr, b: &Blocker) -> String {
    let d = |d: &NaiveDate| d.format("%m-%d").to_string();
    match b {
        Blocker::PeriodRunning { release_on } => t.fill("obs.blocker.period", &[("day", &d(release_on))]),
        Blocker::TestMissing { on } => t.fill("obs.blocker.missing", &[("day", &d(on))]),
        Blocker::ResultPending { on } => t.fill("obs.blocker.pending", &[("day", &d(on))]),
        Blocker::Positive { on } => t.fill("obs.blocker.positive", &[("day", &d(on))]),
        Blocker::CloseContactTests { needs, negative } => {
            t.fill("obs.blocker.close_contact", &[("needs", &needs.to_string()), ("negative", &negative.to_string())])
        }
    }
}

async fn order_view(t: Tr, caller: &Caller, id: i64, error: Option<String>) -> Response {
    let scope = &caller.0;
    let today = local_date(Utc::now());
    let (order, schedule) = match scope.order_schedule(id).await {
        Ok(x) => x,
        Err(e) if e.is_refusal() => return message(t, Some(caller), StatusCode::NOT_FOUND, t.get("error.failed"), &said(t, &e)),
        Err(e) => return failure(t, caller, e),
    };
    // What holds the person: the same reasons a batch release gives.
    let blockers: Vec<String> = match scope.release_blockers(&order).await {
        Ok(b) => b.iter().map(|b| blocker_text(t, b)).collect(),
        Err(e) => return failure(t, caller, e),
    };
    let from = order.status();
    let can_quarantine = scope.principal().can(Permission::QuarantineWrite);
    let can_transfer = scope.principal().can(Permission::TransferWrite);
    let moves: Vec<(&'static str, String)> = Status::ALL
        .iter()
        .filter(|s| **s != Status::Case && from.is_some_and(|f| f.may_become(**s)))
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
                    first: st.first.format("%m-%d").to_string(),
                    last: st.last.format("%m-%d").to_string(),
                    skipped: st.skipped,
                    current: st.first <= today && today <= st.last,
                })
                .collect(),
            s.tests
                .iter()
                .map(|x| TestRow {
                    on: x.on.format("%m-%d").to_string(),
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
    let page = OrderPage {
        t,
        user: UserBadge::of(caller),
        area_code: order.area_code.clone(),
        site_id: order.site_id,
        stages,
        tests,
        blockers,
        moves,
        error,
        order: order_row(t, order, today),
    };
    render(&page)
}

pub async fn move_order(t: Tr, caller: Caller, Path(id): Path<i64>, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let Ok(to) = form_value(&form, "to").parse::<Status>() else {
        return order_view(t, &caller, id, Some(t.get("error.failed").to_string())).await;
    };
    match caller.0.set_order_status(id, to).await {
        Ok(_) => Redirect::to(&format!("/observation/orders/{id}")).into_response(),
        Err(e) if e.is_refusal() => order_view(t, &caller, id, Some(said(t, &e))).await,
        Err(e) => failure(t, &caller, e),
    }
}

// ---------------------------------------------------------------- rule sets

pub struct PlanView {
    category: String,
    category_key: &'static str,
    stages: Vec<(usize, String, u32, String)>,
    double: bool,
}

pub struct RuleView {
    name: String,
    title: String,
    built_in: bool,
    badge: String,
    other: String,
    edit_title: String,
    plans: Vec<PlanView>,
    restart_floors: u32,
}

#[derive(Template)]
#[template(path = "rulesets.html")]
struct RuleSetsPage {
    t: Tr,
    user: Option<UserBadge>,
    can_command: bool,
    notice: Option<String>,
    error: Option<String>,
    incidents: Vec<(i64, String, String)>,
    rules: Vec<RuleView>,
    /// The rule set offered in the copy form.
    editing: Option<RuleView>,
}

#[derive(Deserialize)]
pub struct RuleSetsQuery {
    notice: Option<String>,
    copy: Option<String>,
}

fn rule_view(t: Tr, rule: &RuleSet, built_in: bool, copied_from: Option<String>) -> RuleView {
    RuleView {
        name: rule.name.clone(),
        title: rule.title.clone(),
        built_in,
        badge: t.fill("rules.copy_of", &[("name", &copied_from.unwrap_or_default())]),
        other: t.fill(
            "rules.other",
            &[("needs", &rule.secondary_needs_close_tests.to_string()), ("floors", &rule.site_restart_floors.to_string())],
        ),
        edit_title: t.fill("rules.edit_copy", &[("name", &rule.name)]),
        plans: Category::ALL
            .iter()
            .filter_map(|c| {
                let plan = rule.plan(*c)?;
                Some(PlanView {
                    category: category_label(t, c.as_str()),
                    category_key: c.as_str(),
                    stages: plan
                        .stages
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (i, stage_label(t, s.kind.as_str()), s.days, format_days(&s.test_days)))
                        .collect(),
                    double: plan.double_test_at_release,
                })
            })
            .collect(),
        restart_floors: rule.site_restart_floors,
    }
}

pub async fn rule_sets(t: Tr, caller: Caller, Query(q): Query<RuleSetsQuery>) -> Response {
    rule_sets_view(t, &caller, q.notice, None, q.copy).await
}

async fn rule_sets_view(t: Tr, caller: &Caller, notice: Option<String>, error: Option<String>, copy: Option<String>) -> Response {
    let scope = &caller.0;
    let loaded = async { Ok::<_, StoreError>((scope.rule_sets().await?, scope.incidents().await?)) };
    let (rules, incidents) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    let editing =
        copy.and_then(|name| rules.iter().find(|r| r.rule.name == name)).map(|r| rule_view(t, &r.rule, r.built_in, r.copied_from.clone()));
    let page = RuleSetsPage {
        t,
        user: UserBadge::of(caller),
        can_command: scope.principal().can(Permission::CommandWrite),
        notice,
        error,
        incidents: incidents.into_iter().map(|i| (i.id, i.name, i.rule_set)).collect(),
        rules: rules.iter().map(|r| rule_view(t, &r.rule, r.built_in, r.copied_from.clone())).collect(),
        editing,
    };
    let status = if page.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    (status, render(&page)).into_response()
}

fn summary_text(t: Tr, s: &RecomputeSummary) -> String {
    t.fill(
        "rules.recomputed",
        &[
            ("orders", &s.orders.to_string()),
            ("later", &s.release_later.to_string()),
            ("earlier", &s.release_earlier.to_string()),
            ("unchanged", &s.unchanged.to_string()),
            ("stage", &s.stage_changed.to_string()),
            ("released", &s.no_longer_observed.to_string()),
        ],
    )
}

pub async fn set_incident_rule(t: Tr, caller: Caller, Path(incident): Path<i64>, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let name = form_value(&form, "rule_set");
    match caller.0.set_incident_rule_set(incident, &name).await {
        Ok(summary) => {
            let notice = summary_text(t, &summary);
            Redirect::to(&format!("/rulesets?notice={}", super::transport::utf8_percent(&notice))).into_response()
        }
        Err(e) if e.is_refusal() => rule_sets_view(t, &caller, None, Some(said(t, &e)), None).await,
        Err(e) => failure(t, &caller, e),
    }
}

/// Saves an edited copy: the source's plans with the lengths and test days typed in the form.
pub async fn save_rule(t: Tr, caller: Caller, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let source = form_value(&form, "copied_from");
    let built = async {
        let mut rule = caller.0.rule_set(&source).await?;
        rule.name = form_value(&form, "name").trim().to_string();
        rule.title = form_value(&form, "title").trim().to_string();
        if rule.title.is_empty() {
            rule.title = rule.name.clone();
        }
        for (category, plan) in rule.plans.iter_mut() {
            for (i, stage) in plan.stages.iter_mut().enumerate() {
                let key = format!("{}.{i}", category.as_str());
                if let Ok(days) = form_value(&form, &format!("days.{key}")).trim().parse() {
                    stage.days = days;
                }
                stage.test_days =
                    parse_days(&form_value(&form, &format!("tests.{key}"))).map_err(|e| StoreError::Invalid(e.to_string()))?;
            }
        }
        if let Ok(n) = form_value(&form, "restart_floors").trim().parse() {
            rule.site_restart_floors = n;
        }
        caller.0.save_rule_set(&rule, &source).await.map(|s| (rule.name, s))
    };
    match built.await {
        Ok((name, summary)) => {
            let notice = format!("{} {}", t.fill("rules.saved", &[("name", &name)]), summary_text(t, &summary));
            Redirect::to(&format!("/rulesets?notice={}", super::transport::utf8_percent(&notice))).into_response()
        }
        Err(e) if e.is_refusal() => rule_sets_view(t, &caller, None, Some(said(t, &e)), Some(source)).await,
        Err(e) => failure(t, &caller, e),
    }
}
