//! Medical observation over HTTP: observation orders with their schedules, quarantine sites with
//! their occupancy and bulk room assignment, transfers, and the rule sets an incident runs under.

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::access::Permission;
use cordon_domain::observation::SiteKind;
use cordon_domain::observation::Status;
use cordon_store::observation::{Order, OrderFilter, RecomputeSummary};
use cordon_store::quarantine::{NewQuarantineSite, SiteBoard};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: i64,
    pub incident_id: i64,
    pub person_id: i64,
    pub name: String,
    /// close_contact, secondary_contact, high_risk_area, medium_risk_area, inbound
    #[schema(schema_with = crate::api::enums::category)]
    pub category: String,
    pub last_exposure_at: DateTime<Utc>,
    pub rule_set: String,
    /// awaiting_transfer, awaiting_home, in_transit, centralized, home_quarantine, home_monitoring, released, case
    #[schema(schema_with = crate::api::enums::order_status)]
    pub status: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub found_on: Option<NaiveDate>,
    pub release_on: Option<NaiveDate>,
    pub centralized_until: Option<NaiveDate>,
    /// The planned test days (a day with 双采双检 ends in `*`).
    pub test_dates: Vec<String>,
    pub via_person_id: Option<i64>,
    pub site_id: Option<i64>,
    pub room_id: Option<i64>,
}

impl From<Order> for OrderView {
    fn from(o: Order) -> Self {
        OrderView {
            test_dates: o.test_dates.split(',').filter(|d| !d.is_empty()).map(str::to_string).collect(),
            id: o.id,
            incident_id: o.incident_id,
            person_id: o.person_id,
            name: o.name,
            category: o.category.to_string(),
            last_exposure_at: o.last_exposure_at,
            rule_set: o.rule_set,
            status: o.status.to_string(),
            area_code: o.area_code,
            found_on: o.found_on,
            release_on: o.release_on,
            centralized_until: o.centralized_until,
            via_person_id: o.via_person_id,
            site_id: o.site_id,
            room_id: o.room_id,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OrdersQuery {
    /// Only orders in this status.
    #[param(schema_with = crate::api::enums::order_status)]
    pub status: Option<String>,
    /// Only orders with a room at this site.
    pub site_id: Option<i64>,
    /// Only open orders whose release day is today or past.
    pub due: Option<bool>,
    /// Only people observed at home (home quarantine or home monitoring): the community's
    /// home list (居家观察名单).
    pub at_home: Option<bool>,
    /// Paging by key: the release day of the last order of the page before (with `after_id`).
    pub after_day: Option<chrono::NaiveDate>,
    pub after_id: Option<i64>,
    /// At most this many (default and most 5000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
}

fn status(field: &str, s: &str) -> ApiResult<Status> {
    s.parse::<Status>().map_err(|e| ApiError::bad_request(field, e))
}

/// Observation orders of people in the jurisdiction, by release day. Requires `quarantine.read`.
#[utoipa::path(get, path = "/api/v1/observation-orders", tag = "observation", params(OrdersQuery),
    responses((status = 200, body = [OrderView]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::QuarantineRead.as_str()))))]
