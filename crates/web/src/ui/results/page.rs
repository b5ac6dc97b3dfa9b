//! The lab's results page: upload a lab system's CSV export and see what was recorded and every
//! row that was refused, with its line and reason.

use askama::Template;
use axum::response::Response;
use cordon_domain::access::Permission;

use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::{UserBadge, failure, render};

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
    let labs = match caller.0.labs().await {
        Ok(l) => l,
        Err(e) => return failure(t, &caller, e),
    };
    // The page's messages, and one per refusal kind and result for the refused rows.
    let keys = ["choose", "sending", "failed", "offline", "done"]
        .map(String::from)
        .into_iter()
        .chain(["unknown_barcode", "outside_jurisdiction", "conflict", "raced", "unreadable"].map(|k| format!("refusal.{k}")))
        .chain(["negative", "positive", "pooled_suspect", "invalid"].map(|k| format!("result.{k}")));
    let text: serde_json::Map<String, serde_json::Value> = keys
        .map(|k| {
            let v = serde_json::Value::from(t.get(&format!("results.{k}")));
            (k, v)
        })
        .collect();
    render(&ResultsPage {
        t,
        user: UserBadge::of(&caller),
        labs: labs.into_iter().map(|l| (l.id, l.name)).collect(),
        text_json: serde_json::Value::Object(text).to_string(),
    })
}
