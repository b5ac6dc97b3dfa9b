//! Mass testing over HTTP: rounds, sites, and registration at the station (single scans and a
//! batch path for station devices). Station refusals answer 409 with a `kind` and what to do.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use cordon_domain::access::Permission;

use chrono::{DateTime, Utc};
use cordon_domain::refusal::Refusal;
use cordon_domain::testing::pooling::{PoolPolicy, SamplingGroup, ZoneKind};
use cordon_domain::testing::sizing::SizingPlan;
use cordon_domain::{Barcode, ResidentId};
use cordon_store::station::{Scanned, Tube};
use cordon_store::testing::{NewRound, NewSite, Round, Site};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoundAreaInput {
    pub area_code: String,
    /// sealed, controlled or precaution; absent outside any zone.
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
pub struct SiteView {
    pub id: i64,
    pub area_code: String,
    pub name: String,
    pub address: String,
    pub stations: i32,
}

impl From<Site> for SiteView {
    fn from(s: Site) -> Self {
        SiteView { id: s.id, area_code: s.area_code, name: s.name, address: s.address, stations: s.stations }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoundDetail {
    #[serde(flatten)]
    pub round: RoundView,
    /// The round's sites inside the caller's jurisdiction.
    pub sites: Vec<SiteView>,
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
    let sites = caller.0.sites(id).await?.into_iter().map(SiteView::from).collect();
    let sizing = caller.0.round_sizing(id).await?;
    Ok(Json(RoundDetail { round: round.into(), sites, sizing }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewSiteInput {
    pub area_code: String,
    pub name: String,
    pub address: String,
    pub stations: u32,
}

/// Adds a sampling site in an area of the round and of the caller's jurisdiction. Requires `testing.write`.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/sites", tag = "testing", params(("id" = i64, Path, description = "Round id")),
    request_body = NewSiteInput,
    responses((status = 201, body = SiteView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn create_site(caller: Caller, Path(id): Path<i64>, Json(input): Json<NewSiteInput>) -> ApiResult<(StatusCode, Json<SiteView>)> {
    let area_code = parse_area("area_code", &input.area_code)?;
    let site = caller
        .0
        .create_site(NewSite { round_id: id, area_code, name: input.name, address: input.address, stations: input.stations })
        .await?;
    Ok((StatusCode::CREATED, Json(site.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OpenTubeInput {
    pub barcode: String,
    pub site_id: i64,
    /// resident (default), quarantine_site, key_group or retest — the last three are sampled alone;
    /// a retest tube re-samples a recalled member of a positive pool within the same round.
    pub group: Option<String>,
    pub station: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TubeView {
    pub id: i64,
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
    Barcode::parse(s).map_err(|e| ApiError::bad_request(field, format!("{s:?}: {e}")))
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
    params(("id" = i64, Path, description = "Round id"), ("barcode" = String, Path, description = "Tube barcode")),
    request_body = ScanInput,
    responses((status = 200, body = ScanView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem, description = "unknown tube or person"), (status = 409, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn scan(caller: Caller, Path((id, code)): Path<(i64, String)>, Json(input): Json<ScanInput>) -> ApiResult<Json<ScanView>> {
    let code = barcode("barcode", &code)?;
    let person_id = match (input.person_id, input.resident_id.as_deref()) {
        (Some(p), _) => p,
        (None, Some(rid)) => {
            let rid = ResidentId::parse(rid).map_err(|e| ApiError::bad_request("resident_id", format!("{rid:?}: {e}")))?;
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
    params(("id" = i64, Path, description = "Round id"), ("barcode" = String, Path, description = "Tube barcode")),
    responses((status = 200, body = TubeView), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn close_tube(caller: Caller, Path((id, code)): Path<(i64, String)>) -> ApiResult<Json<TubeView>> {
    let code = barcode("barcode", &code)?;
    Ok(Json(caller.0.close_tube(id, &code).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchTubeInput {
    pub barcode: String,
    pub site_id: i64,
    /// resident (default), quarantine_site, key_group or retest.
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CoverageQuery {
    /// The area to look at (default: the caller's first jurisdiction area).
    pub area: Option<String>,
    /// For the missing list: the `next` of the previous page.
    pub after: Option<String>,
    /// For the missing list: page size (default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageLine {
    pub area_code: String,
    pub name: String,
    /// People registered in the area.
    pub expected: i64,
    pub sampled: i64,
    /// Accounted for without a sample: away, in quarantine, in hospital, sampled at home.
    pub exempted: i64,
    pub missing: i64,
}

impl From<cordon_store::coverage::AreaCoverage> for CoverageLine {
    fn from(c: cordon_store::coverage::AreaCoverage) -> Self {
        CoverageLine {
            missing: c.missing(),
            area_code: c.area_code,
            name: c.name,
            expected: c.expected,
            sampled: c.sampled,
            exempted: c.exempted,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageView {
    #[serde(flatten)]
    pub area: CoverageLine,
    pub children: Vec<CoverageLine>,
}

async fn area_or_home(caller: &Caller, area: Option<&str>) -> ApiResult<cordon_domain::AreaCode> {
    match area {
        Some(a) => parse_area("area", a),
        None => {
            let homes = caller.0.home_areas().await?;
            let home = homes.first().ok_or_else(|| ApiError::not_found("your jurisdiction has no registered area"))?;
            parse_area("area", &home.code)
        }
    }
}

/// How much of an area a round has sampled, with its sub-areas ("no household, no person
/// missed"). Requires `testing.read` inside the jurisdiction.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/coverage", tag = "testing", params(("id" = i64, Path, description = "Round id"), CoverageQuery),
    responses((status = 200, body = CoverageView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingRead.as_str()))))]
pub async fn coverage(
    caller: Caller,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<CoverageQuery>,
) -> ApiResult<Json<CoverageView>> {
    let area = area_or_home(&caller, q.area.as_deref()).await?;
    let c = caller.0.coverage(id, &area).await?.ok_or_else(|| ApiError::not_found(format!("no round {id} or area {area}")))?;
    Ok(Json(CoverageView { area: c.area.into(), children: c.children.into_iter().map(CoverageLine::from).collect() }))
}

/// The people of an area not yet sampled in the round (masked), paged by key — the community
/// worker's list. Requires `persons.read` and `testing.read` inside the jurisdiction.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/missing", tag = "testing", params(("id" = i64, Path, description = "Round id"), CoverageQuery),
    responses((status = 200, body = crate::api::persons::PersonPage), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingRead.as_str()))))]
pub async fn missing(
    caller: Caller,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<CoverageQuery>,
) -> ApiResult<Json<crate::api::persons::PersonPage>> {
    let area = area_or_home(&caller, q.area.as_deref()).await?;
    let after = match q.after.as_deref() {
        Some(a) => Some(
            cordon_store::PersonCursor::decode(a).ok_or_else(|| ApiError::bad_request("after", format!("{a:?} is not a page cursor")))?,
        ),
        None => None,
    };
    let page = caller.0.missing(id, &area, after.as_ref(), q.limit.unwrap_or(100)).await?;
    let today = crate::format::today();
    Ok(Json(crate::api::persons::PersonPage {
        items: page.items.iter().map(|p| crate::api::persons::PersonSummary::new(p, today)).collect(),
        next: page.next.map(|c| c.encode()),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ExemptionInput {
    pub person_id: i64,
    /// away, quarantine, hospital or home_sampled
    pub reason: String,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExemptionView {
    pub person_id: i64,
    pub person_name: String,
    pub area_code: String,
    pub reason: String,
    pub note: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub recorded_by: String,
}

impl From<cordon_store::coverage::Exemption> for ExemptionView {
    fn from(e: cordon_store::coverage::Exemption) -> Self {
        ExemptionView {
            person_id: e.person_id,
            person_name: e.person_name,
            area_code: e.area_code,
            reason: e.reason.to_string(),
            note: e.note,
            recorded_at: e.recorded_at,
            recorded_by: e.recorded_by,
        }
    }
}

/// Marks a resident as accounted for without a sample in this round (away, in quarantine, in
/// hospital, sampled at home): they leave the missing list. Marking again changes the reason.
/// A person already sampled in the round answers 409. Requires `testing.write`.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/exemptions", tag = "testing", params(("id" = i64, Path, description = "Round id")),
    request_body = ExemptionInput,
    responses((status = 200, body = ExemptionView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn exempt(caller: Caller, Path(id): Path<i64>, Json(input): Json<ExemptionInput>) -> ApiResult<Json<ExemptionView>> {
    let reason =
        input.reason.parse::<cordon_domain::testing::exemption::ExemptionReason>().map_err(|e| ApiError::bad_request("reason", e))?;
    Ok(Json(caller.0.exempt(id, input.person_id, reason, input.note.as_deref()).await?.into()))
}

/// Takes back an exemption: the person is missing again. Requires `testing.write`.
#[utoipa::path(delete, path = "/api/v1/rounds/{id}/exemptions/{person_id}", tag = "testing",
    params(("id" = i64, Path, description = "Round id"), ("person_id" = i64, Path, description = "Person id")),
    responses((status = 204, description = "taken back"), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn unexempt(caller: Caller, Path((id, person)): Path<(i64, i64)>) -> ApiResult<StatusCode> {
    if caller.0.unexempt(id, person).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("person {person} is not exempted in round {id}")))
    }
}

/// The residents of an area accounted for without a sample in the round, with why. Requires
/// `testing.read` and `persons.read` inside the jurisdiction.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/exemptions", tag = "testing", params(("id" = i64, Path, description = "Round id"), CoverageQuery),
    responses((status = 200, body = Vec<ExemptionView>), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingRead.as_str()))))]
pub async fn exemptions(
    caller: Caller,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<CoverageQuery>,
) -> ApiResult<Json<Vec<ExemptionView>>> {
    let area = area_or_home(&caller, q.area.as_deref()).await?;
    Ok(Json(caller.0.exemptions(id, &area).await?.into_iter().map(ExemptionView::from).collect()))
}