pub async fn list_orders(caller: Caller, Query(q): Query<OrdersQuery>) -> ApiResult<Json<Vec<OrderView>>> {
    let filter = OrderFilter {
        status: q.status.as_deref().map(|s| status("status", s)).transpose()?,
        site_id: q.site_id,
        release_by: q.due.unwrap_or(false).then(|| cordon_domain::local_date(Utc::now())),
        at_home: q.at_home.unwrap_or(false),
        after: q.after_day.zip(q.after_id),
        limit: Some(super::page_limit(q.limit, 5000, 5000)?),
    };
    Ok(Json(caller.0.observation_orders(&filter).await?.into_iter().map(OrderView::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDetailView {
    #[serde(flatten)]
    pub order: OrderView,
    /// The schedule as computed now from the rule set and the tests taken (absent when the rule
    /// set no longer observes the category).
    #[schema(value_type = Object)]
    pub schedule: Option<cordon_domain::observation::Schedule>,
}

/// One order with its full schedule: stages, test days with results, release day. Requires
/// `quarantine.read`.
#[utoipa::path(get, path = "/api/v1/observation-orders/{id}", tag = "observation", params(("id" = i64, Path, description = "Order id")),
    responses((status = 200, body = OrderDetailView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::QuarantineRead.as_str()))))]
pub async fn order_detail(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<OrderDetailView>> {
    if caller.0.observation_order(id).await?.is_none() {
        return Err(ApiError::not_found(format!("no observation order {id}")));
    }
    let (order, schedule) = caller.0.order_schedule(id).await?;
    Ok(Json(OrderDetailView { order: order.into(), schedule }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusInput {
    pub status: String,
}

/// Moves an order (home_quarantine, home_monitoring, released, …; leaving a room checks the
/// person out of it). Requires `quarantine.write` (`transfer.write` for in_transit).
#[utoipa::path(post, path = "/api/v1/observation-orders/{id}/status", tag = "observation", params(("id" = i64, Path, description = "Order id")),
    request_body = StatusInput,
    responses((status = 200, body = OrderView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::QuarantineWrite.as_str()))))]
pub async fn move_order(caller: Caller, Path(id): Path<i64>, Json(input): Json<StatusInput>) -> ApiResult<Json<OrderView>> {
    let to = status("status", &input.status)?;
    Ok(Json(caller.0.set_order_status(id, to).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReleaseInput {
    pub order_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeldView {
    pub order_id: i64,
    pub name: String,
    /// What holds the person: period_running, test_missing, result_pending, positive,
    /// close_contact_tests, with their days or counts.
    #[schema(value_type = Vec<Object>)]
    pub blockers: Vec<cordon_domain::observation::schedule::Blocker>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefusedOrder {
    pub order_id: i64,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseView {
    pub released: Vec<OrderView>,
    /// Still held, with what holds them.
    pub not_yet: Vec<HeldView>,
    /// Not in the jurisdiction, or not in a status that is released.
    pub refused: Vec<RefusedOrder>,
}

/// Releases a batch (解除隔离): those whose period is over with every test negative go — out of
/// their room with a ride home when at a site; the others are named with what holds them.
/// Requires `quarantine.write`.
#[utoipa::path(post, path = "/api/v1/observation-orders/release", tag = "observation", request_body = ReleaseInput,
    responses((status = 200, body = ReleaseView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::QuarantineWrite.as_str()))))]
pub async fn release(caller: Caller, Json(input): Json<ReleaseInput>) -> ApiResult<Json<ReleaseView>> {
    let done = caller.0.release_orders(&input.order_ids).await?;
    Ok(Json(ReleaseView {
        released: done.released.into_iter().map(OrderView::from).collect(),
        not_yet: done.not_yet.into_iter().map(|(o, blockers)| HeldView { order_id: o.id, name: o.name, blockers }).collect(),
        refused: done.refused.into_iter().map(|(order_id, r)| RefusedOrder { order_id, reason: crate::i18n::in_english(&r) }).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HomeStartView {
    /// Now at home, in the stage their schedule puts today in.
    pub started: Vec<OrderView>,
    /// Not in the jurisdiction, not waiting at home, or whose plan puts today in a site.
    pub refused: Vec<RefusedOrder>,
}

/// Starts home quarantine for a batch waiting on the home list (开始居家隔离, `awaiting_home`):
/// each goes into the stage their schedule puts today in. Requires `quarantine.write`.
#[utoipa::path(post, path = "/api/v1/observation-orders/start-home", tag = "observation", request_body = ReleaseInput,
    responses((status = 200, body = HomeStartView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::QuarantineWrite.as_str()))))]
pub async fn start_home(caller: Caller, Json(input): Json<ReleaseInput>) -> ApiResult<Json<HomeStartView>> {
    let done = caller.0.start_home_observation(&input.order_ids).await?;
    Ok(Json(HomeStartView {
        started: done.started.into_iter().map(OrderView::from).collect(),
        refused: done.refused.into_iter().map(|(order_id, r)| RefusedOrder { order_id, reason: crate::i18n::in_english(&r) }).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HomeTestInput {
    /// The single tube scanned at the door.
    #[schema(pattern = r"^[0-9A-Za-z]{8,20}$")]
    pub barcode: String,
}

/// Takes today's test of a person observed at home, at their door (上门采样): the tube joins
/// the incident's single-tube round and its result comes back by the lab's usual paths.
/// Requires `quarantine.write`.
#[utoipa::path(post, path = "/api/v1/observation-orders/{id}/home-test", tag = "observation", params(("id" = i64, Path, description = "Order id")),
    request_body = HomeTestInput,
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::QuarantineWrite.as_str()))))]
pub async fn home_test(caller: Caller, Path(id): Path<i64>, Json(input): Json<HomeTestInput>) -> ApiResult<StatusCode> {
    let barcode = cordon_domain::Barcode::parse(input.barcode.trim())
        .map_err(|e| ApiError::bad_request("barcode", format!("{:?}: {e}", input.barcode)))?;
    caller.0.take_home_test(id, &barcode).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantineSiteView {
    pub id: i64,
    pub name: String,
    #[schema(schema_with = crate::api::enums::site_kind)]
    pub kind: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub address: String,
    pub head_name: String,
    pub head_phone: Option<String>,
    pub staff: i32,
    pub households_share: bool,
    pub rooms: i64,
    pub beds: i64,
    pub occupants: i64,
    pub free_rooms: i64,
    pub cleaning_rooms: i64,
    pub out_of_use_rooms: i64,
}

impl From<SiteBoard> for QuarantineSiteView {
    fn from(s: SiteBoard) -> Self {
        QuarantineSiteView {
            id: s.id,
            name: s.name,
            kind: s.kind.to_string(),
            area_code: s.area_code,
            address: s.address,
            head_name: s.head_name,
            head_phone: s.head_phone,
            staff: s.staff,
            households_share: s.households_share,
            rooms: s.rooms,
            beds: s.beds,
            occupants: s.occupants,
            free_rooms: s.free_rooms,
            cleaning_rooms: s.cleaning_rooms,
            out_of_use_rooms: s.out_of_use_rooms,
        }
    }
}

/// The bed board: every quarantine site in the jurisdiction with its rooms and beds. Requires
/// `quarantine.read`.
#[utoipa::path(get, path = "/api/v1/quarantine-sites", tag = "observation",
    responses((status = 200, body = [QuarantineSiteView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::QuarantineRead.as_str()))))]
pub async fn list_sites(caller: Caller) -> ApiResult<Json<Vec<QuarantineSiteView>>> {
    Ok(Json(caller.0.quarantine_board().await?.into_iter().map(QuarantineSiteView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewQuarantineSiteInput {
    pub name: String,
    /// hotel, dormitory, purpose_built, other
    #[schema(schema_with = crate::api::enums::site_kind)]
    pub kind: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub address: String,
    pub head_name: String,
    pub head_phone: Option<String>,
    pub staff: u32,
    #[serde(default)]
    pub households_share: bool,
    /// Rooms to add at once: one building, its floors first to last, rooms a floor, beds a room.
    pub building: Option<String>,
    pub first_floor: Option<i32>,
    pub last_floor: Option<i32>,
    pub rooms_per_floor: Option<u32>,
    pub beds: Option<u32>,
}

/// Registers a quarantine site, with its first building's rooms when given. Requires
/// `quarantine.write`.
#[utoipa::path(post, path = "/api/v1/quarantine-sites", tag = "observation", request_body = NewQuarantineSiteInput,
    responses((status = 201, body = QuarantineSiteView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::QuarantineWrite.as_str()))))]
pub async fn create_site(caller: Caller, Json(input): Json<NewQuarantineSiteInput>) -> ApiResult<(StatusCode, Json<QuarantineSiteView>)> {
    let new = NewQuarantineSite {
        name: input.name,
        kind: input
            .kind
            .parse::<SiteKind>()
            .map_err(|_| ApiError::refused(cordon_domain::refusal!("refused.unknown_site_kind", kind = input.kind)))?,
        area_code: parse_area("area_code", &input.area_code)?,
        address: input.address,
        head_name: input.head_name,
        head_phone: input.head_phone,
        staff: input.staff,
        households_share: input.households_share,
    };
    let site = caller.0.create_quarantine_site(&new).await?;
    if let (Some(first), Some(last), Some(rooms)) = (input.first_floor, input.last_floor, input.rooms_per_floor) {
        let floors = (first, last);
        let building = input.building.unwrap_or_else(|| "1".into());
        caller.0.add_rooms(site.id, &building, floors, rooms, input.beds.unwrap_or(1)).await?;
    }
    Ok((StatusCode::CREATED, Json(caller.0.quarantine_site(site.id).await?.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoomAssignInput {
    pub order_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignedView {
    pub assigned: Vec<AssignedRoom>,
    /// Orders given no room, each with why not.
    pub refused: Vec<RefusedOrder>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignedRoom {
    pub order_id: i64,
    /// The room's number at the site.
    pub room: String,
}

/// Rooms at the site for a batch of orders in one transaction. Requires `quarantine.write`.
#[utoipa::path(post, path = "/api/v1/quarantine-sites/{id}/assignments", tag = "observation", params(("id" = i64, Path, description = "Site id")),
    request_body = RoomAssignInput,
    responses((status = 200, body = AssignedView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::QuarantineWrite.as_str()))))]
pub async fn assign(caller: Caller, Path(id): Path<i64>, Json(input): Json<RoomAssignInput>) -> ApiResult<Json<AssignedView>> {
    let done = caller.0.assign_rooms(id, &input.order_ids).await?;
    Ok(Json(AssignedView {
        assigned: done.assigned.into_iter().map(|(order_id, room)| AssignedRoom { order_id, room }).collect(),
        refused: done.refused.into_iter().map(|(order_id, r)| RefusedOrder { order_id, reason: crate::i18n::in_english(&r) }).collect(),
    }))
}

/// Every rule set: the built-in ones, then edited copies. Requires `quarantine.read`.
#[utoipa::path(get, path = "/api/v1/rule-sets", tag = "observation",
    responses((status = 200, body = [Object]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::QuarantineRead.as_str()))))]
pub async fn list_rule_sets(caller: Caller) -> ApiResult<Json<serde_json::Value>> {
    let rules = caller.0.rule_sets().await?;
    Ok(Json(serde_json::to_value(rules).map_err(|e| ApiError::unprocessable(e.to_string()))?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleSetInput {
    pub rule_set: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecomputeView {
    pub orders: u64,
    pub release_later: u64,
    pub release_earlier: u64,
    pub unchanged: u64,
    pub stage_changed: u64,
    pub no_longer_observed: u64,
    /// Waiting or at home, now waiting for a transfer to a site.
    pub to_transfer: u64,
    /// Waiting for a transfer, now waiting to start at home.
    pub to_home: u64,
}

impl From<RecomputeSummary> for RecomputeView {
    fn from(s: RecomputeSummary) -> Self {
        RecomputeView {
            orders: s.orders,
            release_later: s.release_later,
            release_earlier: s.release_earlier,
            unchanged: s.unchanged,
            stage_changed: s.stage_changed,
            no_longer_observed: s.no_longer_observed,
            to_transfer: s.to_transfer,
            to_home: s.to_home,
        }
    }
}

/// Puts a rule set in force for an incident; every open schedule is recomputed and the answer
/// says what moved. Requires `command.write`.
#[utoipa::path(put, path = "/api/v1/incidents/{id}/rule-set", tag = "observation", params(("id" = i64, Path, description = "Incident id")),
    request_body = RuleSetInput,
    responses((status = 200, body = RecomputeView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn set_rule_set(caller: Caller, Path(id): Path<i64>, Json(input): Json<RuleSetInput>) -> ApiResult<Json<RecomputeView>> {
    Ok(Json(caller.0.set_incident_rule_set(id, &input.rule_set).await?.into()))
}
