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
