//! The rule sets: the one in force for each incident, and edited local copies.

use cordon_domain::refusal;
use cordon_domain::refusal::term;
use std::collections::HashMap;

use crate::ui::form::Path;
use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::access::Permission;
use cordon_domain::observation::{Category, RuleSet, rules::format_days, rules::parse_days};
use cordon_store::StoreError;
use cordon_store::observation::RecomputeSummary;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::percent;
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::observation::{category_label, stage_label};
use crate::ui::{UserBadge, failure, render, said};

pub struct PlanView {
    category: String,
    category_key: &'static str,
    /// (position, stage, days, test days), the last two as the copy form shows them.
    stages: Vec<(usize, String, String, String)>,
    double: bool,
}

pub struct RuleView {
    name: String,
    title: String,
    /// The name the copy form offers: the copy's own, none for a built-in set.
    new_name: String,
    built_in: bool,
    badge: String,
    other: String,
    edit_title: String,
    plans: Vec<PlanView>,
    restart_floors: String,
}

#[derive(Template)]
#[template(path = "rulesets.html")]
struct RuleSetsPage {
    t: Tr,
    user: Option<UserBadge>,
    can_command: bool,
    notice: Option<String>,
    error: Option<String>,
    incidents: Vec<(i64, String, String)>,
    rules: Vec<RuleView>,
    /// The rule set offered in the copy form.
    editing: Option<RuleView>,
}

#[derive(Deserialize)]
pub struct RuleSetsQuery {
    notice: Option<String>,
    copy: Option<String>,
}

fn rule_view(t: Tr, rule: &RuleSet, built_in: bool, copied_from: Option<String>) -> RuleView {
    let title = if built_in { super::labels::rule_set_label(t, &rule.name) } else { rule.title.clone() };
    RuleView {
        name: rule.name.clone(),
        edit_title: t.fill("rules.edit_copy", &[("name", &title)]),
        title,
        new_name: if built_in { String::new() } else { rule.name.clone() },
        built_in,
        badge: t.fill("rules.copy_of", &[("name", &super::labels::rule_set_label(t, &copied_from.unwrap_or_default()))]),
        other: t.fill(
            "rules.other",
            &[("needs", &rule.secondary_needs_close_tests.to_string()), ("floors", &rule.site_restart_floors.to_string())],
        ),
        plans: Category::ALL
            .iter()
            .filter_map(|c| {
                let plan = rule.plan(*c)?;
                Some(PlanView {
                    category: category_label(t, c.as_str()),
                    category_key: c.as_str(),
                    stages: plan
                        .stages
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (i, stage_label(t, s.kind.as_str()), s.days.to_string(), format_days(&s.test_days)))
                        .collect(),
                    double: plan.double_test_at_release,
                })
            })
            .collect(),
        restart_floors: rule.site_restart_floors.to_string(),
    }
}

/// The copy form as it was typed, shown again when the rules refuse it, so nothing typed is lost.
fn keep_typed(mut view: RuleView, typed: &HashMap<String, String>) -> RuleView {
    let get = |k: &str| typed.get(k).cloned();
    view.new_name = get("name").unwrap_or(view.new_name);
    view.title = get("title").unwrap_or(view.title);
    view.restart_floors = get("restart_floors").unwrap_or(view.restart_floors);
    for plan in &mut view.plans {
        for (i, _, days, tests) in &mut plan.stages {
            let key = format!("{}.{i}", plan.category_key);
            *days = get(&format!("days.{key}")).unwrap_or(std::mem::take(days));
            *tests = get(&format!("tests.{key}")).unwrap_or(std::mem::take(tests));
        }
    }
    view
}

pub async fn rule_sets(t: Tr, caller: Caller, Query(q): Query<RuleSetsQuery>) -> Response {
    rule_sets_view(t, &caller, q.notice, None, q.copy, None).await
}

