//! The hotline over HTTP: a call taken as a ticket (or joined to its open one), the boards,
//! each step on a ticket (dispatch, sign, send back, handle, call back, close, reopen, 加派 and
//! the added unit's part, 督办), a supplies ticket's supply request, the day's counts and the
//! clocks.

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::access::Permission;
use cordon_domain::hotline::{Channel, Satisfaction, TicketCategory, Urgency};
use cordon_store::hotline::{Act, ExtraUnit, LimitRow, NewTicket, Ticket, TicketCount, TicketEvent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse_area;
use crate::api::supplies::{RequestLineInput, SupplyRequestView, parse_enum};
use crate::auth::Caller;
use crate::error::{ApiResult, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    pub id: i64,
    #[schema(schema_with = crate::api::enums::ticket_channel)]
    pub channel: String,
    #[schema(schema_with = crate::api::enums::ticket_category)]
    pub category: String,
    #[schema(schema_with = crate::api::enums::ticket_urgency)]
    pub urgency: String,
    pub caller: String,
    /// In full for those who call back or go to the door, masked (`139****5678`) otherwise.
    pub phone: String,
    pub address: String,
    /// The area the address resolved to.
    pub area_code: String,
    /// The village or township answering it (none until the centre dispatches one above a
    /// township).
    pub unit_area: Option<String>,
    pub content: String,
    /// The step it waits for.
    #[schema(schema_with = crate::api::enums::ticket_status)]
    pub status: String,
    /// When the step it waits for is due (none once closed).
    pub due_at: Option<DateTime<Utc>>,
    /// Its step's clock has run out.
    pub overdue: bool,
    /// Calls about it (a repeat call joins its open ticket).
    pub calls: i64,
    pub accepted_at: DateTime<Utc>,
    pub accepted_by: String,
    pub signed_at: Option<DateTime<Utc>>,
    pub handled_at: Option<DateTime<Utc>>,
    /// What the unit did.
    pub result: String,
    pub called_back_at: Option<DateTime<Utc>>,
    #[schema(schema_with = crate::api::enums::ticket_satisfaction_or_null)]
    pub satisfaction: Option<String>,
    pub callback_note: String,
    pub closed_at: Option<DateTime<Utc>>,
    /// 督办: when, and what the centre said.
    pub supervised_at: Option<DateTime<Utc>>,
    pub supervise_note: String,
    /// Why the unit sent it back (while sent back).
    pub return_reason: String,
    pub reopened: i64,
    /// The supply request a supplies ticket raised.
    pub supply_request_id: Option<i64>,
    /// The transfer to hospital a medical-need ticket raised (on the dispatch board).
    pub transfer_id: Option<i64>,
}

impl From<Ticket> for TicketView {
    fn from(t: Ticket) -> Self {
        TicketView {
            overdue: t.overdue(Utc::now()),
            id: t.id,
            channel: t.channel.to_string(),
            category: t.category.to_string(),
            urgency: t.urgency.to_string(),
            caller: t.caller,
            phone: t.phone,
            address: t.address,
            area_code: t.area_code,
            unit_area: t.unit_area,
            content: t.content,
            status: t.status.to_string(),
            due_at: t.due_at,
            calls: t.calls,
            accepted_at: t.accepted_at,
            accepted_by: t.accepted_by,
            signed_at: t.signed_at,
            handled_at: t.handled_at,
            result: t.result,
            called_back_at: t.called_back_at,
            satisfaction: t.satisfaction,
            callback_note: t.callback_note,
            closed_at: t.closed_at,
            supervised_at: t.supervised_at,
            supervise_note: t.supervise_note,
            return_reason: t.return_reason,
            reopened: t.reopened,
            supply_request_id: t.supply_request_id,
            transfer_id: t.transfer_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TakenView {
    pub ticket: TicketView,
    /// The call joined an open ticket of the same phone and category (a repeat call).
    pub joined: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketEventView {
    #[schema(schema_with = crate::api::enums::ticket_act)]
    pub act: String,
    /// Where the ticket stood after it.
    #[schema(schema_with = crate::api::enums::ticket_status)]
    pub status: String,
    pub unit_area: Option<String>,
    pub note: String,
    pub at: DateTime<Utc>,
    pub actor: String,
}

impl From<TicketEvent> for TicketEventView {
    fn from(e: TicketEvent) -> Self {
        TicketEventView {
            act: e.act.to_string(),
            status: e.status.to_string(),
            unit_area: e.unit_area,
            note: e.note,
            at: e.at,
            actor: e.actor,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddedUnitView {
    pub unit_area: String,
    pub note: String,
    pub added_at: DateTime<Utc>,
    pub added_by: String,
    pub due_at: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub handled_at: Option<DateTime<Utc>>,
    pub result: String,
}

impl From<ExtraUnit> for AddedUnitView {
    fn from(u: ExtraUnit) -> Self {
        AddedUnitView {
            unit_area: u.unit_area,
            note: u.note,
            added_at: u.added_at,
            added_by: u.added_by,
            due_at: u.due_at,
            signed_at: u.signed_at,
            handled_at: u.handled_at,
            result: u.result,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDetailView {
    pub ticket: TicketView,
    /// Each act on it, the first first.
    pub events: Vec<TicketEventView>,
    /// The units added to it (加派), each with its part.
    pub units: Vec<AddedUnitView>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTicketInput {
    #[schema(schema_with = crate::api::enums::ticket_channel)]
    pub channel: String,
    #[schema(schema_with = crate::api::enums::ticket_category)]
    pub category: String,
    #[schema(schema_with = crate::api::enums::ticket_urgency)]
    pub urgency: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub caller: String,
    /// A mobile number or a landline with its area code.
    #[schema(max_length = 30)]
    pub phone: String,
    #[schema(max_length = 2000)]
    pub address: String,
    /// The village (or township) the address is in.
    #[schema(pattern = r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")]
    pub area_code: String,
    /// What the caller needs, in their words.
    #[schema(max_length = 2000)]
    pub content: String,
    /// Makes a retry safe: the same id answers the ticket it made.
    #[schema(max_length = 100)]
    pub client_id: Option<String>,
}

/// Takes a call in an area of the jurisdiction: a ticket dispatched at once to the village or
/// township of its area (201), or — the same phone and category within a day, the ticket still
/// open — the call joined to that ticket (200). Requires `hotline.write`.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "hotline", request_body = NewTicketInput,
    responses((status = 201, body = TakenView), (status = 200, body = TakenView, description = "A repeat call joined its open ticket"),
              (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::HotlineWrite.as_str()))))]
pub async fn take_call(caller: Caller, Json(input): Json<NewTicketInput>) -> ApiResult<(StatusCode, Json<TakenView>)> {
    let new = NewTicket {
        channel: parse_enum::<Channel>("channel", &input.channel)?,
        category: parse_enum::<TicketCategory>("category", &input.category)?,
        urgency: parse_enum::<Urgency>("urgency", &input.urgency)?,
        caller: input.caller,
        phone: input.phone,
        address: input.address,
        area_code: parse_area("area_code", &input.area_code)?,
        content: input.content,
        client_id: input.client_id,
    };
    let taken = caller.0.take_call(&new).await?;
    let status = if taken.joined { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(TakenView { ticket: taken.ticket.into(), joined: taken.joined })))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TicketsQuery {
    /// Every ticket of the jurisdiction, the newest first, instead of the open ones.
    pub all: Option<bool>,
    /// With `all`: those before this id (the next page).
    pub before: Option<i64>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
}

/// The board: the open tickets, the soonest due (the overdue) first — the centre's, or for a
/// community worker the tickets sent or added to the units of their jurisdiction; or with
/// `all`, every ticket of the jurisdiction, the newest first. Requires `hotline.read`.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "hotline", params(TicketsQuery),
    responses((status = 200, body = [TicketView]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::HotlineRead.as_str()))))]
pub async fn list_tickets(caller: Caller, Query(q): Query<TicketsQuery>) -> ApiResult<Json<Vec<TicketView>>> {
    let limit = i64::from(super::page_limit(q.limit, 100, 500)?);
    let list = if q.all.unwrap_or(false) { caller.0.tickets_recent(q.before, limit).await? } else { caller.0.ticket_board(limit).await?.1 };
    Ok(Json(list.into_iter().map(TicketView::from).collect()))
}

/// A ticket with its history and its added units. Requires `hotline.read`.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDetailView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::HotlineRead.as_str()))))]
pub async fn ticket_detail(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<TicketDetailView>> {
    let d = caller.0.ticket(id).await?;
    Ok(Json(TicketDetailView {
        ticket: d.ticket.into(),
        events: d.events.into_iter().map(TicketEventView::from).collect(),
        units: d.units.into_iter().map(AddedUnitView::from).collect(),
    }))
}

async fn act(caller: &Caller, id: i64, act: Act) -> ApiResult<Json<TicketView>> {
    Ok(Json(caller.0.act_on_ticket(id, &act).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UnitInput {
    /// A village or township of the jurisdiction.
    #[schema(pattern = r"^\d{9}(\d{3})?$")]
    pub unit_area: String,
    /// For an added unit: what its part is.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonInput {
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResultInput {
    /// What was done.
    #[schema(min_length = 1, max_length = 2000)]
    pub result: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CallbackInput {
    #[schema(schema_with = crate::api::enums::ticket_satisfaction)]
    pub satisfaction: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SuperviseInput {
    #[schema(min_length = 1, max_length = 2000)]
    pub note: String,
}

/// Dispatches a ticket (accepted, sent back, or to another unit) to a village or township of
/// the jurisdiction; its clock to be signed for starts again. Requires `hotline.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/dispatch", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    request_body = UnitInput, responses((status = 200, body = TicketView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), extensions(("x-permission" = json!(Permission::HotlineWrite.as_str()))))]
pub async fn dispatch(caller: Caller, Path(id): Path<i64>, Json(input): Json<UnitInput>) -> ApiResult<Json<TicketView>> {
    act(&caller, id, Act::Dispatch { unit: parse_area("unit_area", &input.unit_area)? }).await
}

/// The unit signs for a ticket sent to it (签收). Requires `community.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/sign", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), extensions(("x-permission" = json!(Permission::CommunityWrite.as_str()))))]
pub async fn sign(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<TicketView>> {
    act(&caller, id, Act::Sign).await
}

/// The unit sends a ticket back to the centre, saying why (not theirs to solve). Requires
/// `community.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/send-back", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    request_body = ReasonInput, responses((status = 200, body = TicketView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), extensions(("x-permission" = json!(Permission::CommunityWrite.as_str()))))]
pub async fn send_back(caller: Caller, Path(id): Path<i64>, Json(input): Json<ReasonInput>) -> ApiResult<Json<TicketView>> {
    act(&caller, id, Act::SendBack { reason: input.reason }).await
}

/// The unit reports what it did (处置). Requires `community.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/handle", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    request_body = ResultInput, responses((status = 200, body = TicketView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), extensions(("x-permission" = json!(Permission::CommunityWrite.as_str()))))]
pub async fn handle(caller: Caller, Path(id): Path<i64>, Json(input): Json<ResultInput>) -> ApiResult<Json<TicketView>> {
    act(&caller, id, Act::Handle { result: input.result }).await
}

/// The centre calls the caller back (回访) and records what they said. Requires
/// `hotline.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/callback", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    request_body = CallbackInput, responses((status = 200, body = TicketView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), extensions(("x-permission" = json!(Permission::HotlineWrite.as_str()))))]
pub async fn callback(caller: Caller, Path(id): Path<i64>, Json(input): Json<CallbackInput>) -> ApiResult<Json<TicketView>> {
    let satisfaction: Satisfaction = parse_enum("satisfaction", &input.satisfaction)?;
    act(&caller, id, Act::CallBack { satisfaction, note: input.note }).await
}

/// Closes a ticket called back (结案). Requires `hotline.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/close", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), extensions(("x-permission" = json!(Permission::HotlineWrite.as_str()))))]
pub async fn close(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<TicketView>> {
    act(&caller, id, Act::Close).await
}

/// Reopens a ticket handled, called back or closed, saying why: back to its unit to sign for
/// again. Requires `hotline.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/reopen", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    request_body = ReasonInput, responses((status = 200, body = TicketView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), extensions(("x-permission" = json!(Permission::HotlineWrite.as_str()))))]
pub async fn reopen(caller: Caller, Path(id): Path<i64>, Json(input): Json<ReasonInput>) -> ApiResult<Json<TicketView>> {
    act(&caller, id, Act::Reopen { reason: input.reason }).await
}

/// Supervises an open ticket (督办), with what the centre says. Requires `hotline.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/supervise", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    request_body = SuperviseInput, responses((status = 200, body = TicketView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), extensions(("x-permission" = json!(Permission::HotlineWrite.as_str()))))]
pub async fn supervise(caller: Caller, Path(id): Path<i64>, Json(input): Json<SuperviseInput>) -> ApiResult<Json<TicketView>> {
    act(&caller, id, Act::Supervise { note: input.note }).await
}

/// Adds a second unit to an open ticket (加派): it signs for and handles its own part.
/// Requires `hotline.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/units", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    request_body = UnitInput, responses((status = 200, body = TicketView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)), extensions(("x-permission" = json!(Permission::HotlineWrite.as_str()))))]
pub async fn add_unit(caller: Caller, Path(id): Path<i64>, Json(input): Json<UnitInput>) -> ApiResult<Json<TicketView>> {
    act(&caller, id, Act::AddUnit { unit: parse_area("unit_area", &input.unit_area)?, note: input.note }).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PartInput {
    /// Empty or absent to sign for the part; what was done to report it handled.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub result: Option<String>,
}

/// An added unit signs for its part (no `result`), or reports it handled (with `result`).
/// Requires `community.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/units/{unit}", tag = "hotline",
    params(("id" = i64, Path, description = "Ticket id"), ("unit" = String, Path, description = "The added unit's area code")),
    request_body = PartInput,
    responses((status = 200, body = TicketDetailView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommunityWrite.as_str()))))]
pub async fn unit_part(
    caller: Caller,
    Path((id, unit)): Path<(i64, String)>,
    Json(input): Json<PartInput>,
) -> ApiResult<Json<TicketDetailView>> {
    let unit = parse_area("unit", &unit)?;
    let result = input.result.as_deref().filter(|r| !r.trim().is_empty());
    caller.0.act_as_added_unit(id, &unit, result).await?;
    ticket_detail(caller, Path(id)).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TicketRequestInput {
    #[schema(schema_with = crate::api::enums::supply_priority)]
    pub priority: String,
    pub needed_by: DateTime<Utc>,
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<RequestLineInput>,
}

/// Raises a supply request from a supplies ticket: to the caller's address, with their name
/// and phone, the ticket named in it. Requires `hotline.read`, and `hotline.write` or
/// `community.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/supply-request", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    request_body = TicketRequestInput,
    responses((status = 201, body = SupplyRequestView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!([Permission::HotlineRead.as_str(), Permission::HotlineWrite.as_str()]))))]
pub async fn raise_request(
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<TicketRequestInput>,
) -> ApiResult<(StatusCode, Json<SupplyRequestView>)> {
    let priority = parse_enum("priority", &input.priority)?;
    let lines = input.lines.iter().map(|l| (l.item_id, l.quantity)).collect();
    let r = caller.0.raise_supply_request(id, lines, input.needed_by, priority).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TicketTransferInput {
    /// A hospital serving the jurisdiction.
    pub hospital_id: i64,
}

/// Sends a car for a medical-need or green-channel ticket: a transfer from the caller's address
/// to the hospital, planned on the dispatch board (a vehicle is assigned there), due within 2
/// hours; the ticket names it. Requires `hotline.read`, and `hotline.write` or
/// `community.write`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/transfer", tag = "hotline", params(("id" = i64, Path, description = "Ticket id")),
    request_body = TicketTransferInput,
    responses((status = 200, body = TicketView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!([Permission::HotlineRead.as_str(), Permission::HotlineWrite.as_str()]))))]
pub async fn raise_transfer(caller: Caller, Path(id): Path<i64>, Json(input): Json<TicketTransferInput>) -> ApiResult<Json<TicketView>> {
    caller.0.raise_ticket_transfer(id, input.hospital_id).await?;
    Ok(Json(caller.0.ticket(id).await?.ticket.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CountsQuery {
    /// The day the tickets were taken (local); today when absent.
    pub day: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketCountView {
    #[schema(schema_with = crate::api::enums::ticket_category)]
    pub category: String,
    #[schema(schema_with = crate::api::enums::ticket_status)]
    pub status: String,
    pub n: i64,
}

impl From<TicketCount> for TicketCountView {
    fn from(c: TicketCount) -> Self {
        TicketCountView { category: c.category.to_string(), status: c.status.to_string(), n: c.n }
    }
}

/// The tickets taken on a day in the jurisdiction, by category and where they stand now (for
/// the daily report). Requires `hotline.read`.
#[utoipa::path(get, path = "/api/v1/hotline/counts", tag = "hotline", params(CountsQuery),
    responses((status = 200, body = [TicketCountView]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::HotlineRead.as_str()))))]
pub async fn counts(caller: Caller, Query(q): Query<CountsQuery>) -> ApiResult<Json<Vec<TicketCountView>>> {
    let day = q.day.unwrap_or_else(|| cordon_domain::local_date(Utc::now()));
    Ok(Json(caller.0.ticket_counts(day).await?.into_iter().map(TicketCountView::from).collect()))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LimitView {
    #[schema(schema_with = crate::api::enums::ticket_category)]
    pub category: String,
    #[schema(schema_with = crate::api::enums::ticket_urgency)]
    pub urgency: String,
    /// Minutes to sign for a ticket once dispatched (and to dispatch one accepted).
    #[schema(minimum = 5, maximum = 43200)]
    pub sign_minutes: i64,
    /// Minutes to handle it once signed for.
    #[schema(minimum = 5, maximum = 43200)]
    pub handle_minutes: i64,
    /// Minutes to call the caller back once handled.
    #[schema(minimum = 5, maximum = 43200)]
    pub callback_minutes: i64,
    /// Set by the headquarters (the default otherwise); ignored when sent.
    #[serde(default)]
    pub configured: bool,
}

/// The clocks of each category and urgency. Requires `hotline.read`.
#[utoipa::path(get, path = "/api/v1/hotline/limits", tag = "hotline",
    responses((status = 200, body = [LimitView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::HotlineRead.as_str()))))]
pub async fn limits(caller: Caller) -> ApiResult<Json<Vec<LimitView>>> {
    Ok(Json(
        caller
            .0
            .hotline_limits()
            .await?
            .into_iter()
            .map(|r| LimitView {
                category: r.category.to_string(),
                urgency: r.urgency.to_string(),
                sign_minutes: r.sign_minutes,
                handle_minutes: r.handle_minutes,
                callback_minutes: r.callback_minutes,
                configured: r.configured,
            })
            .collect(),
    ))
}

/// Sets the clocks of a category and urgency, for every ticket: each step begun from now on runs
/// on them. Requires `hotline.write` over a whole county, or `command.write`.
#[utoipa::path(put, path = "/api/v1/hotline/limits", tag = "hotline", request_body = LimitView,
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::HotlineWrite.as_str()))))]
pub async fn set_limits(caller: Caller, Json(input): Json<LimitView>) -> ApiResult<StatusCode> {
    let row = LimitRow {
        category: parse_enum("category", &input.category)?,
        urgency: parse_enum("urgency", &input.urgency)?,
        sign_minutes: input.sign_minutes,
        handle_minutes: input.handle_minutes,
        callback_minutes: input.callback_minutes,
        configured: true,
    };
    caller.0.set_hotline_limits(&row).await?;
    Ok(StatusCode::NO_CONTENT)
}
