//! The lab's results page: upload a lab system's CSV export and see what was recorded and every
//! row that was refused, with its line and reason.

use askama::Template;
use axum::response::Response;
use cordon_domain::access::Permission;

use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::{UserBadge, failure, page_texts, render};

#[derive(Template)]
#[template(path = "results.html")]
struct ResultsPage {
    t: Tr,
    user: Option<UserBadge>,
    labs: Vec<(i64, String)>,
    /// The messages the upload script shows, in the page's language.
    text_json: String,
}

pub async fn page(t: Tr, caller: Caller) -> Response {
    if let Err(e) = caller.0.require(Permission::LabWrite) {
        return failure(t, &caller, e);
    }
    let labs = match caller.0.labs_mine_first().await {
        Ok(l) => l,
        Err(e) => return failure(t, &caller, e),
    };
    // The page's messages, and one per refusal kind and result for the refused rows.
    let text = page_texts(
        t,
        &[
            ("choose", "results.choose"),
            ("sending", "results.sending"),
            ("failed", "results.failed"),
            ("offline", "results.offline"),
            ("done", "results.done"),
            ("refused.unknown_barcode", "refused.unknown_barcode"),
            ("refused.tube_outside_jurisdiction", "refused.tube_outside_jurisdiction"),
            ("refused.result_conflict", "refused.result_conflict"),
            ("refused.result_raced", "refused.result_raced"),
            ("refused.row_unreadable", "refused.row_unreadable"),
            ("refused.result_other_lab", "refused.result_other_lab"),
            ("refused.result_box_not_received", "refused.result_box_not_received"),
            ("refused.result_tube_missing", "refused.result_tube_missing"),
            ("refused.result_never_boxed", "refused.result_never_boxed"),
            ("refused.csv_barcode_empty", "refused.csv_barcode_empty"),
            ("refused.csv_barcode_length", "refused.csv_barcode_length"),
            ("refused.csv_barcode_characters", "refused.csv_barcode_characters"),
            ("refused.csv_result", "refused.csv_result"),
            ("refused.csv_ct", "refused.csv_ct"),
            ("refused.csv_no_result", "refused.csv_no_result"),
            ("refused.csv_time", "refused.csv_time"),
            ("result.negative", "results.result.negative"),
            ("result.positive", "results.result.positive"),
            ("result.pooled_suspect", "results.result.pooled_suspect"),
            ("result.invalid", "results.result.invalid"),
        ],
    );
    render(&ResultsPage { t, user: UserBadge::of(&caller), labs: labs.into_iter().map(|l| (l.id, l.name)).collect(), text_json: text })
}
