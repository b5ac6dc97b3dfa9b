//! People pages: search inside the jurisdiction, a person's record (masked), and the audited
//! "show in full" action.

use crate::ui::form::Path;
use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cordon_domain::access::Permission;
use cordon_domain::person::age_on;
use cordon_domain::{AreaCode, Phone, Vulnerability};
use cordon_store::{Person, PersonCursor, PersonFilter};
use serde::Deserialize;

use super::{UserBadge, failure, message, render};
use crate::auth::Caller;
use crate::format::percent;
use crate::i18n::Tr;

/// A person as a page shows them.
pub struct PersonView {
    id: i64,
    name: String,
    sex: &'static str,
    age: u32,
    birth_date: String,
    id_masked: String,
    phone_masked: String,
    area_code: String,
    address: String,
    tags: Vec<&'static str>,
}

impl PersonView {
    fn new(t: Tr, p: &Person, revealed: bool) -> Self {
        let today = crate::format::today();
        let phone = p.phone.as_deref().unwrap_or("");
        PersonView {
            id: p.id,
            name: p.name.clone(),
            sex: t.get(&format!("sex.{}", p.sex.as_str())),
            age: age_on(p.birth_date, today),
            birth_date: p.birth_date.to_string(),
            id_masked: if revealed { p.document.number().to_string() } else { p.document.masked() },
            phone_masked: match Phone::parse(phone) {
                Ok(ph) if revealed => ph.to_string(),
                Ok(ph) => ph.masked(),
                Err(_) => String::new(),
            },
            area_code: p.area_code.clone(),
            address: p.address.clone().unwrap_or_default(),
            tags: p.tags.all(p.birth_date, today).iter().map(|v| t.get(&format!("tag.{}", v.as_str()))).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "persons.html")]
struct ListPage {
    t: Tr,
    user: Option<UserBadge>,
    area: Option<String>,
    area_name: Option<String>,
    q: String,
    tag: String,
    tags: Vec<(&'static str, &'static str)>,
    rows: Vec<PersonView>,
    next_url: Option<String>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    area: Option<String>,
    q: Option<String>,
    tag: Option<String>,
    after: Option<String>,
}

pub async fn list(t: Tr, caller: Caller, Query(q): Query<ListQuery>) -> Response {
    let scope = &caller.0;
    let area = match q.area.as_deref().filter(|a| !a.is_empty()).map(AreaCode::parse).transpose() {
        Ok(a) => a,
        Err(_) => return message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("area.bad_code"), t.get("area.bad_code_detail")),
    };
    let text = q.q.clone().unwrap_or_default();
    let mut filter = PersonFilter::from_query(&text);
    let tag = q.tag.clone().unwrap_or_default();
    filter.vulnerability = tag.parse::<Vulnerability>().ok();
    // A filter the page does not know lists nobody rather than everyone: it says so.
    if !tag.is_empty() && filter.vulnerability.is_none() {
        return message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("form.bad_link"), &t.fill("list.bad_filter", &[("value", &tag)]));
    }
    let after = q.after.as_deref().and_then(PersonCursor::decode);
    let today = crate::format::today();
    let area_named = async {
        match &area {
            Some(a) => Ok(scope.area(a).await?.map(|a| a.name)),
            None => Ok(None),
        }
    };
    let (page, area_name) = match tokio::try_join!(scope.list_persons(area.as_ref(), &filter, after.as_ref(), 50, today), area_named) {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let next_url = page.next.map(|c| {
        format!(
            "/persons?area={}&q={}&tag={}&after={}",
            area.as_ref().map(|a| a.as_str()).unwrap_or(""),
            percent(&text),
            percent(&tag),
            c.encode()
        )
    });
    let tags = [Vulnerability::Bedridden, Vulnerability::Disabled, Vulnerability::Pregnant, Vulnerability::Elderly, Vulnerability::Infant]
        .iter()
        .map(|v| (v.as_str(), t.get(&format!("tag.{}", v.as_str()))))
        .collect();
    render(&ListPage {
        t,
        user: UserBadge::of(&caller),
        area: area.map(|a| a.to_string()),
        area_name,
        q: text,
        tag,
        tags,
        rows: page.items.iter().map(|p| PersonView::new(t, p, false)).collect(),
        next_url,
    })
}

