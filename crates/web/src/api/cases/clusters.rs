//! Clusters over HTTP, and the line-list import that forms them.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query};
use chrono::{NaiveDate, Utc};
use cordon_domain::access::Permission;
use cordon_store::cases::{Cluster, ClusterFilter};
use cordon_store::linelist::LinelistTarget;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::CaseView;
use crate::api::imports::{Collect, ImportRowError, body_reader};
use crate::api::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterView {
    pub id: i64,
    pub incident_id: i64,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
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
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
}

/// Clusters in the caller's jurisdiction with size, generations, index case and label, largest
/// first. Requires `tracing.read`.
#[utoipa::path(get, path = "/api/v1/clusters", tag = "tracing", params(ClustersQuery),
    responses((status = 200, body = [ClusterView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::TracingRead.as_str()))))]
pub async fn list_clusters(caller: Caller, Query(q): Query<ClustersQuery>) -> ApiResult<Json<Vec<ClusterView>>> {
    let filter = ClusterFilter { incident_id: q.incident, min_size: q.min_size, limit: Some(crate::api::page_limit(q.limit, 200, 5000)?) };
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
    #[param(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
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
    /// Rows refused: no case number, a number already on another line, outside the jurisdiction.
    pub invalid_rows: u64,
    /// Rows stored with a warning (an unreadable optional field left empty, an unknown infector).
    pub warned_rows: u64,
    pub links: u64,
    /// Infectors named that are no case of the file or incident; each is also a warning.
    pub unknown_infectors: u64,
    pub clusters: u64,
    pub elapsed_ms: u64,
    /// The first 1000 refused rows.
    pub errors: Vec<ImportRowError>,
    pub errors_truncated: bool,
    /// The first 1000 warnings.
    pub warnings: Vec<ImportRowError>,
    pub warnings_truncated: bool,
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
        warned_rows: s.warned_rows,
        links: s.links,
        unknown_infectors: s.unknown_infectors,
        clusters: s.clusters,
        elapsed_ms: s.elapsed_ms,
        errors: collect.errors,
        errors_truncated: collect.truncated,
        warnings: collect.warnings,
        warnings_truncated: collect.warnings_truncated,
    }))
}
