//! Server-rendered pages in Chinese (default) or English: sign-in, the area tree, people and the
//! audit log — always inside the caller's jurisdiction.

use crate::ui::form::Path;
use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;
use cordon_store::{Area, StoreError};

use crate::AppState;
use crate::auth::Caller;
use crate::format::thousands;
use crate::i18n::Tr;

pub(crate) mod admin;
mod cases;
mod checkpoints;
mod clock;
mod clusters;
pub(crate) mod command;
mod community;
mod coverage;
mod form;
mod health_codes;
mod hotline;
mod imports;
mod login;
mod observation;
mod persons;
mod quarantine;
mod results;
mod situation;
mod supplies;
mod testing;
mod transfers;
mod transport;
mod treatment;
pub(crate) mod zones;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/areas", get(census))
        .route("/areas/{code}", get(area_page))
        .route("/community", get(community::page))
        .route("/imports", get(imports::page))
        .route("/persons", get(persons::list))
        .route("/persons/{id}", get(persons::detail))
        .route("/persons/{id}/reveal", post(persons::reveal))
        .route("/persons/{id}/health-code", post(persons::override_code))
        .route("/health-codes", get(health_codes::page))
        .route("/login", get(login::form).post(login::submit))
        .merge(testing::router())
        .merge(transport::router())
        .merge(results::router())
        .merge(coverage::router())
        .merge(admin::router())
        .merge(cases::router())
        .merge(clusters::router())
        .merge(transfers::router())
        .merge(quarantine::router())
        .merge(treatment::router())
        .merge(observation::router())
        .merge(zones::router())
        .merge(checkpoints::router())
        .merge(supplies::router())
        .merge(hotline::router())
        .merge(command::router())
        .route("/logout", post(login::logout))
}

/// Who is signed in, for the page header.
pub struct UserBadge {
    pub display_name: String,
    /// The locale key of the role's name.
    pub role_key: String,
    pub can_persons: bool,
    pub can_audit: bool,
    pub can_manage: bool,
    pub can_testing: bool,
    pub can_lab: bool,
    pub can_tracing: bool,
    pub can_quarantine: bool,
    pub can_dispatch: bool,
    pub can_community: bool,
    pub can_treatment: bool,
    pub can_import: bool,
    pub can_zones: bool,
    pub can_checkpoints: bool,
    /// Supplies: stock and requests (everyone reads them; the menu shows them to those who work them).
    pub can_supplies: bool,
    /// The hotline's board: the centre, the units answering tickets, the command, the observer.
    pub can_hotline: bool,
    /// The command page: level and task forces.
    pub can_command: bool,
    /// The instructions board.
    pub can_instructions: bool,
}

impl UserBadge {
    fn of(caller: &Caller) -> Option<UserBadge> {
        let p = caller.0.principal();
        Some(UserBadge {
            display_name: p.user.display_name.clone(),
            role_key: format!("role.{}", p.user.role.as_str()),
            can_persons: p.can(Permission::PersonsRead),
            can_audit: p.can(Permission::AuditRead),
            can_manage: p.can(Permission::UsersManage),
            can_testing: p.can(Permission::TestingRead),
            can_lab: p.can(Permission::LabWrite),
            can_tracing: p.can(Permission::TracingRead),
            can_quarantine: p.can(Permission::QuarantineRead),
            can_dispatch: p.can(Permission::TransferWrite) || p.can(Permission::CommandWrite),
            can_community: p.can(Permission::CommunityWrite),
            can_treatment: p.can(Permission::QuarantineRead) || p.can(Permission::TreatmentWrite),
            can_import: p.can(Permission::PersonsImport) || p.can(Permission::TracingWrite) || p.can(Permission::SuppliesWrite),
            can_zones: p.can(Permission::AreasRead),
            can_checkpoints: p.can(Permission::CheckpointWrite) || p.can(Permission::CommandWrite),
            can_supplies: [
                Permission::SuppliesWrite,
                Permission::CommandWrite,
                Permission::CommunityWrite,
                Permission::QuarantineWrite,
                Permission::HotlineWrite,
            ]
            .iter()
            .any(|x| p.can(*x)),
            can_hotline: p.can(Permission::HotlineRead),
            can_command: p.can(Permission::CommandWrite) || p.can(Permission::ReportsRead),
            can_instructions: p.can(Permission::AreasRead),
        })
    }
}

/// A page's `?notice=` (what was just done) and `?error=` (what was refused), after a redirect.
#[derive(serde::Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
    pub error: Option<String>,
}

struct ChildRow {
    code: String,
    name: String,
    /// With thousands separators.
    population: String,
}

#[derive(Template)]
#[template(path = "area.html")]
struct AreaPage {
    t: Tr,
    user: Option<UserBadge>,
    area: Area,
    population: String,
    level_label: &'static str,
    child_label: String,
    ancestors: Vec<Area>,
    children: Vec<ChildRow>,
    /// Names and populations of the children for the chart script.
    chart_json: String,
}

