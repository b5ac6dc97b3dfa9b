//! The zones over the caller's jurisdiction, newest first, each with its kind, its people and
//! where its countdown stands; the commander's form to draw a new one.

use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::access::Permission;
use cordon_domain::zones::{Scheme, ZoneKind};
use cordon_store::zones::NewZone;
use serde::Deserialize;

use super::{countdown_line, kind_label, typed_extent};
use crate::auth::Caller;
use crate::format::{local, month_day, percent, thousands};
use crate::i18n::Tr;
use crate::ui::form::{Form, Query};
use crate::ui::{Places, UserBadge, failure, render};

/// Zones a page shows.
const PAGE: u32 = 50;

pub struct ZoneRow {
    id: i64,
    name: String,
    kind: &'static str,
    label: String,
    place: String,
    area_code: String,
    since: String,
    residents: String,
    status: String,
    ready: bool,
    lifted: bool,
    designated: String,
}

#[derive(Template)]
#[template(path = "zones.html")]
struct ZonesPage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    notice: Option<String>,
    error: Option<String>,
    zones: Vec<ZoneRow>,
    /// Zones in force by kind: (class, label, count).
    counts: Vec<(&'static str, String, usize)>,
    lifted: bool,
    /// The link to the next page, when there is one.
    next: Option<String>,
    /// The kinds a zone can be drawn as: (value, label in both schemes).
    kinds: Vec<(&'static str, String)>,
}

#[derive(Debug, Deserialize)]
pub struct ZonesQuery {
    notice: Option<String>,
    error: Option<String>,
    /// Lifted zones too.
    lifted: Option<String>,
    before: Option<i64>,
}

pub async fn page(t: Tr, caller: Caller, Query(q): Query<ZonesQuery>) -> Response {
    let lifted = q.lifted.is_some_and(|v| !v.is_empty());
    let zones = match caller.0.zones(lifted, q.before, PAGE).await {
        Ok(z) => z,
        Err(e) => return failure(t, &caller, e),
    };
    let places = match Places::of(&caller, zones.iter().map(|z| z.zone.area_code.as_str())).await {
        Ok(p) => p,
        Err(e) => return failure(t, &caller, e),
    };
    let next = (zones.len() == PAGE as usize)
        .then(|| zones.last().map(|z| format!("/zones?before={}{}", z.zone.id, if lifted { "&lifted=1" } else { "" })))
        .flatten();
    // Counted over every zone in force, not only this page's.
    let in_force = match caller.0.zones_in_force().await {
        Ok(z) => z,
        Err(e) => return failure(t, &caller, e),
    };
    let mut counts: Vec<(&'static str, String, usize)> =
        ZoneKind::ALL.iter().map(|k| (k.as_str(), both_labels(t, *k), in_force.iter().filter(|(z, _)| z.kind == *k).count())).collect();
    counts.retain(|(_, _, n)| *n > 0);
    let rows = zones
        .into_iter()
        .map(|s| {
            let z = s.zone;
            let status = match (&z.lifted_at, &s.countdown) {
                (Some(at), _) => t.fill("zones.lifted_on", &[("at", &local(*at))]),
                (None, Some(c)) => countdown_line(t, s.scheme, c),
                (None, None) => String::new(),
            };
            ZoneRow {
                id: z.id,
                label: kind_label(t, s.scheme, z.kind),
                kind: z.kind.as_str(),
                place: places.name(&z.area_code),
                area_code: z.area_code,
                since: month_day(z.since),
                residents: thousands(z.residents),
                ready: s.countdown.as_ref().is_some_and(|c| c.ready),
                lifted: z.lifted_at.is_some(),
                status,
                designated: format!("{} {}", local(z.designated_at), z.designated_by),
                name: z.name,
            }
        })
        .collect();
    let page = ZonesPage {
        t,
        user: UserBadge::of(&caller),
        can_write: caller.0.principal().can(Permission::CommandWrite),
        notice: q.notice,
        error: q.error,
        zones: rows,
        counts,
        lifted,
        next,
        kinds: ZoneKind::ALL.iter().map(|k| (k.as_str(), both_labels(t, *k))).collect(),
    };
    render(&page)
}

/// A kind named in both schemes: 封控区（高风险区）.
fn both_labels(t: Tr, k: ZoneKind) -> String {
    format!("{}（{}）", kind_label(t, Scheme::Zones2021, k), kind_label(t, Scheme::RiskAreas, k))
}

#[derive(Debug, Deserialize)]
pub struct DesignateForm {
    kind: ZoneKind,
    #[serde(default)]
    name: String,
    #[serde(default)]
    areas: String,
    #[serde(default)]
    households: String,
    #[serde(default)]
    cases: String,
    #[serde(default)]
    reason: String,
    /// When headquarters drew it, if earlier (补录), as a `datetime-local` field sends it.
    #[serde(default)]
    drawn_at: String,
}

/// Draws a zone; on a refusal the page says why and the form keeps what was typed.
pub async fn designate(t: Tr, caller: Caller, Form(f): Form<DesignateForm>) -> Response {
    let done = async {
        let extent = typed_extent(&caller, &f.areas, &f.households, &f.cases).await?;
        let drawn_at = match f.drawn_at.trim() {
            "" => None,
            typed => Some(
                cordon_domain::parse_local_time(typed)
                    .ok_or_else(|| cordon_domain::refusal!("refused.zone.bad_drawn_at", value = typed))?,
            ),
        };
        let new = NewZone { kind: f.kind, name: f.name.clone(), reason: f.reason.clone(), extent, drawn_at };
        caller.0.designate_zone(&new).await
    };
    match done.await {
        Ok(zone) => {
            let notice = t.fill("zones.drawn", &[("name", &zone.name), ("n", &thousands(zone.residents))]);
            Redirect::to(&format!("/zones/{}?notice={}", zone.id, percent(&notice))).into_response()
        }
        Err(e) => failure(t, &caller, e),
    }
}
