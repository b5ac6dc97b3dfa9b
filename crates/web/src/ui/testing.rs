//! Testing pages: the rounds with their sites and sizing, and the sampling station.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::Barcode;
use cordon_domain::access::Permission;
use cordon_domain::testing::pooling::{PoolPolicy, ZoneKind};
use cordon_store::StoreError;
use cordon_store::testing::{NewRound, NewSite};
use serde::Deserialize;

use super::{UserBadge, failure, message, render, said};
use crate::auth::Caller;
use crate::i18n::Tr;

pub struct SiteRow {
    id: i64,
    name: String,
    address: String,
    stations: i32,
}

pub struct RoundRow {
    id: i64,
    name: String,
    window: String,
    sizing: Option<String>,
    sites: Vec<SiteRow>,
    /// Villages and communities of the round inside the jurisdiction, for a new site.
    site_areas: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "rounds.html")]
struct RoundsPage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    rounds: Vec<RoundRow>,
    /// The caller's areas and their townships, for a new round.
    round_areas: Vec<(String, String)>,
    error: Option<String>,
    notice: Option<String>,
    /// The frequency suggestion per area, for those who may plan rounds.
    frequency: Vec<super::sites::FrequencyRow>,
}

#[derive(Deserialize)]
pub struct RoundsQuery {
    planned: Option<String>,
}

/// A time as Beijing time, `11-24 19:05`.
pub(super) fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")).format("%m-%d %H:%M").to_string()
}

pub async fn rounds(t: Tr, caller: Caller, Query(q): Query<RoundsQuery>) -> Response {
    let notice = q.planned.map(|name| t.fill("frequency.planned", &[("name", &name)]));
    rounds_view(t, &caller, None, notice).await
}

async fn rounds_view(t: Tr, caller: &Caller, error: Option<String>, notice: Option<String>) -> Response {
    let scope = &caller.0;
    let can_write = scope.principal().can(Permission::TestingWrite);
    let can_plan = can_write || scope.principal().can(Permission::CommandWrite);
    let loaded = async {
        let mut rows = Vec::new();
        for r in scope.rounds().await? {
            let sites = scope.sites(r.id).await?;
            let sizing = scope.round_sizing(r.id).await?.map(|p| {
                t.fill(
                    "rounds.sizing",
                    &[
                        ("sites_min", &p.sites.0.to_string()),
                        ("sites_max", &p.sites.1.to_string()),
                        ("stations_min", &p.stations.0.to_string()),
                        ("stations_max", &p.stations.1.to_string()),
                        ("samplers", &p.samplers.to_string()),
                    ],
                )
            });
            let mut site_areas = Vec::new();
            if can_write {
                for a in r.areas.iter().filter_map(|a| cordon_domain::AreaCode::parse(&a.area_code).ok()) {
                    for part in scope.principal().user.jurisdiction.within(&a).areas() {
                        site_areas
                            .extend(scope.area_subtree(part).await?.into_iter().filter(|x| x.code.len() >= 12).map(|x| (x.code, x.name)));
                    }
                }
            }
            rows.push(RoundRow {
                id: r.id,
                window: format!("{} → {}", local(r.starts_at), local(r.target_end_at)),
                name: r.name,
                sizing,
                sites: sites.into_iter().map(|s| SiteRow { id: s.id, name: s.name, address: s.address, stations: s.stations }).collect(),
                site_areas,
            });
        }
        let mut round_areas = Vec::new();
        if can_write {
            for home in scope.home_areas().await? {
                let children = scope
                    .area_children(&cordon_domain::AreaCode::parse(&home.code).map_err(|e| StoreError::Invalid(e.to_string()))?)
                    .await?;
                round_areas.push((home.code, home.name));
                round_areas.extend(children.into_iter().map(|c| (c.code, c.name)));
            }
        }
        let frequency =
            if can_plan { super::sites::frequency_rows(t, scope.testing_history(3).await?, chrono::Utc::now()) } else { vec![] };
        Ok::<_, StoreError>((rows, round_areas, frequency))
    };
    match loaded.await {
        Ok((rounds, round_areas, frequency)) => {
            let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            let page = RoundsPage { t, user: UserBadge::of(caller), can_write, rounds, round_areas, error, notice, frequency };
            (status, render(&page)).into_response()
        }
        Err(e) => failure(t, caller, e),
    }
}

