//! The audit log page: events in the caller's jurisdiction, newest first, with filters.

use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, TimeZone, Utc};
use cordon_domain::AreaCode;
use cordon_store::audit::AuditFilter;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::percent;
use crate::i18n::Tr;
use crate::ui::{UserBadge, failure, message, render};

pub struct EventRow {
    at: String,
    actor: String,
    action: String,
    entity: String,
    area: String,
    client: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: Tr,
    user: Option<UserBadge>,
    actor: String,
    entity: String,
    area: String,
    since: String,
    until: String,
    rows: Vec<EventRow>,
    older_url: Option<String>,
}

/// Filters shared by the page and the API.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
pub struct AuditQuery {
    /// User name of the actor.
    pub actor: Option<String>,
    /// Kind of record: person, user, role, api_token, session, persons.
    pub entity: Option<String>,
    /// Only events tagged with this area or one below it.
    pub area: Option<String>,
    /// Only events on or after this day (Asia/Shanghai), `2022-04-13`.
    pub since: Option<String>,
    /// Only events on or before this day (Asia/Shanghai).
    pub until: Option<String>,
    /// Only events older than this event id (paging).
    pub before: Option<i64>,
}

impl AuditQuery {
    /// The store filter; the actor is looked up by user name. `Err` names the bad field.
    pub async fn filter(&self, caller: &Caller) -> Result<AuditFilter, (&'static str, String)> {
        let mut f = AuditFilter { before_id: self.before, entity: self.entity.clone().filter(|e| !e.is_empty()), ..Default::default() };
        if let Some(a) = self.area.as_deref().filter(|a| !a.is_empty()) {
            f.area = Some(AreaCode::parse(a).map_err(|e| ("area", e.to_string()))?);
        }
        if let Some(d) = self.since.as_deref().filter(|d| !d.is_empty()) {
            f.since = Some(day_start("since", d, 0)?);
        }
        if let Some(d) = self.until.as_deref().filter(|d| !d.is_empty()) {
            f.until = Some(day_start("until", d, 1)?);
        }
        if let Some(name) = self.actor.as_deref().filter(|n| !n.is_empty()) {
            // Unknown names match nothing rather than everything.
            f.actor_id = Some(caller.0.user_id_by_name(name).await.map_err(|e| ("actor", e.to_string()))?.unwrap_or(-1));
        }
        Ok(f)
    }
}

/// Midnight in Asia/Shanghai of the day `d` plus `plus_days`, in UTC.
fn day_start(field: &'static str, d: &str, plus_days: u64) -> Result<chrono::DateTime<Utc>, (&'static str, String)> {
    let day = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| (field, format!("{d:?} is not a date (2022-04-13)")))?;
    let day = day + chrono::Days::new(plus_days);
    let shanghai = cordon_domain::local_offset();
    let start = shanghai.from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight")).single().expect("fixed offset");
    Ok(start.with_timezone(&Utc))
}

pub async fn list(t: Tr, caller: Caller, Query(q): Query<AuditQuery>) -> Response {
    let filter = match q.filter(&caller).await {
        Ok(f) => f,
        Err((field, reason)) => {
            return message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("error.failed"), &format!("{field}: {reason}"));
        }
    };
    let events = match caller.0.audit_events(&filter, 100).await {
        Ok(e) => e,
        Err(e) => return failure(t, &caller, e),
    };
    let shanghai = cordon_domain::local_offset();
    let older_url = (events.len() == 100).then(|| {
        format!(
            "/audit?actor={}&entity={}&area={}&since={}&until={}&before={}",
            percent(q.actor.as_deref().unwrap_or("")),
            percent(q.entity.as_deref().unwrap_or("")),
            percent(q.area.as_deref().unwrap_or("")),
            percent(q.since.as_deref().unwrap_or("")),
            percent(q.until.as_deref().unwrap_or("")),
            events.last().map(|e| e.id).unwrap_or(0)
        )
    });
    let rows = events
        .into_iter()
        .map(|e| EventRow {
            at: e.at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M:%S").to_string(),
            actor: e.actor_name,
            action: t.try_get(&format!("action.{}", e.action)).map(str::to_string).unwrap_or(e.action),
            entity: format!("{} {}", e.entity, e.entity_id.unwrap_or_default()),
            area: e.area_code.unwrap_or_default(),
            client: e.client_addr.unwrap_or_default(),
        })
        .collect();
    render(&AuditPage {
        t,
        user: UserBadge::of(&caller),
        actor: q.actor.unwrap_or_default(),
        entity: q.entity.unwrap_or_default(),
        area: q.area.unwrap_or_default(),
        since: q.since.unwrap_or_default(),
        until: q.until.unwrap_or_default(),
        rows,
        older_url,
    })
}
