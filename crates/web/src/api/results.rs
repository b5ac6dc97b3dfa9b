//! Labs, results and the recall board over HTTP.

use axum::Json;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use cordon_domain::Barcode;
use cordon_domain::access::Permission;
use cordon_domain::testing::result::{CtValues, TubeResult};
use cordon_store::recalls::Recall;
use cordon_store::results::{Lab, NewLab, ResultInput, ResultOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewLabInput {
    pub name: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    /// Tubes a day.
    pub daily_capacity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabView {
    pub id: i64,
    pub name: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub daily_capacity: i32,
}

impl From<Lab> for LabView {
    fn from(l: Lab) -> Self {
        LabView { id: l.id, name: l.name, area_code: l.area_code, daily_capacity: l.daily_capacity }
    }
}

/// Adds a lab in the caller's jurisdiction. Requires `testing.write`.
#[utoipa::path(post, path = "/api/v1/labs", tag = "testing", request_body = NewLabInput,
    responses((status = 201, body = LabView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingWrite.as_str()))))]
pub async fn create_lab(caller: Caller, Json(input): Json<NewLabInput>) -> ApiResult<(StatusCode, Json<LabView>)> {
    let area_code = parse_area("area_code", &input.area_code)?;
    let lab = caller.0.create_lab(NewLab { name: input.name, area_code, daily_capacity: input.daily_capacity }).await?;
    Ok((StatusCode::CREATED, Json(lab.into())))
}

/// The labs. Requires `testing.read` (or `lab.write`).
#[utoipa::path(get, path = "/api/v1/labs", tag = "testing",
    responses((status = 200, body = [LabView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingRead.as_str()))))]
pub async fn list_labs(caller: Caller) -> ApiResult<Json<Vec<LabView>>> {
    Ok(Json(caller.0.labs().await?.into_iter().map(LabView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResultItem {
    pub barcode: String,
    pub round_id: Option<i64>,
    /// negative, positive, pooled_suspect, invalid (or 阴性, 阳性, 混管可疑阳性); derived from the Ct values when absent.
    pub result: Option<String>,
    pub ct_orf1ab: Option<f32>,
    pub ct_n: Option<f32>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResultsInput {
    pub lab_id: i64,
    pub results: Vec<ResultItem>,
}

/// An outcome as the API says it: a refusal carries its English text as `reason`.
fn said(outcome: &ResultOutcome) -> serde_json::Value {
    let mut json = serde_json::to_value(outcome).unwrap_or_default();
    if let ResultOutcome::Refused { refusal } = outcome {
        json["reason"] = serde_json::Value::from(crate::i18n::in_english(refusal));
    }
    json
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultLine {
    pub barcode: String,
    /// {"outcome": "recorded", …}, {"outcome": "repeat"} or {"outcome": "refused", "refusal":
    /// {"kind", "args"}, "reason": the same in English}
    #[schema(value_type = Object)]
    pub outcome: serde_json::Value,
}

/// Records tube results from a lab. Every member of a positive or pooled-suspect pool gets a
/// recall; a single-tube re-test closes it (negative, or positive → a positive person). A result
/// for an unknown barcode or a different second result is refused and reported, never dropped
/// or overwritten; a repeated result changes nothing. Requires `lab.write`.
#[utoipa::path(post, path = "/api/v1/results", tag = "testing", request_body = ResultsInput,
    responses((status = 200, body = [ResultLine]), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::LabWrite.as_str()))))]
pub async fn post_results(caller: Caller, Json(input): Json<ResultsInput>) -> ApiResult<Json<Vec<ResultLine>>> {
    caller.0.require(cordon_domain::access::Permission::LabWrite)?;
    let mut inputs = Vec::with_capacity(input.results.len());
    for item in &input.results {
        let barcode =
            Barcode::parse(&item.barcode).map_err(|e| ApiError::bad_request("results.barcode", format!("{:?}: {e}", item.barcode)))?;
        let result =
            item.result.as_deref().map(|r| r.parse::<TubeResult>()).transpose().map_err(|e| ApiError::bad_request("results.result", e))?;
        inputs.push(ResultInput {
            barcode,
            round_id: item.round_id,
            result,
            ct: CtValues { orf1ab: item.ct_orf1ab, n: item.ct_n },
            at: item.at,
        });
    }
    let outcomes = caller.0.record_results(input.lab_id, &inputs).await?;
    Ok(Json(
        input
            .results
            .into_iter()
            .zip(outcomes)
            .map(|(item, outcome)| ResultLine { barcode: item.barcode, outcome: said(&outcome) })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecallView {
    pub id: i64,
    pub round_id: i64,
    pub person_id: i64,
    pub person_name: String,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    /// The pooled tube that was positive.
    #[schema(pattern = r"^[0-9A-Za-z]{8,20}$")]
    pub barcode: String,
    pub created_at: DateTime<Utc>,
    /// Re-sample alone, at home, by then.
    pub deadline: DateTime<Utc>,
    /// open, negative or positive (closed by the single-tube re-test).
    #[schema(schema_with = crate::api::enums::recall_status)]
    pub status: String,
}

impl From<Recall> for RecallView {
    fn from(r: Recall) -> Self {
        RecallView {
            id: r.id,
            round_id: r.round_id,
            person_id: r.person_id,
            person_name: r.person_name,
            area_code: r.area_code,
            barcode: r.barcode,
            created_at: r.created_at,
            deadline: r.deadline,
            status: r.status.to_string(),
        }
    }
}

/// Open recalls of people in the caller's jurisdiction, the nearest deadline first. Requires `testing.read`.
#[utoipa::path(get, path = "/api/v1/recalls", tag = "testing",
    responses((status = 200, body = [RecallView]), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingRead.as_str()))))]
pub async fn list_recalls(caller: Caller) -> ApiResult<Json<Vec<RecallView>>> {
    Ok(Json(caller.0.open_recalls().await?.into_iter().map(RecallView::from).collect()))
}

/// Every member a pooled tube recalled, in the caller's jurisdiction, with where each recall
/// stands (for the community and the door-to-door team). Requires `testing.read`.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/tubes/{barcode}/recalls", tag = "testing",
    params(("id" = i64, Path, description = "Round id"), ("barcode" = String, Path, description = "The pooled tube", pattern = r"^[0-9A-Za-z]{8,20}$")),
    responses((status = 200, body = [RecallView]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::TestingRead.as_str()))))]
