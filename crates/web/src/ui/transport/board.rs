//! A round's transport page: its boxes, where its tubes are, how long labs take; a box sent from
//! a site; a lab registered.

use crate::ui::form::Path;
use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::access::Permission;
use cordon_domain::testing::transport::Turnaround;
use cordon_store::StoreError;
use cordon_store::transport::NewBatch;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::percent;
use crate::format::{local, span};
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::{UserBadge, failure, message, render, said};

pub struct BatchRow {
    id: i64,
    label: String,
    site: String,
    lab: String,
    tubes: i32,
    received: i64,
    missing: i64,
    extra: i64,
    departed: String,
    received_at: String,
}

pub struct TurnaroundRow {
    name: String,
    tubes: usize,
    p50: String,
    p90: String,
    max: String,
    over_target: usize,
}

#[derive(Template)]
#[template(path = "transport.html")]
struct TransportPage {
    t: Tr,
    user: Option<UserBadge>,
    round_id: i64,
    round_name: String,
    can_send: bool,
    notice: Option<String>,
    error: Option<String>,
    sites: Vec<(i64, String)>,
    labs: Vec<(i64, String)>,
    stages: Vec<(String, i64)>,
    /// Per lab, then per site.
    turnaround: Vec<(String, Vec<TurnaroundRow>)>,
    batches: Vec<BatchRow>,
}

fn minutes(m: Option<i64>) -> String {
    m.map(span).unwrap_or_else(|| "—".into())
}

fn turnaround_rows(rows: Vec<(String, Turnaround)>) -> Vec<TurnaroundRow> {
    rows.into_iter()
        .map(|(name, t)| TurnaroundRow {
            name,
            tubes: t.tubes,
            p50: minutes(t.p50),
            p90: minutes(t.p90),
            max: minutes(t.max),
            over_target: t.over_target,
        })
        .collect()
}

#[derive(Deserialize)]
pub struct RoundQuery {
    /// The round; none opens the latest one.
    round: Option<i64>,
    sent: Option<String>,
}

pub async fn round_transport(t: Tr, caller: Caller, Query(q): Query<RoundQuery>) -> Response {
    let notice = q.sent.map(|label| t.fill("transport.sent", &[("label", &label)]));
    let round = match q.round {
        Some(r) => r,
        // Opened from the menu or a bookmark without a round: the latest round's boxes.
        None => match caller.0.rounds().await {
            Ok(rounds) => match rounds.iter().max_by_key(|r| (r.starts_at, r.id)) {
                Some(r) => r.id,
                None => return message(t, Some(&caller), StatusCode::OK, t.get("rounds.none"), t.get("rounds.none")),
            },
            Err(e) => return failure(t, &caller, e),
        },
    };
    transport_view(t, &caller, round, notice, None).await
}

async fn transport_view(t: Tr, caller: &Caller, round_id: i64, notice: Option<String>, error: Option<String>) -> Response {
    let scope = &caller.0;
    let loaded = async {
        let round = scope.round(round_id).await?;
        let sites = scope.sites(round_id).await?;
        let labs = scope.labs().await?;
        let flow = scope.tube_flow(round_id).await?;
        let batches = scope.batches(round_id).await?;
        Ok::<_, StoreError>((round, sites, labs, flow, batches))
    };
    let (round, sites, labs, flow, batches) = match loaded.await {
        Ok((Some(round), sites, labs, flow, batches)) => (round, sites, labs, flow, batches),
        Ok((None, ..)) => return message(t, Some(caller), StatusCode::NOT_FOUND, t.get("rounds.none"), t.get("rounds.none")),
        Err(e) => return failure(t, caller, e),
    };
    let stages = [
        ("open", flow.open),
        ("sealed", flow.sealed),
        ("departed", flow.departed),
        ("received", flow.received),
        ("resulted", flow.resulted),
    ]
    .into_iter()
    .map(|(k, n)| (t.get(&format!("transport.stage_{k}")).to_string(), n))
    .collect();
    let status = if error.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    let page = TransportPage {
        t,
        user: UserBadge::of(caller),
        round_id,
        round_name: round.name,
        can_send: scope.principal().can(Permission::TestingWrite),
        notice,
        error,
        sites: sites.into_iter().map(|s| (s.id, s.name)).collect(),
        labs: labs.into_iter().map(|l| (l.id, l.name)).collect(),
        stages,
        turnaround: vec![
            (t.get("transport.by_lab").to_string(), turnaround_rows(flow.by_lab)),
            (t.get("transport.by_site").to_string(), turnaround_rows(flow.by_site)),
        ],
        batches: batches
            .into_iter()
            .map(|b| BatchRow {
                missing: b.missing(),
                id: b.id,
                label: b.label,
                site: b.site_name,
                lab: b.lab_name,
                tubes: b.tubes,
                received: b.received,
                extra: b.extra,
                departed: local(b.departed_at),
                received_at: b.received_at.map(local).unwrap_or_else(|| t.get("transport.on_the_road").to_string()),
            })
            .collect(),
    };
    (status, render(&page)).into_response()
}

#[derive(Deserialize)]
pub struct DispatchForm {
    site_id: i64,
    lab_id: i64,
    label: String,
}

/// Sends every sealed tube waiting at a site to a lab in one labelled box.
pub async fn dispatch(t: Tr, caller: Caller, Path(round_id): Path<i64>, Form(form): Form<DispatchForm>) -> Response {
    let label = form.label.trim().to_string();
    if label.is_empty() {
        return transport_view(t, &caller, round_id, None, Some(t.get("transport.need_label").to_string())).await;
    }
    let new = NewBatch { round_id, site_id: form.site_id, lab_id: form.lab_id, label: label.clone(), barcodes: None, departed_at: None };
    match caller.0.dispatch(new).await {
        Ok(_) => {
            let to = format!("/transport?round={round_id}&sent={}", percent(&label));
            Redirect::to(&to).into_response()
        }
        Err(e) if e.is_refusal() => transport_view(t, &caller, round_id, None, Some(said(t, &e))).await,
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct LabForm {
    round: i64,
    name: String,
    daily_capacity: u32,
}

/// Registers a lab in the caller's first area from the transport page.
pub async fn create_lab(t: Tr, caller: Caller, Form(form): Form<LabForm>) -> Response {
    let Some(area_code) = caller.0.principal().user.jurisdiction.areas().first().cloned() else {
        return transport_view(t, &caller, form.round, None, Some(t.get("homes.empty").to_string())).await;
    };
    match caller.0.create_lab(cordon_store::results::NewLab { name: form.name, area_code, daily_capacity: form.daily_capacity }).await {
        Ok(_) => Redirect::to(&format!("/transport?round={}", form.round)).into_response(),
        Err(e) if e.is_refusal() => transport_view(t, &caller, form.round, None, Some(said(t, &e))).await,
        Err(e) => failure(t, &caller, e),
    }
}
