//! Registration at the station over HTTP: tubes opened, scans, seals, and a batch path for
//! station devices. Station refusals answer 409 with a `kind` and what to do.

use axum::Json;
use axum::extract::Path;
use cordon_domain::access::Permission;

use chrono::{DateTime, Utc};
use cordon_domain::refusal::Refusal;
use cordon_domain::testing::pooling::SamplingGroup;
use cordon_domain::{Barcode, ResidentId};
use cordon_store::station::{Scanned, Tube};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenTubeInput {
    #[schema(pattern = r"^[0-9A-Za-z]{8,20}$")]
    pub barcode: String,
    pub site_id: i64,
    /// resident (default), quarantine_site, key_group or retest — the last three are sampled alone;
    /// a retest tube re-samples a recalled member of a positive pool within the same round.
    #[schema(schema_with = crate::api::enums::sampling_group)]
    pub group: Option<String>,
    pub station: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TubeView {
    pub id: i64,
    #[schema(pattern = r"^[0-9A-Za-z]{8,20}$")]
    pub barcode: String,
    pub site_id: i64,
    /// e.g. {"kind": "people", "size": 10} or {"kind": "household"}
    #[schema(value_type = Object)]
    pub pool: cordon_domain::testing::pooling::PoolSize,
    pub members: i32,
    pub opened_at: DateTime<Utc>,
    pub sealed_at: Option<DateTime<Utc>>,
    /// A single tube re-sampling a recalled member of a positive pool.
    pub retest: bool,
}

impl From<Tube> for TubeView {
    fn from(t: Tube) -> Self {
        TubeView {
            id: t.id,
            barcode: t.barcode,
            site_id: t.site_id,
            pool: t.pool,
            members: t.members,
            opened_at: t.opened_at,
            sealed_at: t.sealed_at,
            retest: t.retest,
        }
    }
}

fn barcode(field: &str, s: &str) -> ApiResult<Barcode> {
    Barcode::parse(s).map_err(|e| ApiError::bad_field(field, cordon_domain::refusal::Refusal::from(e).with("barcode", s.trim())))
}

fn group(s: Option<&str>) -> ApiResult<SamplingGroup> {
    Ok(match s {
        None | Some("resident") => SamplingGroup::Resident,
        Some("quarantine_site") => SamplingGroup::QuarantineSite,
        Some("key_group") => SamplingGroup::KeyGroup,
        Some("retest") => SamplingGroup::Retest,
        Some(other) => {
            return Err(ApiError::bad_request("group", format!("unknown group {other:?} (resident, quarantine_site, key_group, retest)")));
        }
    })
}

/// Opens a tube at a station by its barcode; opening it again at the same site answers the same
/// tube. Requires `testing.write`.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/tubes", tag = "testing", params(("id" = i64, Path, description = "Round id")),
    request_body = OpenTubeInput,
    responses((status = 200, body = TubeView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 409, body = Problem, description = "barcode used elsewhere")),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn open_tube(caller: Caller, Path(id): Path<i64>, Json(input): Json<OpenTubeInput>) -> ApiResult<Json<TubeView>> {
    let code = barcode("barcode", &input.barcode)?;
    let group = group(input.group.as_deref())?;
    Ok(Json(caller.0.open_tube(id, input.site_id, &code, group, input.station).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ScanInput {
    /// The person's resident id as read from the card (or `person_id`).
    pub resident_id: Option<String>,
    pub person_id: Option<i64>,
    /// An id the station made for this scan; a retry with the same id is recognised.
    pub client_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScanView {
    pub tube: TubeView,
    /// {"open": {"remaining": n}} or "sealed"
    #[schema(value_type = Object)]
    pub after: cordon_domain::testing::station::AfterScan,
    /// True when this scan had been recorded before (a retry): nothing changed.
    pub repeat: bool,
}

impl From<Scanned> for ScanView {
    fn from(s: Scanned) -> Self {
        ScanView { tube: s.tube.into(), after: s.after, repeat: s.repeat }
    }
}

/// Scans a person into an open tube. Requires `testing.write`. Refusals (tube full or sealed,
/// already sampled in this round — with where and when —, another household) answer 409.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/tubes/{barcode}/samples", tag = "testing",
    params(("id" = i64, Path, description = "Round id"), ("barcode" = String, Path, description = "Tube barcode", pattern = r"^[0-9A-Za-z]{8,20}$")),
    request_body = ScanInput,
    responses((status = 200, body = ScanView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem, description = "unknown tube or person"), (status = 409, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn scan(caller: Caller, Path((id, code)): Path<(i64, String)>, Json(input): Json<ScanInput>) -> ApiResult<Json<ScanView>> {
    let code = barcode("barcode", &code)?;
    let person_id = match (input.person_id, input.resident_id.as_deref()) {
        (Some(p), _) => p,
        (None, Some(rid)) => {
            let rid = ResidentId::parse(rid).map_err(|e| ApiError::bad_field("resident_id", e.into()))?;
            caller.0.person_id_by_resident_id(&rid).await?.ok_or_else(|| {
                ApiError::refused(
                    Refusal::missing("refused.unknown_resident").with("resident", rid.masked()).with("resident_id", rid.as_str()),
                )
            })?
        }
        (None, None) => return Err(ApiError::bad_request("resident_id", "send resident_id or person_id")),
    };
    Ok(Json(caller.0.scan(id, &code, person_id, input.client_id.as_deref()).await?.into()))
}

/// Seals a tube before it is full. Requires `testing.write`.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/tubes/{barcode}/close", tag = "testing",
    params(("id" = i64, Path, description = "Round id"), ("barcode" = String, Path, description = "Tube barcode", pattern = r"^[0-9A-Za-z]{8,20}$")),
    responses((status = 200, body = TubeView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn close_tube(caller: Caller, Path((id, code)): Path<(i64, String)>) -> ApiResult<Json<TubeView>> {
    let code = barcode("barcode", &code)?;
    Ok(Json(caller.0.close_tube(id, &code).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchTubeInput {
    #[schema(pattern = r"^[0-9A-Za-z]{8,20}$")]
    pub barcode: String,
    pub site_id: i64,
    /// resident (default), quarantine_site, key_group or retest.
    #[schema(schema_with = crate::api::enums::sampling_group)]
    pub group: Option<String>,
    /// Members by the resident ids on their cards.
    #[serde(default)]
    pub resident_ids: Vec<String>,
    /// Members by register id.
    #[serde(default)]
    pub person_ids: Vec<i64>,
    /// Seal the tube after these members even if it is not full.
    #[serde(default)]
    pub seal: bool,
    /// When the swabs were taken, for a device uploading after being offline (default: now).
    pub sampled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchInput {
    /// An id the device made for this batch, kept on the samples it adds (resending is harmless anyway).
    pub client_id: Option<String>,
    pub tubes: Vec<BatchTubeInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchReport {
    #[schema(value_type = Vec<Object>)]
    pub tubes: Vec<cordon_store::batch::BatchOutcome>,
    /// Resident ids that are not in the register (register them on the spot, then resend).
    pub unknown_residents: Vec<String>,
    /// Resident ids that are not valid numbers, with the reason.
    pub invalid_residents: Vec<String>,
}

/// Registers many tubes with their members in one request (station devices, integrations).
/// Resending the same batch changes nothing: members already in their tube are counted as
/// repeats. Requires `testing.write`.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/registrations", tag = "testing", params(("id" = i64, Path, description = "Round id")),
    request_body = BatchInput,
    responses((status = 200, body = BatchReport), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn register_batch(caller: Caller, Path(id): Path<i64>, Json(input): Json<BatchInput>) -> ApiResult<Json<BatchReport>> {
    let mut invalid_residents = Vec::new();
    let mut residents = Vec::new();
    for t in &input.tubes {
        for rid in &t.resident_ids {
            match ResidentId::parse(rid) {
                Ok(r) => residents.push(r),
                Err(e) => invalid_residents.push(format!("{rid}: {e}")),
            }
        }
    }
    let known = caller.0.person_ids_by_resident_ids(&residents).await?;
    let unknown_residents = residents.iter().filter(|r| !known.contains_key(r.as_str())).map(|r| r.to_string()).collect();
    let mut tubes = Vec::with_capacity(input.tubes.len());
    let latest = Utc::now() + chrono::Duration::minutes(10);
    for t in input.tubes {
        if t.sampled_at.is_some_and(|at| at > latest) {
            return Err(ApiError::bad_request("tubes.sampled_at", format!("tube {}: sampled_at is in the future", t.barcode)));
        }
        let mut members = t.person_ids.clone();
        members.extend(t.resident_ids.iter().filter_map(|r| known.get(&r.trim().to_ascii_uppercase()).copied()));
        tubes.push(cordon_store::batch::BatchTube {
            barcode: barcode("tubes.barcode", &t.barcode)?,
            site_id: t.site_id,
            group: group(t.group.as_deref())?,
            members,
            seal: t.seal,
            sampled_at: t.sampled_at,
        });
    }
    let outcomes = caller.0.register_batch(id, tubes, input.client_id.as_deref()).await?;
    Ok(Json(BatchReport { tubes: outcomes, unknown_residents, invalid_residents }))
}
