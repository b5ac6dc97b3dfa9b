use cordon_domain::access::Permission;
use std::io::Read;

use axum::Json;
use axum::body::Body;
use bytes::{Buf, Bytes};
use cordon_store::import::{ImportObserver, RowError};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiResult, Problem};

/// How many row errors an answer lists; the rest are counted.
const MAX_LISTED_ERRORS: usize = 1000;

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportRowError {
    /// Line in the file, the header being line 1.
    pub line: u64,
    pub field: Option<String>,
    /// What is wrong, in English; for a warning followed by what the import did instead.
    pub reason: String,
    /// The same as a kind with its values (`{"kind": "row.date", "args": {"value": "2020-06"}}`),
    /// for a face that says it in its own language.
    #[schema(value_type = Object)]
    pub refusal: serde_json::Value,
    /// For a warning: what the import did instead (`row.then.left_empty`), as a kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub then: Option<serde_json::Value>,
}

impl From<&RowError> for ImportRowError {
    fn from(e: &RowError) -> Self {
        ImportRowError {
            line: e.line,
            field: e.field.map(str::to_string),
            reason: crate::i18n::row_in_english(e),
            refusal: serde_json::to_value(&e.reason).unwrap_or_default(),
            then: e.then.as_ref().map(|t| serde_json::to_value(t).unwrap_or_default()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// UTF-8 or GB18030 (GBK), as detected.
    pub encoding: String,
    pub rows: u64,
    pub inserted: u64,
    /// Valid rows of people already registered: nothing changed.
    pub unchanged: u64,
    pub invalid_rows: u64,
    /// Rows stored with an optional field that did not read left empty.
    pub warned_rows: u64,
    /// Rows that corrected a registered person's name, phone or address: each field is a warning
    /// (`row.differs_from_stored`, then `row.then.corrected`).
    pub corrected_rows: u64,
    /// Rows for people registered in another area: nothing changed, each differing field is a
    /// warning (`row.then.kept_stored`). Counted among `unchanged`.
    pub kept_rows: u64,
    pub elapsed_ms: u64,
    /// The first 1000 row errors.
    pub errors: Vec<ImportRowError>,
    /// Whether more errors exist than are listed.
    pub errors_truncated: bool,
    /// The first 1000 warnings.
    pub warnings: Vec<ImportRowError>,
    pub warnings_truncated: bool,
}

#[derive(Default)]
pub(crate) struct Collect {
    pub(crate) errors: Vec<ImportRowError>,
    pub(crate) truncated: bool,
    pub(crate) warnings: Vec<ImportRowError>,
    pub(crate) warnings_truncated: bool,
}

impl ImportObserver for Collect {
    fn row_error(&mut self, e: &RowError) {
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(e.into());
        } else {
            self.truncated = true;
        }
    }

    fn row_warning(&mut self, e: &RowError) {
        if self.warnings.len() < MAX_LISTED_ERRORS {
            self.warnings.push(e.into());
        } else {
            self.warnings_truncated = true;
        }
    }
}

/// A request body as a blocking reader, fed chunk by chunk as it arrives (never buffered whole).
pub(crate) fn body_reader(body: Body) -> BodyReader {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let mut stream = body.into_data_stream();
    tokio::spawn(async move {
        while let Some(chunk) = stream.next().await {
            let item = chunk.map_err(std::io::Error::other);
            if tx.send(item).await.is_err() {
                break;
            }
        }
    });
    BodyReader { rx, current: Bytes::new() }
}

/// Reads a request body, arriving in chunks on an async channel, from a blocking thread.
pub(crate) struct BodyReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while !self.current.has_remaining() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.remaining());
        self.current.copy_to_slice(&mut buf[..n]);
        Ok(n)
    }
}

