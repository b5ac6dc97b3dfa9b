//! What the dispatcher does: seat a site's people on vehicles, send a case to hospital, step a
//! transfer on, give it a vehicle, register vehicles and hospitals.

use crate::ui::form::Path;
use axum::response::Response;
use cordon_domain::transfer::{TransferStatus, VehicleKind};
use cordon_domain::treatment::HospitalKind;
use cordon_store::StoreError;
use cordon_store::transfers::{NewHospital, NewVehicle};
use serde::Deserialize;

use super::board::{outcome, view};
use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::form::{Form, Ids};

#[derive(Deserialize)]
pub struct PlanSiteForm {
    #[serde(default)]
    order: Ids,
    #[serde(default)]
    vehicle: Ids,
    #[serde(default)]
    escort: String,
}

/// The ticked people of one site onto the ticked vehicles.
pub async fn plan_site(t: Tr, caller: Caller, Path(site): Path<i64>, Form(f): Form<PlanSiteForm>) -> Response {
    let done = caller
        .0
        .plan_site_transfers(site, &f.order.0, &f.vehicle.0, &f.escort)
        .await
        .map(|p| t.fill("dispatch.planned", &[("n", &p.transfers.len().to_string()), ("left", &p.left.len().to_string())]));
    outcome(t, &caller, done).await
}

#[derive(Deserialize)]
pub struct PlanCaseForm {
    hospital_id: i64,
    vehicle_id: i64,
    #[serde(default)]
    escort: String,
    /// The tick that confirms it: a case is not sent on one click.
    #[serde(default)]
    confirm: Option<String>,
}

pub async fn plan_case(t: Tr, caller: Caller, Path(case): Path<i64>, Form(f): Form<PlanCaseForm>) -> Response {
    let done = match f.confirm {
        None => Err(StoreError::from(cordon_domain::refusal!("refused.case_transfer_unconfirmed"))),
        Some(_) => caller
            .0
            .plan_case_transfer(case, f.hospital_id, f.vehicle_id, &f.escort)
            .await
            .map(|_| t.get("dispatch.case_planned").to_string()),
    };
    outcome(t, &caller, done).await
}

#[derive(Deserialize)]
pub struct AdvanceForm {
    to: TransferStatus,
}

pub async fn advance(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<AdvanceForm>) -> Response {
    let done = caller
        .0
        .advance_transfer(id, f.to)
        .await
        .map(|x| t.fill("dispatch.advanced", &[("to", t.get(&format!("dispatch.status.{}", x.status)))]));
    outcome(t, &caller, done).await
}

#[derive(Deserialize)]
pub struct AssignVehicleForm {
    vehicle_id: i64,
    #[serde(default)]
    escort: String,
}

pub async fn assign_vehicle(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<AssignVehicleForm>) -> Response {
    let done = caller.0.assign_vehicle(id, f.vehicle_id, &f.escort).await.map(|_| t.get("dispatch.case_planned").to_string());
    outcome(t, &caller, done).await
}

#[derive(Deserialize)]
pub struct VehicleForm {
    plate: String,
    kind: VehicleKind,
    seats: u32,
    driver: Option<String>,
    phone: Option<String>,
}

pub async fn add_vehicle(t: Tr, caller: Caller, Form(f): Form<VehicleForm>) -> Response {
    let Some(area_code) = caller.0.principal().user.jurisdiction.areas().first().cloned() else {
        return view(t, &caller, None, Some(t.get("homes.empty").to_string())).await;
    };
    let new = NewVehicle {
        plate: f.plate,
        kind: f.kind,
        seats: f.seats,
        area_code,
        driver: f.driver.filter(|d| !d.trim().is_empty()),
        phone: f.phone.filter(|d| !d.trim().is_empty()),
    };
    let done = caller.0.add_vehicle(&new).await.map(|_| t.fill("dispatch.vehicle_added", &[("plate", new.plate.trim())]));
    outcome(t, &caller, done).await
}

#[derive(Deserialize)]
pub struct HospitalForm {
    name: String,
    kind: HospitalKind,
    beds: u32,
}

pub async fn add_hospital(t: Tr, caller: Caller, Form(f): Form<HospitalForm>) -> Response {
    let Some(area_code) = caller.0.principal().user.jurisdiction.areas().first().cloned() else {
        return view(t, &caller, None, Some(t.get("homes.empty").to_string())).await;
    };
    let new = NewHospital { name: f.name, kind: f.kind, area_code, beds: f.beds };
    let done = caller.0.add_hospital(&new).await.map(|_| t.fill("dispatch.hospital_added", &[("name", new.name.trim())]));
    outcome(t, &caller, done).await
}
