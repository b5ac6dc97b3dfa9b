//! The dispatcher's page (转运调度): every open transfer with its clock, overdue first; the
//! people waiting at each site's list and the cases waiting for hospital, planned onto
//! vehicles in one action; vehicles and hospitals.

use crate::ui::form::Query;
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use cordon_domain::access::Permission;
use cordon_domain::cases::investigation::Clock;
use cordon_domain::observation::Status;
use cordon_domain::transfer::{TransferKind, TransferStatus, VehicleKind};
use cordon_domain::treatment::HospitalKind;
use cordon_store::StoreError;
use cordon_store::observation::OrderFilter;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::percent;
use crate::i18n::Tr;
use crate::ui::clock::{ClockCell, clock_cell};
use crate::ui::{UserBadge, failure, render, said};

pub struct TransferRow {
    id: i64,
    kind: String,
    plate: String,
    escort: String,
    from: String,
    to: String,
    people: i64,
    status: String,
    clock: ClockCell,
    overdue: bool,
    /// The next step: (status, button label).
    next: Option<(&'static str, String)>,
    can_cancel: bool,
    /// Planned without a vehicle (a release home): the dispatcher picks one.
    needs_vehicle: bool,
}

pub struct SiteQueue {
    site_id: i64,
    site: String,
    /// (order id, name)
    people: Vec<(i64, String)>,
}

pub struct CaseRow {
    id: i64,
    number: String,
    name: String,
    area_code: String,
    place: String,
    clock: ClockCell,
}

#[derive(Template)]
#[template(path = "dispatch.html")]
struct DispatchPage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    notice: Option<String>,
    error: Option<String>,
    open: usize,
    overdue: usize,
    transfers: Vec<TransferRow>,
    queues: Vec<SiteQueue>,
    cases: Vec<CaseRow>,
    /// Free vehicles: (id, "plate · kind · seats").
    free_vehicles: Vec<(i64, String)>,
    /// The free vehicles a case may ride in (`VehicleKind::FOR_CASES`).
    case_vehicles: Vec<(i64, String)>,
    vehicles: Vec<(String, String, i32, bool)>,
    hospitals: Vec<(i64, String)>,
    vehicle_kinds: Vec<(&'static str, &'static str)>,
    hospital_kinds: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize)]
pub struct DispatchQuery {
    notice: Option<String>,
    error: Option<String>,
}

pub async fn board(t: Tr, caller: Caller, Query(q): Query<DispatchQuery>) -> Response {
    view(t, &caller, q.notice, q.error).await
}

fn next_step(t: Tr, s: TransferStatus) -> Option<(&'static str, String)> {
    let to = match s {
        TransferStatus::Planned => TransferStatus::Dispatched,
        TransferStatus::Dispatched => TransferStatus::PickedUp,
        TransferStatus::PickedUp => TransferStatus::Arrived,
        _ => return None,
    };
    Some((to.as_str(), t.get(&format!("dispatch.do_{}", to.as_str())).to_string()))
}

