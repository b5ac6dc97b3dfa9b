//! One box: the lab's receipt scan with what is missing and what is extra.

use crate::ui::form::Path;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::Barcode;
use cordon_domain::access::Permission;
use cordon_store::transport::BatchDetail;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::local;
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::{UserBadge, failure, message, render};

#[derive(Template)]
#[template(path = "batch.html")]
struct BatchPage {
    t: Tr,
    user: Option<UserBadge>,
    detail: BatchDetail,
    departed: String,
    /// Who sent the box and who signed for it, by the names people know them by.
    departed_by: String,
    received_by: Option<String>,
    received_at: Option<String>,
    can_receive: bool,
    error: Option<String>,
}

pub async fn batch(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    batch_view(t, &caller, id, None).await
}

async fn batch_view(t: Tr, caller: &Caller, id: i64, error: Option<String>) -> Response {
    match caller.0.batch_detail(id).await {
        Ok(Some(detail)) => {
            let b = &detail.batch;
            let who: Vec<&str> = std::iter::once(b.departed_by.as_str()).chain(b.received_by.as_deref()).collect();
            let names = match caller.0.display_names(&who).await {
                Ok(n) => n,
                Err(e) => return failure(t, caller, e),
            };
            let shown = |login: &str| names.get(login).cloned().unwrap_or_else(|| login.to_string());
            let (departed_by, received_by) = (shown(&b.departed_by), b.received_by.as_deref().map(shown));
            let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
            let page = BatchPage {
                t,
                user: UserBadge::of(caller),
                departed: local(detail.batch.departed_at),
                departed_by,
                received_by,
                received_at: detail.batch.received_at.map(local),
                can_receive: caller.0.principal().can(Permission::LabWrite),
                detail,
                error,
            };
            (status, render(&page)).into_response()
        }
        Ok(None) => message(t, Some(caller), StatusCode::NOT_FOUND, t.get("transport.no_box"), t.get("transport.no_box")),
        Err(e) => failure(t, caller, e),
    }
}

#[derive(Deserialize)]
pub struct ReceiptForm {
    barcodes: String,
}

/// The lab's receipt: the barcodes scanned out of the box, one per line (a scanner ends each
/// with Enter), or separated by spaces or commas.
pub async fn receive(t: Tr, caller: Caller, Path(id): Path<i64>, Form(form): Form<ReceiptForm>) -> Response {
    let mut codes = Vec::new();
    for raw in form.barcodes.split(|c: char| c.is_whitespace() || c == ',' || c == '，').filter(|s| !s.is_empty()) {
        match Barcode::parse(raw) {
            Ok(b) => codes.push(String::from(b)),
            Err(e) => {
                return batch_view(
                    t,
                    &caller,
                    id,
                    Some(t.fill("transport.bad_barcode", &[("barcode", raw), ("reason", &crate::ui::barcode_reason(t, &e))])),
                )
                .await;
            }
        }
    }
    match caller.0.receive(id, &codes).await {
        Ok(_) => Redirect::to(&format!("/transport/batches/{id}")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}
