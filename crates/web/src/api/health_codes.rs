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
    let over = cordon_domain::health_code::Override { colour, reason: input.reason, until: input.until, set_at: chrono::Utc::now() };
    Ok(Json(HealthCodeView::new(id, caller.0.override_code(id, &over).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ColourCountView {
    pub area_code: String,
    pub name: String,
    pub red: i64,
    pub yellow: i64,
    pub green: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CountQuery {
    /// The area whose parts to count (default: the caller's first area).
    #[param(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    area: Option<String>,
}

/// The area asked, or the caller's first.
fn area_or_home(caller: &Caller, area: Option<&str>) -> ApiResult<cordon_domain::AreaCode> {
    match area.filter(|a| !a.is_empty()) {
        Some(a) => super::parse_area("area", a),
        None => {
            caller.0.principal().user.jurisdiction.areas().first().cloned().ok_or_else(|| ApiError::bad_request("area", "name an area"))
        }
    }
}

/// People by health-code colour in each area one level below `area` (a village: itself), as the
/// stored codes hold them. Requires `persons.read` inside the jurisdiction.
#[utoipa::path(get, path = "/api/v1/health-codes/counts", tag = "persons", params(CountQuery),
    responses((status = 200, body = Vec<ColourCountView>), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::PersonsRead.as_str()))))]
pub async fn counts(caller: Caller, Query(q): Query<CountQuery>) -> ApiResult<Json<Vec<ColourCountView>>> {
    caller.0.require_any(&[Permission::PersonsRead])?;
    let area = area_or_home(&caller, q.area.as_deref())?;
    let counts = caller.0.code_counts(&area).await?;
    Ok(Json(
        counts
            .into_iter()
            .map(|c| ColourCountView { area_code: c.area_code, name: c.name, red: c.red, yellow: c.yellow, green: c.green })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PeopleQuery {
    /// The area whose people to list, with everything under it (default: the caller's first area).
    #[param(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    area: Option<String>,
    /// red or yellow (default red)
    #[param(pattern = "^(red|yellow)$")]
    colour: Option<String>,
    /// The `next` value of the previous page.
    after: Option<String>,
    /// Page size, 1–1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodedPersonView {
    pub person_id: i64,
    pub name: String,
    pub area_code: String,
    #[schema(schema_with = crate::api::enums::code_colour)]
    pub colour: String,
    pub reasons: Vec<CodeReasonView>,
    /// Since when the code has been this colour.
    pub since: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodedPage {
    pub items: Vec<CodedPersonView>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next: Option<String>,
}

/// The people of an area whose code is red (or yellow), with their reasons, paged by key.
/// Requires `persons.read` inside the jurisdiction.
#[utoipa::path(get, path = "/api/v1/health-codes/people", tag = "persons", params(PeopleQuery),
    responses((status = 200, body = CodedPage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::PersonsRead.as_str()))))]
pub async fn people(caller: Caller, Query(q): Query<PeopleQuery>) -> ApiResult<Json<CodedPage>> {
    caller.0.require_any(&[Permission::PersonsRead])?;
    let area = area_or_home(&caller, q.area.as_deref())?;
    let colour = match q.colour.as_deref().filter(|c| !c.is_empty()) {
        None => cordon_domain::health_code::Colour::Red,
        Some("red") => cordon_domain::health_code::Colour::Red,
        Some("yellow") => cordon_domain::health_code::Colour::Yellow,
        Some(c) => return Err(ApiError::bad_request("colour", format!("{c:?} is not red or yellow"))),
    };
    let after = match q.after.as_deref() {
        Some(a) => Some(
            cordon_store::PersonCursor::decode(a).ok_or_else(|| ApiError::bad_request("after", format!("{a:?} is not a page cursor")))?,
        ),
        None => None,
    };
    let (items, next) = caller.0.coded_people(&area, colour, after.as_ref(), super::page_limit(q.limit, 50, 1000)?).await?;
    Ok(Json(CodedPage {
        items: items
            .into_iter()
            .map(|p| {
                let view = HealthCodeView::new(p.person_id, p.code);
                CodedPersonView {
                    person_id: p.person_id,
                    name: p.name,
                    area_code: p.area_code,
                    colour: view.colour,
                    reasons: view.reasons,
                    since: p.changed_at,
                }
            })
            .collect(),
        next: next.map(|c| c.encode()),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeChangeView {
    #[schema(schema_with = crate::api::enums::code_colour)]
    pub from: String,
    #[schema(schema_with = crate::api::enums::code_colour)]
    pub to: String,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The reasons of the code it changed to.
    pub reasons: Vec<CodeReasonView>,
}

/// Every change of a person's colour, newest first (the last 20). Requires `persons.read`
/// inside the jurisdiction.
#[utoipa::path(get, path = "/api/v1/persons/{id}/health-code/history", tag = "persons", params(("id" = i64, Path, description = "Person id")),
    responses((status = 200, body = Vec<CodeChangeView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::PersonsRead.as_str()))))]
pub async fn history(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<Vec<CodeChangeView>>> {
    let changes = caller.0.code_changes(id).await?;
    Ok(Json(
        changes
            .into_iter()
            .map(|c| CodeChangeView {
                from: c.from.to_string(),
                to: c.to.to_string(),
                at: c.at,
                reasons: HealthCodeView::new(id, c.code).reasons,
            })
            .collect(),
    ))
}
