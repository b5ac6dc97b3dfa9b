//! The coverage page of a round ("no household, no person missed"): expected, sampled,
//! accounted for otherwise and missing for an area and each of its sub-areas, a dashboard
//! (sampling over time against the target, tubes by stage, lab turnaround, what was found), and
//! for a village the printable list of who is still missing, where the community worker marks
//! people as away, in quarantine, in hospital or sampled at home.

use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;
use cordon_domain::person::age_on;
use cordon_domain::testing::exemption::ExemptionReason;
use cordon_store::coverage::{AreaCoverage, Progress};
use cordon_store::{PersonCursor, StoreError};
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::local;
use crate::format::percent;
use crate::format::thousands;
use crate::i18n::Tr;
use crate::ui::{UserBadge, failure, message, render};

pub struct CoverageRow {
    code: String,
    name: String,
    expected: String,
    sampled: String,
    exempted: String,
    missing: String,
    /// Sampled or accounted for, in percent of expected (0–100).
    done: u32,
}

impl CoverageRow {
    fn new(c: &AreaCoverage) -> Self {
        let done = if c.expected > 0 { ((c.sampled + c.exempted) * 100 / c.expected).clamp(0, 100) as u32 } else { 0 };
        CoverageRow {
            code: c.area_code.clone(),
            name: c.name.clone(),
            expected: thousands(c.expected),
            sampled: thousands(c.sampled),
            exempted: thousands(c.exempted),
            missing: thousands(c.missing()),
            done,
        }
    }
}

pub struct MissingRow {
    id: i64,
    name: String,
    age: u32,
    id_masked: String,
    phone_masked: String,
    address: String,
    tags: Vec<&'static str>,
}