#[derive(Template)]
#[template(path = "person.html")]
struct DetailPage {
    t: Tr,
    user: Option<UserBadge>,
    p: PersonView,
    can_reveal: bool,
    revealed: bool,
    household: Vec<PersonView>,
    /// The village (with its township) they live in, by name.
    place: String,
    /// What they are now, a line each: (text, link).
    now: Vec<(String, Option<String>)>,
    /// Their health code: (colour, its label, its reasons in the page's language).
    code: (&'static str, String, Vec<String>),
    /// Every change of its colour, newest first, a line each.
    code_history: Vec<String>,
    /// Whether the caller may set the code by hand.
    can_override: bool,
    /// What was just done (`?notice=`).
    notice: Option<String>,
}

/// What a person is now, in words, each line with the page it opens.
fn now_lines(t: Tr, now: cordon_store::PersonNow) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for c in now.cases {
        // The same clinical reading as the case page and the ward's.
        use cordon_domain::cases::case::{CaseClass, Severity, clinical};
        let class = c.classification.parse::<CaseClass>().ok();
        let severity = c.severity.as_deref().and_then(|s| s.parse::<Severity>().ok());
        let class = match class.map(|k| clinical(k, severity)) {
            Some((k, Some(sv))) => {
                format!("{} · {}", t.get(&format!("case.class.{}", k.as_str())), t.get(&format!("treatment.severity.{}", sv.as_str())))
            }
            Some((k, None)) => t.get(&format!("case.class.{}", k.as_str())).to_string(),
            None => c.classification.clone(),
        };
        let mut text = t.fill("now.case", &[("number", &c.number), ("class", &class)]);
        match (c.stay.as_deref(), &c.hospital) {
            (Some("admitted"), Some(h)) => text.push_str(&t.fill("now.in_hospital", &[("hospital", h)])),
            (Some(s), _) => text.push_str(&t.fill("now.stay", &[("status", t.get(&format!("treatment.status.{s}")))])),
            _ => {}
        }
        out.push((text, Some(format!("/cases/{}", c.case_id))));
    }
    for c in now.contacts {
        let degree = t.get(&format!("contacts.degree.{}", c.degree.as_str()));
        let status = t.get(&format!("contacts.status.{}", c.status));
        out.push((
            t.fill("now.contact", &[("number", &c.number), ("degree", degree), ("status", status)]),
            Some(format!("/cases/{}", c.case_id)),
        ));
    }
    for o in now.orders {
        let status = t.get(&format!("obs.status.{}", o.status.as_str()));
        let mut text = t.fill("now.order", &[("status", status), ("category", t.get(&format!("obs.category.{}", o.category.as_str())))]);
        if let Some(site) = &o.site {
            text.push_str(&t.fill("now.at_site", &[("site", site), ("room", o.room.as_deref().unwrap_or("—"))]));
        }
        if let Some(day) = o.release_on.filter(|_| !o.status.is_final()) {
            text.push_str(&t.fill("now.until", &[("day", &day.to_string())]));
        }
        out.push((text, Some(format!("/observation/orders/{}", o.order_id))));
    }
    for r in now.recalls {
        let text = t.fill("now.recall", &[("barcode", &r.barcode), ("deadline", &crate::format::local(r.deadline))]);
        out.push((text, Some(format!("/recalls?round={}&tube={}", r.round_id, r.barcode))));
    }
    out
}

async fn detail_view(t: Tr, caller: &Caller, id: i64, reveal: bool, notice: Option<String>) -> Response {
    let scope = &caller.0;
    let found = if reveal { scope.reveal_person(id).await } else { scope.person(id).await };
    let person = match found {
        Ok(Some(p)) => p,
        Ok(None) => return message(t, Some(caller), StatusCode::NOT_FOUND, t.get("persons.none"), t.get("persons.none")),
        Err(e) => return failure(t, caller, e),
    };
    let household = match scope.household_of(&person).await {
        Ok(h) => h.iter().map(|m| PersonView::new(t, m, false)).collect(),
        Err(e) => return failure(t, caller, e),
    };
    let place = match super::Places::of(caller, [person.area_code.as_str()]).await {
        Ok(n) => n.name(&person.area_code),
        Err(e) => return failure(t, caller, e),
    };
    let now = match scope.person_now(&person).await {
        Ok(n) => now_lines(t, n),
        Err(e) => return failure(t, caller, e),
    };
    let code = match scope.health_code(person.id).await {
        Ok(c) => (
            c.colour.as_str(),
            t.get(&format!("code.colour.{}", c.colour.as_str())).to_string(),
            c.reasons.into_iter().map(|r| if t.zh() { r.zh } else { r.en }).collect(),
        ),
        Err(e) => return failure(t, caller, e),
    };
    let colour = |c: cordon_domain::health_code::Colour| t.get(&format!("code.colour.{}", c.as_str()));
    let code_history = match scope.code_changes(person.id).await {
        Ok(h) => h
            .into_iter()
            .map(|c| t.fill("codes.changed", &[("at", &crate::format::local(c.at)), ("from", colour(c.from)), ("to", colour(c.to))]))
            .collect(),
        Err(e) => return failure(t, caller, e),
    };
    render(&DetailPage {
        t,
        user: UserBadge::of(caller),
        place,
        now,
        code,
        code_history,
        p: PersonView::new(t, &person, reveal),
        can_reveal: scope.principal().can(Permission::PersonsReveal),
        revealed: reveal,
        household,
        can_override: scope.principal().can(Permission::CommandWrite),
        notice,
    })
}

#[derive(Debug, serde::Deserialize)]
pub struct OverrideForm {
    colour: cordon_domain::health_code::Colour,
    #[serde(default)]
    reason: String,
    days: i64,
}

/// The commander sets a code by hand; a refusal says why and keeps the form.
pub async fn override_code(
    t: Tr,
    caller: Caller,
    Path(id): Path<i64>,
    crate::ui::form::Form(f): crate::ui::form::Form<OverrideForm>,
) -> Response {
    let over = cordon_domain::health_code::Override {
        colour: f.colour,
        reason: f.reason,
        until: chrono::Utc::now() + chrono::Duration::days(f.days.clamp(-1, 365)),
        set_at: chrono::Utc::now(),
    };
    match caller.0.override_code(id, &over).await {
        Ok(_) => axum::response::Redirect::to(&format!("/persons/{id}?notice={}", crate::format::percent(t.get("code.overridden"))))
            .into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

pub async fn detail(
    t: Tr,
    caller: Caller,
    Path(id): Path<i64>,
    crate::ui::form::Query(q): crate::ui::form::Query<super::NoticeQuery>,
) -> Response {
    detail_view(t, &caller, id, false, q.notice).await
}

/// The "show in full" action: a POST (it leaves an audit event), answering the page unmasked.
pub async fn reveal(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    detail_view(t, &caller, id, true, None).await.into_response()
}
