//! Investigation over HTTP: positives made cases, cases and their infectors, the investigation
//! queue, clusters with their chains, and line-list imports.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::access::Permission;
use cordon_domain::cases::case::{CaseClass, CasePlace, HowFound, Origin, Severity};
use cordon_domain::cases::investigation::{Clock, Part};
use cordon_store::cases::{Case, Cluster, ClusterFilter, NewCase, Positive};
use cordon_store::investigations::Investigation;
use cordon_store::linelist::LinelistTarget;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::imports::{Collect, ImportRowError, body_reader};
use super::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    pub id: i64,
    pub incident_id: i64,
    /// The case number (e.g. 清徐-1, TJ5).
    pub number: String,
    pub person_id: Option<i64>,
    pub positive_id: Option<i64>,
    pub area_code: String,
    /// confirmed, asymptomatic, suspected
    pub classification: String,
    pub severity: Option<String>,
    pub how_found: String,
    /// local, imported
    pub origin: String,
    pub onset_date: Option<NaiveDate>,
    pub sample_date: Option<NaiveDate>,
    pub report_date: Option<NaiveDate>,
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
    pub area_code: String,
    /// confirmed (default), asymptomatic, suspected
    pub classification: Option<String>,
    /// mild, moderate, severe, critical
    pub severity: Option<String>,
    /// in_quarantine, in_control_area, mass_testing, community_screening, fever_clinic, imported, other (default)
    pub how_found: Option<String>,
    /// local (default), imported
    pub origin: Option<String>,
    pub onset_date: Option<NaiveDate>,
    pub sample_date: Option<NaiveDate>,
    pub report_date: Option<NaiveDate>,
    /// home (default), in_transfer, quarantine_site, hospital, shelter_hospital
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
    pub area_code: String,
    pub round_id: i64,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    pub user_id: i64,
    pub name: String,
    /// phone, site
    pub part: String,
    pub assigned_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockView {
    pub due_at: DateTime<Utc>,
    /// running, overdue, done
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

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterView {
    pub id: i64,
    pub incident_id: i64,
    pub area_code: String,
    /// The label most members carry from their source.
    pub label: Option<String>,
    pub index_case_id: Option<i64>,
    pub index_case: Option<String>,
    pub size: i64,
    pub generations: i32,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    /// A case within the last 14 days.
    pub active: bool,
}

impl From<Cluster> for ClusterView {
    fn from(c: Cluster) -> Self {
        let today = cordon_domain::local_date(Utc::now());
        ClusterView {
            active: c.active_on(today),
            id: c.id,
            incident_id: c.incident_id,
            area_code: c.area_code,
            label: c.label,
            index_case_id: c.index_case_id,
            index_case: c.index_case,
            size: c.size,
            generations: c.generations,
            first_date: c.first_date,
            last_date: c.last_date,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ClustersQuery {
    pub incident: Option<i64>,
    /// At least this many cases (default 2).
    pub min_size: Option<i64>,
    /// At most this many clusters (default 200, at most 5000).
    pub limit: Option<u32>,
}

/// Clusters in the caller's jurisdiction with size, generations, index case and label, largest
/// first. Requires `tracing.read`.
#[utoipa::path(get, path = "/api/v1/clusters", tag = "tracing", params(ClustersQuery),
    responses((status = 200, body = [ClusterView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingRead.as_str()))))]
pub async fn list_clusters(caller: Caller, Query(q): Query<ClustersQuery>) -> ApiResult<Json<Vec<ClusterView>>> {
    let filter = ClusterFilter { incident_id: q.incident, min_size: q.min_size, limit: q.limit };
    Ok(Json(caller.0.clusters(&filter).await?.into_iter().map(ClusterView::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    pub infector_id: i64,
    pub case_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterContactView {
    pub person_id: i64,
    /// Whom they met: a case's person, or (secondary) a close contact.
    pub source_person_id: i64,
    pub case_id: i64,
    pub degree: String,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterDetailView {
    #[serde(flatten)]
    pub cluster: ClusterView,
    pub cases: Vec<CaseView>,
    pub links: Vec<LinkView>,
    /// The people the cluster's cases reached who are not cases (dismissed paths left out).
    pub contacts: Vec<ClusterContactView>,
}

/// A cluster with every case (by generation) and infector link. Requires `tracing.read`.
#[utoipa::path(get, path = "/api/v1/clusters/{id}", tag = "tracing", params(("id" = i64, Path, description = "Cluster id")),
    responses((status = 200, body = ClusterDetailView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingRead.as_str()))))]
pub async fn cluster_detail(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<ClusterDetailView>> {
    let d = caller.0.cluster_detail(id).await?.ok_or_else(|| ApiError::not_found(format!("no cluster {id}")))?;
    Ok(Json(ClusterDetailView {
        cluster: d.cluster.into(),
        cases: d.cases.into_iter().map(CaseView::from).collect(),
        links: d.links.into_iter().map(|(infector_id, case_id)| LinkView { infector_id, case_id }).collect(),
        contacts: d
            .contacts
            .into_iter()
            .map(|c| ClusterContactView {
                person_id: c.person_id,
                source_person_id: c.source_person_id,
                case_id: c.case_id,
                degree: c.degree.to_string(),
                status: c.status.to_string(),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LinelistQuery {
    /// The area of rows without an area code (and of a new incident).
    pub area: String,
    /// The incident by name, created when missing; absent: the incident holding the area.
    pub incident: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinelistReport {
    pub encoding: String,
    pub incident_id: i64,
    pub rows: u64,
    pub inserted: u64,
    /// Cases already in the incident: left as they were.
    pub unchanged: u64,
    pub invalid_rows: u64,
    pub links: u64,
    /// Infectors named that are no case of the file or incident; each is also a row error.
    pub unknown_infectors: u64,
    pub clusters: u64,
    pub elapsed_ms: u64,
    pub errors: Vec<ImportRowError>,
    pub errors_truncated: bool,
}

/// Imports a line list (CSV, UTF-8 or GBK): 病例编号/case_id, and optionally 传染源/infector_ids,
/// 发病日期/onset, 报告日期/report_date, 聚集性疫情/cluster_label, 发现途径/how_found,
/// 本土或输入/origin, 分类/classification, 区划代码/area_code. Cluster membership follows the
/// infector links; importing again changes nothing. Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/imports/linelist", tag = "imports", params(LinelistQuery),
    request_body(content = String, content_type = "text/csv", description = "A line list with a header line"),
    responses((status = 200, body = LinelistReport), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem, description = "Not a line list (no case number column)")),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn import_linelist(caller: Caller, Query(q): Query<LinelistQuery>, body: Body) -> ApiResult<Json<LinelistReport>> {
    let target = LinelistTarget { area: parse_area("area", &q.area)?, incident: q.incident.filter(|i| !i.trim().is_empty()) };
    let mut collect = Collect::default();
    let s = caller.0.import_linelist(body_reader(body), &target, &mut collect).await?;
    Ok(Json(LinelistReport {
        encoding: s.encoding.as_str().to_string(),
        incident_id: s.incident_id,
        rows: s.rows,
        inserted: s.inserted,
        unchanged: s.unchanged,
        invalid_rows: s.invalid_rows,
        links: s.links,
        unknown_infectors: s.unknown_infectors,
        clusters: s.clusters,
        elapsed_ms: s.elapsed_ms,
        errors: collect.errors,
        errors_truncated: collect.truncated,
    }))
}

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
    pub area_code: String,
    pub overlap_minutes: i64,
    pub venues: Vec<String>,
    pub first_at: DateTime<Utc>,
    pub last_until: DateTime<Utc>,
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
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ColleagueView {
    pub person_id: i64,
    pub name: String,
    pub area_code: String,
    pub workplace: String,
    /// The team or shift; empty when the roster names none.
    pub unit: String,
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
            .map(|c| ColleagueView { person_id: c.person_id, name: c.name, area_code: c.area_code, workplace: c.workplace, unit: c.unit })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ExposureInput {
    pub person_id: i64,
    /// household, work, meal, vehicle, venue, care, other
    pub kind: String,
    /// close (default), place_exposed, companion, general
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
    pub area_code: String,
    /// The gravest degree over the person's paths.
    pub degree: String,
    pub paths: usize,
    pub kinds: Vec<String>,
    /// proposed, confirmed, handed_over
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
    pub ordered: Vec<i64>,
    pub already: Vec<i64>,
    pub refused: Vec<RefusedPerson>,
}

/// Hands a confirmed batch of close and secondary contacts over as observation orders awaiting
/// transfer; again changes nothing. Requires `tracing.write`.
#[utoipa::path(post, path = "/api/v1/cases/{id}/handover", tag = "tracing", params(("id" = i64, Path, description = "Case id")),
    request_body = HandOverInput,
    responses((status = 200, body = HandOverView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingWrite.as_str()))))]
pub async fn hand_over(caller: Caller, Path(id): Path<i64>, Json(input): Json<HandOverInput>) -> ApiResult<Json<HandOverView>> {
    let h = caller.0.hand_over(id, &input.person_ids).await?;
    Ok(Json(HandOverView {
        ordered: h.ordered,
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
    pub to_area: String,
    pub from_area: String,
    /// The facts the other jurisdiction needs (case, person, kind, degree, times).
    pub facts: serde_json::Value,
    /// open, answered
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
    let area = cordon_domain::AreaCode::parse(&q.area).map_err(|e| ApiError::bad_request("area", e.to_string()))?;
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
