//! Checkpoints over HTTP: registered, listed, and a passage decided and logged.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use cordon_domain::access::Permission;
use cordon_domain::checkpoints::{CheckpointKind, Direction};
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
    let ask = PassageAsk {
        id_number: input.id_number,
        plate: input.plate,
        direction,
        medical_exit: input.medical_exit,
        negative_certificate: input.negative_certificate,
    };
    Ok(Json(caller.0.record_passage(id, &ask).await?.into()))
}
