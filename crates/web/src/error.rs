//! One error type for the API: every failure answers `application/problem+json` naming what was
//! wrong, never a stack trace or SQL.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

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
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: String,
    field: Option<String>,
}

impl ApiError {
    pub fn bad_request(field: &str, detail: impl Into<String>) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, detail: detail.into(), field: Some(field.to_string()) }
    }
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, detail: detail.into(), field: None }
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError { status: StatusCode::UNAUTHORIZED, detail: detail.into(), field: None }
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError { status: StatusCode::FORBIDDEN, detail: detail.into(), field: None }
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError { status: StatusCode::NOT_FOUND, detail: detail.into(), field: None }
    }
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {detail}");
        ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, detail: "the server failed; the error was logged".into(), field: None }
    }
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<cordon_store::StoreError> for ApiError {
    fn from(e: cordon_store::StoreError) -> Self {
        match e {
            cordon_store::StoreError::Invalid(reason) => ApiError::unprocessable(reason),
            cordon_store::StoreError::Refused(r) => ApiError::unprocessable(r.en),
            cordon_store::StoreError::Forbidden(reason) => ApiError::forbidden(reason.to_string()),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            title: self.status.canonical_reason().unwrap_or("Error").to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            field: self.field,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        (self.status, [(header::CONTENT_TYPE, "application/problem+json")], json).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
