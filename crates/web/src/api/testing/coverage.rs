//! Coverage over HTTP: how much of an area a round has sampled, the missing list, and the
//! residents accounted for without a sample.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use cordon_domain::access::Permission;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CoverageQuery {
    /// The area to look at (default: the caller's first jurisdiction area).
    #[param(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area: Option<String>,
    /// For the missing list: the `next` of the previous page.
    pub after: Option<String>,
    /// For the missing list: page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageLine {
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
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
    extensions(("x-permission" = json!([Permission::TestingRead.as_str(), Permission::PersonsRead.as_str()]))))]
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
    let page = caller.0.missing(id, &area, after.as_ref(), crate::api::page_limit(q.limit, 100, 1000)?).await?;
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
    #[schema(schema_with = crate::api::enums::exemption_reason)]
    pub reason: String,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExemptionView {
    pub person_id: i64,
    pub person_name: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    #[schema(schema_with = crate::api::enums::exemption_reason)]
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
    extensions(("x-permission" = json!([Permission::TestingRead.as_str(), Permission::PersonsRead.as_str()]))))]
pub async fn exemptions(
    caller: Caller,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<CoverageQuery>,
) -> ApiResult<Json<Vec<ExemptionView>>> {
    let area = area_or_home(&caller, q.area.as_deref()).await?;
    Ok(Json(caller.0.exemptions(id, &area).await?.into_iter().map(ExemptionView::from).collect()))
}