#[derive(Template)]
#[template(path = "homes.html")]
struct HomesPage {
    t: Tr,
    user: Option<UserBadge>,
    areas: Vec<Area>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    t: Tr,
    user: Option<UserBadge>,
    title: String,
    message: String,
    /// A form that did not read: offer to go back to it, its input as the person left it.
    back_to_form: bool,
}

pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("template failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "页面生成失败 / page failed").into_response()
        }
    }
}

pub(crate) fn message(t: Tr, caller: Option<&Caller>, status: StatusCode, title: &str, message: &str) -> Response {
    let page = MessagePage { t, user: caller.and_then(UserBadge::of), title: title.into(), message: message.into(), back_to_form: false };
    (status, render(&page)).into_response()
}

/// A submitted form that did not read: what was wrong, and a way back to the form with what was
/// typed still in it (the browser keeps a form's input when it goes back to it).
pub(crate) fn form_refused(t: Tr, caller: Option<&Caller>, message: &str) -> Response {
    let page = MessagePage {
        t,
        user: caller.and_then(UserBadge::of),
        title: t.get("form.bad").into(),
        message: message.into(),
        back_to_form: true,
    };
    (StatusCode::BAD_REQUEST, render(&page)).into_response()
}

/// Why a scanned barcode cannot be read, in the page's language.
pub(crate) fn barcode_reason(t: Tr, e: &cordon_domain::barcode::BarcodeError) -> String {
    match e {
        cordon_domain::barcode::BarcodeError::Length(n) => t.fill("barcode.length", &[("n", &n.to_string())]),
        cordon_domain::barcode::BarcodeError::Characters => t.get("barcode.characters").to_string(),
    }
}

/// (value, label) pairs of a domain enum for a select.
pub(crate) fn options<E: Copy>(all: &[E], name: fn(E) -> &'static str, label: impl Fn(&str) -> String) -> Vec<(&'static str, String)> {
    all.iter().map(|v| (name(*v), label(name(*v)))).collect()
}

/// One figure of a desk page (the situation, the community desk): counted, said, and a link to
/// the page that acts on it (`templates/cards.html`).
pub(crate) struct Card {
    id: String,
    count: String,
    label: String,
    detail: String,
    href: String,
    urgent: bool,
}

impl Card {
    pub(crate) fn new(
        id: impl Into<String>,
        count: impl ToString,
        label: String,
        detail: String,
        href: impl Into<String>,
        urgent: bool,
    ) -> Card {
        Card { id: id.into(), count: count.to_string(), label, detail, href: href.into(), urgent }
    }
}

/// The names of the places a page shows, read once: a village with its township (清源镇东关村),
/// a township or county by its name; a code with no name shows as itself.
pub(crate) struct Places(std::collections::HashMap<String, String>);

impl Places {
    pub(crate) async fn of<'a>(caller: &Caller, codes: impl IntoIterator<Item = &'a str>) -> Result<Places, StoreError> {
        Ok(Places(caller.0.place_names(codes).await?))
    }

    pub(crate) fn name(&self, code: &str) -> String {
        self.0.get(code).cloned().unwrap_or_else(|| code.to_string())
    }
}

/// A timeline event as the Chinese page says it (the API gives it beside the event's fields).
pub(crate) fn say_in_chinese(e: &cordon_domain::timeline::Event) -> String {
    command::say_timeline(Tr(crate::i18n::Lang::Zh), e)
}

/// Bad input or a refusal as the page says it, in the page's language.
pub(crate) fn said(t: Tr, e: &StoreError) -> String {
    e.refusal().map_or_else(|| t.get("error.failed_detail").to_string(), |r| t.refusal(r))
}

/// The texts a page's script needs, as a JSON object from each name to the text of its locale key
/// (keys written out, so the locale test sees them).
pub(crate) fn page_texts(t: Tr, pairs: &[(&str, &'static str)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = pairs.iter().map(|(name, key)| (name.to_string(), t.get(key).into())).collect();
    serde_json::Value::Object(map).to_string()
}

/// An address nobody serves: for a program, a 404 problem; for a person (signed in, or sent to
/// sign in first), a page in their language with the header and a way home, not an empty body.
pub(crate) async fn not_found(t: Tr, uri: axum::http::Uri, caller: Caller) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::error::ApiError::not_found(format!("no operation at {}", uri.path())).into_response();
    }
    message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("error.not_found"), t.get("error.not_found_detail"))
}

/// A store failure as a page: forbidden with its reason, else a generic error (logged).
pub(crate) fn failure(t: Tr, caller: &Caller, e: StoreError) -> Response {
    match e {
        StoreError::Forbidden(reason) => {
            let reason = t.denied(&reason);
            message(
                t,
                Some(caller),
                StatusCode::FORBIDDEN,
                t.get("error.forbidden"),
                &t.fill("error.forbidden_detail", &[("reason", &reason)]),
            )
        }
        // A record that does not exist (a mistyped or stale address): not found, saying which.
        e if e.refusal().is_some_and(|r| r.class == cordon_domain::refusal::Class::Missing) => {
            message(t, Some(caller), StatusCode::NOT_FOUND, t.get("error.record_not_found"), &said(t, &e))
        }
        // A refusal leads back to where the person was, with what they typed still in the form.
        e if e.is_refusal() => {
            let page = MessagePage {
                t,
                user: UserBadge::of(caller),
                title: t.get("error.failed").into(),
                message: said(t, &e),
                back_to_form: true,
            };
            (StatusCode::BAD_REQUEST, render(&page)).into_response()
        }
        other => {
            tracing::error!("{other}");
            message(t, Some(caller), StatusCode::INTERNAL_SERVER_ERROR, t.get("error.failed"), t.get("error.failed_detail"))
        }
    }
}

