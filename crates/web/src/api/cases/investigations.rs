//! The investigation queue over HTTP: clocks, taking a part, progress.

use axum::Json;
use axum::extract::Path;
use chrono::{DateTime, Utc};
use cordon_domain::access::Permission;
use cordon_domain::cases::investigation::{Clock, Part};
use cordon_store::investigations::Investigation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::parse;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    pub user_id: i64,
    pub name: String,
    /// phone, site
    #[schema(schema_with = crate::api::enums::investigation_part)]
    pub part: String,
    pub assigned_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockView {
    pub due_at: DateTime<Utc>,
    /// running, overdue, done
    #[schema(schema_with = crate::api::enums::clock_state)]
    pub state: String,
    /// Minutes left (running) or over (overdue, negative).
    pub minutes: Option<i64>,
    pub late: Option<bool>,
}

fn clock(due_at: DateTime<Utc>, c: Clock) -> ClockView {
    match c {
        Clock::Running { minutes_left } => ClockView { due_at, state: "running".into(), minutes: Some(minutes_left), late: None },
        Clock::Overdue { minutes_over } => ClockView { due_at, state: "overdue".into(), minutes: Some(-minutes_over), late: None },
        Clock::Done { late } => ClockView { due_at, state: "done".into(), minutes: None, late: Some(late) },
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvestigationView {
    pub id: i64,
    pub case_id: i64,
    pub case_number: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub opened_at: DateTime<Utc>,
    /// Core facts (identity, movements, contacts), 4 h.
    pub core: ClockView,
    /// Preliminary report, 24 h.
    pub report: ClockView,
    pub source_hypothesis: Option<String>,
    pub assignments: Vec<AssignmentView>,
}

impl From<Investigation> for InvestigationView {
    fn from(i: Investigation) -> Self {
        let now = Utc::now();
        InvestigationView {
            core: clock(i.core_due_at, i.core_clock(now)),
            report: clock(i.report_due_at, i.report_clock(now)),
            id: i.id,
            case_id: i.case_id,
            case_number: i.case_number,
            area_code: i.area_code,
            opened_at: i.opened_at,
            source_hypothesis: i.source_hypothesis,
            assignments: i
                .assignments
                .into_iter()
                .map(|a| AssignmentView { user_id: a.user_id, name: a.display_name, part: a.part.to_string(), assigned_at: a.assigned_at })
                .collect(),
        }
    }
}

/// Investigations without a report in the caller's jurisdiction, overdue first. Requires
/// `tracing.read`.
#[utoipa::path(get, path = "/api/v1/investigations", tag = "tracing",
    responses((status = 200, body = [InvestigationView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingRead.as_str()))))]
pub async fn investigation_queue(caller: Caller) -> ApiResult<Json<Vec<InvestigationView>>> {
    Ok(Json(caller.0.investigation_queue().await?.into_iter().map(InvestigationView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignInput {
    /// phone (default) or site
    #[schema(schema_with = crate::api::enums::investigation_part)]
    pub part: Option<String>,
    /// The investigator; absent: the caller takes it (接单). With `next: true`, the next in turn.
    pub user_id: Option<i64>,
    #[serde(default)]
    pub next: bool,
}

/// Takes or gives one part of an investigation. A part held by another investigator is refused.
/// Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/investigations/{id}/assignments", tag = "tracing", params(("id" = i64, Path, description = "Investigation id")),
    request_body = AssignInput,
    responses((status = 200, body = InvestigationView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn assign(caller: Caller, Path(id): Path<i64>, Json(input): Json<AssignInput>) -> ApiResult<Json<InvestigationView>> {
    let part = parse("part", input.part.as_deref(), Part::from_text, Part::Phone)?;
    let inv = match (input.user_id, input.next) {
        (None, false) => caller.0.take_investigation(id, part).await?,
        (user, _) => caller.0.assign_investigation(id, part, user).await?,
    };
    Ok(Json(inv.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProgressInput {
    /// core_done, or reported (with the source hypothesis)
    #[schema(schema_with = crate::api::enums::investigation_step)]
    pub step: String,
    pub source_hypothesis: Option<String>,
}

/// Marks the core facts gathered or files the preliminary report. Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/investigations/{id}/progress", tag = "tracing", params(("id" = i64, Path, description = "Investigation id")),
    request_body = ProgressInput,
    responses((status = 200, body = InvestigationView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn progress(caller: Caller, Path(id): Path<i64>, Json(input): Json<ProgressInput>) -> ApiResult<Json<InvestigationView>> {
    let inv = match input.step.as_str() {
        "core_done" => caller.0.core_done(id).await?,
        "reported" => caller.0.file_report(id, input.source_hypothesis.as_deref().unwrap_or("")).await?,
        other => return Err(ApiError::bad_request("step", format!("{other:?}: core_done or reported"))),
    };
    Ok(Json(inv.into()))
}
