//! One zone: its kind under the incident's scheme, every condition of its next step with the day
//! it falls due, the people living inside (the vulnerable counted and listed for the door), its
//! places, cases and history; the commander extends, tightens, downgrades or lifts it, the last
//! two only with a tick that confirms.

use crate::ui::form::{Path, Query};
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::access::Permission;
use cordon_domain::zones::{Ask, ZoneKind};
use cordon_store::zones::ZoneDetail;
use cordon_store::{PersonCursor, StoreError};
use serde::Deserialize;

use super::{kind_label, typed_extent};
use crate::auth::Caller;
use crate::format::{local, month_day, percent, thousands, today};
use crate::i18n::Tr;
use crate::ui::form::{Form, checked};
use crate::ui::{Places, UserBadge, failure, render, said};

pub struct ConditionRow {
    met: bool,
    text: String,
    due: String,
}

pub struct PersonRow {
    id: i64,
    name: String,
    age: u32,
    address: String,
    tags: String,
}

#[derive(Template)]
#[template(path = "zone.html")]
struct ZonePage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    can_people: bool,
    notice: Option<String>,
    error: Option<String>,
    id: i64,
    /// The zone's last change (RFC 3339), sent back with each act.
    seen: String,
    name: String,
    kind: &'static str,
    label: String,
    place: String,
    reason: String,
    since: String,
    designated: String,
    lifted: Option<String>,
    /// The next step's kind, or `None` for a lift (precaution).
    to_label: Option<String>,
    conditions: Vec<ConditionRow>,
    ready: bool,
    earliest: String,
    /// A stricter kind a new infection inside proposes.
    proposed: Option<String>,
    /// Stricter kinds it can be tightened to: (value, label).
    stricter: Vec<(&'static str, String)>,
    /// The people inside: (label, count) — total first.
    residents: Vec<(String, String)>,
    areas: Vec<String>,
    buildings: Vec<String>,
    households: Vec<(String, String)>,
    cases: Vec<(i64, String)>,
    /// (when, act, kind, by, note)
    history: Vec<(String, String, String, String, String)>,
    people: Vec<PersonRow>,
    vulnerable: bool,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ZoneQuery {
    notice: Option<String>,
    error: Option<String>,
    /// Only the people needing services at the door.
    vulnerable: Option<String>,
    after: Option<String>,
}

pub async fn page(t: Tr, caller: Caller, Path(id): Path<i64>, Query(q): Query<ZoneQuery>) -> Response {
    let vulnerable = q.vulnerable.is_some_and(|v| !v.is_empty());
    let after = q.after.as_deref().and_then(PersonCursor::decode);
    view(t, &caller, id, q.notice, q.error, vulnerable, after).await
}

async fn view(
    t: Tr,
    caller: &Caller,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
    vulnerable: bool,
    after: Option<PersonCursor>,
) -> Response {
    let d: ZoneDetail = match caller.0.zone(id).await {
        Ok(d) => d,
        Err(e) => return failure(t, caller, e),
    };
    let can_people = caller.0.principal().can(Permission::PersonsRead);
    let page = if can_people {
        match caller.0.zone_people(id, vulnerable, after.as_ref(), 50).await {
            Ok(p) => Some(p),
            Err(e) => return failure(t, caller, e),
        }
    } else {
        None
    };
    let codes: Vec<&str> = d.places.areas.iter().map(|p| p.area_code.as_str()).chain([d.zone.area_code.as_str()]).collect();
    let places = match Places::of(caller, codes).await {
        Ok(p) => p,
        Err(e) => return failure(t, caller, e),
    };
    let scheme = d.scheme;
    let r = d.residents;
    let residents = vec![
        (t.get("zones.residents").to_string(), thousands(r.total)),
        (t.get("tag.elderly").to_string(), thousands(r.elderly)),
        (t.get("tag.bedridden").to_string(), thousands(r.bedridden)),
        (t.get("tag.disabled").to_string(), thousands(r.disabled)),
        (t.get("tag.pregnant").to_string(), thousands(r.pregnant)),
        (t.get("tag.infant").to_string(), thousands(r.infant)),
    ];
    let (conditions, ready, earliest, to_label) = match &d.countdown {
        Some(c) => (
            c.conditions
                .iter()
                .map(|x| ConditionRow {
                    met: x.met,
                    text: if t.zh() { x.zh.clone() } else { x.en.clone() },
                    due: x.due.map(month_day).unwrap_or_default(),
                })
                .collect(),
            c.ready,
            c.earliest.map(month_day).unwrap_or_default(),
            c.to.map(|k| kind_label(t, scheme, k)),
        ),
        None => (Vec::new(), false, String::new(), None),
    };
    let today = today();
    let next = page
        .as_ref()
        .and_then(|p| p.next.as_ref())
        .map(|c| format!("/zones/{id}?after={}{}", percent(&c.encode()), if vulnerable { "&vulnerable=1" } else { "" }));
    let people = page
        .map(|p| {
            p.items
                .iter()
                .map(|x| PersonRow {
                    id: x.id,
                    name: x.name.clone(),
                    age: cordon_domain::person::age_on(x.birth_date, today),
                    address: x.address.clone().unwrap_or_default(),
                    tags: x
                        .tags
                        .all(x.birth_date, today)
                        .iter()
                        .map(|v| t.get(&format!("tag.{}", v.as_str())))
                        .collect::<Vec<_>>()
                        .join("、"),
                })
                .collect()
        })
        .unwrap_or_default();
    let z = d.zone;
    let stricter = cordon_domain::zones::stricter(z.kind).map(|k| (k.as_str(), kind_label(t, scheme, k))).collect();
    let page = ZonePage {
        t,
        user: UserBadge::of(caller),
        can_write: caller.0.principal().can(Permission::CommandWrite),
        can_people,
        notice,
        error,
        id: z.id,
        seen: z.changed_at.to_rfc3339(),
        label: kind_label(t, scheme, z.kind),
        kind: z.kind.as_str(),
        place: places.name(&z.area_code),
        reason: z.reason,
        since: month_day(z.since),
        designated: format!("{} {}", local(z.designated_at), z.designated_by),
        lifted: z.lifted_at.map(|at| format!("{} {}", local(at), z.lifted_by.unwrap_or_default())),
        to_label,
        conditions,
        ready,
        earliest,
        proposed: d.proposed.map(|k| kind_label(t, scheme, k)),
        stricter,
        residents,
        areas: d.places.areas.iter().map(|p| places.name(&p.area_code)).collect(),
        buildings: d.places.buildings.into_iter().map(|p| p.name).collect(),
        households: d.places.households.into_iter().map(|p| (p.key, p.name)).collect(),
        cases: d.cases,
        history: d
            .history
            .into_iter()
            .map(|h| {
                (
                    local(h.changed_at),
                    t.get(&format!("zones.act.{}", h.act.as_str())).to_string(),
                    kind_label(t, scheme, h.kind),
                    h.changed_by,
                    h.note.unwrap_or_default(),
                )
            })
            .collect(),
        people,
        vulnerable,
        next,
        name: z.name,
    };
    render(&page)
}

#[derive(Debug, Deserialize)]
pub struct ExtendForm {
    #[serde(default)]
    areas: String,
    #[serde(default)]
    households: String,
    #[serde(default)]
    cases: String,
    #[serde(default)]
    note: String,
}

/// Adds places to the zone; on a refusal the page says why and the form keeps what was typed.
pub async fn extend(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<ExtendForm>) -> Response {
    let done = async {
        let extent = typed_extent(&caller, &f.areas, &f.households, &f.cases).await?;
        caller.0.extend_zone(id, &extent, &f.note).await
    };
    match done.await {
        Ok(zone) => back(id, &t.fill("zones.extended", &[("n", &thousands(zone.residents))])),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ActForm {
    /// downgrade, lift, or tighten (with `kind`).
    act: String,
    kind: Option<ZoneKind>,
    #[serde(default)]
    note: String,
    /// The tick a downgrade or a lift needs.
    #[serde(default, deserialize_with = "checked")]
    confirm: bool,
    /// The zone's last change as the page showed it: a resubmitted form is refused, not applied
    /// twice.
    seen: Option<chrono::DateTime<chrono::Utc>>,
}

/// Downgrades, lifts or tightens the zone; a refusal is said on the zone's page.
pub async fn act(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<ActForm>) -> Response {
    let ask = match (f.act.as_str(), f.kind) {
        ("downgrade", _) => Ask::Downgrade,
        ("lift", _) => Ask::Lift,
        ("tighten", Some(k)) => Ask::Tighten(k),
        _ => return failure(t, &caller, StoreError::from(cordon_domain::refusal!("refused.zone.unknown_act", act = f.act))),
    };
    let done = if matches!(ask, Ask::Downgrade | Ask::Lift) && !f.confirm {
        Err(StoreError::from(cordon_domain::refusal!("refused.zone.unconfirmed")))
    } else {
        caller.0.act_on_zone(id, ask, &f.note, f.seen).await
    };
    match done {
        Ok(zone) => {
            let key = match ask {
                Ask::Downgrade => "zones.downgraded",
                Ask::Lift => "zones.lifted",
                Ask::Tighten(_) => "zones.tightened",
            };
            let scheme = match caller.0.zone(id).await {
                Ok(d) => d.scheme,
                Err(e) => return failure(t, &caller, e),
            };
            back(id, &t.fill(key, &[("name", &zone.name), ("kind", &kind_label(t, scheme, zone.kind))]))
        }
        Err(e) if e.is_refusal() && !matches!(e, StoreError::Forbidden(_)) => {
            view(t, &caller, id, None, Some(said(t, &e)), false, None).await
        }
        Err(e) => failure(t, &caller, e),
    }
}

fn back(id: i64, notice: &str) -> Response {
    Redirect::to(&format!("/zones/{id}?notice={}", percent(notice))).into_response()
}