/// The caller's home: their one area, or a list when the jurisdiction has several.
/// The first page: the situation for those who command, the community desk for those who work
/// a village, the ward for hospital staff, each task force's desk for its officers (tracing,
/// dispatch, the sites, the lab's results, testing), the areas' census for everyone else.
async fn index(t: Tr, caller: Caller) -> Response {
    let p = caller.0.principal();
    let commands = p.can(Permission::CommandWrite) || p.can(Permission::ReportsRead);
    if commands && p.can(Permission::TracingRead) && p.can(Permission::QuarantineRead) && p.can(Permission::TestingRead) {
        return situation::page(t, &caller).await;
    }
    if p.can(Permission::CommunityWrite) {
        return axum::response::Redirect::to("/community").into_response();
    }
    if p.can(Permission::TreatmentWrite) && !p.can(Permission::QuarantineRead) {
        return axum::response::Redirect::to("/treatment").into_response();
    }
    // Each task force opens on its own work; the census stays a menu link away (/areas).
    let desks = [
        (Permission::TracingWrite, "/tracing"),
        (Permission::TransferWrite, "/dispatch"),
        (Permission::QuarantineWrite, "/quarantine"),
        (Permission::LabWrite, "/results"),
        (Permission::TestingWrite, "/testing"),
        // A checkpoint officer checks people passing at their checkpoints; a hotline operator
        // takes calls on the hotline's board.
        (Permission::CheckpointWrite, "/checkpoints"),
        (Permission::HotlineWrite, "/hotline"),
        // Logistics opens on the warehouses' stock.
        (Permission::SuppliesWrite, "/supplies"),
    ];
    if let Some((_, desk)) = desks.iter().find(|(perm, _)| p.can(*perm)) {
        return axum::response::Redirect::to(desk).into_response();
    }
    census(t, caller).await
}

/// The caller's areas with their population: one area's page, or a list when they have several.
async fn census(t: Tr, caller: Caller) -> Response {
    match caller.0.home_areas().await {
        Ok(homes) if homes.len() == 1 => area_view(t, &caller, &homes[0].code).await,
        Ok(homes) if homes.is_empty() => message(t, Some(&caller), StatusCode::OK, t.get("homes.empty"), t.get("homes.empty_detail")),
        Ok(areas) => render(&HomesPage { t, user: UserBadge::of(&caller), areas }),
        Err(e) => failure(t, &caller, e),
    }
}

async fn area_page(t: Tr, caller: Caller, Path(code): Path<String>) -> Response {
    area_view(t, &caller, &code).await
}

async fn area_view(t: Tr, caller: &Caller, code: &str) -> Response {
    let Ok(code) = AreaCode::parse(code) else {
        return message(t, Some(caller), StatusCode::BAD_REQUEST, t.get("area.bad_code"), t.get("area.bad_code_detail"));
    };
    let scope = &caller.0;
    let loaded = async {
        let area = scope.area(&code).await?;
        let children = scope.area_children(&code).await?;
        let ancestors = scope.ancestors(&code).await?;
        Ok::<_, StoreError>((area, children, ancestors))
    };
    match loaded.await {
        Ok((Some(area), children, ancestors)) => {
            let level = code.level();
            let chart_json = serde_json::json!({
                "label": t.get("area.chart_label"),
                "names": children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                "values": children.iter().map(|c| c.population).collect::<Vec<_>>(),
            })
            .to_string();
            let child_level = level.child().map(|l| t.get(&format!("level.{}", l.as_str()))).unwrap_or("");
            render(&AreaPage {
                t,
                user: UserBadge::of(caller),
                chart_json,
                level_label: t.get(&format!("level.{}", level.as_str())),
                child_label: t.fill("area.children", &[("level", child_level)]),
                children: children
                    .into_iter()
                    .map(|c| ChildRow { population: thousands(c.population), code: c.code, name: c.name })
                    .collect(),
                population: thousands(area.population),
                area,
                ancestors,
            })
        }
        Ok((None, _, _)) => message(
            t,
            Some(caller),
            StatusCode::NOT_FOUND,
            t.get("area.not_found"),
            &t.fill("area.not_found_detail", &[("code", code.as_str())]),
        ),
        // A code nobody registered is not found, wherever it would lie (place names are
        // public): not "outside your jurisdiction".
        Err(StoreError::Forbidden(_)) if scope.place_names([code.as_str()]).await.is_ok_and(|n| n.is_empty()) => message(
            t,
            Some(caller),
            StatusCode::NOT_FOUND,
            t.get("area.not_found"),
            &t.fill("area.not_found_detail", &[("code", code.as_str())]),
        ),
        Err(e) => failure(t, caller, e),
    }
}
