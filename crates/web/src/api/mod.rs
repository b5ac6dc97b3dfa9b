//! The JSON API under `/api/v1`, each route registered with its OpenAPI description.

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use cordon_domain::access::Permission;
use serde_json::{Value, json};

use crate::AppState;

mod areas;
mod audit;
mod cases;
mod checkpoints;
mod command;
pub(crate) mod enums;
mod health_codes;
mod hotline;
pub(crate) mod imports;
mod observation;
pub(crate) mod persons;
mod reports;
mod results;
mod supplies;
mod testing;
mod transfers;
mod transport;
mod zones;

#[derive(OpenApi)]
#[openapi(
    info(title = "Cordon API", description = "Outbreak command platform: places, people, imports.", version = "1"),
    tags(
        (name = "areas", description = "The division tree (county → township → village) with populations"),
        (name = "persons", description = "The person register, scoped by area"),
        (name = "imports", description = "Streaming bulk imports"),
        (name = "audit", description = "The append-only audit trail"),
        (name = "testing", description = "Mass testing: rounds, sites, tubes and registration"),
        (name = "tracing", description = "Investigation: cases, the investigation queue, clusters and chains"),
        (name = "observation", description = "Medical observation: orders and schedules, quarantine sites, transfers, rule sets"),
        (name = "reports", description = "The daily report: figures per area, the records behind each, signed versions"),
        (name = "command", description = "The command: response level, task forces, instructions with a clock per recipient, notices"),
        (name = "zones", description = "Sealed, controlled and precaution zones (high, medium and low risk): drawn, counted down, stepped down and lifted"),
        (name = "supplies", description = "Supplies: the item catalogue, warehouses and their balances (never below zero), stock movements and truck manifests, requests issued partly and deliveries to the door with proof"),
        (name = "hotline", description = "The citizen hotline (12345): tickets dispatched to their village or township, each step 受理 → 派单 → 签收 → 处置 → 回访 → 结案 on a clock, send-back, 加派, 督办, callback and reopen")
    )
)]
struct ApiDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(supplies::list_items, supplies::create_item))
        .routes(routes!(supplies::list_warehouses, supplies::create_warehouse))
        .routes(routes!(supplies::balances))
        .routes(routes!(supplies::movements))
        .routes(routes!(supplies::record_movements))
        .routes(routes!(supplies::manifest))
        .routes(routes!(supplies::list_requests, supplies::create_request))
        .routes(routes!(supplies::request_detail))
        .routes(routes!(supplies::approve_request))
        .routes(routes!(supplies::reject_request))
        .routes(routes!(supplies::issue_request))
        .routes(routes!(supplies::list_deliveries))
        .routes(routes!(supplies::advance_delivery))
        .routes(routes!(hotline::list_tickets, hotline::take_call))
        .routes(routes!(hotline::ticket_detail))
        .routes(routes!(hotline::dispatch))
        .routes(routes!(hotline::sign))
        .routes(routes!(hotline::send_back))
        .routes(routes!(hotline::handle))
        .routes(routes!(hotline::callback))
        .routes(routes!(hotline::close))
        .routes(routes!(hotline::reopen))
        .routes(routes!(hotline::supervise))
        .routes(routes!(hotline::add_unit))
        .routes(routes!(hotline::unit_part))
        .routes(routes!(hotline::raise_request))
        .routes(routes!(hotline::raise_transfer))
        .routes(routes!(hotline::counts))
        .routes(routes!(hotline::limits, hotline::set_limits))
        .routes(routes!(areas::area_tree))
        .routes(routes!(areas::area_detail))
        .routes(routes!(persons::list_persons, persons::register_person))
        .routes(routes!(persons::person_detail))
        .routes(routes!(persons::reveal_person))
        .routes(routes!(health_codes::person_code))
        .routes(routes!(health_codes::override_code))
        .routes(routes!(health_codes::by_id_number))
        .routes(routes!(health_codes::counts))
        .routes(routes!(health_codes::people))
        .routes(routes!(health_codes::history))
        .routes(routes!(imports::import_persons))
        .routes(routes!(imports::import_boundaries))
        .routes(routes!(audit::list_audit))
        .routes(routes!(testing::create_round, testing::list_rounds))
        .routes(routes!(testing::round_detail))
        .routes(routes!(testing::create_site))
        .routes(routes!(testing::station::open_tube))
        .routes(routes!(testing::station::scan))
        .routes(routes!(testing::station::close_tube))
        .routes(routes!(testing::station::register_batch))
        .routes(routes!(testing::coverage::coverage))
        .routes(routes!(testing::coverage::missing))
        .routes(routes!(testing::coverage::exempt, testing::coverage::exemptions))
        .routes(routes!(testing::coverage::unexempt))
        .routes(routes!(results::create_lab, results::list_labs))
        .routes(routes!(results::post_results))
        .routes(routes!(results::post_results_csv))
        .routes(routes!(results::post_results_hl7))
        .routes(routes!(results::list_recalls))
        .routes(routes!(results::tube_recalls))
        .routes(routes!(transport::dispatch, transport::list_batches))
        .routes(routes!(transport::batch_detail))
        .routes(routes!(transport::receive))
        .routes(routes!(transport::tube_flow))
        .routes(routes!(cases::create_case))
        .routes(routes!(cases::case_detail))
        .routes(routes!(cases::add_infector))
        .routes(routes!(cases::list_positives))
        .routes(routes!(cases::case_from_positive))
        .routes(routes!(cases::investigations::investigation_queue))
        .routes(routes!(cases::investigations::assign))
        .routes(routes!(cases::investigations::progress))
        .routes(routes!(cases::clusters::list_clusters))
        .routes(routes!(cases::clusters::cluster_detail))
        .routes(routes!(cases::clusters::import_linelist))
        .routes(routes!(cases::contacts::candidates))
        .routes(routes!(cases::contacts::roster_candidates))
        .routes(routes!(cases::contacts::record_exposures))
        .routes(routes!(cases::contacts::contacts))
        .routes(routes!(cases::contacts::decide))
        .routes(routes!(cases::contacts::hand_over))
        .routes(routes!(cases::contacts::assist_requests))
        .routes(routes!(cases::contacts::answer_assist_request))
        .routes(routes!(cases::contacts::import_checkins))
        .routes(routes!(cases::contacts::import_venues))
        .routes(routes!(cases::contacts::import_roster))
        .routes(routes!(observation::list_orders))
        .routes(routes!(observation::order_detail))
        .routes(routes!(observation::move_order))
        .routes(routes!(observation::release))
        .routes(routes!(observation::start_home))
        .routes(routes!(observation::home_test))
        .routes(routes!(observation::list_sites, observation::create_site))
        .routes(routes!(observation::assign))
        .routes(routes!(transfers::list_transfers))
        .routes(routes!(transfers::advance_transfer))
        .routes(routes!(observation::list_rule_sets))
        .routes(routes!(observation::set_rule_set))
        .routes(routes!(zones::list_zones, zones::designate))
        .routes(routes!(zones::bulletin))
        .routes(routes!(zones::zone_map))
        .routes(routes!(zones::zone_detail))
        .routes(routes!(zones::zone_people))
        .routes(routes!(zones::extend))
        .routes(routes!(zones::tighten))
        .routes(routes!(zones::downgrade))
        .routes(routes!(zones::lift))
        .routes(routes!(checkpoints::create, checkpoints::list))
        .routes(routes!(checkpoints::pass))
        .routes(routes!(checkpoints::add_shift, checkpoints::shifts))
        .routes(routes!(checkpoints::remove_shift))
        .routes(routes!(checkpoints::register_arrival))
        .routes(routes!(command::open_incident))
        .routes(routes!(command::command))
        .routes(routes!(command::timeline, command::add_entry))
        .routes(routes!(command::set_level))
        .routes(routes!(command::create_task_force))
        .routes(routes!(command::add_member))
        .routes(routes!(command::remove_member))
        .routes(routes!(command::issue, command::list))
        .routes(routes!(command::detail))
        .routes(routes!(command::receive))
        .routes(routes!(command::progress))
        .routes(routes!(command::done))
        .routes(routes!(command::verify))
        .routes(routes!(command::send_back))
        .routes(routes!(command::reassign))
        .routes(routes!(command::notices))
        .routes(routes!(command::clocks))
        .routes(routes!(command::read_notices))
        .routes(routes!(reports::daily))
        .routes(routes!(reports::records))
        .routes(routes!(reports::versions))
        .routes(routes!(reports::sign))
        .routes(routes!(crate::ui::command::screen::api))
}