/// Imports people from a CSV body (UTF-8 or GBK; Chinese or English headers), streamed.
/// Valid rows are stored, invalid rows reported (rows outside the caller's jurisdiction too);
/// an optional field that does not read (a phone, tags) is a warning and the person is stored
/// without it; a row for a registered person corrects their name, phone and address (never their
/// area: such a row changes nothing) and each differing field is a warning; importing the same
/// file again changes nothing. Requires `persons.import`.
#[utoipa::path(post, path = "/api/v1/imports/persons", tag = "imports",
    request_body(content = String, content_type = "text/csv", description = "CSV with a header line: 身份证号/id_number, 姓名/name, 区划代码/area_code, and optionally 手机号/phone, 住址/address, 重点人群/tags, 证件类型, 性别, 出生日期"),
    responses((status = 200, body = ImportReport), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem, description = "The file is not a person list (required columns missing)")),
    extensions(("x-permission" = json!(Permission::PersonsImport.as_str()))))]
pub async fn import_persons(Caller(scope): Caller, body: Body) -> ApiResult<Json<ImportReport>> {
    scope.require(cordon_domain::access::Permission::PersonsImport)?;
    let reader = body_reader(body);
    let mut collect = Collect::default();
    let summary = scope.import_persons(reader, &mut collect).await?;
    Ok(Json(ImportReport {
        encoding: summary.encoding.as_str().to_string(),
        rows: summary.rows,
        inserted: summary.inserted,
        unchanged: summary.unchanged,
        invalid_rows: summary.invalid_rows,
        warned_rows: summary.warned_rows,
        corrected_rows: summary.corrected_rows,
        kept_rows: summary.kept_rows,
        elapsed_ms: summary.elapsed_ms,
        errors: collect.errors,
        errors_truncated: collect.truncated,
        warnings: collect.warnings,
        warnings_truncated: collect.warnings_truncated,
    }))
}

/// A feature of a boundary file that was not taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoundaryProblem {
    /// 1-based position of the feature in the file.
    pub feature: u64,
    /// The area code it gave, as written.
    pub code: Option<String>,
    /// Why, in English.
    pub reason: String,
    /// The same as a kind with its values (`{"kind": "boundary.unknown_area", "args": {"code": "140121199"}}`).
    #[schema(value_type = Object)]
    pub refusal: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoundaryReport {
    /// UTF-8 or GB18030 (GBK), as detected.
    pub encoding: String,
    /// Features in the file.
    pub features: u64,
    /// Outlines stored (new, or replacing the area's earlier one).
    pub imported: u64,
    /// Every feature not taken, with why.
    pub problems: Vec<BoundaryProblem>,
}

/// Imports area outlines for the zone map from a GeoJSON file (a FeatureCollection, UTF-8 with
/// or without BOM, or GBK), each feature keyed by its area code (`adcode`, `code`, `区划代码`,
/// `XZQDM`, … or its `id`; 6- and 12-digit national codes read). Only areas of the caller's
/// jurisdiction are taken; every other feature is reported with why. Importing again replaces
/// an area's outline; a file that is not GeoJSON changes nothing. Requires `command.write`.
#[utoipa::path(post, path = "/api/v1/imports/boundaries", tag = "imports",
    request_body(content = String, content_type = "application/geo+json", description = "A GeoJSON FeatureCollection of Polygon or MultiPolygon features"),
    responses((status = 200, body = BoundaryReport), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem, description = "The file is not GeoJSON, or too large")),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn import_boundaries(Caller(scope): Caller, body: Body) -> ApiResult<Json<BoundaryReport>> {
    scope.require(Permission::CommandWrite)?;
    let done = scope.import_boundaries(body_reader(body)).await?;
    Ok(Json(BoundaryReport {
        encoding: done.encoding.as_str().to_string(),
        features: done.features,
        imported: done.imported,
        problems: done
            .problems
            .iter()
            .map(|p| BoundaryProblem {
                feature: p.feature,
                code: p.code.clone(),
                reason: crate::i18n::in_english(&p.reason),
                refusal: serde_json::to_value(&p.reason).unwrap_or_default(),
            })
            .collect(),
    }))
}
