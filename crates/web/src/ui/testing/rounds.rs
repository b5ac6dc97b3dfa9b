//! The rounds page: each round with its sites and sizing, a new round over one area, a new
//! sampling site, and the suggested testing frequency.

use crate::ui::form::Path;
use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::access::Permission;
use cordon_domain::refusal;
use cordon_domain::testing::pooling::{PoolPolicy, ZoneKind};
use cordon_store::StoreError;
use cordon_store::testing::{NewRound, NewSite};
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::local;
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::{UserBadge, failure, render, said};

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
            let (sites, sizing) = tokio::try_join!(scope.sites(r.id), scope.round_sizing(r.id))?;
            let sizing = sizing.map(|p| {
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
                    .area_children(
                        &cordon_domain::AreaCode::parse(&home.code)
                            .map_err(|_| StoreError::from(refusal!("refused.bad_area", code = home.code)))?,
                    )
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
pub async fn create_round(t: Tr, caller: Caller, Form(form): Form<RoundForm>) -> Response {
    let planned = async {
        let area =
            cordon_domain::AreaCode::parse(&form.area).map_err(|_| StoreError::from(refusal!("refused.bad_area", code = form.area)))?;
        let zone = match form.zone.trim() {
            "" => None,
            z => Some(z.parse::<ZoneKind>().map_err(|_| StoreError::from(refusal!("refused.bad_zone", zone = z)))?),
        };
        if form.name.trim().is_empty() {
            return Err(refusal!("rounds.need_name").into());
        }
        if form.hours == 0 || form.hours > 24 * 14 {
            return Err(refusal!("rounds.bad_hours").into());
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
pub async fn create_site(t: Tr, caller: Caller, Path(round_id): Path<i64>, Form(form): Form<SiteForm>) -> Response {
    let added = async {
        let area_code =
            cordon_domain::AreaCode::parse(&form.area).map_err(|_| StoreError::from(refusal!("refused.bad_area", code = form.area)))?;
        caller.0.create_site(NewSite { round_id, area_code, name: form.name, address: form.address, stations: form.stations }).await
    };
    match added.await {
        Ok(_) => Redirect::to("/testing").into_response(),
        Err(e) if e.is_refusal() => rounds_view(t, &caller, Some(said(t, &e)), None).await,
        Err(e) => failure(t, &caller, e),
    }
}
