//! The audit log page: events in the caller's jurisdiction, newest first, with filters.

use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, TimeZone, Utc};
use cordon_domain::AreaCode;
use cordon_store::audit::AuditFilter;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::percent;
use crate::i18n::Tr;
use crate::ui::{Places, UserBadge, failure, render};
use std::collections::HashMap;

pub struct EventRow {
    at: String,
    actor: String,
    /// What was done, in words: 修改医学观察状态.
    action: String,
    /// What it was done to, by name: 张三, 清徐-1, 清徐宾馆 1020.
    subject: String,
    /// What changed, in words: 集中隔离中 → 居家隔离中.
    change: String,
    area: String,
    area_code: String,
    client: String,
}

/// The kinds of record the log names, for its filter: each has a label `audit.entity.{kind}`.
pub const ENTITIES: [&str; 42] = [
    "observation_order",
    "case",
    "contacts",
    "exposures",
    "investigation",
    "assist_request",
    "transfer",
    "vehicle",
    "hospital",
    "quarantine_site",
    "room",
    "testing_round",
    "sampling_site",
    "round_person",
    "transport_batch",
    "tube",
    "lab",
    "incident",
    "daily_report",
    "task_force",
    "instruction",
    "instruction_recipient",
    "zone",
    "checkpoint",
    "supply_item",
    "warehouse",
    "stock_movements",
    "supply_request",
    "delivery",
    "hotline_ticket",
    "hotline",
    "health_code",
    "rule_set",
    "person",
    "persons",
    "linelist",
    "roster",
    "boundaries",
    "user",
    "role",
    "api_token",
    "session",
];

/// The values a changed field takes, by record kind and field: their labels' key prefix.
fn value_labels(entity: &str, field: &str) -> Option<&'static str> {
    Some(match (entity, field) {
        ("observation_order", "status") => "obs.status.",
        ("transfer", "status") => "dispatch.status.",
        ("hotline_ticket", "status") => "ticket.status.",
        ("supply_request", "status") => "supply.status.",
        ("instruction_recipient", "state") => "instr.state.",
        ("room", "status") => "quarantine.room.",
        ("case", "severity") => "treatment.severity.",
        ("case", "classification") => "case.class.",
        _ => return None,
    })
}

/// An event as a person reads it: what was done, to what or whom, and what changed.
fn describe(t: Tr, e: &cordon_store::audit::AuditEvent, subjects: &HashMap<(String, String), String>) -> (String, String, String) {
    let did = t.try_get(&format!("audit.did.{}.{}", e.entity, e.action)).map(str::to_string).unwrap_or_else(|| {
        let action = t.try_get(&format!("action.{}", e.action)).unwrap_or(&e.action);
        let entity = t.try_get(&format!("audit.entity.{}", e.entity)).unwrap_or(&e.entity);
        format!("{action}{entity}")
    });
    let id = e.entity_id.clone().unwrap_or_default();
    let subject = subjects.get(&(e.entity.clone(), id.clone())).cloned().unwrap_or(id);
    // Acts on a case's tracing are recorded under the case's number: said as the case.
    let subject = match e.entity.as_str() {
        "case" | "investigation" | "exposures" | "contacts" if !subject.is_empty() => t.fill("audit.case_subject", &[("case", &subject)]),
        _ => subject,
    };
    let json = |j: &Option<String>| j.as_deref().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
    let (before, after) = (json(&e.before_json), json(&e.after_json));
    let mut changes = Vec::new();
    for field in ["status", "classification", "severity"] {
        let Some(prefix) = value_labels(&e.entity, field) else { continue };
        let value = |j: &Option<serde_json::Value>| j.as_ref().and_then(|j| j.get(field)).and_then(|v| v.as_str()).map(str::to_string);
        // (The prefixes are those of the domain's named values, each checked by the locale test.)
        let label = |v: String| {
            let key = format!("{prefix}{v}");
            t.try_get(&key).map(str::to_string).unwrap_or(v)
        };
        match (value(&before), value(&after)) {
            (Some(b), Some(a)) => changes.push(format!("{} → {}", label(b), label(a))),
            (None, Some(a)) => changes.push(label(a)),
            _ => {}
        }
    }
    // A lock on sign-ins: on what, and until when.
    if (e.entity.as_str(), e.action.as_str()) == ("session", "lockout")
        && let Some(a) = &after
        && let Some(scope) = a["scope"].as_str().filter(|s| cordon_domain::throttle::Scope::ALL.iter().any(|k| k.as_str() == *s))
    {
        let until = a["until"]
            .as_str()
            .and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok())
            .map(|u| u.with_timezone(&cordon_domain::local_offset()).format("%m-%d %H:%M").to_string())
            .unwrap_or_default();
        let on = t.fill(&format!("audit.lockout.{scope}"), &[("username", a["username"].as_str().unwrap_or_default())]);
        changes.push(t.fill("audit.lockout", &[("on", &on), ("until", &until)]));
    }
    (did, subject, changes.join("；"))
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: Tr,
    user: Option<UserBadge>,
    actor: String,
    entity: String,
    /// The kinds of record to filter by, with their labels.
    entities: Vec<(&'static str, String)>,
    area: String,
    since: String,
    until: String,
    rows: Vec<EventRow>,
    older_url: Option<String>,
    /// A filter that does not parse, said in words.
    error: Option<String>,
}

