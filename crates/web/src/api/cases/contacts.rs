//! Contacts over HTTP: candidates from venues and rosters, exposures recorded, decided and
//! handed over, assistance between jurisdictions, and the check-in and roster imports.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query};
use chrono::{DateTime, Utc};
use cordon_domain::access::Permission;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::imports::{Collect, ImportRowError, body_reader};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Deserialize, IntoParams)]
pub struct CandidatesQuery {
    /// Days before onset (or the positive sample) that count, 2–5 (default 2).
    pub lookback_days: Option<u32>,
    /// Minutes a scan without exit lasts (default 60).
    pub default_stay_minutes: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateView {
    pub person_id: i64,
    pub name: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub overlap_minutes: i64,
    pub venues: Vec<String>,
    pub first_at: DateTime<Utc>,
    pub last_until: DateTime<Utc>,
    /// Already a case, or a contact of another case, in the incident.
    pub standing: Option<StandingView>,
}

/// Where a candidate already stands in the incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct StandingView {
    /// case, or contact (of another case)
    pub kind: &'static str,
    /// The number of the case they are, or are a contact of.
    pub case_number: String,
    /// The contact's degree: close, secondary, …
    #[schema(schema_with = crate::api::enums::degree_or_null)]
    pub degree: Option<String>,
}

impl From<cordon_store::exposures::Standing> for StandingView {
    fn from(s: cordon_store::exposures::Standing) -> Self {
        use cordon_store::exposures::Standing;
        match s {
            Standing::Case { number } => StandingView { kind: "case", case_number: number, degree: None },
            Standing::Contact { number, degree } => {
                StandingView { kind: "contact", case_number: number, degree: Some(degree.as_str().to_string()) }
            }
        }
    }
}

/// People whose stays at the case's venues overlapped the case's inside the look-back window,
/// longest overlap first; people already recorded for the case are left out. Requires
/// `tracing.read`.
#[utoipa::path(get, path = "/api/v1/cases/{id}/candidates", tag = "tracing", params(("id" = i64, Path, description = "Case id"), CandidatesQuery),
    responses((status = 200, body = [CandidateView]), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingRead.as_str()))))]
pub async fn candidates(caller: Caller, Path(id): Path<i64>, Query(q): Query<CandidatesQuery>) -> ApiResult<Json<Vec<CandidateView>>> {
    use cordon_domain::cases::exposure::Lookback;
    let lookback =
        Lookback::new(q.lookback_days.unwrap_or(Lookback::DEFAULT_DAYS), q.default_stay_minutes.unwrap_or(Lookback::DEFAULT_STAY_MINUTES))
            .map_err(|e| ApiError::bad_request("lookback_days", e))?;
    let found = caller.0.venue_candidates(id, &lookback).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|c| CandidateView {
                person_id: c.person_id,
                name: c.name,
                area_code: c.area_code,
                overlap_minutes: c.overlap_minutes,
                venues: c.venues,
                first_at: c.first_at,
                last_until: c.last_until,
                standing: c.standing.map(StandingView::from),
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ColleagueView {
    pub person_id: i64,
    pub name: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub workplace: String,
    /// The team or shift; empty when the roster names none.
    pub unit: String,
    /// Already a case, or a contact of another case, in the incident.
    pub standing: Option<StandingView>,
}

/// The case's co-workers on a workplace roster (their team, when the roster names teams),
/// less people already recorded for the case. Requires `tracing.read`.
#[utoipa::path(get, path = "/api/v1/cases/{id}/roster-candidates", tag = "tracing", params(("id" = i64, Path, description = "Case id")),
    responses((status = 200, body = [ColleagueView]), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingRead.as_str()))))]