pub(super) async fn view(t: Tr, caller: &Caller, notice: Option<String>, error: Option<String>) -> Response {
    let scope = &caller.0;
    let loaded = async {
        let board = scope.dispatch_board().await?;
        let waiting = scope.observation_orders(&OrderFilter { status: Some(Status::AwaitingTransfer), ..Default::default() }).await?;
        let sites = scope.quarantine_board().await?;
        let cases = scope.cases_to_hospital().await?;
        let vehicles = scope.vehicles().await?;
        let hospitals = scope.hospitals().await?;
        // Orders already on an open transfer are not waiting for one.
        let riding = scope.orders_on_open_transfers().await?;
        Ok::<_, StoreError>((board, waiting, sites, cases, vehicles, hospitals, riding))
    };
    let (board, waiting, sites, cases, vehicles, hospitals, riding) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    let now = Utc::now();
    let transfers: Vec<TransferRow> = board
        .into_iter()
        .map(|x| {
            let status = x.status;
            TransferRow {
                id: x.id,
                // A positive's ride is named by where it goes: the designated or the shelter hospital.
                kind: match hospitals.iter().find(|h| Some(h.id) == x.to_hospital_id) {
                    Some(h) if h.kind == cordon_domain::treatment::HospitalKind::Shelter => t.get("dispatch.kind.positive_to_shelter"),
                    _ => t.get(&format!("dispatch.kind.{}", x.kind)),
                }
                .to_string(),
                plate: x.plate.clone().unwrap_or_default(),
                escort: x.escort.clone().unwrap_or_default(),
                from: place(t, &x.from_place, x.kind),
                to: place(t, &x.to_place, x.kind),
                people: x.people,
                status: t.get(&format!("dispatch.status.{}", x.status)).to_string(),
                clock: clock_cell(&t, x.deadline, Clock::at(x.deadline, x.arrived_at, now)),
                overdue: x.overdue(now),
                needs_vehicle: x.vehicle_id.is_none() && status == TransferStatus::Planned,
                next: if x.vehicle_id.is_none() { None } else { next_step(t, status) },
                can_cancel: status != TransferStatus::Cancelled && status.may_become(TransferStatus::Cancelled),
            }
        })
        .collect();
    let queues = sites
        .iter()
        .map(|s| SiteQueue {
            site_id: s.id,
            site: s.name.clone(),
            people: waiting
                .iter()
                .filter(|o| o.site_id == Some(s.id) && o.room_id.is_some() && !riding.contains(&o.id))
                .map(|o| (o.id, o.name.clone()))
                .collect(),
        })
        .filter(|q| !q.people.is_empty())
        .collect();
    let names = match crate::ui::Places::of(caller, cases.iter().map(|c| c.3.as_str())).await {
        Ok(n) => n,
        Err(e) => return failure(t, caller, e),
    };
    let page = DispatchPage {
        t,
        user: UserBadge::of(caller),
        can_write: scope.principal().can(Permission::TransferWrite),
        notice,
        error,
        open: transfers.iter().filter(|x| x.next.is_some()).count(),
        overdue: transfers.iter().filter(|x| x.overdue).count(),
        transfers,
        queues,
        cases: cases
            .into_iter()
            .map(|(id, number, name, area_code, at, site)| {
                let due = cordon_domain::transfer::TransferKind::PositiveToHospital.deadline(at);
                // Picked up where the case is: the site it was found in, else its village.
                let place = if site.is_empty() { names.name(&area_code) } else { site };
                CaseRow { id, number, name, area_code, place, clock: clock_cell(&t, due, Clock::at(due, None, now)) }
            })
            .collect(),
        // Contacts ride buses and cars: the ambulances are kept for cases.
        free_vehicles: vehicles
            .iter()
            .filter(|v| !v.busy && !cordon_domain::transfer::VehicleKind::FOR_CASES.contains(&v.kind))
            .map(|v| (v.id, vehicle_label(t, v)))
            .collect(),
        case_vehicles: vehicles
            .iter()
            .filter(|v| !v.busy && VehicleKind::FOR_CASES.contains(&v.kind))
            .map(|v| (v.id, vehicle_label(t, v)))
            .collect(),
        vehicles: vehicles
            .into_iter()
            .map(|v| (v.plate, t.get(&format!("dispatch.vehicle.{}", v.kind)).to_string(), v.seats, v.busy))
            .collect(),
        hospitals: hospitals
            .into_iter()
            .map(|h| {
                // A hospital named with its kind (「…（定点医院）」) is not labelled twice.
                let kind = t.get(&format!("dispatch.hospital.{}", h.kind));
                (h.id, if h.name.contains(kind) { h.name.clone() } else { format!("{}（{}）", h.name, kind) })
            })
            .collect(),
        vehicle_kinds: VehicleKind::ALL.iter().map(|k| (k.as_str(), t.get(&format!("dispatch.vehicle.{}", k.as_str())))).collect(),
        hospital_kinds: HospitalKind::ALL.iter().map(|k| (k.as_str(), t.get(&format!("dispatch.hospital.{}", k.as_str())))).collect(),
    };
    render(&page)
}

fn back(notice: Option<String>, error: Option<String>) -> Response {
    let mut to = String::from("/dispatch");
    if let Some(n) = notice {
        to.push_str(&format!("?notice={}", percent(&n)));
    } else if let Some(e) = error {
        to.push_str(&format!("?error={}", percent(&e)));
    }
    Redirect::to(&to).into_response()
}

pub(super) async fn outcome(t: Tr, caller: &Caller, done: Result<String, StoreError>) -> Response {
    match done {
        Ok(n) => back(Some(n), None),
        Err(e) if e.is_refusal() => view(t, caller, None, Some(said(t, &e))).await,
        Err(e) => failure(t, caller, e),
    }
}

/// A transfer's end as the page names it: the people's own place (stored empty) by the kind.
fn place(t: Tr, stored: &str, kind: TransferKind) -> String {
    if stored.is_empty() { t.get(&format!("dispatch.own_place.{kind}")).to_string() } else { stored.to_string() }
}

/// A vehicle as a choice: plate, kind and seats.
fn vehicle_label(t: Tr, v: &cordon_store::transfers::Vehicle) -> String {
    format!(
        "{} · {} · {}",
        v.plate,
        t.get(&format!("dispatch.vehicle.{}", v.kind)),
        t.fill("dispatch.seats_n", &[("n", &v.seats.to_string())])
    )
}
