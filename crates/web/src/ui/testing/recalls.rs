//! The recall board: every open recall with its clock, or one pooled tube's members.

use crate::ui::form::Query;
use askama::Template;
use axum::response::Response;
use cordon_domain::Barcode;

use crate::auth::Caller;
use crate::format::{local, span};
use crate::i18n::Tr;
use crate::ui::{Places, UserBadge, failure, render};

pub struct RecallRow {
    person_id: i64,
    name: String,
    area_code: String,
    place: String,
    round_id: i64,
    barcode: String,
    deadline: String,
    left: String,
    overdue: bool,
    status: String,
}

#[derive(Template)]
#[template(path = "recalls.html")]
struct RecallsPage {
    t: Tr,
    user: Option<UserBadge>,
    rows: Vec<RecallRow>,
    /// Set when the page lists one pooled tube's members (every recall, open or closed).
    tube: Option<String>,
    heading: String,
    /// Names link to the person's page only for those who may read it (a lab does not).
    can_persons: bool,
}

#[derive(Debug, serde::Deserialize)]
pub struct RecallsQuery {
    round: Option<i64>,
    tube: Option<String>,
}

/// The recall board: every open recall in the jurisdiction with its clock, overdue ones first;
/// or, with `?round=&tube=`, every member one pooled tube recalled and where each stands.
pub async fn recalls(t: Tr, caller: Caller, Query(q): Query<RecallsQuery>) -> Response {
    let tube = match (q.round, q.tube.as_deref().map(Barcode::parse)) {
        (Some(round), Some(Ok(barcode))) => Some((round, barcode)),
        _ => None,
    };
    let recalls = match &tube {
        Some((round, barcode)) => caller.0.tube_recalls(*round, barcode).await,
        None => caller.0.open_recalls().await,
    };
    let recalls = match recalls {
        Ok(r) => r,
        Err(e) => return failure(t, &caller, e),
    };
    let names = match Places::of(&caller, recalls.iter().map(|r| r.area_code.as_str())).await {
        Ok(n) => n,
        Err(e) => return failure(t, &caller, e),
    };
    let now = chrono::Utc::now();
    let rows = recalls
        .into_iter()
        .map(|r| {
            let minutes = (r.deadline - now).num_minutes();
            let open = r.status == cordon_domain::testing::result::RecallStatus::Open;
            RecallRow {
                person_id: r.person_id,
                name: r.person_name,
                place: names.name(&r.area_code),
                area_code: r.area_code,
                round_id: r.round_id,
                barcode: r.barcode,
                deadline: local(r.deadline),
                left: match (open, minutes >= 0) {
                    (false, _) => String::new(),
                    (true, true) => span(minutes),
                    (true, false) => t.fill("recalls.overdue", &[("time", &span(-minutes))]),
                },
                overdue: open && minutes < 0,
                status: t.get(&format!("recalls.status.{}", r.status)).to_string(),
            }
        })
        .collect();
    let tube = tube.map(|(_, b)| b.to_string());
    let heading = match &tube {
        Some(b) => t.fill("recalls.of_tube", &[("barcode", b)]),
        None => t.get("recalls.title").to_string(),
    };
    let can_persons = caller.0.principal().can(cordon_domain::access::Permission::PersonsRead);
    render(&RecallsPage { t, user: UserBadge::of(&caller), rows, tube, heading, can_persons })
}
