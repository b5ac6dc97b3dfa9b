//! The hotline (热线 / 12345) on pages: the board — the centre's or a unit's, the overdue first —
//! with the form the operator takes a call on and today's counts; a ticket with its history,
//! the acts its reader may do on it now (dispatch, sign, send back, handle, call back, close,
//! reopen, 加派 and the added unit's part, 督办) and, for a supplies ticket, the supply request
//! it raised; the clocks by category and urgency.

use askama::Template;
use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cordon_domain::access::Permission;
use cordon_domain::hotline::{Channel, Satisfaction, TicketAct, TicketCategory, TicketStatus, Urgency};
use cordon_domain::supplies::Priority;
use cordon_store::hotline::{Act, Board, LimitRow, NewTicket, Ticket};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Caller;
use crate::format::{local, percent};
use crate::i18n::Tr;
use crate::ui::form::{Form, Path, Query, checked, local_input};
use crate::ui::{Places, UserBadge, failure, form_refused, options, render, said};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hotline", get(board).post(take_call))
        .route("/hotline/limits", get(limits).post(set_limits))
        .route("/hotline/tickets/{id}", get(ticket))
        .route("/hotline/tickets/{id}/act", post(act))
        .route("/hotline/tickets/{id}/part", post(part))
        .route("/hotline/tickets/{id}/supply-request", post(raise_request))
        .route("/hotline/tickets/{id}/transfer", post(raise_transfer))
}

/// A ticket as a board lists it.
pub struct TicketRow {
    id: i64,
    category: String,
    urgent: bool,
    caller: String,
    phone: String,
    address: String,
    unit: String,
    status: String,
    status_code: &'static str,
    due: String,
    overdue: bool,
    calls: i64,
    /// "来电 2 次"
    calls_label: String,
    supervised: bool,
}

fn row(t: Tr, places: &Places, x: Ticket, now: chrono::DateTime<chrono::Utc>) -> TicketRow {
    TicketRow {
        overdue: x.overdue(now),
        id: x.id,
        category: t.get(&format!("ticket.category.{}", x.category.as_str())).to_string(),
        urgent: x.urgency == Urgency::Urgent,
        unit: x.unit_area.as_deref().map(|u| places.name(u)).unwrap_or_else(|| t.get("hotline.no_unit").to_string()),
        status: t.get(&format!("ticket.status.{}", x.status.as_str())).to_string(),
        status_code: x.status.as_str(),
        due: x.due_at.map(local).unwrap_or_default(),
        supervised: x.supervised_at.is_some(),
        calls_label: t.fill("hotline.calls", &[("n", &x.calls.to_string())]),
        calls: x.calls,
        caller: x.caller,
        phone: x.phone,
        address: x.address,
    }
}

