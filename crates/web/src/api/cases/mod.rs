//! Investigation over HTTP: positives made cases, cases and their infectors, the investigation
//! queue, clusters with their chains, and line-list imports.

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::access::Permission;
use cordon_domain::cases::case::{CaseClass, CasePlace, HowFound, Origin, Severity};
use cordon_store::cases::{Case, NewCase, Positive};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

pub mod clusters;
pub mod contacts;
pub mod investigations;

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: i64,
    pub incident_id: i64,
    /// The case number (e.g. 清徐-1, TJ5).
    pub number: String,
    pub person_id: Option<i64>,
    pub positive_id: Option<i64>,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    /// confirmed, asymptomatic, suspected
    #[schema(schema_with = crate::api::enums::case_class)]
    pub classification: String,
    #[schema(schema_with = crate::api::enums::severity_or_null)]
    pub severity: Option<String>,
    #[schema(schema_with = crate::api::enums::how_found)]
    pub how_found: String,
    /// local, imported
    #[schema(schema_with = crate::api::enums::origin)]
    pub origin: String,
    pub onset_date: Option<NaiveDate>,
    pub sample_date: Option<NaiveDate>,
    pub report_date: Option<NaiveDate>,
    #[schema(schema_with = crate::api::enums::case_place)]
    pub place: String,
    /// The source's own cluster label.
    pub label: Option<String>,
    pub cluster_id: Option<i64>,
    /// 0 for a case without known infector in its cluster.
    pub generation: i32,
    pub created_at: DateTime<Utc>,
}

impl From<Case> for CaseView {
    fn from(c: Case) -> Self {
        CaseView {
            id: c.id,
            incident_id: c.incident_id,
            number: c.external_id,
            person_id: c.person_id,
            positive_id: c.positive_id,
            area_code: c.area_code,
            classification: c.classification.to_string(),
            severity: c.severity,
            how_found: c.how_found.to_string(),
            origin: c.origin.to_string(),
            onset_date: c.onset_date,
            sample_date: c.sample_date,
            report_date: c.report_date,
            place: c.place.to_string(),
            label: c.label,
            cluster_id: c.cluster_id,
            generation: c.generation,
            created_at: c.created_at,
        }
    }
}

fn parse<T>(field: &str, text: Option<&str>, read: fn(&str) -> Option<T>, default: T) -> ApiResult<T> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(default),
        Some(t) => read(t).ok_or_else(|| ApiError::bad_request(field, format!("{t:?} is not a known value"))),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCaseInput {
    /// The case number; absent: numbered within the incident.
    pub number: Option<String>,
    pub person_id: Option<i64>,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    /// confirmed (default), asymptomatic, suspected
    #[schema(schema_with = crate::api::enums::case_class)]
    pub classification: Option<String>,
    /// mild, moderate, severe, critical
    #[schema(schema_with = crate::api::enums::severity)]
    pub severity: Option<String>,
    /// in_quarantine, in_control_area, mass_testing, community_screening, fever_clinic, imported, other (default)
    #[schema(schema_with = crate::api::enums::how_found)]
    pub how_found: Option<String>,
    /// local (default), imported
    #[schema(schema_with = crate::api::enums::origin)]
    pub origin: Option<String>,
    pub onset_date: Option<NaiveDate>,
    pub sample_date: Option<NaiveDate>,
    pub report_date: Option<NaiveDate>,
    /// home (default), in_transfer, quarantine_site, hospital, shelter_hospital
    #[schema(schema_with = crate::api::enums::case_place)]
    pub place: Option<String>,
    /// Case ids known to have infected this case.
    #[serde(default)]
    pub infectors: Vec<i64>,
}

