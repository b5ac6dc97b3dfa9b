//! Health codes over HTTP: a person's code with its reasons, and the look-up a checkpoint makes
//! by identity number.

use axum::Json;
use axum::extract::{Path, Query};
use chrono::NaiveDate;
use cordon_domain::access::Permission;
use cordon_domain::health_code::HealthCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeReasonView {
    /// case, close_contact, centralized_quarantine, sealed_zone, secondary_contact, home_monitoring,
    /// controlled_zone, awaiting_retest, fever, overdue_test, override
    #[schema(schema_with = crate::api::enums::code_reason)]
    pub code: String,
    /// The colour this reason gives.
    #[schema(schema_with = crate::api::enums::code_colour)]
    pub colour: String,
    pub zh: String,
    pub en: String,
    pub since: Option<NaiveDate>,
    /// What turns it back, when a date can tell.
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthCodeView {
    pub person_id: i64,
    /// green, yellow or red: the strictest of the reasons (green with none)
    #[schema(schema_with = crate::api::enums::code_colour)]
    pub colour: String,
    /// Reddest first.
    pub reasons: Vec<CodeReasonView>,
}

impl HealthCodeView {
    fn new(person_id: i64, code: HealthCode) -> Self {
        HealthCodeView {
            person_id,
            colour: code.colour.to_string(),
            reasons: code
                .reasons
                .into_iter()
                .map(|r| CodeReasonView {
                    code: r.code.to_string(),
                    colour: r.colour.to_string(),
                    zh: r.zh,
                    en: r.en,
                    since: r.since,
                    until: r.until,
                })
                .collect(),
        }
    }
}

/// A person's health code, derived from the records (never typed), with every reason. Requires
/// `persons.read` inside the jurisdiction.
#[utoipa::path(get, path = "/api/v1/persons/{id}/health-code", tag = "persons", params(("id" = i64, Path, description = "Person id")),
    responses((status = 200, body = HealthCodeView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::PersonsRead.as_str()))))]
pub async fn person_code(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<HealthCodeView>> {
    Ok(Json(HealthCodeView::new(id, caller.0.health_code(id).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CodeQuery {
    /// The identity number as scanned from the card (a resident id or a passport number).
    id_number: Option<String>,
}

/// The code of whoever holds an identity number, as a checkpoint scans it: a checkpoint officer
/// reads anyone in the register, others people of their jurisdiction. Requires `persons.read`.
#[utoipa::path(get, path = "/api/v1/health-codes", tag = "persons", params(CodeQuery),
    responses((status = 200, body = HealthCodeView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::PersonsRead.as_str()))))]
pub async fn by_id_number(caller: Caller, Query(q): Query<CodeQuery>) -> ApiResult<Json<HealthCodeView>> {
    // Who may ask, before what is asked.
    caller.0.require_any(&[Permission::CheckpointWrite, Permission::PersonsRead])?;
    let number = q.id_number.as_deref().map(str::trim).unwrap_or_default();
    if number.is_empty() || number.len() > 40 {
        return Err(ApiError::bad_request("id_number", "an identity number is 5 to 40 letters and digits"));
    }
    match caller.0.health_code_by_id_number(number).await? {
        Some((person, code)) => Ok(Json(HealthCodeView::new(person.id, code))),
        None => Err(ApiError::not_found(format!("no person with identity number {number} in the register"))),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OverrideInput {
    /// green, yellow or red
    #[schema(schema_with = crate::api::enums::code_colour)]
    pub colour: String,
    /// Why, said beside the colour wherever it is shown.
    pub reason: String,
    /// When it ends: within the next 14 days.
    pub until: chrono::DateTime<chrono::Utc>,
}

/// Sets a person's code by hand over the derived one, with a reason and an expiry within 14 days;
/// audited, the derived reasons kept beneath it. Requires `command.write` inside the jurisdiction.
#[utoipa::path(post, path = "/api/v1/persons/{id}/health-code/override", tag = "persons", params(("id" = i64, Path, description = "Person id")),
    request_body = OverrideInput,
    responses((status = 200, body = HealthCodeView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn override_code(caller: Caller, Path(id): Path<i64>, Json(input): Json<OverrideInput>) -> ApiResult<Json<HealthCodeView>> {
    let colour = input
        .colour
        .parse::<cordon_domain::health_code::Colour>()
        .map_err(|_| ApiError::bad_field("colour", cordon_domain::refusal!("refused.code.unknown_colour", colour = input.colour)))?;
    let over = cordon_domain::health_code::Override { colour, reason: input.reason, until: input.until };
    Ok(Json(HealthCodeView::new(id, caller.0.override_code(id, &over).await?)))
}