pub async fn roster_candidates(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Vec<ColleagueView>>> {
    let found = caller.0.roster_candidates(id).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|c| ColleagueView {
                person_id: c.person_id,
                name: c.name,
                area_code: c.area_code,
                workplace: c.workplace,
                unit: c.unit,
                standing: c.standing.map(StandingView::from),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ExposureInput {
    pub person_id: i64,
    /// household, work, meal, vehicle, venue, care, other
    #[schema(schema_with = crate::api::enums::exposure_kind)]
    pub kind: String,
    /// close (default), place_exposed, companion, general
    #[schema(schema_with = crate::api::enums::degree)]
    pub degree: Option<String>,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ExposuresInput {
    pub exposures: Vec<ExposureInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedView {
    pub exposures: u64,
    pub secondaries_proposed: u64,
    pub assist_requests: u64,
}

/// Records who met the case (confirmed by the investigator). Close contacts' households are
/// proposed as secondary contacts; contacts outside the caller's jurisdiction raise assistance
/// requests. Recording again updates the path. Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/exposures", tag = "tracing", params(("id" = i64, Path, description = "Case id")),
    request_body = ExposuresInput,
    responses((status = 200, body = RecordedView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn record_exposures(caller: Caller, Path(id): Path<i64>, Json(input): Json<ExposuresInput>) -> ApiResult<Json<RecordedView>> {
    use cordon_domain::cases::exposure::{Degree, ExposureKind};
    let mut new = Vec::with_capacity(input.exposures.len());
    for e in input.exposures {
        let kind =
            ExposureKind::from_text(&e.kind).ok_or_else(|| ApiError::bad_request("kind", format!("{:?} is not a known kind", e.kind)))?;
        let degree = match e.degree.as_deref() {
            None => None,
            Some(d) => Some(Degree::from_text(d).filter(|d| *d != Degree::Secondary).ok_or_else(|| {
                ApiError::bad_request(
                    "degree",
                    format!("{d:?}: close, place_exposed, companion or general (secondary contacts are derived)"),
                )
            })?),
        };
        new.push(cordon_store::exposures::NewExposure {
            contact_person_id: e.person_id,
            kind,
            degree,
            first_at: e.first_at,
            last_at: e.last_at,
            note: e.note,
        });
    }
    let r = caller.0.record_exposures(id, &new).await?;
    Ok(Json(RecordedView { exposures: r.exposures, secondaries_proposed: r.secondaries_proposed, assist_requests: r.assist_requests }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub person_id: i64,
    pub name: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    /// The gravest degree over the person's paths.
    #[schema(schema_with = crate::api::enums::degree)]
    pub degree: String,
    pub paths: usize,
    #[schema(schema_with = crate::api::enums::exposure_kinds)]
    pub kinds: Vec<String>,
    /// proposed, confirmed, handed_over
    #[schema(schema_with = crate::api::enums::exposure_status)]
    pub status: String,
    pub last_at: Option<DateTime<Utc>>,
    pub exposure_ids: Vec<i64>,
}

/// Everyone the case's exposures reach (dismissed paths left out), gravest degree first.
/// Requires `tracing.read`.
#[utoipa::path(get, path = "/api/v1/cases/{id}/contacts", tag = "tracing", params(("id" = i64, Path, description = "Case id")),
    responses((status = 200, body = [ContactView]), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingRead.as_str()))))]
pub async fn contacts(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Vec<ContactView>>> {
    Ok(Json(
        caller
            .0
            .contacts(id)
            .await?
            .into_iter()
            .map(|c| ContactView {
                person_id: c.person_id,
                name: c.name,
                area_code: c.area_code,
                degree: c.degree.to_string(),
                paths: c.paths,
                kinds: c.kinds,
                status: c.status.to_string(),
                last_at: c.last_at,
                exposure_ids: c.exposure_ids,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionInput {
    pub exposure_ids: Vec<i64>,
    /// true: confirm; false: dismiss.
    pub confirm: bool,
}

/// Confirms or dismisses proposed paths (secondary contacts from households). Requires
/// `tracing.write`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/exposures/decisions", tag = "tracing", params(("id" = i64, Path, description = "Case id")),
    request_body = DecisionInput,
    responses((status = 200, body = u64), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn decide(caller: Caller, Path(id): Path<i64>, Json(input): Json<DecisionInput>) -> ApiResult<Json<u64>> {
    Ok(Json(caller.0.decide_exposures(id, &input.exposure_ids, input.confirm).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HandOverInput {
    pub person_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefusedPerson {
    pub person_id: i64,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandOverView {
    /// People now under an observation order.
    pub ordered: Vec<i64>,
    /// Of those, the ones whose plan starts at home: on their community's home list
    /// (`awaiting_home`), not waiting for a transfer.
    pub at_home: Vec<i64>,
    pub already: Vec<i64>,
    pub refused: Vec<RefusedPerson>,
}

/// Hands a confirmed batch of close and secondary contacts over as observation orders — awaiting
/// transfer when the plan starts in a site, on the community's home list when it starts at
/// home; again changes nothing. Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/handover", tag = "tracing", params(("id" = i64, Path, description = "Case id")),
    request_body = HandOverInput,
    responses((status = 200, body = HandOverView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn hand_over(caller: Caller, Path(id): Path<i64>, Json(input): Json<HandOverInput>) -> ApiResult<Json<HandOverView>> {
    let h = caller.0.hand_over(id, &input.person_ids).await?;
    Ok(Json(HandOverView {
        ordered: h.ordered,
        at_home: h.at_home,
        already: h.already,
        refused: h
            .refused
            .into_iter()
            .map(|(person_id, reason)| RefusedPerson { person_id, reason: crate::i18n::in_english(&reason) })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssistView {
    pub id: i64,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub to_area: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub from_area: String,
    /// The facts the other jurisdiction needs (case, person, kind, degree, times).
    pub facts: serde_json::Value,
    /// open, answered
    #[schema(schema_with = crate::api::enums::assist_status)]
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answer: Option<String>,
}

impl From<cordon_store::exposures::AssistRequest> for AssistView {
    fn from(a: cordon_store::exposures::AssistRequest) -> Self {
        AssistView {
            id: a.id,
            to_area: a.to_area,
            from_area: a.from_area,
            facts: serde_json::from_str(&a.facts).unwrap_or_default(),
            status: a.status.to_string(),
            created_at: a.created_at,
            answered_at: a.answered_at,
            answer: a.answer,
        }
    }
}

/// Assistance requests (协查函) sent from or to the caller's jurisdiction, open first.
/// Requires `tracing.read`.
#[utoipa::path(get, path = "/api/v1/assist-requests", tag = "tracing",
    responses((status = 200, body = [AssistView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingRead.as_str()))))]
pub async fn assist_requests(caller: Caller) -> ApiResult<Json<Vec<AssistView>>> {
    Ok(Json(caller.0.assist_requests().await?.into_iter().map(AssistView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerInput {
    /// What the receiving jurisdiction did: found and controlled where, or why not.
    pub answer: String,
}

/// Answers an assistance request sent to the caller's jurisdiction; it is then closed. Requires
/// `tracing.write`.
#[utoipa::path(post, path = "/api/v1/assist-requests/{id}/answer", tag = "tracing", params(("id" = i64, Path, description = "Request id")),
    request_body = AnswerInput,
    responses((status = 200, body = AssistView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn answer_assist_request(caller: Caller, Path(id): Path<i64>, Json(input): Json<AnswerInput>) -> ApiResult<Json<AssistView>> {
    Ok(Json(caller.0.answer_assist_request(id, &input.answer).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RosterReport {
    pub encoding: String,
    pub rows: u64,
    pub workplaces: u64,
    pub members: u64,
    pub invalid_rows: u64,
    pub errors: Vec<ImportRowError>,
    pub errors_truncated: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RosterQuery {
    /// The area code the workplaces are in (inside the caller's jurisdiction).
    #[param(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area: String,
}

/// Imports workplace rosters (CSV, UTF-8 or GBK): 单位/workplace, 身份证号/id_number and
/// optionally 班组/unit. Importing again changes nothing; a person listed under another team
/// moves there. Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/imports/roster", tag = "imports", params(RosterQuery),
    request_body(content = String, content_type = "text/csv", description = "Roster rows with a header line"),
    responses((status = 200, body = RosterReport), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn import_roster(caller: Caller, Query(q): Query<RosterQuery>, body: Body) -> ApiResult<Json<RosterReport>> {
    let area = crate::api::parse_area("area", &q.area)?;
    let mut collect = Collect::default();
    let s = caller.0.import_roster(body_reader(body), &area, &mut collect).await?;
    Ok(Json(RosterReport {
        encoding: s.encoding.as_str().to_string(),
        rows: s.rows,
        workplaces: s.workplaces,
        members: s.members,
        invalid_rows: s.invalid_rows,
        errors: collect.errors,
        errors_truncated: collect.truncated,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinReport {
    pub encoding: String,
    pub rows: u64,
    pub inserted: u64,
    pub invalid_rows: u64,
    pub elapsed_ms: u64,
    pub errors: Vec<ImportRowError>,
    pub errors_truncated: bool,
}

/// Imports place-code scans (CSV, UTF-8 or GBK): 身份证号/id_number, 场所码/venue_code,
/// 扫码时间/at, and optionally 离开时间/left_at. Loading the same scans again changes nothing.
/// Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/imports/checkins", tag = "imports",
    request_body(content = String, content_type = "text/csv", description = "Scans with a header line"),
    responses((status = 200, body = CheckinReport), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn import_checkins(caller: Caller, body: Body) -> ApiResult<Json<CheckinReport>> {
    let mut collect = Collect::default();
    let s = caller.0.import_checkins(body_reader(body), &mut collect).await?;
    Ok(Json(CheckinReport {
        encoding: s.encoding.as_str().to_string(),
        rows: s.rows,
        inserted: s.inserted,
        invalid_rows: s.invalid_rows,
        elapsed_ms: s.elapsed_ms,
        errors: collect.errors,
        errors_truncated: collect.truncated,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VenueReport {
    pub encoding: String,
    pub rows: u64,
    /// Venues newly registered.
    pub inserted: u64,
    /// Rows whose place code was already registered: the stored venue is kept.
    pub unchanged: u64,
    pub invalid_rows: u64,
    pub elapsed_ms: u64,
    pub errors: Vec<ImportRowError>,
    pub errors_truncated: bool,
}

/// Imports venues with their place codes (CSV, UTF-8 or GBK): 场所码/code, 名称/name,
/// 区划代码/area_code, and optionally 地址/address. A code already registered keeps its venue;
/// rows outside the caller's jurisdiction are refused with their line. Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/imports/venues", tag = "imports",
    request_body(content = String, content_type = "text/csv", description = "Venues with a header line"),
    responses((status = 200, body = VenueReport), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn import_venues(caller: Caller, body: Body) -> ApiResult<Json<VenueReport>> {
    let mut collect = Collect::default();
    let s = caller.0.import_venues(body_reader(body), &mut collect).await?;
    Ok(Json(VenueReport {
        encoding: s.encoding.as_str().to_string(),
        rows: s.rows,
        inserted: s.inserted,
        unchanged: s.unchanged,
        invalid_rows: s.invalid_rows,
        elapsed_ms: s.elapsed_ms,
        errors: collect.errors,
        errors_truncated: collect.truncated,
    }))
}