#[derive(Template)]
#[template(path = "hotline.html")]
struct BoardPage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    /// The centre's board (every ticket of the areas), or a unit's.
    centre: bool,
    can_take: bool,
    all: bool,
    earlier: Option<i64>,
    rows: Vec<TicketRow>,
    overdue: usize,
    /// Today's tickets by status: (label, count).
    today: Vec<(String, i64)>,
    today_total: i64,
    channels: Vec<(&'static str, String)>,
    categories: Vec<(&'static str, String)>,
    urgencies: Vec<(&'static str, String)>,
    /// The call form's own id: pressing its button twice takes one ticket.
    form_id: String,
}

#[derive(Debug, Deserialize)]
pub struct BoardQuery {
    notice: Option<String>,
    #[serde(default)]
    all: String,
    before: Option<i64>,
}

/// Tickets a page on the list of every ticket.
const ALL_PAGE: i64 = 100;

async fn board(t: Tr, caller: Caller, Query(q): Query<BoardQuery>) -> Response {
    let all = !q.all.is_empty();
    let loaded = async {
        let (kind, list) =
            if all { (Board::Centre, caller.0.tickets_recent(q.before, ALL_PAGE).await?) } else { caller.0.ticket_board(500).await? };
        let counts = caller.0.ticket_counts(crate::format::today()).await?;
        let codes: Vec<&str> = list.iter().filter_map(|x| x.unit_area.as_deref()).collect();
        let places = Places::of(&caller, codes).await?;
        Ok::<_, cordon_store::StoreError>((kind, list, counts, places))
    };
    let (kind, list, counts, places) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let now = chrono::Utc::now();
    let rows: Vec<TicketRow> = list.into_iter().map(|x| row(t, &places, x, now)).collect();
    let earlier = (all && rows.len() as i64 == ALL_PAGE).then(|| rows.last().map(|r| r.id)).flatten();
    let today = TicketStatus::ALL
        .iter()
        .map(|s| (t.get(&format!("ticket.status.{}", s.as_str())).to_string(), counts.iter().filter(|c| c.status == *s).map(|c| c.n).sum()))
        .collect::<Vec<(String, i64)>>();
    render(&BoardPage {
        t,
        user: UserBadge::of(&caller),
        notice: q.notice,
        centre: kind == Board::Centre,
        can_take: caller.0.principal().can(Permission::HotlineWrite),
        all,
        earlier,
        overdue: rows.iter().filter(|r| r.overdue).count(),
        rows,
        today_total: today.iter().map(|(_, n)| n).sum(),
        today,
        channels: options(Channel::ALL, Channel::as_str, |k| t.get(&format!("ticket.channel.{k}")).to_string()),
        categories: options(TicketCategory::ALL, TicketCategory::as_str, |k| t.get(&format!("ticket.category.{k}")).to_string()),
        urgencies: options(Urgency::ALL, Urgency::as_str, |k| t.get(&format!("ticket.urgency.{k}")).to_string()),
        form_id: format!("{}:{}", caller.0.principal().user.username, now.timestamp_nanos_opt().unwrap_or_default()),
    })
}

#[derive(Debug, Deserialize)]
pub struct CallForm {
    channel: Channel,
    category: TicketCategory,
    urgency: Urgency,
    #[serde(default)]
    caller: String,
    phone: String,
    /// The village (or township): its name or code.
    area: String,
    address: String,
    content: String,
    /// The form's own id, so a second press of the button takes no second ticket.
    #[serde(default)]
    client_id: String,
}

async fn take_call(t: Tr, caller: Caller, Form(f): Form<CallForm>) -> Response {
    let done = async {
        let area = crate::ui::zones::place(&caller, &f.area).await?;
        let new = NewTicket {
            channel: f.channel,
            category: f.category,
            urgency: f.urgency,
            caller: f.caller.clone(),
            phone: f.phone.clone(),
            address: f.address.clone(),
            area_code: area,
            content: f.content.clone(),
            client_id: Some(f.client_id.clone()).filter(|c| !c.trim().is_empty()),
        };
        let taken = caller.0.take_call(&new).await?;
        let places = Places::of(&caller, taken.ticket.unit_area.as_deref()).await?;
        Ok::<_, cordon_store::StoreError>((taken, places))
    };
    match done.await {
        Ok((taken, places)) => {
            let x = &taken.ticket;
            let notice = if taken.joined {
                t.fill("hotline.joined", &[("id", &x.id.to_string()), ("calls", &x.calls.to_string())])
            } else if let Some(unit) = &x.unit_area {
                t.fill("hotline.taken", &[("id", &x.id.to_string()), ("unit", &places.name(unit))])
            } else {
                t.fill("hotline.taken_centre", &[("id", &x.id.to_string())])
            };
            Redirect::to(&format!("/hotline/tickets/{}?notice={}", x.id, percent(&notice))).into_response()
        }
        Err(e) if e.refusal().is_some() => form_refused(t, Some(&caller), &said(t, &e)),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct TransferForm {
    hospital_id: i64,
}

async fn raise_transfer(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<TransferForm>) -> Response {
    match caller.0.raise_ticket_transfer(id, f.hospital_id).await {
        Ok(transfer) => Redirect::to(&format!(
            "/hotline/tickets/{id}?notice={}",
            percent(&t.fill("hotline.transfer_raised", &[("id", &transfer.to_string())]))
        ))
        .into_response(),
        Err(e) if e.refusal().is_some() => form_refused(t, Some(&caller), &said(t, &e)),
        Err(e) => failure(t, &caller, e),
    }
}

/// A line of a ticket's history.
pub struct EventRow {
    at: String,
    act: String,
    unit: String,
    note: String,
    actor: String,
}

/// A unit added to a ticket, with its part and whether the reader answers for it.
pub struct UnitRow {
    code: String,
    name: String,
    note: String,
    state: String,
    result: String,
    /// The reader's unit: (sign, report handled) offered.
    may_sign: bool,
    may_handle: bool,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    id: i64,
    category: String,
    category_code: &'static str,
    urgent: bool,
    urgency: String,
    channel: String,
    caller: String,
    phone: String,
    address: String,
    area: String,
    unit: String,
    content: String,
    status: String,
    status_code: &'static str,
    due: String,
    overdue: bool,
    calls: i64,
    calls_label: String,
    result: String,
    satisfaction: String,
    callback_note: String,
    supervise_note: String,
    return_reason: String,
    reopened: i64,
    events: Vec<EventRow>,
    units: Vec<UnitRow>,
    /// The acts offered now, by their code.
    acts: Vec<&'static str>,
    satisfactions: Vec<(&'static str, String)>,
    /// A supplies ticket: the request it raised (id, status), or the form to raise one.
    request: Option<(i64, String)>,
    can_raise: bool,
    items: Vec<(i64, String)>,
    priorities: Vec<(&'static str, String)>,
    default_needed_by: String,
    /// A medical need: the transfer it raised (id, status when the reader may read it), or the
    /// hospitals to send a car to.
    transfer: Option<(i64, String)>,
    can_send_car: bool,
    hospitals: Vec<(i64, String)>,
}

/// The acts the reader may do on a ticket now: the unit's (community.write, the unit in their
/// jurisdiction) and the centre's (hotline.write), each allowed from the ticket's status.
fn acts_for(caller: &Caller, x: &Ticket) -> Vec<&'static str> {
    let p = caller.0.principal();
    let unit_is_mine =
        x.unit_area.as_deref().and_then(|u| cordon_domain::AreaCode::parse(u).ok()).is_some_and(|u| p.user.jurisdiction.contains(&u));
    let area_is_mine = cordon_domain::AreaCode::parse(&x.area_code).is_ok_and(|a| p.user.jurisdiction.contains(&a));
    let mut out = Vec::new();
    for act in TicketAct::ALL {
        let whose_ok = match act {
            TicketAct::Sign | TicketAct::SendBack | TicketAct::Handle => p.can(Permission::CommunityWrite) && unit_is_mine,
            TicketAct::Accept | TicketAct::Repeat | TicketAct::RaiseRequest | TicketAct::RaiseTransfer => false,
            _ => p.can(Permission::HotlineWrite) && area_is_mine,
        };
        if whose_ok && cordon_domain::hotline::next(x.status, *act).is_ok() {
            out.push(act.as_str());
        }
    }
    out
}

async fn ticket(t: Tr, caller: Caller, Path(id): Path<i64>, Query(q): Query<crate::ui::NoticeQuery>) -> Response {
    let loaded = async {
        let d = caller.0.ticket(id).await?;
        let mut codes: Vec<String> = vec![d.ticket.area_code.clone()];
        codes.extend(d.ticket.unit_area.clone());
        codes.extend(d.units.iter().map(|u| u.unit_area.clone()));
        codes.extend(d.events.iter().filter_map(|e| e.unit_area.clone()));
        let places = Places::of(&caller, codes.iter().map(String::as_str)).await?;
        // The request it raised, when the reader may read it (a unit of another township may not).
        let request = match d.ticket.supply_request_id {
            Some(r) => caller.0.supply_request(r).await.ok().map(|d| d.request),
            None => None,
        };
        let items = if d.ticket.category == TicketCategory::Supplies { caller.0.supply_items().await? } else { Vec::new() };
        let care = cordon_domain::hotline::needs_care(d.ticket.category);
        let hospitals = if care && d.ticket.transfer_id.is_none() { caller.0.care_hospitals().await? } else { Vec::new() };
        // The transfer's status, when the reader may read the dispatch board.
        let transfer = match d.ticket.transfer_id {
            Some(id) => Some((id, caller.0.transfer(id).await.ok().map(|(x, _)| x.status))),
            None => None,
        };
        Ok::<_, cordon_store::StoreError>((d, places, request, items, hospitals, transfer))
    };
    let (d, places, request, items, hospitals, transfer) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let p = caller.0.principal();
    let x = d.ticket;
    let now = chrono::Utc::now();
    let acts = acts_for(&caller, &x);
    let mine = |code: &str| cordon_domain::AreaCode::parse(code).is_ok_and(|c| p.user.jurisdiction.contains(&c));
    let units = d
        .units
        .into_iter()
        .map(|u| {
            let state = match (u.signed_at, u.handled_at) {
                (_, Some(at)) => t.fill("hotline.part_handled", &[("when", &local(at))]),
                (Some(at), None) => t.fill("hotline.part_signed", &[("when", &local(at))]),
                (None, None) => t.get("hotline.part_waiting").to_string(),
            };
            let answers = p.can(Permission::CommunityWrite) && mine(&u.unit_area) && x.status.open();
            UnitRow {
                name: places.name(&u.unit_area),
                may_sign: answers && u.signed_at.is_none(),
                may_handle: answers && u.signed_at.is_some() && u.handled_at.is_none(),
                code: u.unit_area,
                note: u.note,
                state,
                result: u.result,
            }
        })
        .collect();
    let events = d
        .events
        .into_iter()
        .map(|e| EventRow {
            at: local(e.at),
            act: t.get(&format!("ticket.act.{}", e.act.as_str())).to_string(),
            unit: e.unit_area.as_deref().map(|u| places.name(u)).unwrap_or_default(),
            note: e.note,
            actor: e.actor,
        })
        .collect();
    let works_it = [Permission::HotlineWrite, Permission::CommunityWrite].iter().any(|q| p.can(*q));
    let can_send_car = cordon_domain::hotline::needs_care(x.category) && x.transfer_id.is_none() && x.status.open() && works_it;
    let can_raise = x.category == TicketCategory::Supplies
        && x.supply_request_id.is_none()
        && x.status.open()
        && [Permission::HotlineWrite, Permission::CommunityWrite].iter().any(|q| p.can(*q));
    render(&TicketPage {
        t,
        user: UserBadge::of(&caller),
        notice: q.notice,
        id: x.id,
        category: t.get(&format!("ticket.category.{}", x.category.as_str())).to_string(),
        category_code: x.category.as_str(),
        urgent: x.urgency == Urgency::Urgent,
        urgency: t.get(&format!("ticket.urgency.{}", x.urgency.as_str())).to_string(),
        channel: t.get(&format!("ticket.channel.{}", x.channel.as_str())).to_string(),
        area: places.name(&x.area_code),
        unit: x.unit_area.as_deref().map(|u| places.name(u)).unwrap_or_else(|| t.get("hotline.no_unit").to_string()),
        status: t.get(&format!("ticket.status.{}", x.status.as_str())).to_string(),
        status_code: x.status.as_str(),
        due: x.due_at.map(local).unwrap_or_default(),
        overdue: x.overdue(now),
        satisfaction: x.satisfaction().map(|s| t.get(&format!("ticket.satisfaction.{}", s.as_str())).to_string()).unwrap_or_default(),
        request: request.map(|r| (r.id, t.get(&format!("supply.status.{}", r.status.as_str())).to_string())),
        transfer: transfer
            .map(|(id, status)| (id, status.map(|s| t.get(&format!("dispatch.status.{}", s.as_str())).to_string()).unwrap_or_default())),
        can_send_car,
        hospitals: hospitals.into_iter().map(|h| (h.id, h.name)).collect(),
        can_raise,
        items: items.into_iter().map(|i| (i.id, format!("{}（{}）", i.name, i.unit))).collect(),
        priorities: options(Priority::ALL, Priority::as_str, |k| t.get(&format!("supply.priority.{k}")).to_string()),
        default_needed_by: (now + chrono::Duration::hours(4))
            .with_timezone(&cordon_domain::local_offset())
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
        satisfactions: options(Satisfaction::ALL, Satisfaction::as_str, |k| t.get(&format!("ticket.satisfaction.{k}")).to_string()),
        acts,
        units,
        events,
        calls_label: t.fill("hotline.calls", &[("n", &x.calls.to_string())]),
        calls: x.calls,
        caller: x.caller,
        phone: x.phone,
        address: x.address,
        content: x.content,
        result: x.result,
        callback_note: x.callback_note,
        supervise_note: x.supervise_note,
        return_reason: x.return_reason,
        reopened: x.reopened,
    })
}

#[derive(Debug, Deserialize)]
pub struct ActForm {
    act: TicketAct,
    /// Dispatch and 加派: the unit, by its name or code.
    #[serde(default)]
    unit: String,
    /// A reason, a result or a note, as the act needs.
    #[serde(default)]
    text: String,
    /// Callback: what the caller said.
    #[serde(default)]
    satisfaction: String,
    /// Closing and reopening ask for the tick.
    #[serde(default, deserialize_with = "checked")]
    confirm: bool,
}

async fn act(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<ActForm>) -> Response {
    if matches!(f.act, TicketAct::Close | TicketAct::Reopen) && !f.confirm {
        return form_refused(t, Some(&caller), t.get("hotline.unconfirmed"));
    }
    let done = async {
        let act = match f.act {
            TicketAct::Dispatch => Act::Dispatch { unit: crate::ui::zones::place(&caller, &f.unit).await? },
            TicketAct::AddUnit => Act::AddUnit { unit: crate::ui::zones::place(&caller, &f.unit).await?, note: f.text.clone() },
            TicketAct::Sign => Act::Sign,
            TicketAct::SendBack => Act::SendBack { reason: f.text.clone() },
            TicketAct::Handle => Act::Handle { result: f.text.clone() },
            TicketAct::CallBack => {
                let Some(satisfaction) = Satisfaction::from_text(&f.satisfaction) else {
                    return Err(cordon_domain::refusal!("refused.supply.unknown_value", value = f.satisfaction.clone()).into());
                };
                Act::CallBack { satisfaction, note: f.text.clone() }
            }
            TicketAct::Close => Act::Close,
            TicketAct::Reopen => Act::Reopen { reason: f.text.clone() },
            TicketAct::Supervise => Act::Supervise { note: f.text.clone() },
            TicketAct::Accept | TicketAct::Repeat | TicketAct::RaiseRequest | TicketAct::RaiseTransfer => {
                return Err(cordon_domain::refusal!("refused.supply.unknown_value", value = f.act.as_str()).into());
            }
        };
        caller.0.act_on_ticket(id, &act).await
    };
    match done.await {
        Ok(x) => {
            let notice = t.fill(
                "hotline.done",
                &[
                    ("act", t.get(&format!("ticket.act.{}", f.act.as_str()))),
                    ("status", t.get(&format!("ticket.status.{}", x.status.as_str()))),
                ],
            );
            Redirect::to(&format!("/hotline/tickets/{id}?notice={}", percent(&notice))).into_response()
        }
        Err(e) if e.refusal().is_some() => form_refused(t, Some(&caller), &said(t, &e)),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct PartForm {
    unit: String,
    /// Empty to sign for the part; what was done to report it handled.
    #[serde(default)]
    result: String,
    #[serde(default, deserialize_with = "checked")]
    handled: bool,
}

async fn part(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<PartForm>) -> Response {
    let Ok(unit) = cordon_domain::AreaCode::parse(f.unit.trim()) else {
        return form_refused(t, Some(&caller), &t.refusal(&cordon_domain::refusal!("refused.area_code_invalid", code = f.unit.clone())));
    };
    let handled = f.handled.then_some(f.result.as_str());
    match caller.0.act_as_added_unit(id, &unit, handled).await {
        Ok(()) => {
            let key = if f.handled { "hotline.part_reported" } else { "hotline.part_taken" };
            Redirect::to(&format!("/hotline/tickets/{id}?notice={}", percent(t.get(key)))).into_response()
        }
        Err(e) if e.refusal().is_some() => form_refused(t, Some(&caller), &said(t, &e)),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RaiseForm {
    priority: Priority,
    needed_by: String,
    item_1: Option<i64>,
    quantity_1: Option<i64>,
    item_2: Option<i64>,
    quantity_2: Option<i64>,
    item_3: Option<i64>,
    quantity_3: Option<i64>,
}

async fn raise_request(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<RaiseForm>) -> Response {
    let Some(needed_by) = local_input(&f.needed_by) else {
        return form_refused(t, Some(&caller), t.get("supplies.bad_needed_by"));
    };
    let pairs = [(f.item_1, f.quantity_1), (f.item_2, f.quantity_2), (f.item_3, f.quantity_3)];
    if pairs.iter().any(|(i, q)| i.is_some() != q.is_some()) {
        return form_refused(t, Some(&caller), t.get("supplies.half_line"));
    }
    let lines: Vec<(i64, i64)> = pairs.into_iter().filter_map(|(i, q)| Some((i?, q?))).collect();
    match caller.0.raise_supply_request(id, lines, needed_by, f.priority).await {
        Ok(r) => Redirect::to(&format!(
            "/hotline/tickets/{id}?notice={}",
            percent(&t.fill("hotline.request_raised", &[("id", &r.id.to_string())]))
        ))
        .into_response(),
        Err(e) if e.refusal().is_some() => form_refused(t, Some(&caller), &said(t, &e)),
        Err(e) => failure(t, &caller, e),
    }
}

/// A category and urgency's clocks, as the limits page shows them.
pub struct LimitLine {
    category: &'static str,
    category_label: String,
    urgency: &'static str,
    urgency_label: String,
    sign: i64,
    handle: i64,
    callback: i64,
    configured: bool,
}

#[derive(Template)]
#[template(path = "hotline_limits.html")]
struct LimitsPage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    can_set: bool,
    lines: Vec<LimitLine>,
}

async fn limits(t: Tr, caller: Caller, Query(q): Query<crate::ui::NoticeQuery>) -> Response {
    let rows = match caller.0.hotline_limits().await {
        Ok(r) => r,
        Err(e) => return failure(t, &caller, e),
    };
    render(&LimitsPage {
        t,
        user: UserBadge::of(&caller),
        notice: q.notice,
        can_set: caller.0.may_set_limits(),
        lines: rows
            .into_iter()
            .map(|r| LimitLine {
                category: r.category.as_str(),
                category_label: t.get(&format!("ticket.category.{}", r.category.as_str())).to_string(),
                urgency: r.urgency.as_str(),
                urgency_label: t.get(&format!("ticket.urgency.{}", r.urgency.as_str())).to_string(),
                sign: r.sign_minutes,
                handle: r.handle_minutes,
                callback: r.callback_minutes,
                configured: r.configured,
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
pub struct LimitForm {
    category: TicketCategory,
    urgency: Urgency,
    sign_minutes: i64,
    handle_minutes: i64,
    callback_minutes: i64,
}

async fn set_limits(t: Tr, caller: Caller, Form(f): Form<LimitForm>) -> Response {
    let row = LimitRow {
        category: f.category,
        urgency: f.urgency,
        sign_minutes: f.sign_minutes,
        handle_minutes: f.handle_minutes,
        callback_minutes: f.callback_minutes,
        configured: true,
    };
    match caller.0.set_hotline_limits(&row).await {
        Ok(()) => Redirect::to(&format!("/hotline/limits?notice={}", percent(t.get("hotline.limits_set")))).into_response(),
        Err(e) if e.refusal().is_some() => form_refused(t, Some(&caller), &said(t, &e)),
        Err(e) => failure(t, &caller, e),
    }
}
