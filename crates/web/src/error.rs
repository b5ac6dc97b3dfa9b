//! One error type for the API: every failure answers `application/problem+json` naming what was
//! wrong, never a stack trace or SQL.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cordon_domain::refusal::{Class, Refusal};
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::{Lang, Tr};

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A short, stable summary of the kind of problem.
    pub title: String,
    pub status: u16,
    /// What exactly went wrong, for a person.
    pub detail: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a refusal of the rules: its kind (e.g. `refused.tube_full`), stable for programs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// For a refusal: the values its text names, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub args: Option<serde_json::Value>,
    /// For a refusal of a whole (a box of tubes): the refusal of each member, as `{kind, args}`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub parts: Vec<serde_json::Value>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: String,
    field: Option<String>,
    refusal: Option<Box<Refusal>>,
}

impl ApiError {
    pub fn bad_request(field: &str, detail: impl Into<String>) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, detail: detail.into(), field: Some(field.to_string()), refusal: None }
    }
    /// A field that does not parse, said by a refusal's kind so that a page can say it in its
    /// own language (an id's wrong check digit), with the field named.
    pub fn bad_field(field: &str, r: Refusal) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            detail: crate::i18n::in_english(&r),
            field: Some(field.to_string()),
            refusal: Some(Box::new(r)),
        }
    }
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, detail: detail.into(), field: None, refusal: None }
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError { status: StatusCode::UNAUTHORIZED, detail: detail.into(), field: None, refusal: None }
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError { status: StatusCode::FORBIDDEN, detail: detail.into(), field: None, refusal: None }
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError { status: StatusCode::NOT_FOUND, detail: detail.into(), field: None, refusal: None }
    }
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {detail}");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: "the server failed; the error was logged".into(),
            field: None,
            refusal: None,
        }
    }
    /// A refusal of the rules: 422, 409 or 404 by its class, said in English with its kind.
    pub fn refused(r: Refusal) -> Self {
        let status = match r.class {
            Class::Refused => StatusCode::UNPROCESSABLE_ENTITY,
            Class::Conflict => StatusCode::CONFLICT,
            Class::Missing => StatusCode::NOT_FOUND,
        };
        ApiError { status, detail: crate::i18n::in_english(&r), field: None, refusal: Some(Box::new(r)) }
    }
    /// A failure said only by its status and what the server said of it.
    pub fn with_status(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError { status, detail: detail.into(), field: None, refusal: None }
    }
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<cordon_store::StoreError> for ApiError {
    fn from(e: cordon_store::StoreError) -> Self {
        match e {
            cordon_store::StoreError::Refused(r) => ApiError::refused(*r),
            cordon_store::StoreError::Forbidden(reason) => ApiError::forbidden(Tr(Lang::En).denied(&reason)),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (kind, args, parts) = match self.refusal {
            Some(r) => {
                let json = serde_json::to_value(&*r).unwrap_or_default();
                (Some(r.kind), json.get("args").cloned(), json.get("parts").and_then(|p| p.as_array().cloned()).unwrap_or_default())
            }
            None => (None, None, vec![]),
        };
        let body = Problem {
            title: self.status.canonical_reason().unwrap_or("Error").to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            field: self.field,
            kind,
            args,
            parts,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        (self.status, [(header::CONTENT_TYPE, "application/problem+json")], json).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The most of an extractor's plain-text rejection kept as a problem's detail.
const REJECTION_TEXT_MAX: usize = 16 * 1024;

/// Answers a failure under `/api/` as `application/problem+json` (the caller asks only for API
/// paths). The handlers' own errors
/// already are; this catches what the extractors answer before a handler runs, in text/plain: a
/// body that is not JSON or not of the request's shape (400/422), a wrong or missing content
/// type (415), a body over the limit (413), a path or query that does not parse (400). Their
/// text becomes the problem's detail; headers such as `Allow` are kept.
pub(crate) async fn api_problem(res: Response) -> Response {
    let status = res.status();
    let problem = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || problem {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = match axum::body::to_bytes(body, REJECTION_TEXT_MAX).await {
        Ok(bytes) if !bytes.is_empty() && !status.is_server_error() => String::from_utf8_lossy(&bytes).trim().to_string(),
        _ => status.canonical_reason().unwrap_or("Error").to_string(),
    };
    let out = ApiError::with_status(status, text).into_response();
    let (new_parts, body) = out.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, new_parts.headers[header::CONTENT_TYPE].clone());
    Response::from_parts(parts, body)
}

/// The most of a JSON or form body read here; the extractors refuse larger ones anyway (axum's
/// default body limit).
const TEXT_BODY_MAX: usize = 2 * 1024 * 1024;

/// Refuses a request carrying a NUL character (U+0000) in its query, a JSON string or a form
/// field, with 400 before any handler runs. No field of Cordon takes one, and PostgreSQL cannot
/// store one in text: let through, it failed as a server error on that backend only (found by
/// fuzzing the API). File uploads are the importers' to refuse, row by row. Answers the request
/// to go on with (a JSON or form body read whole and put back), or the refusal.
pub(crate) async fn refuse_nul(req: axum::extract::Request) -> Result<axum::extract::Request, Response> {
    let refused = || {
        ApiError::with_status(StatusCode::BAD_REQUEST, "the request holds a NUL character (U+0000), which is not text any field takes")
            .into_response()
    };
    if req.uri().query().is_some_and(|q| q.contains("%00")) || req.uri().path().contains("%00") {
        return Err(refused());
    }
    let ctype = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let mime = ctype.split(';').next().unwrap_or_default().trim();
    // JSON as the extractor takes it (`application/json`, `application/*+json`); forms only on
    // the pages: a file posted to an import is streamed as it comes, whatever type curl gave it.
    let json = mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"));
    let form = mime == "application/x-www-form-urlencoded" && !req.uri().path().starts_with("/api/");
    if !json && !form {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, TEXT_BODY_MAX).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Err(
                ApiError::with_status(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is over {TEXT_BODY_MAX} bytes")).into_response()
            );
        }
    };
    let nul = if json { json_holds_nul(&bytes) } else { bytes.contains(&0) || contains(&bytes, b"%00") };
    if nul {
        return Err(refused());
    }
    Ok(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes)))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether a JSON document holds U+0000 in a string or a key. JSON can carry it only escaped, so
/// a body without `\u0000` is passed without parsing; one with it is parsed to tell a real NUL
/// from the text `\\u0000`. A body that does not parse is left to the extractor to refuse.
fn json_holds_nul(bytes: &[u8]) -> bool {
    fn walk(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(walk),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || walk(v)),
            _ => false,
        }
    }
    contains(bytes, b"\\u0000") && serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| walk(&v))
}