async fn rule_sets_view(
    t: Tr,
    caller: &Caller,
    notice: Option<String>,
    error: Option<String>,
    copy: Option<String>,
    typed: Option<&HashMap<String, String>>,
) -> Response {
    let scope = &caller.0;
    let loaded = async { Ok::<_, StoreError>((scope.rule_sets().await?, scope.incidents().await?)) };
    let (rules, incidents) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    let editing = copy.and_then(|name| rules.iter().find(|r| r.rule.name == name)).map(|r| {
        let view = rule_view(t, &r.rule, r.built_in, r.copied_from.clone());
        match typed {
            Some(typed) => keep_typed(view, typed),
            None => view,
        }
    });
    let page = RuleSetsPage {
        t,
        user: UserBadge::of(caller),
        can_command: scope.principal().can(Permission::CommandWrite),
        notice,
        error,
        incidents: incidents.into_iter().map(|i| (i.id, i.name, i.rule_set)).collect(),
        rules: rules.iter().map(|r| rule_view(t, &r.rule, r.built_in, r.copied_from.clone())).collect(),
        editing,
    };
    let status = if page.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    (status, render(&page)).into_response()
}

fn summary_text(t: Tr, s: &RecomputeSummary) -> String {
    t.fill(
        "rules.recomputed",
        &[
            ("orders", &s.orders.to_string()),
            ("later", &s.release_later.to_string()),
            ("earlier", &s.release_earlier.to_string()),
            ("unchanged", &s.unchanged.to_string()),
            ("stage", &s.stage_changed.to_string()),
            ("released", &s.no_longer_observed.to_string()),
            ("to_transfer", &s.to_transfer.to_string()),
            ("to_home", &s.to_home.to_string()),
        ],
    )
}

#[derive(Deserialize)]
pub struct IncidentRuleForm {
    rule_set: String,
}

pub async fn set_incident_rule(t: Tr, caller: Caller, Path(incident): Path<i64>, Form(f): Form<IncidentRuleForm>) -> Response {
    match caller.0.set_incident_rule_set(incident, &f.rule_set).await {
        Ok(summary) => {
            let notice = summary_text(t, &summary);
            Redirect::to(&format!("/rulesets?notice={}", percent(&notice))).into_response()
        }
        Err(e) if e.is_refusal() => rule_sets_view(t, &caller, None, Some(said(t, &e)), None, None).await,
        Err(e) => failure(t, &caller, e),
    }
}

/// A number typed in the copy form, or the field named with why it is not one.
fn number<N: std::str::FromStr>(field: &str, typed: &str) -> Result<N, StoreError> {
    typed.trim().parse().map_err(|_| StoreError::from(refusal!("form.bad_field", field = field, reason = term("form", "not_number"))))
}

/// Saves an edited copy: the source's plans with the lengths and test days typed in the form.
/// Its fields are named by category and stage (`days.close.0`, `tests.close.0`), so the form is
/// read as a map; a length that is not a number is refused, naming the stage.
pub async fn save_rule(t: Tr, caller: Caller, Form(form): Form<HashMap<String, String>>) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let source = field("copied_from").to_string();
    let built = async {
        let mut rule = caller.0.rule_set(&source).await?;
        rule.name = field("name").trim().to_string();
        rule.title = field("title").trim().to_string();
        if rule.title.is_empty() {
            rule.title = rule.name.clone();
        }
        for (category, plan) in rule.plans.iter_mut() {
            for (i, stage) in plan.stages.iter_mut().enumerate() {
                let key = format!("{}.{i}", category.as_str());
                let label = format!("{} · {}", category_label(t, category.as_str()), stage_label(t, stage.kind.as_str()));
                if let Some(days) = form.get(&format!("days.{key}")) {
                    stage.days = number(&label, days)?;
                }
                stage.test_days =
                    parse_days(field(&format!("tests.{key}"))).map_err(|e| StoreError::from(cordon_domain::refusal::Refusal::from(e)))?;
            }
        }
        if let Some(n) = form.get("restart_floors") {
            rule.site_restart_floors = number(t.get("rules.restart_floors"), n)?;
        }
        caller.0.save_rule_set(&rule, &source).await.map(|s| (rule.name, s))
    };
    match built.await {
        Ok((name, summary)) => {
            let notice = format!("{} {}", t.fill("rules.saved", &[("name", &name)]), summary_text(t, &summary));
            Redirect::to(&format!("/rulesets?notice={}", percent(&notice))).into_response()
        }
        Err(e) if e.is_refusal() => rule_sets_view(t, &caller, None, Some(said(t, &e)), Some(source), Some(&form)).await,
        Err(e) => failure(t, &caller, e),
    }
}
