//! The JSON API under `/api/v1`, each route registered with its OpenAPI description.

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

mod areas;
mod audit;
mod imports;
mod persons;

#[derive(OpenApi)]
#[openapi(
    info(title = "Cordon API", description = "Outbreak command platform: places, people, imports.", version = "1"),
    tags(
        (name = "areas", description = "The division tree (county → township → village) with populations"),
        (name = "persons", description = "The person register, scoped by area"),
        (name = "imports", description = "Streaming bulk imports"),
        (name = "audit", description = "The append-only audit trail")
    )
)]
struct ApiDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(areas::area_tree))
        .routes(routes!(areas::area_detail))
        .routes(routes!(persons::list_persons))
        .routes(routes!(persons::person_detail))
        .routes(routes!(persons::reveal_person))
        .routes(routes!(imports::import_persons))
        .routes(routes!(audit::list_audit))
}

/// Parses an area code from a request field, answering 400 with the reason.
pub(crate) fn parse_area(field: &str, s: &str) -> crate::error::ApiResult<cordon_domain::AreaCode> {
    cordon_domain::AreaCode::parse(s).map_err(|e| crate::error::ApiError::bad_request(field, format!("{s:?}: {e}")))
}

