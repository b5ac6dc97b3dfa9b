//! Checkpoints (卡口): the list of the jurisdiction's checkpoints with the commander's form to set
//! one up, and the officer's page that checks a person passing — "测温、验码、登记" — and shows
//! the decision at once, in large type, with its reasons.

use askama::Template;
use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cordon_domain::access::Permission;
use cordon_domain::checkpoints::{CheckpointKind, Decision, DecisionCode, Direction, OriginRisk};
use cordon_domain::health_code::Colour;
use cordon_store::checkpoints::{NewCheckpoint, PassageAsk};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Caller;
use crate::format::{local, percent};
use crate::i18n::Tr;
use crate::ui::form::{Form, Path, Query, checked};
use crate::ui::{NoticeQuery, Places, UserBadge, failure, render, said};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/checkpoints", get(list).post(create))
        .route("/checkpoints/{id}", get(page))
        .route("/checkpoints/{id}/pass", post(pass))
        .route("/checkpoints/{id}/shifts", post(add_shift))
        .route("/checkpoints/{id}/shifts/{shift}/remove", post(remove_shift))
        .route("/checkpoints/{id}/passages/{passage}/arrival", post(register_arrival))
}

/// A shift on the roster as the page shows it.
pub struct ShiftRow {
    id: i64,
    /// from – to, local
    when: String,
    lead: String,
    phone: String,
    staff: String,
    on_duty: bool,
    /// Not ended: it may still be taken off the roster.
    open: bool,
}

#[derive(Template)]
#[template(path = "checkpoints.html")]
struct ListPage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    notice: Option<String>,
    /// (id, name, kind label, place)
    rows: Vec<(i64, String, String, String)>,
    kinds: Vec<(&'static str, String)>,
    /// Zones in force to guard: (id, name).
    zones: Vec<(i64, String)>,
}

async fn list(t: Tr, caller: Caller, Query(q): Query<NoticeQuery>) -> Response {
    let loaded = async {
        let cps = caller.0.checkpoints().await?;
        let places = Places::of(&caller, cps.iter().map(|c| c.area_code.as_str())).await?;
        let zones = if caller.0.principal().can(Permission::CommandWrite) { caller.0.zones_in_force().await? } else { Vec::new() };
        Ok::<_, cordon_store::StoreError>((cps, places, zones))
    };
    let (cps, places, zones) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let rows = cps
        .into_iter()
        .map(|c| (c.id, c.name, t.get(&format!("checkpoints.kind.{}", c.kind.as_str())).to_string(), places.name(&c.area_code)))
        .collect();
    render(&ListPage {
        t,
        user: UserBadge::of(&caller),
        can_write: caller.0.principal().can(Permission::CommandWrite),
        notice: q.notice,
        rows,
        kinds: CheckpointKind::ALL.iter().map(|k| (k.as_str(), t.get(&format!("checkpoints.kind.{}", k.as_str())).to_string())).collect(),
        zones: zones.into_iter().map(|(z, _)| (z.id, z.name)).collect(),
    })
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    name: String,
    kind: CheckpointKind,
    area_code: String,
    zone_id: Option<i64>,
    #[serde(default, deserialize_with = "checked")]
    leaves_county: bool,
}

async fn create(t: Tr, caller: Caller, Form(f): Form<CreateForm>) -> Response {
    let done = async {
        let area = crate::ui::zones::place(&caller, &f.area_code).await?;
        let new = NewCheckpoint { name: f.name.clone(), kind: f.kind, area_code: area, zone_id: f.zone_id, leaves_county: f.leaves_county };
        caller.0.create_checkpoint(&new).await
    };
    match done.await {
        Ok(cp) => {
            Redirect::to(&format!("/checkpoints?notice={}", percent(&t.fill("checkpoints.created", &[("name", &cp.name)])))).into_response()
        }
        Err(e) => failure(t, &caller, e),
    }
}

/// The decision just made, as the officer's page shows it.
pub struct Shown {
    /// The passage, when it found an arrival still to register.
    arrival: Option<i64>,
    decision: &'static str,
    label: String,
    reasons: Vec<String>,
    who: String,
    colour: Option<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "checkpoint.html")]
