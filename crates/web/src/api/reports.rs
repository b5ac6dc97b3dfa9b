//! The daily report over HTTP: the day's figures (the signed version when there is one, else the
//! live figures, saying which), the records behind a figure, signing, and the versions with
//! their differences.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::Query;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::access::Permission;
use cordon_domain::report::{Difference, Field, Figures, figure};
use cordon_store::daily::{ListedRow, ReportRow, Version};
use cordon_store::scoped::{DailyReport, ReportAsk};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportQuery {
    /// The local day (`2022-04-13`); the latest whose cut-off has passed when absent.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    date: Option<String>,
    /// The area (a county or township of the jurisdiction); the caller's first when absent.
    area: Option<String>,
    /// The hour (1–24) the day's 24 hours end at; the signed version's, else 24.
    #[param(minimum = 1, maximum = 24)]
    cutoff: Option<u32>,
}

/// Reads a day as people type it.
pub(crate) fn parse_day(field: &str, s: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(field, format!("{s:?} is not a date like 2022-04-13")))
}

impl ReportQuery {
    fn ask(&self) -> ApiResult<ReportAsk> {
        Ok(ReportAsk {
            area: self.area.as_deref().map(|a| parse_area("area", a)).transpose()?,
            day: self.date.as_deref().map(|d| parse_day("date", d)).transpose()?,
            cutoff: self.cutoff,
        })
    }
}