/// Parses an area code from a request field, answering 400 with the reason.
pub(crate) fn parse_area(field: &str, s: &str) -> crate::error::ApiResult<cordon_domain::AreaCode> {
    // Said by a refusal's kind, so that a page posting to the API says it in its own language.
    cordon_domain::AreaCode::parse(s)
        .map_err(|_| crate::error::ApiError::bad_field(field, cordon_domain::refusal!("refused.area_code_invalid", code = s)))
}

/// A page size asked in the query: `default` when absent; outside 1..=`max` a 400 naming the
/// field, never silently cut (a client asking 10,000 would take 1,000 for the whole).
pub(crate) fn page_limit(asked: Option<u32>, default: u32, max: u32) -> crate::error::ApiResult<u32> {
    match asked {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(crate::error::ApiError::bad_request("limit", format!("limit {n} is outside 1–{max}"))),
    }
}

/// The permissions each operation needs (inside the caller's jurisdiction), as its operation
/// declares them (`extensions(("x-permission" = …))` beside its path): (method, path, permissions).
pub fn permissions() -> Vec<(String, String, Vec<Permission>)> {
    let doc = serde_json::to_value(router().into_openapi()).expect("OpenAPI document serializes");
    let mut out = vec![];
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if let Some(needs) = declared(&op["x-permission"]) {
                out.push((method.clone(), path.clone(), needs));
            }
        }
    }
    out
}

