//! Checkpoints over HTTP: registered, listed, and a passage decided and logged.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use cordon_domain::access::Permission;
use cordon_domain::checkpoints::{CheckpointKind, Decision, Direction};
use cordon_store::checkpoints::{Checkpoint, NewCheckpoint, Passage, PassageAsk};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointView {
    pub id: i64,
    pub name: String,
    /// road, highway_exit, village_entrance, zone_boundary, station
    #[schema(schema_with = crate::api::enums::checkpoint_kind)]
    pub kind: String,
    pub area_code: String,
    /// The zone it guards.
    pub zone_id: Option<i64>,
    /// Whether passing out here leaves the county.
    pub leaves_county: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Checkpoint> for CheckpointView {
    fn from(c: Checkpoint) -> Self {
        CheckpointView {
            id: c.id,
            name: c.name,
            kind: c.kind.to_string(),
            area_code: c.area_code,
            zone_id: c.zone_id,
            leaves_county: c.leaves_county,
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCheckpointInput {
    pub name: String,
    /// road, highway_exit, village_entrance, zone_boundary, station
    #[schema(schema_with = crate::api::enums::checkpoint_kind)]
    pub kind: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub zone_id: Option<i64>,
    #[serde(default)]
    pub leaves_county: bool,
}

/// Registers a checkpoint in the jurisdiction, optionally guarding a zone. Requires
/// `command.write`.
#[utoipa::path(post, path = "/api/v1/checkpoints", tag = "zones", request_body = NewCheckpointInput,
    responses((status = 201, body = CheckpointView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn create(caller: Caller, Json(input): Json<NewCheckpointInput>) -> ApiResult<(StatusCode, Json<CheckpointView>)> {
    let kind = input
        .kind
        .parse::<CheckpointKind>()
        .map_err(|_| ApiError::bad_field("kind", cordon_domain::refusal!("refused.checkpoint.unknown_kind", kind = input.kind)))?;
    let new = NewCheckpoint {
        name: input.name,
        kind,
        area_code: parse_area("area_code", &input.area_code)?,
        zone_id: input.zone_id,
        leaves_county: input.leaves_county,
    };
    Ok((StatusCode::CREATED, Json(caller.0.create_checkpoint(&new).await?.into())))
}

/// The checkpoints of the caller's jurisdiction. Requires `areas.read`.
#[utoipa::path(get, path = "/api/v1/checkpoints", tag = "zones",
    responses((status = 200, body = [CheckpointView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn list(caller: Caller) -> ApiResult<Json<Vec<CheckpointView>>> {
    Ok(Json(caller.0.checkpoints().await?.into_iter().map(CheckpointView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PassageInput {
    /// The identity number as scanned or typed.
    pub id_number: String,
    pub plate: Option<String>,
    /// in or out
    #[schema(schema_with = crate::api::enums::direction)]
    pub direction: String,
    /// An approved medical exit presented.
    #[serde(default)]
    pub medical_exit: bool,
    /// A negative test certificate within 48 hours shown (a test taken elsewhere).
    #[serde(default)]
    pub negative_certificate: bool,
    /// The sending device's id for this passage: sent again, it is logged once and answered as
    /// first decided (an offline phone replaying its queue).
    #[schema(max_length = 100)]
    pub client_id: Option<String>,
    /// When the person passed, for a passage the device kept while offline: at most 48 hours
    /// back, not in the future. Logged at that time (the time it reached the server kept
    /// beside it); now when absent.
    pub passed_at: Option<DateTime<Utc>>,
    /// When the device sent it, on the same clock as `passed_at`: the device's clock error then
    /// cancels (logged at now minus the time it was kept).
    pub sent_at: Option<DateTime<Utc>>,
    /// Kept on the device while offline (the officer decided by hand): logged as such.
    #[serde(default)]
    pub kept_offline: bool,
    /// What the officer did at the booth with a passage kept offline, having checked the code
    /// and papers by hand (pass, register or refuse): logged beside the rules' decision, which
    /// the log flags where the two part. Only with `kept_offline`.
    #[schema(schema_with = crate::api::enums::decision_or_null)]
    pub by_hand: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WhyView {
    #[schema(schema_with = crate::api::enums::decision_code)]
    pub code: String,
    /// The decision this reason gives.
    #[schema(schema_with = crate::api::enums::decision)]
    pub decision: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PassageView {
    pub id: i64,
    /// pass, register (pass once registered) or refuse
    #[schema(schema_with = crate::api::enums::decision)]
    pub decision: String,
    /// The strictest first.
    pub reasons: Vec<WhyView>,
    /// The person, when the number is in the register.
    pub person_id: Option<i64>,
    pub name: Option<String>,
    /// Their health code's colour at the moment.
    #[schema(schema_with = crate::api::enums::code_colour_or_null)]
    pub colour: Option<String>,
    pub passed_at: DateTime<Utc>,
    /// What the officer did at the booth, for a passage kept offline and checked by hand.
    #[schema(schema_with = crate::api::enums::decision_or_null)]
    pub by_hand: Option<String>,
}

impl From<Passage> for PassageView {
    fn from(p: Passage) -> Self {
        PassageView {
            id: p.id,
            decision: p.decision.to_string(),
            reasons: p
                .reasons
                .into_iter()
                .map(|w| WhyView { code: w.code.to_string(), decision: w.decision.to_string(), zh: w.zh, en: w.en })
                .collect(),
            person_id: p.person.as_ref().map(|x| x.id),
            name: p.person.map(|x| x.name),
            colour: p.code.map(|c| c.colour.to_string()),
            passed_at: p.passed_at,
            by_hand: p.by_hand.map(|d| d.to_string()),
        }
    }
}

/// Decides one person's passage — pass, register or refuse, with every reason — and logs it.
/// Requires `checkpoint.write` at a checkpoint of the jurisdiction.
#[utoipa::path(post, path = "/api/v1/checkpoints/{id}/passages", tag = "zones", params(("id" = i64, Path, description = "Checkpoint id")),
    request_body = PassageInput,
    responses((status = 200, body = PassageView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CheckpointWrite.as_str()))))]
pub async fn pass(caller: Caller, Path(id): Path<i64>, Json(input): Json<PassageInput>) -> ApiResult<Json<PassageView>> {
    let direction = input.direction.parse::<Direction>().map_err(|_| {
        ApiError::bad_field("direction", cordon_domain::refusal!("refused.checkpoint.unknown_direction", direction = input.direction))
    })?;
    let by_hand = input
        .by_hand
        .as_deref()
        .map(|d| {
            d.parse::<Decision>()
                .map_err(|_| ApiError::bad_field("by_hand", cordon_domain::refusal!("refused.checkpoint.unknown_decision", decision = d)))
        })
        .transpose()?;
    let ask = PassageAsk {
        id_number: input.id_number,
        plate: input.plate,
        direction,
        medical_exit: input.medical_exit,
        negative_certificate: input.negative_certificate,
        client_id: input.client_id,
        passed_at: input.passed_at.map(|at| cordon_domain::checkpoints::phone_time(at, input.sent_at, Utc::now())),
        kept_offline: input.kept_offline,
        by_hand,
    };
    Ok(Json(caller.0.record_passage(id, &ask).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ShiftInput {
    pub starts_at: DateTime<Utc>,
    /// After the start, within 24 hours of it.
    pub ends_at: DateTime<Utc>,
    pub lead: String,
    pub phone: Option<String>,
    /// Everyone on duty, names separated by commas.
    #[serde(default)]
    pub staff: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShiftView {
    pub id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub lead: String,
    pub phone: Option<String>,
    pub staff: String,
}

impl From<cordon_store::checkpoints::Shift> for ShiftView {
    fn from(s: cordon_store::checkpoints::Shift) -> Self {
        ShiftView { id: s.id, starts_at: s.starts_at, ends_at: s.ends_at, lead: s.lead, phone: s.phone, staff: s.staff }
    }
}

/// Adds a duty shift to a checkpoint's roster; audited. Requires `checkpoint.write` or
/// `command.write` at a checkpoint of the jurisdiction.
#[utoipa::path(post, path = "/api/v1/checkpoints/{id}/shifts", tag = "zones", params(("id" = i64, Path, description = "Checkpoint id")),
    request_body = ShiftInput,
    responses((status = 201, body = ShiftView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CheckpointWrite.as_str()))))]
pub async fn add_shift(caller: Caller, Path(id): Path<i64>, Json(input): Json<ShiftInput>) -> ApiResult<(StatusCode, Json<ShiftView>)> {
    let new = cordon_store::checkpoints::NewShift {
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        lead: input.lead,
        phone: input.phone,
        staff: input.staff,
    };
    Ok((StatusCode::CREATED, Json(caller.0.add_shift(id, &new).await?.into())))
}

/// Takes a shift off a checkpoint's roster (typed wrong, or the team changed): one not yet
/// started is removed, one under way is ended now (the roster keeps who was on duty until
/// then), one ended is refused. Audited with what it was; answers the shift as it was. Requires `checkpoint.write` or `command.write` at a
/// checkpoint of the jurisdiction.
#[utoipa::path(delete, path = "/api/v1/checkpoints/{id}/shifts/{shift_id}", tag = "zones",
    params(("id" = i64, Path, description = "Checkpoint id"), ("shift_id" = i64, Path, description = "Shift id")),
    responses((status = 200, body = ShiftView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem, description = "The shift has ended")),
    extensions(("x-permission" = json!(Permission::CheckpointWrite.as_str()))))]
pub async fn remove_shift(caller: Caller, Path((id, shift_id)): Path<(i64, i64)>) -> ApiResult<Json<ShiftView>> {
    Ok(Json(caller.0.remove_shift(id, shift_id).await?.into()))
}

/// A checkpoint's duty shifts from twelve hours ago on. Requires `areas.read` inside the
/// jurisdiction.
#[utoipa::path(get, path = "/api/v1/checkpoints/{id}/shifts", tag = "zones", params(("id" = i64, Path, description = "Checkpoint id")),
    responses((status = 200, body = Vec<ShiftView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn shifts(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Vec<ShiftView>>> {
    Ok(Json(caller.0.shifts(id).await?.into_iter().map(ShiftView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ArrivalInput {
    pub name: String,
    pub phone: Option<String>,
    /// Where they came from, as said at the booth.
    pub from_place: String,
    /// high, medium or low: the risk of that place.
    #[schema(schema_with = crate::api::enums::origin_risk)]
    pub from_risk: String,
    /// The village or community they are going to (a code of the jurisdiction).
    pub area_code: String,
    pub address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArrivalView {
    pub id: i64,
    pub passage_id: i64,
    /// Now in the register.
    pub person_id: i64,
    /// The observation order given for a risk area.
    pub order_id: Option<i64>,
    /// Where that order waits: awaiting_transfer (a site) or awaiting_home.
    pub order_status: Option<String>,
}

/// Registers an arrival from outside the county whom a passage found not in the register: put
/// in the register under the resident id scanned and, from a high- or medium-risk area, given
/// the observation the incident's rules set for such travellers. Requires `checkpoint.write`.
#[utoipa::path(post, path = "/api/v1/checkpoints/{id}/passages/{passage_id}/arrival", tag = "zones",
    params(("id" = i64, Path, description = "Checkpoint id"), ("passage_id" = i64, Path, description = "The passage that found them")),
    request_body = ArrivalInput,
    responses((status = 201, body = ArrivalView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CheckpointWrite.as_str()))))]
pub async fn register_arrival(
    caller: Caller,
    Path((id, passage_id)): Path<(i64, i64)>,
    Json(input): Json<ArrivalInput>,
) -> ApiResult<(StatusCode, Json<ArrivalView>)> {
    let from_risk = input
        .from_risk
        .parse::<cordon_domain::checkpoints::OriginRisk>()
        .map_err(|_| ApiError::bad_request("from_risk", format!("{:?} is not high, medium or low", input.from_risk)))?;
    let new = cordon_store::checkpoints::NewArrival {
        name: input.name,
        phone: input.phone,
        from_place: input.from_place,
        from_risk,
        area_code: parse_area("area_code", &input.area_code)?,
        address: input.address,
    };
    let a = caller.0.register_arrival(id, passage_id, &new).await?;
    Ok((
        StatusCode::CREATED,
        Json(ArrivalView {
            id: a.id,
            passage_id: a.passage_id,
            person_id: a.person_id,
            order_id: a.order.map(|(o, _)| o),
            order_status: a.order.map(|(_, s)| s.to_string()),
        }),
    ))
}