/// Every figure by name (zero included).
fn all_figures(f: &Figures) -> BTreeMap<String, i64> {
    Field::ALL.iter().map(|k| (k.to_string(), figure(f, *k))).collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportRowView {
    pub area_code: String,
    pub name: String,
    /// Each figure by its name (`new_confirmed_local`, …).
    pub figures: BTreeMap<String, i64>,
}

impl From<ReportRow> for ReportRowView {
    fn from(r: ReportRow) -> Self {
        ReportRowView { figures: all_figures(&r.figures), area_code: r.area_code, name: r.name }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DifferenceView {
    pub area_code: String,
    #[schema(schema_with = crate::api::enums::report_field)]
    pub field: String,
    pub before: i64,
    pub after: i64,
}

impl From<Difference> for DifferenceView {
    fn from(d: Difference) -> Self {
        DifferenceView { area_code: d.area_code, field: d.field.to_string(), before: d.before, after: d.after }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DailyReportView {
    pub area_code: String,
    pub date: NaiveDate,
    pub cutoff: u32,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// `signed` (the latest signed version) or `live` (computed now from the records).
    #[schema(pattern = "^(signed|live)$")]
    pub status: String,
    pub version: Option<i32>,
    /// How many signed versions the day has.
    pub versions: usize,
    pub signed_at: Option<DateTime<Utc>>,
    pub signed_by: Option<String>,
    pub reason: Option<String>,
    /// Whether the day's cut-off has passed (it may be signed).
    pub closed: bool,
    /// The area's total first, then each area below it.
    pub rows: Vec<ReportRowView>,
    /// Where the records now say otherwise than the signed version.
    pub live_differences: Vec<DifferenceView>,
}

impl From<DailyReport> for DailyReportView {
    fn from(r: DailyReport) -> Self {
        DailyReportView {
            area_code: r.area_code,
            date: r.day,
            cutoff: r.cutoff,
            window_start: r.window.start,
            window_end: r.window.end,
            status: r.status.to_string(),
            version: r.version,
            versions: r.versions,
            signed_at: r.signed_at,
            signed_by: r.signed_by,
            reason: r.reason,
            closed: r.closed,
            rows: r.rows.into_iter().map(ReportRowView::from).collect(),
            live_differences: r.live_differences.into_iter().map(DifferenceView::from).collect(),
        }
    }
}

/// A day's report (日报) for an area and each area below it: new confirmed and asymptomatic
/// (local, imported; found in quarantine, in control areas, in the community), conversions,
/// discharges, deaths, severe now, current and cumulative totals, contacts traced and under
/// observation, releases, people and tubes sampled, beds, zones. The latest signed version
/// when there is one, else the live figures. Requires `command.write` or `reports.read`.
#[utoipa::path(get, path = "/api/v1/reports/daily", tag = "reports", params(ReportQuery),
    responses((status = 200, body = DailyReportView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::ReportsRead.as_str()))))]
pub async fn daily(caller: Caller, Query(q): Query<ReportQuery>) -> ApiResult<Json<DailyReportView>> {
    Ok(Json(caller.0.daily_report(&q.ask()?).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// The local day (`2022-04-13`); the latest whose cut-off has passed when absent.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    date: Option<String>,
    /// The area; the caller's first when absent.
    area: Option<String>,
    /// The hour (1–24) the day's 24 hours end at; 24 when absent.
    #[param(minimum = 1, maximum = 24)]
    cutoff: Option<u32>,
    /// The figure whose records are listed (required).
    #[param(schema_with = crate::api::enums::report_field)]
    field: Option<String>,
    /// The last key of the page before.
    after: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListedRowView {
    /// The record's id, or an area's code (people sampled, per village).
    pub key: String,
    pub label: String,
    pub area_code: String,
    pub at: Option<DateTime<Utc>>,
    /// What the row adds to the figure.
    pub n: i64,
    /// The record's page.
    pub link: Option<String>,
}

impl From<ListedRow> for ListedRowView {
    fn from(r: ListedRow) -> Self {
        ListedRowView { key: r.key, label: r.label, area_code: r.area_code, at: r.at, n: r.n, link: r.link }
    }
}

/// The records one figure of the day's report counts (live), 200 a page by key; the rows' `n`
/// add up to the figure. Requires `command.write` or `reports.read`.
#[utoipa::path(get, path = "/api/v1/reports/daily/records", tag = "reports", params(ListQuery),
    responses((status = 200, body = [ListedRowView]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::ReportsRead.as_str()))))]
pub async fn records(caller: Caller, Query(q): Query<ListQuery>) -> ApiResult<Json<Vec<ListedRowView>>> {
    caller.0.require_any(&[Permission::CommandWrite, Permission::ReportsRead])?;
    let field =
        q.field.as_deref().ok_or_else(|| ApiError::bad_request("field", "field is required: the figure whose records are listed"))?;
    let field: Field = field.parse().map_err(|e: String| ApiError::bad_request("field", e))?;
    let ask = ReportQuery { date: q.date, area: q.area, cutoff: q.cutoff }.ask()?;
    let (_, rows) = caller.0.daily_list(&ask, field, q.after.as_deref()).await?;
    Ok(Json(rows.into_iter().map(ListedRowView::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    pub version: i32,
    pub cutoff: i32,
    pub signed_at: DateTime<Utc>,
    pub signed_by: String,
    pub signed_by_name: String,
    pub reason: Option<String>,
    pub rows: Vec<ReportRowView>,
    /// What changed from the version before (none for version 1).
    pub differences: Vec<DifferenceView>,
}

impl From<Version> for VersionView {
    fn from(v: Version) -> Self {
        VersionView {
            version: v.version,
            cutoff: v.cutoff,
            signed_at: v.signed_at,
            signed_by: v.signed_by,
            signed_by_name: v.signed_by_name,
            reason: v.reason,
            rows: v.rows.into_iter().map(ReportRowView::from).collect(),
            differences: v.differences.into_iter().map(DifferenceView::from).collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct VersionsQuery {
    /// The local day (`2022-04-13`; required).
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    date: Option<String>,
    /// The area; the caller's first when absent.
    area: Option<String>,
}

/// The signed versions of a day's report, oldest first, each with the differences from the one
/// before. Requires `command.write` or `reports.read`.
#[utoipa::path(get, path = "/api/v1/reports/daily/versions", tag = "reports", params(VersionsQuery),
    responses((status = 200, body = [VersionView]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::ReportsRead.as_str()))))]
pub async fn versions(caller: Caller, Query(q): Query<VersionsQuery>) -> ApiResult<Json<Vec<VersionView>>> {
    caller.0.require_any(&[Permission::CommandWrite, Permission::ReportsRead])?;
    let area = q.area.as_deref().map(|a| parse_area("area", a)).transpose()?;
    let day = parse_day("date", q.date.as_deref().ok_or_else(|| ApiError::bad_request("date", "date is required, like 2022-04-13"))?)?;
    Ok(Json(caller.0.daily_versions(area.as_ref(), day).await?.into_iter().map(VersionView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignInput {
    /// The local day (`2022-04-13`); its cut-off must have passed.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub date: String,
    pub area: Option<String>,
    #[schema(minimum = 1, maximum = 24)]
    pub cutoff: Option<u32>,
    /// Needed for a correction (a second version or later).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Signs the day's report as the records now say: version 1, frozen; a later signature with a
/// reason, when a figure changed, is the next version with its differences. Requires
/// `command.write`.
#[utoipa::path(post, path = "/api/v1/reports/daily/sign", tag = "reports", request_body = SignInput,
    responses((status = 201, body = VersionView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn sign(caller: Caller, Json(input): Json<SignInput>) -> ApiResult<(StatusCode, Json<VersionView>)> {
    caller.0.require(Permission::CommandWrite)?;
    let ask = ReportAsk {
        area: input.area.as_deref().map(|a| parse_area("area", a)).transpose()?,
        day: Some(parse_day("date", &input.date)?),
        cutoff: input.cutoff,
    };
    let v = caller.0.sign_daily(&ask, input.reason.as_deref().unwrap_or("")).await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}
