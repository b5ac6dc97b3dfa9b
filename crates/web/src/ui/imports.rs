//! Bulk imports on a page (批量导入), for the roles that do them: the register's people, a line
//! list, venues with their place codes, place-code scans, workplace rosters and the areas'
//! outlines for the zone map. Each file goes
//! as it is (UTF-8 or GBK, LF or CRLF) to the same streaming import the API and the CLI use; the
//! page shows the upload's progress, then the summary — stored, unchanged, stored with a warning,
//! refused — and every refused row and warning with its line, with the report to download.

use askama::Template;
use axum::response::Response;
use cordon_domain::access::Permission;

use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::{UserBadge, failure, page_texts, render};

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    t: Tr,
    user: Option<UserBadge>,
    persons: bool,
    tracing: bool,
    /// Area outlines for the zone map: the commander's.
    boundaries: bool,
    /// A truck's manifest into a warehouse: logistics'. (id, name) of the warehouses.
    warehouses: Option<Vec<(i64, String)>>,
    /// Receipt sources: (value, label).
    sources: Vec<(&'static str, String)>,
    /// The caller's first area, the default area of a line list's rows and of a roster.
    area: String,
    text_json: String,
}

pub async fn page(t: Tr, caller: Caller) -> Response {
    let p = caller.0.principal();
    let (persons, tracing, boundaries) =
        (p.can(Permission::PersonsImport), p.can(Permission::TracingWrite), p.can(Permission::CommandWrite));
    if let Err(e) =
        caller.0.require_any(&[Permission::PersonsImport, Permission::TracingWrite, Permission::CommandWrite, Permission::SuppliesWrite])
    {
        return failure(t, &caller, e);
    }
    let warehouses = if p.can(Permission::SuppliesWrite) {
        match caller.0.warehouses().await {
            Ok(ws) => Some(ws.into_iter().map(|w| (w.id, w.name)).collect()),
            Err(e) => return failure(t, &caller, e),
        }
    } else {
        None
    };
    let sources = cordon_domain::supplies::ReceiptSource::ALL
        .iter()
        .map(|s| (s.as_str(), t.get(&format!("stock.source.{}", s.as_str())).to_string()))
        .collect();
    // A refused row's or warning's reason, with what the import did instead, in the page's words.
    let reasons = t.starting_with(&[
        "row.",
        "refused.id.",
        "refused.name.",
        "refused.phone",
        "boundary.",
        "refused.boundary.",
        "refused.manifest.",
        "refused.stock.",
    ]);
    let mut texts: Vec<(&str, &'static str)> = reasons.iter().map(|(k, _)| (*k, *k)).collect();
    texts.extend_from_slice(&[
        ("choose", "imports.choose"),
        ("sending", "imports.sending"),
        ("storing", "imports.storing"),
        ("done", "imports.done"),
        ("failed", "imports.failed"),
        ("offline", "imports.offline"),
        ("refused", "imports.kind.refused"),
        ("warning", "imports.kind.warning"),
        ("report_header", "imports.report_header"),
        ("more", "imports.more"),
        ("field.id_kind", "imports.field.id_kind"),
        ("field.id_number", "imports.field.id_number"),
        ("field.name", "imports.field.name"),
        ("field.sex", "imports.field.sex"),
        ("field.birth_date", "imports.field.birth_date"),
        ("field.phone", "imports.field.phone"),
        ("field.area_code", "imports.field.area_code"),
        ("field.address", "imports.field.address"),
        ("field.tags", "imports.field.tags"),
        ("field.case_id", "imports.field.case_id"),
        ("field.infector_ids", "imports.field.infector_ids"),
        ("field.onset", "imports.field.onset"),
        ("field.report_date", "imports.field.report_date"),
        ("field.cluster_label", "imports.field.cluster_label"),
        ("field.how_found", "imports.field.how_found"),
        ("field.origin", "imports.field.origin"),
        ("field.classification", "imports.field.classification"),
        ("field.code", "imports.field.code"),
        ("field.venue_code", "imports.field.venue_code"),
        ("field.at", "imports.field.at"),
        ("field.left_at", "imports.field.left_at"),
        ("field.workplace", "imports.field.workplace"),
        ("field.unit", "imports.field.unit"),
        ("field.item", "supplies.item"),
        ("field.quantity", "supplies.quantity"),
        ("field.expires_on", "supplies.expires_on"),
        ("field.item_unit", "supplies.unit"),
        ("refused.file_columns", "refused.file_columns"),
        ("refused.not_csv", "refused.not_csv"),
        ("refused.checkin_file_columns", "refused.checkin_file_columns"),
        ("refused.venue_file_columns", "refused.venue_file_columns"),
        ("refused.roster_columns", "refused.roster_columns"),
        ("refused.area_code_invalid", "refused.area_code_invalid"),
    ]);
    let text_json = page_texts(t, &texts);
    let area = p.user.jurisdiction.areas().first().map(|a| a.as_str().to_string()).unwrap_or_default();
    render(&ImportsPage { t, user: UserBadge::of(&caller), persons, tracing, boundaries, warehouses, sources, area, text_json })
}