#[derive(Deserialize)]
pub struct RoundForm {
    name: String,
    area: String,
    /// Empty outside any zone.
    zone: String,
    hours: u32,
}

/// Plans a round over one area from the page; the round starts now.
pub async fn create_round(t: Tr, caller: Caller, axum::Form(form): axum::Form<RoundForm>) -> Response {
    let planned = async {
        let area = cordon_domain::AreaCode::parse(&form.area).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let zone = match form.zone.trim() {
            "" => None,
            z => Some(z.parse::<ZoneKind>().map_err(StoreError::Invalid)?),
        };
        if form.name.trim().is_empty() {
            return Err(StoreError::Invalid(t.get("rounds.need_name").to_string()));
        }
        if form.hours == 0 || form.hours > 24 * 14 {
            return Err(StoreError::Invalid(t.get("rounds.bad_hours").to_string()));
        }
        let now = chrono::Utc::now();
        caller
            .0
            .create_round(NewRound {
                name: form.name.trim().to_string(),
                starts_at: now,
                target_end_at: Some(now + chrono::Duration::hours(i64::from(form.hours))),
                areas: vec![(area, zone)],
                policy: PoolPolicy::default(),
            })
            .await
    };
    match planned.await {
        Ok(_) => Redirect::to("/testing").into_response(),
        Err(e) if e.is_refusal() => rounds_view(t, &caller, Some(said(t, &e)), None).await,
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct SiteForm {
    area: String,
    name: String,
    address: String,
    stations: u32,
}

/// Adds a sampling site to a round from the page.
pub async fn create_site(t: Tr, caller: Caller, Path(round_id): Path<i64>, axum::Form(form): axum::Form<SiteForm>) -> Response {
    let added = async {
        let area_code = cordon_domain::AreaCode::parse(&form.area).map_err(|e| StoreError::Invalid(e.to_string()))?;
        caller.0.create_site(NewSite { round_id, area_code, name: form.name, address: form.address, stations: form.stations }).await
    };
    match added.await {
        Ok(_) => Redirect::to("/testing").into_response(),
        Err(e) if e.is_refusal() => rounds_view(t, &caller, Some(said(t, &e)), None).await,
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Template)]
#[template(path = "station.html")]
struct StationPage {
    t: Tr,
    user: Option<UserBadge>,
    round_id: i64,
    site_id: i64,
    round_name: String,
    site_name: String,
    /// The messages the station script shows, in the page's language.
    text_json: String,
    /// Villages a resident met on the spot can be registered in (the site's own first).
    villages: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub struct StationQuery {
    round: i64,
    site: i64,
}

pub async fn station(t: Tr, caller: Caller, Query(q): Query<StationQuery>) -> Response {
    let scope = &caller.0;
    if let Err(e) = scope.require(Permission::TestingWrite) {
        return failure(t, &caller, e);
    }
    let round = match scope.round(q.round).await {
        Ok(Some(r)) => r,
        Ok(None) => return message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("rounds.none"), t.get("rounds.none")),
        Err(e) => return failure(t, &caller, e),
    };
    let site = match scope.sites(round.id).await {
        Ok(sites) => match sites.into_iter().find(|s| s.id == q.site) {
            Some(s) => s,
            None => return message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("rounds.none"), t.get("rounds.none")),
        },
        Err(e) => return failure(t, &caller, e),
    };
    let villages = match station_villages(scope, &site.area_code).await {
        Ok(v) => v,
        Err(e) => return failure(t, &caller, e),
    };
    let keys = [
        "opened",
        "scanned",
        "full",
        "closed",
        "failed",
        "offline",
        "pending",
        "no_tube",
        "sealed",
        "household",
        "unknown",
        "registered",
        "retest",
    ];
    // And one message per refusal kind, so that refusals read in the page's language.
    let refusals = [
        "tube_full",
        "already_in_tube",
        "already_sampled",
        "other_household",
        "not_recalled",
        "barcode_used",
        "unknown_tube",
        "sealed",
        "empty",
        "busy",
        "site_not_in_round",
        "unknown_person",
    ];
    let text: serde_json::Map<String, serde_json::Value> = keys
        .iter()
        .map(|k| k.to_string())
        .chain(refusals.iter().map(|k| format!("refusal.{k}")))
        .map(|k| {
            let v = serde_json::Value::from(t.get(&format!("station.{k}")));
            (k, v)
        })
        .collect();
    render(&StationPage {
        t,
        user: UserBadge::of(&caller),
        round_id: round.id,
        site_id: site.id,
        round_name: round.name,
        site_name: site.name,
        text_json: serde_json::Value::Object(text).to_string(),
        villages,
    })
}

/// The villages near a site where a person met there may live: the site's own area first, then
/// the other villages of its township inside the jurisdiction.
async fn station_villages(scope: &cordon_store::scoped::Scoped, site_area: &str) -> cordon_store::Result<Vec<(String, String)>> {
    let Ok(code) = cordon_domain::AreaCode::parse(site_area) else { return Ok(vec![]) };
    let township = if code.level() == cordon_domain::AreaLevel::Village { code.parent().unwrap_or(code.clone()) } else { code.clone() };
    let mut out = Vec::new();
    if let Some(own) = scope.area(&code).await? {
        out.push((own.code, own.name));
    }
    if let Ok(subtree) = scope.area_subtree(&township).await {
        for a in subtree {
            if a.level() == Some(cordon_domain::AreaLevel::Village) && a.code != site_area {
                out.push((a.code, a.name));
            }
        }
    }
    Ok(out)
}

pub struct RecallRow {
    person_id: i64,
    name: String,
    area_code: String,
    round_id: i64,
    barcode: String,
    deadline: String,
    left: String,
    overdue: bool,
    status: String,
}

#[derive(Template)]
#[template(path = "recalls.html")]
struct RecallsPage {
    t: Tr,
    user: Option<UserBadge>,
    rows: Vec<RecallRow>,
    /// Set when the page lists one pooled tube's members (every recall, open or closed).
    tube: Option<String>,
    heading: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct RecallsQuery {
    round: Option<i64>,
    tube: Option<String>,
}

/// `3h05m` for a span of minutes.
pub(super) fn span(minutes: i64) -> String {
    format!("{}h{:02}m", minutes / 60, minutes % 60)
}

/// The recall board: every open recall in the jurisdiction with its clock, overdue ones first;
/// or, with `?round=&tube=`, every member one pooled tube recalled and where each stands.
pub async fn recalls(t: Tr, caller: Caller, Query(q): Query<RecallsQuery>) -> Response {
    let tube = match (q.round, q.tube.as_deref().map(Barcode::parse)) {
        (Some(round), Some(Ok(barcode))) => Some((round, barcode)),
        _ => None,
    };
    let recalls = match &tube {
        Some((round, barcode)) => caller.0.tube_recalls(*round, barcode).await,
        None => caller.0.open_recalls().await,
    };
    let recalls = match recalls {
        Ok(r) => r,
        Err(e) => return failure(t, &caller, e),
    };
    let now = chrono::Utc::now();
    let rows = recalls
        .into_iter()
        .map(|r| {
            let minutes = (r.deadline - now).num_minutes();
            let open = r.status == "open";
            RecallRow {
                person_id: r.person_id,
                name: r.person_name,
                area_code: r.area_code,
                round_id: r.round_id,
                barcode: r.barcode,
                deadline: local(r.deadline),
                left: match (open, minutes >= 0) {
                    (false, _) => String::new(),
                    (true, true) => span(minutes),
                    (true, false) => t.fill("recalls.overdue", &[("time", &span(-minutes))]),
                },
                overdue: open && minutes < 0,
                status: t.get(&format!("recalls.status.{}", r.status)).to_string(),
            }
        })
        .collect();
    let tube = tube.map(|(_, b)| b.to_string());
    let heading = match &tube {
        Some(b) => t.fill("recalls.of_tube", &[("barcode", b)]),
        None => t.get("recalls.title").to_string(),
    };
    render(&RecallsPage { t, user: UserBadge::of(&caller), rows, tube, heading })
}