struct OfficerPage {
    t: Tr,
    user: Option<UserBadge>,
    id: i64,
    name: String,
    place: String,
    can_pass: bool,
    error: Option<String>,
    shown: Option<Shown>,
    /// Passed, registered, refused, and kept passages decided by hand otherwise than the rules.
    counts: (i64, i64, i64, i64),
    /// (time, decision label, decision, number)
    recent: Vec<RecentRow>,
    notice: Option<String>,
    /// The risk levels an arrival's origin is rated: (value, label).
    risks: Vec<(&'static str, String)>,
    can_roster: bool,
    shifts: Vec<ShiftRow>,
    /// Today by the hour: (hour, passed, registered, refused).
    hours: Vec<(String, i64, i64, i64)>,
    arrivals: i64,
    /// The texts the page's script says, as JSON.
    texts: String,
    /// The shift form as last sent, when it was refused (kept, and its fold open).
    draft: Option<ShiftForm>,
}

/// A passage in the gate's log, as the page shows it.
struct RecentRow {
    at: String,
    label: String,
    decision: String,
    number: String,
    /// For a passage kept offline: what the officer did by hand, and whether the rules part from it.
    by_hand: Option<(String, bool)>,
}

#[derive(Debug, Deserialize)]
pub struct GateQuery {
    /// The passage just decided.
    passage: Option<i64>,
    /// The passage an arrival was just registered from.
    arrived: Option<i64>,
    notice: Option<String>,
}

async fn page(t: Tr, caller: Caller, Path(id): Path<i64>, Query(q): Query<GateQuery>) -> Response {
    let just = match q.passage {
        Some(p) => match caller.0.logged_passage(id, p).await {
            Ok(found) => found.map(|x| shown(t, x)),
            Err(e) => return failure(t, &caller, e),
        },
        None => None,
    };
    let notice = match q.arrived {
        Some(p) => match caller.0.arrival_of_passage(id, p).await {
            Ok(a) => a.map(|a| arrival_notice(t, &a)),
            Err(e) => return failure(t, &caller, e),
        },
        None => q.notice,
    };
    view(t, &caller, id, just, None, notice, None).await
}

/// What the page says once an arrival is registered: who, and the order they got.
fn arrival_notice(t: Tr, a: &cordon_store::checkpoints::ArrivalNote) -> String {
    match a.status {
        Some(status) => {
            let category = cordon_domain::checkpoints::arrival_category(a.from_risk).map(|c| c.as_str()).unwrap_or_default();
            t.fill(
                "checkpoints.arrival.ordered",
                &[
                    ("name", &a.name),
                    ("category", t.get(&format!("obs.category.{category}"))),
                    ("status", t.get(&format!("obs.status.{}", status.as_str()))),
                ],
            )
        }
        None => t.fill("checkpoints.arrival.done", &[("name", &a.name)]),
    }
}

async fn view(
    t: Tr,
    caller: &Caller,
    id: i64,
    shown: Option<Shown>,
    error: Option<String>,
    notice: Option<String>,
    draft: Option<ShiftForm>,
) -> Response {
    let loaded = async {
        let cp = caller.0.checkpoint(id).await?;
        let day = caller.0.passages_today(id).await?;
        let place = Places::of(caller, [cp.area_code.as_str()]).await?.name(&cp.area_code);
        let shifts = caller.0.shifts(id).await?;
        let hours = caller.0.passages_by_hour(id).await?;
        Ok::<_, cordon_store::StoreError>((cp, day, place, shifts, hours))
    };
    let (cp, day, place, shifts, hours) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    let recent =
        day.recent
            .into_iter()
            .map(|p| {
                let label = t.get(&format!("checkpoints.decision.{}", p.decision)).to_string();
                // Kept on the phone while offline: the officer decided by hand, the rules later.
                let at = match p.received_at {
                    Some(r) => format!("{} {}", local(p.passed_at), t.fill("checkpoints.received_late", &[("at", &local(r))])),
                    None => local(p.passed_at),
                };
                // What the officer did at the booth, and whether the rules part from it.
                let by_hand = p.by_hand.as_deref().map(|h| {
                    (t.fill("checkpoints.by_hand.logged", &[("decision", t.get(&format!("checkpoints.decision.{h}")))]), p.differs)
                });
                RecentRow { at, label, decision: p.decision, number: mask(&p.id_number), by_hand }
            })
            .collect();
    let now = chrono::Utc::now();
    let shifts = shifts
        .into_iter()
        .map(|s| ShiftRow {
            id: s.id,
            when: format!("{} – {}", local(s.starts_at), local(s.ends_at)),
            on_duty: s.starts_at <= now && now < s.ends_at,
            open: now < s.ends_at,
            lead: s.lead,
            phone: s.phone.unwrap_or_default(),
            staff: s.staff,
        })
        .collect();
    let texts = crate::ui::page_texts(
        t,
        &[
            ("offline", "checkpoints.offline"),
            ("sent", "checkpoints.offline_sent"),
            ("login", "checkpoints.offline_login"),
            ("refused", "checkpoints.offline_refused"),
            ("hand", "checkpoints.by_hand.ask"),
            ("handed", "checkpoints.by_hand.kept"),
        ],
    );
    render(&OfficerPage {
        t,
        user: UserBadge::of(caller),
        id,
        name: cp.name,
        place,
        can_pass: caller.0.principal().can(Permission::CheckpointWrite),
        error,
        shown,
        counts: (day.passed, day.registered, day.refused, day.differs),
        recent,
        notice,
        risks: OriginRisk::ALL.iter().map(|r| (r.as_str(), t.get(&format!("checkpoints.risk.{}", r.as_str())).to_string())).collect(),
        can_roster: caller.0.principal().can(Permission::CheckpointWrite) || caller.0.principal().can(Permission::CommandWrite),
        shifts,
        hours: hours.hours.into_iter().map(|(h, p, r, x)| (format!("{h:02}:00"), p, r, x)).collect(),
        arrivals: hours.arrivals,
        texts,
        draft,
    })
}

/// An identity number as a list shows it: a resident id's first 4 and last 4 characters (its
/// county and its check digits), anything shorter its first and last 2 at most.
fn mask(n: &str) -> String {
    let chars: Vec<char> = n.chars().collect();
    let keep = if chars.len() >= 18 { 4 } else { (chars.len() / 4).min(2) };
    let hidden = chars.len() - 2 * keep;
    format!("{}{}{}", chars[..keep].iter().collect::<String>(), "*".repeat(hidden), chars[chars.len() - keep..].iter().collect::<String>())
}

#[derive(Debug, Deserialize)]
pub struct PassForm {
    id_number: String,
    #[serde(default)]
    plate: String,
    direction: Direction,
    #[serde(default, deserialize_with = "checked")]
    medical_exit: bool,
    #[serde(default, deserialize_with = "checked")]
    negative_certificate: bool,
    /// Set by the page's script: a passage kept offline and sent again is logged once.
    #[serde(default)]
    client_id: String,
}

async fn pass(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<PassForm>) -> Response {
    let ask = PassageAsk {
        id_number: f.id_number,
        plate: Some(f.plate).filter(|p| !p.trim().is_empty()),
        direction: f.direction,
        medical_exit: f.medical_exit,
        negative_certificate: f.negative_certificate,
        client_id: Some(f.client_id).filter(|c| !c.trim().is_empty()),
        passed_at: None,
        kept_offline: false,
        by_hand: None,
    };
    match caller.0.record_passage(id, &ask).await {
        // The decision is shown by the gate's page, so that reloading it logs nothing twice.
        Ok(p) => Redirect::to(&format!("/checkpoints/{id}?passage={}", p.id)).into_response(),
        Err(e) if e.is_refusal() && !matches!(e, cordon_store::StoreError::Forbidden(_)) => {
            view(t, &caller, id, None, Some(said(t, &e)), None, None).await
        }
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ShiftForm {
    starts_at: String,
    ends_at: String,
    #[serde(default)]
    lead: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    staff: String,
}

/// A time typed into a `datetime-local` field (local time), or why not.
fn typed_time(t: Tr, value: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    cordon_domain::parse_local_time(value.trim()).ok_or_else(|| t.fill("checkpoints.shift.bad_time", &[("value", value)]))
}

async fn add_shift(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<ShiftForm>) -> Response {
    let times = typed_time(t, &f.starts_at).and_then(|s| typed_time(t, &f.ends_at).map(|e| (s, e)));
    let (starts_at, ends_at) = match times {
        Ok(x) => x,
        Err(why) => return view(t, &caller, id, None, Some(why), None, Some(f)).await,
    };
    let new = cordon_store::checkpoints::NewShift {
        starts_at,
        ends_at,
        lead: f.lead.clone(),
        phone: Some(f.phone.clone()).filter(|p| !p.trim().is_empty()),
        staff: f.staff.clone(),
    };
    match caller.0.add_shift(id, &new).await {
        Ok(s) => {
            let notice = t.fill("checkpoints.shift.added", &[("lead", &s.lead)]);
            Redirect::to(&format!("/checkpoints/{id}?notice={}", percent(&notice))).into_response()
        }
        Err(e) if e.is_refusal() && !matches!(e, cordon_store::StoreError::Forbidden(_)) => {
            view(t, &caller, id, None, Some(said(t, &e)), None, Some(f)).await
        }
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RemoveShiftForm {
    #[serde(default, deserialize_with = "crate::ui::form::checked")]
    confirm: bool,
}

/// Takes a shift off the roster, once the tick confirms it.
async fn remove_shift(t: Tr, caller: Caller, Path((id, shift)): Path<(i64, i64)>, Form(f): Form<RemoveShiftForm>) -> Response {
    if !f.confirm {
        return view(t, &caller, id, None, Some(t.get("checkpoints.shift.unconfirmed").to_string()), None, None).await;
    }
    match caller.0.remove_shift(id, shift).await {
        Ok(s) => {
            let key = if s.starts_at <= chrono::Utc::now() { "checkpoints.shift.ended_early" } else { "checkpoints.shift.removed" };
            let notice = t.fill(key, &[("lead", &s.lead)]);
            Redirect::to(&format!("/checkpoints/{id}?notice={}", percent(&notice))).into_response()
        }
        Err(e) if e.is_refusal() && !matches!(e, cordon_store::StoreError::Forbidden(_)) => {
            view(t, &caller, id, None, Some(said(t, &e)), None, None).await
        }
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ArrivalForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    from_place: String,
    from_risk: OriginRisk,
    #[serde(default)]
    area: String,
    #[serde(default)]
    address: String,
}

async fn register_arrival(t: Tr, caller: Caller, Path((id, passage)): Path<(i64, i64)>, Form(f): Form<ArrivalForm>) -> Response {
    let done = async {
        let area = crate::ui::zones::place(&caller, &f.area).await?;
        let new = cordon_store::checkpoints::NewArrival {
            name: f.name.clone(),
            phone: Some(f.phone.clone()).filter(|p| !p.trim().is_empty()),
            from_place: f.from_place.clone(),
            from_risk: f.from_risk,
            area_code: area,
            address: Some(f.address.clone()).filter(|a| !a.trim().is_empty()),
        };
        caller.0.register_arrival(id, passage, &new).await
    };
    match done.await {
        // The page tells who was registered from the record: no name travels in the address.
        Ok(_) => Redirect::to(&format!("/checkpoints/{id}?arrived={passage}")).into_response(),
        Err(e) if e.is_refusal() && !matches!(e, cordon_store::StoreError::Forbidden(_)) => {
            // The form is shown again over the same passage, with why.
            let just = caller.0.logged_passage(id, passage).await.ok().flatten().map(|x| shown(t, x));
            view(t, &caller, id, just, Some(said(t, &e)), None, None).await
        }
        Err(e) => failure(t, &caller, e),
    }
}

/// A logged passage as the gate's page shows it.
fn shown(t: Tr, p: cordon_store::checkpoints::LoggedPassage) -> Shown {
    let decision = Decision::ALL.iter().copied().find(|d| d.as_str() == p.decision).unwrap_or(Decision::Refuse);
    let colour = p.colour.as_deref().and_then(|c| Colour::ALL.iter().copied().find(|x| x.as_str() == c));
    let arrival = (p.person_id.is_none() && !p.arrival && p.direction == Direction::In.as_str()).then_some(p.id);
    Shown {
        arrival,
        decision: decision.as_str(),
        label: t.get(&format!("checkpoints.decision.{}", decision.as_str())).to_string(),
        reasons: p
            .reasons
            .split(',')
            .filter_map(|c| DecisionCode::ALL.iter().copied().find(|x| x.as_str() == c))
            .map(|c| t.get(&format!("checkpoints.why.{}", c.as_str())).to_string())
            .collect(),
        who: p.name.unwrap_or_else(|| t.get("checkpoints.not_in_register").to_string()),
        colour: colour.map(|c| (c.as_str(), t.get(&format!("code.colour.{}", c.as_str())).to_string())),
    }
}
