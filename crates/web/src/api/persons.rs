use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use chrono::NaiveDate;
use cordon_domain::Vulnerability;
use cordon_domain::access::Permission;
use cordon_domain::person::age_on;
use cordon_store::{Person, PersonCursor, PersonFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

/// A person as lists show them: identity number and phone masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonSummary {
    pub id: i64,
    /// resident or passport
    pub id_kind: String,
    /// e.g. `1401**********1234`
    pub id_number_masked: String,
    pub name: String,
    /// male or female
    pub sex: String,
    pub birth_date: NaiveDate,
    pub age: u32,
    /// e.g. `138****5678`
    pub phone_masked: Option<String>,
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    pub address: Option<String>,
    pub household_id: Option<i64>,
    /// bedridden, disabled, pregnant, elderly (80+), infant (under 3)
    #[schema(schema_with = crate::api::enums::vulnerabilities)]
    pub vulnerabilities: Vec<String>,
}

impl PersonSummary {
    pub fn new(p: &Person, today: NaiveDate) -> Self {
        PersonSummary {
            id: p.id,
            id_kind: p.document.kind().to_string(),
            id_number_masked: p.document.masked(),
            name: p.name.clone(),
            sex: p.sex.as_str().to_string(),
            birth_date: p.birth_date,
            age: age_on(p.birth_date, today),
            phone_masked: p.phone.as_deref().map(|ph| cordon_domain::Phone::parse(ph).map(|x| x.masked()).unwrap_or_else(|_| "***".into())),
            area_code: p.area_code.clone(),
            address: p.address.clone(),
            household_id: p.household_id,
            vulnerabilities: p.tags.all(p.birth_date, today).iter().map(|v| v.as_str().to_string()).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonPage {
    pub items: Vec<PersonSummary>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Area code whose people to list, itself and everything under it (default: the caller's
    /// whole jurisdiction).
    #[param(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    area: Option<String>,
    /// Search: a name or surname, an 11-digit phone, or the last 4 characters of the id number.
    q: Option<String>,
    /// Only people with this vulnerability: bedridden, disabled, pregnant, elderly, infant.
    #[param(schema_with = crate::api::enums::vulnerability)]
    tag: Option<String>,
    /// The `next` value of the previous page.
    after: Option<String>,
    /// Page size, 1–1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// People registered in an area, filtered and paged by key; identity numbers and phones masked.
/// Requires `persons.read` inside the jurisdiction.
#[utoipa::path(get, path = "/api/v1/persons", tag = "persons", params(ListQuery),
    responses((status = 200, body = PersonPage), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::PersonsRead.as_str()))))]
pub async fn list_persons(Caller(scope): Caller, Query(q): Query<ListQuery>) -> ApiResult<Json<PersonPage>> {
    let area = q.area.as_deref().map(|a| parse_area("area", a)).transpose()?;
    let mut filter = PersonFilter::from_query(q.q.as_deref().unwrap_or(""));
    if let Some(tag) = q.tag.as_deref().filter(|t| !t.is_empty()) {
        filter.vulnerability = Some(tag.parse::<Vulnerability>().map_err(|e| ApiError::bad_request("tag", e))?);
    }
    let after = match q.after.as_deref() {
        Some(a) => Some(PersonCursor::decode(a).ok_or_else(|| ApiError::bad_request("after", format!("{a:?} is not a page cursor")))?),
        None => None,
    };
    let today = crate::format::today();
    let page = scope.list_persons(area.as_ref(), &filter, after.as_ref(), super::page_limit(q.limit, 50, 1000)?, today).await?;
    Ok(Json(PersonPage { items: page.items.iter().map(|p| PersonSummary::new(p, today)).collect(), next: page.next.map(|c| c.encode()) }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDetail {
    #[serde(flatten)]
    pub person: PersonSummary,
    /// The other people of the same household.
    pub household: Vec<PersonSummary>,
}

/// One person with their household (masked). Requires `persons.read`; a person registered
/// outside the jurisdiction answers 403.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "persons",
    params(("id" = i64, Path, description = "Person id")),
    responses((status = 200, body = PersonDetail), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::PersonsRead.as_str()))))]
pub async fn person_detail(Caller(scope): Caller, Path(id): Path<i64>) -> ApiResult<Json<PersonDetail>> {
    let person = scope.person(id).await?.ok_or_else(|| ApiError::not_found(format!("no person {id}")))?;
    let today = crate::format::today();
    let household = scope.household_of(&person).await?.iter().map(|m| PersonSummary::new(m, today)).collect();
    Ok(Json(PersonDetail { person: PersonSummary::new(&person, today), household }))
}

/// The unmasked identity number and phone of a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevealedPerson {
    pub id: i64,
    pub id_kind: String,
    pub id_number: String,
    pub phone: Option<String>,
}

/// Shows a person's full identity number and phone. Requires `persons.reveal`; every call is
/// recorded in the audit trail.
#[utoipa::path(post, path = "/api/v1/persons/{id}/reveal", tag = "persons",
    params(("id" = i64, Path, description = "Person id")),
    responses((status = 200, body = RevealedPerson), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::PersonsReveal.as_str()))))]
pub async fn reveal_person(Caller(scope): Caller, Path(id): Path<i64>) -> ApiResult<Json<RevealedPerson>> {
    let p = scope.reveal_person(id).await?.ok_or_else(|| ApiError::not_found(format!("no person {id}")))?;
    Ok(Json(RevealedPerson { id: p.id, id_kind: p.document.kind().into(), id_number: p.document.number().into(), phone: p.phone }))
}

/// A resident met on the spot (at a sampling station): the minimum the register needs. Sex and
/// birth date are read from the resident id.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPersonInput {
    /// The 18-character resident id.
    pub resident_id: String,
    pub name: String,
    /// An 11-digit mobile number.
    pub phone: Option<String>,
    /// The area (usually a village or community) where they live.
    #[schema(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    pub area_code: String,
    /// Their address there; people at the same address form a household.
    pub address: Option<String>,
}

/// Registers one person met on the spot. Requires `persons.write` in the area. Answers 201 with
/// the new person, or 200 with the person already registered under that id (a retry is harmless).
#[utoipa::path(post, path = "/api/v1/persons", tag = "persons", request_body = NewPersonInput,
    responses((status = 201, body = PersonSummary, description = "registered"),
              (status = 200, body = PersonSummary, description = "already registered under this id"),
              (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::PersonsWrite.as_str()))))]
pub async fn register_person(Caller(scope): Caller, Json(input): Json<NewPersonInput>) -> ApiResult<(StatusCode, Json<PersonSummary>)> {
    let rid = cordon_domain::ResidentId::parse(&input.resident_id).map_err(|e| ApiError::bad_field("resident_id", e.into()))?;
    let name = cordon_domain::PersonName::parse(&input.name).map_err(|e| ApiError::bad_field("name", e.into()))?;
    let phone = match input.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => Some(cordon_domain::Phone::parse(p).map_err(|e| ApiError::bad_field("phone", e.into()))?),
        None => None,
    };
    let area = parse_area("area_code", &input.area_code)?;
    let new = cordon_domain::NewPerson::from_resident_id(rid, name, phone, area, input.address);
    let (person, created) = scope.register_person(&new).await?;
    let today = crate::format::today();
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(PersonSummary::new(&person, today))))
}
