//! Assistance requests (协查函) sent and received; received ones are answered here.

use crate::ui::form::Path;
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::local;
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::{UserBadge, failure, render};

pub struct AssistRow {
    id: i64,
    incoming: bool,
    to_area: String,
    from_area: String,
    case: String,
    person_id: String,
    degree: String,
    last_at: String,
    status: String,
    open: bool,
    answer: String,
}

#[derive(Template)]
#[template(path = "assist.html")]
struct AssistPage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    rows: Vec<AssistRow>,
}

/// Assistance requests (协查函) sent and received, open ones first; received ones are answered here.
pub async fn assist(t: Tr, caller: Caller) -> Response {
    let scope = &caller.0;
    let list = match scope.assist_requests().await {
        Ok(l) => l,
        Err(e) => return failure(t, &caller, e),
    };
    let mine = scope.principal().user.jurisdiction.clone();
    let rows = list
        .into_iter()
        .map(|a| {
            let facts: serde_json::Value = serde_json::from_str(&a.facts).unwrap_or_default();
            let text =
                |k: &str| facts[k].as_str().map(str::to_string).or_else(|| facts[k].as_i64().map(|n| n.to_string())).unwrap_or_default();
            let degree = text("degree");
            AssistRow {
                incoming: AreaCode::parse(&a.to_area).is_ok_and(|c| mine.contains(&c)),
                open: a.status == cordon_domain::cases::exposure::AssistStatus::Open,
                status: t.get(&format!("assist.status.{}", a.status)).to_string(),
                degree: t.get(&format!("contacts.degree.{degree}")).to_string(),
                case: text("case"),
                person_id: text("person_id"),
                last_at: facts["last_at"]
                    .as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|d| local(d.with_timezone(&Utc)))
                    .unwrap_or_else(|| "—".into()),
                id: a.id,
                to_area: a.to_area,
                from_area: a.from_area,
                answer: a.answer.unwrap_or_default(),
            }
        })
        .collect();
    render(&AssistPage { t, user: UserBadge::of(&caller), can_write: scope.principal().can(Permission::TracingWrite), rows })
}

#[derive(Deserialize)]
pub struct AnswerForm {
    answer: String,
}

pub async fn answer_assist(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<AnswerForm>) -> Response {
    match caller.0.answer_assist_request(id, &f.answer).await {
        Ok(_) => Redirect::to("/assist").into_response(),
        Err(e) => failure(t, &caller, e),
    }
}