/// Records a case by hand (fever clinic, imported, found in quarantine) and opens its
/// investigation. Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/cases", tag = "tracing", request_body = NewCaseInput,
    responses((status = 201, body = CaseView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn create_case(caller: Caller, Json(input): Json<NewCaseInput>) -> ApiResult<(StatusCode, Json<CaseView>)> {
    let new = NewCase {
        external_id: input.number,
        person_id: input.person_id,
        positive_id: None,
        area_code: parse_area("area_code", &input.area_code)?,
        classification: parse("classification", input.classification.as_deref(), CaseClass::from_text, CaseClass::Confirmed)?,
        severity: input.severity.as_deref().map(|s| parse("severity", Some(s), Severity::from_text, Severity::Mild)).transpose()?,
        how_found: parse("how_found", input.how_found.as_deref(), HowFound::from_text, HowFound::Other)?,
        origin: parse("origin", input.origin.as_deref(), Origin::from_text, Origin::Local)?,
        onset_date: input.onset_date,
        sample_date: input.sample_date,
        report_date: input.report_date,
        place: parse("place", input.place.as_deref(), CasePlace::from_text, CasePlace::Home)?,
        label: None,
        infectors: input.infectors,
    };
    Ok((StatusCode::CREATED, Json(caller.0.create_case(new).await?.into())))
}

/// One case. Requires `tracing.read`.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "tracing", params(("id" = i64, Path, description = "Case id")),
    responses((status = 200, body = CaseView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingRead.as_str()))))]
pub async fn case_detail(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<CaseView>> {
    let case = caller.0.case(id).await?.ok_or_else(|| ApiError::not_found(format!("no case {id}")))?;
    Ok(Json(case.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InfectorInput {
    pub infector_id: i64,
}

/// Records that another case infected this one; their clusters merge. Linking again changes
/// nothing. Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/infectors", tag = "tracing", params(("id" = i64, Path, description = "Case id")),
    request_body = InfectorInput,
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn add_infector(caller: Caller, Path(id): Path<i64>, Json(input): Json<InfectorInput>) -> ApiResult<StatusCode> {
    caller.0.link_cases(input.infector_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PositiveView {
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub round_id: i64,
    #[schema(pattern = r"^[0-9A-Za-z]{8,20}$")]
    pub barcode: String,
    pub found_at: DateTime<Utc>,
    /// The case made of this positive, if any.
    pub case_id: Option<i64>,
    pub case_number: Option<String>,
}

impl From<Positive> for PositiveView {
    fn from(p: Positive) -> Self {
        PositiveView {
            id: p.id,
            person_id: p.person_id,
            name: p.name,
            area_code: p.area_code,
            round_id: p.round_id,
            barcode: p.barcode,
            found_at: p.found_at,
            case_id: p.case_id,
            case_number: p.case_number,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PositivesQuery {
    /// Only positives not yet made a case.
    pub waiting: Option<bool>,
}

/// Mass-testing positives in the caller's jurisdiction, newest first. Requires `tracing.read`.
#[utoipa::path(get, path = "/api/v1/positives", tag = "tracing", params(PositivesQuery),
    responses((status = 200, body = [PositiveView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingRead.as_str()))))]
pub async fn list_positives(caller: Caller, Query(q): Query<PositivesQuery>) -> ApiResult<Json<Vec<PositiveView>>> {
    Ok(Json(caller.0.positives(q.waiting.unwrap_or(false)).await?.into_iter().map(PositiveView::from).collect()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FromPositiveInput {
    /// asymptomatic (default) or confirmed
    #[schema(schema_with = crate::api::enums::case_class)]
    pub classification: Option<String>,
    pub onset_date: Option<NaiveDate>,
}

/// Makes a case of a positive in one action and opens its investigation; again answers the
/// same case. Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/positives/{id}/case", tag = "tracing", params(("id" = i64, Path, description = "Positive id")),
    request_body = FromPositiveInput,
    responses((status = 201, body = CaseView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn case_from_positive(
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<FromPositiveInput>,
) -> ApiResult<(StatusCode, Json<CaseView>)> {
    let class = parse("classification", input.classification.as_deref(), CaseClass::from_text, CaseClass::Asymptomatic)?;
    Ok((StatusCode::CREATED, Json(caller.0.case_from_positive(id, class, input.onset_date).await?.into())))
}
