//! Mass testing over HTTP: rounds and their sites; the station (`station`) and coverage
//! (`coverage`) in their own files.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use cordon_domain::access::Permission;

use chrono::{DateTime, Utc};
use cordon_domain::testing::pooling::{PoolPolicy, ZoneKind};
use cordon_domain::testing::sizing::SizingPlan;
use cordon_store::testing::{NewRound, NewSite, Round, Site};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

pub mod coverage;
pub mod station;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoundAreaInput {
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    /// sealed, controlled or precaution; absent outside any zone.
    #[schema(schema_with = crate::api::enums::zone_kind_or_null)]
    pub zone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRoundInput {
    pub name: String,
    /// Default: now.
    pub starts_at: Option<DateTime<Utc>>,
    /// Default: 24 hours after the start.
    pub target_end_at: Option<DateTime<Utc>>,
    pub areas: Vec<RoundAreaInput>,
    /// Pool sizes by zone kind; default sealed 1, controlled 10, other 20.
    #[schema(value_type = Option<Object>)]
    pub policy: Option<PoolPolicy>,
}

/// A round as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundView {
    pub id: i64,
    pub incident_id: i64,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub target_end_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub policy: PoolPolicy,
    #[schema(value_type = Vec<Object>)]
    pub areas: Vec<cordon_store::testing::RoundArea>,
}

impl From<Round> for RoundView {
    fn from(r: Round) -> Self {
        RoundView {
            id: r.id,
            incident_id: r.incident_id,
            name: r.name,
            starts_at: r.starts_at,
            target_end_at: r.target_end_at,
            policy: r.policy,
            areas: r.areas,
        }
    }
}

/// Plans a testing round over areas of the caller's jurisdiction. Requires `testing.write`.
#[utoipa::path(post, path = "/api/v1/rounds", tag = "testing", request_body = NewRoundInput,
    responses((status = 201, body = RoundView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn create_round(caller: Caller, Json(input): Json<NewRoundInput>) -> ApiResult<(StatusCode, Json<RoundView>)> {
    if input.name.trim().is_empty() {
        return Err(ApiError::bad_request("name", "a round needs a name"));
    }
    let mut areas = Vec::new();
    for a in &input.areas {
        let zone = match a.zone.as_deref() {
            Some(z) => Some(z.parse::<ZoneKind>().map_err(|e| ApiError::bad_request("areas.zone", e))?),
            None => None,
        };
        areas.push((parse_area("areas.area_code", &a.area_code)?, zone));
    }
    let round = caller
        .0
        .create_round(NewRound {
            name: input.name.trim().to_string(),
            starts_at: input.starts_at.unwrap_or_else(Utc::now),
            target_end_at: input.target_end_at,
            areas,
            policy: input.policy.unwrap_or_default(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(round.into())))
}

/// Rounds reaching into the caller's jurisdiction, newest first. Requires `testing.read`.
#[utoipa::path(get, path = "/api/v1/rounds", tag = "testing",
    responses((status = 200, body = [RoundView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingRead.as_str()))))]
pub async fn list_rounds(caller: Caller) -> ApiResult<Json<Vec<RoundView>>> {
    Ok(Json(caller.0.rounds().await?.into_iter().map(RoundView::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SamplingSiteView {
    pub id: i64,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub name: String,
    pub address: String,
    pub stations: i32,
}

impl From<Site> for SamplingSiteView {
    fn from(s: Site) -> Self {
        SamplingSiteView { id: s.id, area_code: s.area_code, name: s.name, address: s.address, stations: s.stations }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoundDetail {
    #[serde(flatten)]
    pub round: RoundView,
    /// The round's sites inside the caller's jurisdiction.
    pub sites: Vec<SamplingSiteView>,
    /// Sites, stations, samplers and groups needed for the registered people by the target end.
    #[schema(value_type = Object)]
    pub sizing: Option<SizingPlan>,
}

/// One round with its sites and the sizing helper. Requires `testing.read`.
#[utoipa::path(get, path = "/api/v1/rounds/{id}", tag = "testing", params(("id" = i64, Path, description = "Round id")),
    responses((status = 200, body = RoundDetail), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingRead.as_str()))))]
pub async fn round_detail(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<RoundDetail>> {
    let round = caller.0.round(id).await?.ok_or_else(|| ApiError::not_found(format!("no round {id}")))?;
    let sites = caller.0.sites(id).await?.into_iter().map(SamplingSiteView::from).collect();
    let sizing = caller.0.round_sizing(id).await?;
    Ok(Json(RoundDetail { round: round.into(), sites, sizing }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSamplingSiteInput {
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub name: String,
    pub address: String,
    pub stations: u32,
}

/// Adds a sampling site in an area of the round and of the caller's jurisdiction. Requires `testing.write`.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/sites", tag = "testing", params(("id" = i64, Path, description = "Round id")),
    request_body = NewSamplingSiteInput,
    responses((status = 201, body = SamplingSiteView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn create_site(
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<NewSamplingSiteInput>,
) -> ApiResult<(StatusCode, Json<SamplingSiteView>)> {
    let area_code = parse_area("area_code", &input.area_code)?;
    let site = caller
        .0
        .create_site(NewSite { round_id: id, area_code, name: input.name, address: input.address, stations: input.stations })
        .await?;
    Ok((StatusCode::CREATED, Json(site.into())))
}