pub async fn tube_recalls(
    caller: Caller,
    axum::extract::Path((id, barcode)): axum::extract::Path<(i64, String)>,
) -> ApiResult<Json<Vec<RecallView>>> {
    let barcode = Barcode::parse(&barcode).map_err(|e| ApiError::bad_request("barcode", format!("{barcode:?}: {e}")))?;
    Ok(Json(caller.0.tube_recalls(id, &barcode).await?.into_iter().map(RecallView::from).collect()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CsvQuery {
    /// The lab the file comes from.
    pub lab_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CsvResultLine {
    /// Line in the file (the header is line 1).
    pub line: u64,
    pub barcode: String,
    #[schema(value_type = Object)]
    pub outcome: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CsvResultsReport {
    pub encoding: String,
    pub rows: u64,
    pub recorded: u64,
    pub repeats: u64,
    /// Rows refused (unknown barcode, conflicting result) or unreadable, each with its line and reason.
    pub problems: Vec<CsvResultLine>,
}

/// Records results from a lab system's CSV export (UTF-8 or GBK, streamed). Each row is
/// recorded as the JSON path would; unreadable, unknown or conflicting rows are reported with
/// their line and reason. Requires `lab.write`.
#[utoipa::path(post, path = "/api/v1/results/csv", tag = "testing", params(CsvQuery),
    request_body(content = String, content_type = "text/csv", description = "Header line with 条码/barcode and 结果/result or ORF1ab/N Ct columns; optional 检测时间/at"),
    responses((status = 200, body = CsvResultsReport), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::LabWrite.as_str()))))]
pub async fn post_results_csv(
    caller: Caller,
    axum::extract::Query(q): axum::extract::Query<CsvQuery>,
    body: axum::body::Body,
) -> ApiResult<Json<CsvResultsReport>> {
    let reader = crate::api::imports::body_reader(body);
    let r = cordon_store::lab_csv::ingest_results_csv(&caller.0, q.lab_id, reader).await?;
    Ok(Json(CsvResultsReport {
        encoding: r.encoding,
        rows: r.rows,
        recorded: r.recorded,
        repeats: r.repeats,
        problems: r.problems.into_iter().map(|(line, barcode, outcome)| CsvResultLine { line, barcode, outcome: said(&outcome) }).collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Hl7Query {
    /// The lab the message comes from; default: the lab named (or numbered) in MSH-4.
    pub lab_id: Option<i64>,
}

/// Records the tubes of an HL7 v2.5.1 ORU^R01 message (one OBR per tube; OBX 94500-6 with the
/// verdict, and Ct values) and answers the ACK: AA when every tube was recorded or repeated, AE
/// with one ERR per refused tube, AR when the message cannot be read. UTF-8 or GB18030.
/// Requires `lab.write`.
#[utoipa::path(post, path = "/api/v1/results/hl7", tag = "testing", params(Hl7Query),
    request_body(content = String, content_type = "application/hl7-v2", description = "An ORU^R01 message, segments separated by CR"),
    responses((status = 200, body = String, content_type = "application/hl7-v2", description = "The ACK (AA, AE or AR)"),
              (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::LabWrite.as_str()))))]
pub async fn post_results_hl7(
    caller: Caller,
    axum::extract::Query(q): axum::extract::Query<Hl7Query>,
    body: bytes::Bytes,
) -> ApiResult<([(axum::http::HeaderName, &'static str); 1], String)> {
    caller.0.require(cordon_domain::access::Permission::LabWrite)?;
    let ack = crate::hl7::receive(&caller.0, &body, q.lab_id).await;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/hl7-v2; charset=utf-8")], ack))
}