impl AuditPage {
    /// The page with the filters as typed and nothing listed yet.
    fn kept(t: Tr, caller: &Caller, q: AuditQuery) -> AuditPage {
        AuditPage {
            t,
            user: UserBadge::of(caller),
            actor: q.actor.unwrap_or_default(),
            entity: q.entity.unwrap_or_default(),
            entities: vec![],
            area: q.area.unwrap_or_default(),
            since: q.since.unwrap_or_default(),
            until: q.until.unwrap_or_default(),
            rows: vec![],
            older_url: None,
            error: None,
        }
    }
}

fn entity_choices(t: Tr) -> Vec<(&'static str, String)> {
    ENTITIES.iter().map(|e| (*e, t.get(&format!("audit.entity.{e}")).to_string())).collect()
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
        Err((field, _)) => {
            // Said on the page, the filters kept as typed, nothing listed.
            let error = t.fill("audit.bad_filter", &[("field", t.get(&format!("audit.{field}")))]);
            let page = AuditPage {
                error: Some(error),
                rows: vec![],
                older_url: None,
                entities: entity_choices(t),
                ..AuditPage::kept(t, &caller, q)
            };
            return (StatusCode::BAD_REQUEST, render(&page)).into_response();
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
    let mut subjects = match caller.0.audit_subjects(&events).await {
        Ok(s) => s,
        Err(e) => return failure(t, &caller, e),
    };
    // Acts done for an account by the demo or a command line carry its sign-in name only.
    let mut unnamed: Vec<&str> = events.iter().filter(|e| e.actor_id.is_none()).map(|e| e.actor_name.as_str()).collect();
    unnamed.sort_unstable();
    unnamed.dedup();
    let shown_as = match caller.0.display_names(&unnamed).await {
        Ok(n) => n,
        Err(e) => return failure(t, &caller, e),
    };
    // A roster is imported into an area: named as the place.
    let rosters = events.iter().filter(|e| e.entity == "roster").filter_map(|e| e.entity_id.as_deref());
    let names = match Places::of(&caller, events.iter().filter_map(|e| e.area_code.as_deref()).chain(rosters.clone())).await {
        Ok(n) => n,
        Err(e) => return failure(t, &caller, e),
    };
    for code in rosters {
        subjects.insert(("roster".to_string(), code.to_string()), names.name(code));
    }
    let rows = events
        .iter()
        .map(|e| {
            let (action, subject, change) = describe(t, e, &subjects);
            let area_code = e.area_code.clone().unwrap_or_default();
            EventRow {
                at: e.at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M:%S").to_string(),
                actor: match shown_as.get(&e.actor_name) {
                    Some(shown) if e.actor_id.is_none() => format!("{shown}（{}）", e.actor_name),
                    _ => actor_label(t, e.actor_id, &e.actor_name, &subjects),
                },
                action,
                subject,
                change,
                area: if area_code.is_empty() { String::new() } else { names.name(&area_code) },
                area_code,
                client: e.client_addr.clone().unwrap_or_default(),
            }
        })
        .collect();
    render(&AuditPage { rows, older_url, entities: entity_choices(t), ..AuditPage::kept(t, &caller, q) })
}

/// Who acted, as a person reads it: an account by the name people know it by, with the sign-in
/// name the filter takes; the system's own acts (a rule's recomputation, the demo, a command
/// line) in words, not as their codes.
fn actor_label(t: Tr, actor_id: Option<i64>, name: &str, subjects: &HashMap<(String, String), String>) -> String {
    if let Some(id) = actor_id {
        return match subjects.get(&("user".to_string(), id.to_string())) {
            Some(shown) if shown != name => format!("{shown}（{name}）"),
            _ => name.to_string(),
        };
    }
    match name.split_once(':') {
        Some(("cli", who)) => t.fill("audit.actor.cli", &[("who", who)]),
        _ => t.try_get(&format!("audit.actor.{name}")).map(str::to_string).unwrap_or_else(|| name.to_string()),
    }
}

#[cfg(test)]
mod actor_tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn the_systems_own_acts_are_named_in_words() {
        let t = Tr(Lang::Zh);
        let shown = HashMap::from([(("user".to_string(), "4".to_string()), "王局长".to_string())]);
        assert_eq!(actor_label(t, None, "recompute", &shown), "系统（按规则重新计算）");
        assert_eq!(actor_label(t, None, "cli:wang", &shown), "命令行（wang）");
        assert_eq!(actor_label(t, Some(3), "recompute", &shown), "recompute", "an account of that name stays itself");
        assert_eq!(actor_label(t, None, "lab-bridge", &shown), "lab-bridge");
        assert_eq!(actor_label(t, Some(4), "commander1", &shown), "王局长（commander1）", "by the name people know");
    }
}
