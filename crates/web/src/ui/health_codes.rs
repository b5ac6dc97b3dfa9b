//! Health codes by area (健康码管理): how many people of each part of an area hold each colour,
//! and the red (or yellow) people of the area with their reasons, paged by key — the list the
//! community and the checkpoints work from.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use cordon_domain::AreaCode;
use cordon_domain::health_code::Colour;
use cordon_store::PersonCursor;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::{local, thousands};
use crate::i18n::Tr;
use crate::ui::form::Query;
use crate::ui::{Places, UserBadge, failure, message, render};

/// People a page lists.
const PAGE: u32 = 50;

pub struct CountRow {
    code: String,
    name: String,
    red: String,
    yellow: String,
    green: String,
}

pub struct PersonRow {
    id: i64,
    name: String,
    village: String,
    reasons: Vec<String>,
    since: String,
}

#[derive(Template)]
#[template(path = "health_codes.html")]
struct CodesPage {
    t: Tr,
    user: Option<UserBadge>,
    area: String,
    area_name: String,
    /// The area one level up, while it is still the caller's.
    up: Option<String>,
    colour: &'static str,
    counts: Vec<CountRow>,
    total: CountRow,
    people: Vec<PersonRow>,
    next: Option<String>,
    none: String,
}

#[derive(Debug, Deserialize)]
pub struct CodesQuery {
    area: Option<String>,
    colour: Option<String>,
    after: Option<String>,
}

pub async fn page(t: Tr, caller: Caller, Query(q): Query<CodesQuery>) -> Response {
    let home = caller.0.principal().user.jurisdiction.areas().to_vec();
    let area = match q.area.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => match AreaCode::parse(a) {
            Ok(a) => a,
            Err(_) => return message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("area.bad_code"), t.get("area.bad_code_detail")),
        },
        None => match home.first() {
            Some(a) => a.clone(),
            None => return message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("area.bad_code"), t.get("area.bad_code_detail")),
        },
    };
    // Only red and yellow are listed; anything else typed into the address shows the red list.
    let colour = match q.colour.as_deref() {
        Some("yellow") => Colour::Yellow,
        _ => Colour::Red,
    };
    let after = q.after.as_deref().and_then(PersonCursor::decode);
    let counts = match caller.0.code_counts(&area).await {
        Ok(c) => c,
        Err(e) => return failure(t, &caller, e),
    };
    let (people, next) = match caller.0.coded_people(&area, colour, after.as_ref(), PAGE).await {
        Ok(p) => p,
        Err(e) => return failure(t, &caller, e),
    };
    let places = match Places::of(&caller, people.iter().map(|p| p.area_code.as_str()).chain([area.as_str()])).await {
        Ok(p) => p,
        Err(e) => return failure(t, &caller, e),
    };
    let (mut red, mut yellow, mut green) = (0, 0, 0);
    let counts = counts
        .into_iter()
        .map(|c| {
            (red, yellow, green) = (red + c.red, yellow + c.yellow, green + c.green);
            CountRow { code: c.area_code, name: c.name, red: thousands(c.red), yellow: thousands(c.yellow), green: thousands(c.green) }
        })
        .collect();
    let total = CountRow {
        code: area.to_string(),
        name: t.get("codes.total").to_string(),
        red: thousands(red),
        yellow: thousands(yellow),
        green: thousands(green),
    };
    let up = area.parent().filter(|p| home.iter().any(|h| h.contains(p))).map(|p| p.to_string());
    let people = people
        .into_iter()
        .map(|p| PersonRow {
            id: p.person_id,
            village: places.name(&p.area_code),
            reasons: p.code.reasons.into_iter().map(|r| if t.zh() { r.zh } else { r.en }).collect(),
            since: local(p.changed_at),
            name: p.name,
        })
        .collect();
    let colour_label = t.get(&format!("code.colour.{}", colour.as_str()));
    render(&CodesPage {
        t,
        user: UserBadge::of(&caller),
        area_name: places.name(area.as_str()),
        area: area.to_string(),
        up,
        colour: colour.as_str(),
        counts,
        total,
        people,
        next: next.map(|c| format!("/health-codes?area={area}&colour={}&after={}", colour.as_str(), c.encode())),
        none: t.fill("codes.none", &[("colour", colour_label)]),
    })
}