pub struct ExemptRow {
    person_id: i64,
    name: String,
    reason: &'static str,
    note: String,
    recorded: String,
    by: String,
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    t: Tr,
    user: Option<UserBadge>,
    round_id: i64,
    round_name: String,
    area_code: String,
    crumbs: Vec<(String, String)>,
    total: CoverageRow,
    children: Vec<CoverageRow>,
    /// A village or community: the missing list is shown instead of sub-areas.
    leaf: bool,
    missing: Vec<MissingRow>,
    next_url: Option<String>,
    exemptions: Vec<ExemptRow>,
    can_write: bool,
    reasons: Vec<(&'static str, &'static str)>,
    chart_json: String,
    found: Vec<(&'static str, String)>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct CoverageQuery {
    /// The round; the latest started one the caller sees when absent (the clocks board's link).
    round: Option<i64>,
    area: Option<String>,
    after: Option<String>,
    error: Option<String>,
}

pub async fn page(t: Tr, caller: Caller, Query(q): Query<CoverageQuery>) -> Response {
    let scope = &caller.0;
    let asked = match q.area.as_deref().map(AreaCode::parse).transpose() {
        Ok(a) => a,
        Err(_) => return message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("area.bad_code"), t.get("area.bad_code_detail")),
    };
    let after = q.after.as_deref().and_then(PersonCursor::decode);
    let Some(round_id) = q.round else {
        let now = Utc::now();
        return match scope.rounds().await {
            Ok(rounds) => match rounds.iter().filter(|r| r.starts_at <= now).max_by_key(|r| (r.starts_at, r.id)) {
                Some(r) => axum::response::IntoResponse::into_response(axum::response::Redirect::to(&format!("/coverage?round={}", r.id))),
                None => message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("coverage.no_round"), t.get("coverage.no_round_detail")),
            },
            Err(e) => failure(t, &caller, e),
        };
    };
    let loaded = async {
        let Some(round) = scope.round(round_id).await? else { return Ok(None) };
        let round_areas: Vec<AreaCode> = round.areas.iter().filter_map(|a| AreaCode::parse(&a.area_code).ok()).collect();
        let area = match asked.clone() {
            Some(a) => a,
            None => match default_area(scope, &round_areas).await? {
                Some(a) => a,
                None => return Ok(None),
            },
        };
        let (coverage, crumbs, flow) =
            tokio::try_join!(scope.coverage(round.id, &area), scope.ancestors(&area), scope.tube_flow(round.id))?;
        let Some(coverage) = coverage else { return Ok(None) };
        let leaf = coverage.children.is_empty();
        let parts: Vec<String> =
            if leaf { vec![coverage.area.area_code.clone()] } else { coverage.children.iter().map(|c| c.area_code.clone()).collect() };
        let lists = async {
            if leaf && scope.principal().can(Permission::PersonsRead) {
                let (missing, exemptions) =
                    tokio::try_join!(scope.missing(round.id, &area, after.as_ref(), 200), scope.exemptions(round.id, &area))?;
                Ok::<_, StoreError>((Some(missing), exemptions))
            } else {
                Ok((None, vec![]))
            }
        };
        let (progress, (missing, exemptions)) = tokio::try_join!(scope.progress(round.id, &area, &parts), lists)?;
        Ok::<_, StoreError>(Some((area, round, coverage, crumbs, progress, flow, missing, exemptions)))
    };
    let (area, round, coverage, crumbs, progress, flow, missing, exemptions) = match loaded.await {
        Ok(Some(x)) => x,
        Ok(None) => return message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("rounds.none"), t.get("rounds.none")),
        Err(e) => return failure(t, &caller, e),
    };
    // Who verified each exemption, by the name colleagues know them by.
    let verifiers: Vec<&str> = exemptions.iter().map(|e| e.recorded_by.as_str()).collect();
    let shown_as = match caller.0.display_names(&verifiers).await {
        Ok(n) => n,
        Err(e) => return failure(t, &caller, e),
    };
    let today = crate::format::today();
    let names: Vec<(String, String, i64)> = if coverage.children.is_empty() {
        vec![(coverage.area.area_code.clone(), coverage.area.name.clone(), coverage.area.expected)]
    } else {
        coverage.children.iter().map(|c| (c.area_code.clone(), c.name.clone(), c.expected)).collect()
    };
    let chart_json = charts(t, round.starts_at, round.target_end_at, &names, &progress, &flow).to_string();
    let next_url = missing
        .as_ref()
        .and_then(|m| m.next.as_ref())
        .map(|c| format!("/coverage?round={}&area={}&after={}", round.id, area, percent(&c.encode())));
    render(&CoveragePage {
        t,
        user: UserBadge::of(&caller),
        round_id: round.id,
        round_name: round.name,
        area_code: area.to_string(),
        crumbs: crumbs.into_iter().map(|a| (a.code, a.name)).collect(),
        total: CoverageRow::new(&coverage.area),
        children: coverage.children.iter().map(CoverageRow::new).collect(),
        leaf: coverage.children.is_empty(),
        missing: missing
            .map(|m| {
                m.items
                    .iter()
                    .map(|p| MissingRow {
                        id: p.id,
                        name: p.name.clone(),
                        age: age_on(p.birth_date, today),
                        id_masked: p.document.masked(),
                        phone_masked: crate::format::masked_phone(p.phone.as_deref()),
                        address: p.address.clone().unwrap_or_default(),
                        tags: p.tags.all(p.birth_date, today).iter().map(|v| t.get(&format!("tag.{}", v.as_str()))).collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        next_url,
        exemptions: exemptions
            .into_iter()
            .map(|e| ExemptRow {
                person_id: e.person_id,
                reason: t.get(&format!("exemption.{}", e.reason)),
                name: e.person_name,
                note: e.note.unwrap_or_default(),
                recorded: local(e.recorded_at),
                by: shown_as.get(&e.recorded_by).cloned().unwrap_or(e.recorded_by),
            })
            .collect(),
        can_write: caller.0.principal().can(Permission::TestingWrite),
        reasons: ExemptionReason::ALL.iter().map(|r| (r.as_str(), t.get(&format!("exemption.{}", r.as_str())))).collect(),
        chart_json,
        found: vec![
            ("coverage.positive_tubes", thousands(progress.positive_tubes)),
            ("coverage.suspect_tubes", thousands(progress.suspect_tubes)),
            ("coverage.open_recalls", thousands(progress.open_recalls)),
            ("coverage.closed_recalls", thousands(progress.closed_recalls)),
            ("coverage.positive_persons", thousands(progress.positive_persons)),
        ],
        error: q.error,
    })
}

/// Where a round's coverage opens: its one area inside the jurisdiction, or else the caller's
/// first area (whose sub-areas the round covers are shown).
async fn default_area(scope: &cordon_store::scoped::Scoped, round_areas: &[AreaCode]) -> Result<Option<AreaCode>, StoreError> {
    let j = &scope.principal().user.jurisdiction;
    let mut inside: Vec<AreaCode> = Vec::new();
    for r in round_areas {
        if j.contains(r) {
            inside.push(r.clone());
        } else {
            inside.extend(j.within(r).areas().iter().cloned());
        }
    }
    if let [one] = inside.as_slice() {
        return Ok(Some(one.clone()));
    }
    Ok(scope.home_areas().await?.first().and_then(|h| AreaCode::parse(&h.code).ok()))
}

/// The dashboard's data for coverage.js: cumulative share of each part's residents sampled per
/// hour against the 100 % target by the round's end; tubes by stage; lab turnaround.
fn charts(
    t: Tr,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    parts: &[(String, String, i64)],
    progress: &Progress,
    flow: &cordon_store::transport::TubeFlow,
) -> serde_json::Value {
    let hour = |d: DateTime<Utc>| d.timestamp() - d.timestamp().rem_euclid(3600);
    let last = progress.hourly.iter().flat_map(|(_, pts)| pts.last().map(|p| hour(p.0))).max().unwrap_or(hour(start));
    let first = progress.hourly.iter().flat_map(|(_, pts)| pts.first().map(|p| hour(p.0))).min().unwrap_or(hour(start)).min(hour(start));
    let until = last.max(hour(end).min(hour(Utc::now()))).max(first);
    let hours: Vec<i64> = (first..=until).step_by(3600).take(24 * 14).collect();
    let labels: Vec<String> = hours.iter().map(|h| DateTime::from_timestamp(*h, 0).map(local).unwrap_or_default()).collect();
    let series: Vec<serde_json::Value> = parts
        .iter()
        .map(|(code, name, expected)| {
            let points = progress.hourly.iter().find(|(c, _)| c == code).map(|(_, p)| p.as_slice()).unwrap_or(&[]);
            let mut sum = 0;
            let mut i = 0;
            let data: Vec<f64> = hours
                .iter()
                .map(|h| {
                    while i < points.len() && hour(points[i].0) <= *h {
                        sum += points[i].1;
                        i += 1;
                    }
                    if *expected > 0 { (sum as f64 * 1000.0 / *expected as f64).round() / 10.0 } else { 0.0 }
                })
                .collect();
            serde_json::json!({"name": name, "data": data})
        })
        .collect();
    let stages = ["open", "sealed", "departed", "received", "resulted"];
    let counts = [flow.open, flow.sealed, flow.departed, flow.received, flow.resulted];
    serde_json::json!({
        "progress": {"title": t.get("coverage.chart_progress"), "hours": labels, "series": series, "target": t.get("coverage.target")},
        "stages": {"title": t.get("coverage.chart_stages"), "names": stages.iter().map(|s| t.get(&format!("transport.stage_{s}"))).collect::<Vec<_>>(), "values": counts},
        "turnaround": {
            "title": t.get("coverage.chart_turnaround"),
            "names": flow.by_lab.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            "p50": flow.by_lab.iter().map(|(_, x)| x.p50).collect::<Vec<_>>(),
            "p90": flow.by_lab.iter().map(|(_, x)| x.p90).collect::<Vec<_>>(),
            "target": cordon_domain::testing::transport::ROUTINE_TURNAROUND_HOURS * 60,
        },
    })
}