/// An operation's `x-permission`: one permission, or an array of permissions it needs all of.
pub fn declared(value: &Value) -> Option<Vec<Permission>> {
    match value {
        Value::String(p) => Some(vec![p.parse().ok()?]),
        Value::Array(ps) => ps.iter().map(|p| p.as_str()?.parse().ok()).collect(),
        _ => None,
    }
}

/// The OpenAPI document as served: the routes' descriptions (each with its permission as
/// `x-permission`) plus the two ways to authenticate.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(router().into_openapi()).expect("OpenAPI document serializes");
    doc["components"]["securitySchemes"] = json!({
        "bearer": {"type": "http", "scheme": "bearer", "description": "An API token from `cordon token create USER`"},
        "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE, "description": "The session of a signed-in page"}
    });
    doc["security"] = json!([{"bearer": []}, {"session": []}]);
    document_failures(&mut doc);
    doc
}

/// Every failure an operation can answer, each an `application/problem+json` [`Problem`] (as
/// [`crate::error::api_problem`] makes sure): what every operation can meet (a query that does
/// not parse, no or a bad credential, a permission or area outside the caller's), a record not
/// found where the path names one, and for a body a conflict, a size, a content type and the
/// rules' refusals.
///
/// [`Problem`]: crate::error::Problem
fn document_failures(doc: &mut Value) {
    const SAID: [(&str, &str); 8] = [
        ("400", "A path, query or body field does not parse; `field` names it."),
        ("401", "No session or API token, or one that has ended."),
        ("403", "Outside the caller's permissions or jurisdiction."),
        ("404", "No such record in the caller's jurisdiction."),
        ("409", "Conflicts with what is stored (a value that must be unique repeats, a state moved on)."),
        ("413", "The body is over the limit."),
        ("415", "The body is not of a type the operation takes."),
        ("422", "Refused by the rules, or a body not of the operation's shape; `kind` names the refusal."),
    ];
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for (path, item) in paths.iter_mut() {
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            let body = op.get("requestBody").is_some();
            let mut codes = vec!["400", "401", "403"];
            if path.contains('{') || method != "get" {
                codes.push("404");
            }
            if body || method != "get" {
                codes.extend(["409", "422"]);
            }
            if body {
                codes.push("413");
            }
            // A JSON body's operation refuses another type; a file upload takes the bytes as sent.
            if op["requestBody"]["content"].get("application/json").is_some() {
                codes.push("415");
            }
            let responses = op["responses"].as_object_mut().expect("every operation documents its responses");
            let documented: Vec<String> = responses.keys().filter(|c| c.starts_with('4') || c.starts_with('5')).cloned().collect();
            for code in codes.into_iter().map(String::from).chain(documented) {
                // The operation's own words for a failure, when it has them; else the general ones.
                let own = responses.get(&code).map(|r| r["description"].clone()).filter(|d| d.as_str().is_some_and(|d| !d.is_empty()));
                let said = match (own, SAID.iter().find(|(c, _)| *c == code)) {
                    (Some(own), _) => own,
                    (None, Some((_, said))) => Value::from(*said),
                    (None, None) => Value::from(""),
                };
                let problem = json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
                responses.insert(code, json!({"description": said, "content": problem}));
            }
        }
    }
}

#[cfg(test)]
mod schema_names {
    /// The OpenAPI document names each schema by its type's bare name: two types of one name
    /// (a page's `RoundView` and the testing API's) would silently describe one of them with the
    /// other's fields.
    #[test]
    fn no_two_schema_types_share_a_name() {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).expect("source dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("source");
                    let mut derives = false;
                    for line in text.lines() {
                        let line = line.trim();
                        if line.starts_with("#[derive(") && line.contains("ToSchema") {
                            derives = true;
                        } else if derives && (line.starts_with("pub struct ") || line.starts_with("pub enum ")) {
                            let name = line.split_whitespace().nth(2).unwrap_or("").trim_end_matches(['{', '(', ';']).to_string();
                            out.push((name, path.display().to_string()));
                            derives = false;
                        } else if !line.starts_with("#[") && !line.starts_with("///") {
                            derives = false;
                        }
                    }
                }
            }
        }
        let mut names = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut names);
        assert!(names.len() > 50, "{} schema types found", names.len());
        names.sort();
        let twice: Vec<_> = names.windows(2).filter(|w| w[0].0 == w[1].0).collect();
        assert!(twice.is_empty(), "schema names used twice: {twice:?}");
    }
}
