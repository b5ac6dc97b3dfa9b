//! The quarantine board: sites with their beds, and who waits for a room; a new site; rooms
//! assigned to a batch of people.

use crate::ui::form::Query;
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;
use cordon_domain::observation::SiteKind;
use cordon_domain::observation::Status;
use cordon_store::StoreError;
use cordon_store::observation::OrderFilter;
use cordon_store::quarantine::{NewQuarantineSite, SiteBoard};
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::day;
use crate::i18n::Tr;
use crate::ui::form::{Form, Ids, checked};
use crate::ui::observation::{category_label, status_label};
use crate::ui::{NoticeQuery, UserBadge, failure, render, said};

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
        kinds: SiteKind::ALL.iter().map(|k| (k.as_str(), t.get(&format!("quarantine.kind.{k}")).to_string())).collect(),
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
                category: category_label(t, o.category),
                status: status_label(t, o.status),
                release_on: day(o.release_on),
                centralized_until: day(o.centralized_until),
                name: o.name,
            })
            .collect(),
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct SiteForm {
    name: String,
    kind: SiteKind,
    area_code: Option<String>,
    address: String,
    head_name: String,
    head_phone: Option<String>,
    staff: Option<u32>,
    #[serde(default, deserialize_with = "checked")]
    households_share: bool,
}

pub async fn create_site(t: Tr, caller: Caller, Form(f): Form<SiteForm>) -> Response {
    let Some(home) = caller.0.principal().user.jurisdiction.areas().first().cloned() else {
        return board_view(t, &caller, None, Some(t.get("homes.empty").to_string())).await;
    };
    let area_code = match f.area_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => home,
        Some(code) => match AreaCode::parse(code) {
            Ok(c) => c,
            Err(_) => return board_view(t, &caller, None, Some(t.get("area.bad_code_detail").to_string())).await,
        },
    };
    let new = NewQuarantineSite {
        name: f.name,
        kind: f.kind,
        area_code,
        address: f.address,
        head_name: f.head_name,
        head_phone: f.head_phone.filter(|p| !p.trim().is_empty()),
        staff: f.staff.unwrap_or(0),
        households_share: f.households_share,
    };
    match caller.0.create_quarantine_site(&new).await {
        Ok(site) => Redirect::to(&format!("/quarantine/sites/{}", site.id)).into_response(),
        Err(e) if e.is_refusal() => board_view(t, &caller, None, Some(said(t, &e))).await,
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    site_id: Option<i64>,
    #[serde(default)]
    order: Ids,
}

/// Rooms at one site for the ticked people, in one batch.
pub async fn assign(t: Tr, caller: Caller, Form(f): Form<AssignForm>) -> Response {
    let Some(site) = f.site_id else {
        return board_view(t, &caller, None, Some(t.get("quarantine.pick_site").to_string())).await;
    };
    let chosen = f.order.0;
    if chosen.is_empty() {
        return board_view(t, &caller, None, Some(t.get("quarantine.pick_people").to_string())).await;
    }
    match caller.0.assign_rooms(site, &chosen).await {
        Ok(done) => {
            let notice =
                t.fill("quarantine.assigned", &[("n", &done.assigned.len().to_string()), ("refused", &done.refused.len().to_string())]);
            let error = (!done.refused.is_empty()).then(|| done.refused.iter().map(|(_, r)| t.refusal(r)).collect::<Vec<_>>().join("；"));
            board_view(t, &caller, Some(notice), error).await
        }
        Err(e) if e.is_refusal() => board_view(t, &caller, None, Some(said(t, &e))).await,
        Err(e) => failure(t, &caller, e),
    }
}
