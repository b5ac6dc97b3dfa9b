//! The treatment page (医疗救治): cases in hospital with their severity, tests and what the
//! discharge rule says; discharge, deaths, and the 7 days of monitoring after discharge.

use crate::ui::form::Query;
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::access::Permission;
use cordon_domain::cases::case::Severity;
use cordon_domain::treatment::Discharge;
use cordon_store::StoreError;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::percent;
use crate::format::{local, month_day};
use crate::i18n::Tr;
use crate::ui::{UserBadge, failure, render, said};

pub struct StayRow {
    id: i64,
    /// A refused test's input, kept in its form: time, ORF1ab and N Ct as typed.
    kept: (String, String, String),
    case_number: String,
    name: String,
    hospital: String,
    severity: String,
    severity_key: String,
    /// An asymptomatic infection: recording a clinical type converts it to a confirmed case.
    asymptomatic: bool,
    status: String,
    admitted: String,
    in_hospital: bool,
    /// Ct values of the tests, oldest first: "04-20 08:00 36.5/37.0".
    tests: Vec<String>,
    rule: String,
    may_discharge: bool,
    needs_designated: bool,
    log: Vec<String>,
    monitoring_until: String,
}

#[derive(Template)]
#[template(path = "treatment.html")]
struct TreatmentPage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    notice: Option<String>,
    error: Option<String>,
    stays: Vec<StayRow>,
    in_hospital: usize,
    severe: usize,
    monitoring: usize,
    severities: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize)]
pub struct TreatmentQuery {
    notice: Option<String>,
}

fn ct(v: Option<f32>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
}

pub async fn page(t: Tr, caller: Caller, Query(q): Query<TreatmentQuery>) -> Response {
    view(t, &caller, q.notice, None, None).await
}

/// A hospital test refused: the stay and what was typed, kept in its form.
pub(super) struct KeptTest {
    pub(super) stay: i64,
    pub(super) at: String,
    pub(super) ct_orf1ab: String,
    pub(super) ct_n: String,
}

pub(super) async fn view(t: Tr, caller: &Caller, notice: Option<String>, error: Option<String>, kept: Option<KeptTest>) -> Response {
    let scope = &caller.0;
    let records = match scope.stay_records().await {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    let sev =
        |s: &str| s.parse::<Severity>().ok().map(|s| t.get(&format!("treatment.severity.{}", s.as_str())).to_string()).unwrap_or_default();
    let stays: Vec<StayRow> = records
        .into_iter()
        .map(|(s, tests, log, rule)| {
            let asymptomatic = s.classification == cordon_domain::cases::case::CaseClass::Asymptomatic;
            let rule_text = match rule {
                Discharge::Allowed { .. } => t.get("treatment.may_discharge").to_string(),
                Discharge::NeedsTwoTests => t.get("treatment.needs_two").to_string(),
                Discharge::NeedsSecondTest { from, .. } => t.fill("treatment.needs_second", &[("from", &local(from))]),
            };
            StayRow {
                id: s.id,
                kept: match &kept {
                    Some(k) if k.stay == s.id => (k.at.clone(), k.ct_orf1ab.clone(), k.ct_n.clone()),
                    _ => Default::default(),
                },
                needs_designated: s.needs_designated(),
                in_hospital: s.status == cordon_domain::treatment::StayStatus::Admitted,
                // An asymptomatic infection has no clinical type: it reads as what it is.
                severity: match cordon_domain::cases::case::clinical(s.classification, Some(s.severity)) {
                    (_, Some(sv)) => sev(sv.as_str()),
                    (class, None) => t.get(&format!("case.class.{}", class.as_str())).to_string(),
                },
                asymptomatic,
                severity_key: s.severity.to_string(),
                status: t.get(&format!("treatment.status.{}", s.status)).to_string(),
                admitted: local(s.admitted_at),
                tests: tests.iter().map(|x| format!("{} {}/{}", local(x.at), ct(x.ct.orf1ab), ct(x.ct.n))).collect(),
                may_discharge: matches!(rule, Discharge::Allowed { .. }),
                rule: rule_text,
                // The first entry is the admission, stored without a note; the page names it.
                log: log
                    .iter()
                    .enumerate()
                    .map(|(i, (at, s, note))| {
                        let note = if i == 0 && note.is_empty() { t.get("treatment.admitted_note") } else { note.as_str() };
                        // An asymptomatic infection has no clinical type: its entries read as what it is.
                        let reading = match asymptomatic {
                            true => t.get("case.class.asymptomatic").to_string(),
                            false => sev(s),
                        };
                        format!("{} {} {}", local(*at), reading, note)
                    })
                    .collect(),
                monitoring_until: s.monitoring_until.map(month_day).unwrap_or_default(),
                case_number: s.case_number,
                name: s.name,
                hospital: s.hospital,
            }
        })
        .collect();
    let page = TreatmentPage {
        t,
        user: UserBadge::of(caller),
        can_write: scope.principal().can(Permission::TreatmentWrite),
        notice,
        error,
        in_hospital: stays.iter().filter(|s| s.in_hospital).count(),
        severe: stays.iter().filter(|s| s.in_hospital && matches!(s.severity_key.as_str(), "severe" | "critical")).count(),
        monitoring: stays.iter().filter(|s| !s.monitoring_until.is_empty()).count(),
        stays,
        severities: Severity::ALL.iter().map(|s| (s.as_str(), t.get(&format!("treatment.severity.{}", s.as_str())))).collect(),
    };
    render(&page)
}

/// A refused test answers the page with its input kept in the stay's form.
pub(super) async fn test_outcome(t: Tr, caller: &Caller, done: Result<String, StoreError>, kept: KeptTest) -> Response {
    match done {
        Err(e) if e.is_refusal() => view(t, caller, None, Some(said(t, &e)), Some(kept)).await,
        other => outcome(t, caller, other).await,
    }
}

pub(super) async fn outcome(t: Tr, caller: &Caller, done: Result<String, StoreError>) -> Response {
    match done {
        Ok(n) => Redirect::to(&format!("/treatment?notice={}", percent(&n))).into_response(),
        Err(e) if e.is_refusal() => view(t, caller, None, Some(said(t, &e)), None).await,
        Err(e) => failure(t, caller, e),
    }
}
