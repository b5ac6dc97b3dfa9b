//! Investigation pages: the investigators' desk (positives to make cases of, the queue with its
//! clocks, taking a task), a case with its investigation, and clusters with their chains.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, RawForm};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;
use cordon_domain::tracing::case::{CaseClass, CasePlace, HowFound, Origin, PlaceKind};
use cordon_domain::tracing::exposure::{Degree, ExposureKind, Lookback};
use cordon_domain::tracing::investigation::{Clock, Part};
use cordon_store::StoreError;
use cordon_store::cases::{Case, ClusterFilter, NewCase};
use cordon_store::checkins::Candidate;
use cordon_store::exposures::NewExposure;
use cordon_store::investigations::Investigation;
use cordon_store::workplaces::Colleague;
use serde::Deserialize;

use super::testing::{local, span};
use super::{UserBadge, failure, message, render};
use crate::auth::Caller;
use crate::i18n::Tr;

/// A clock as a page shows it: the text, and the deadline for the ticking script.
pub(super) struct ClockCell {
    pub(super) text: String,
    /// `running`, `overdue` or `done`.
    pub(super) state: &'static str,
    pub(super) due_ms: i64,
}

pub(super) fn clock_cell(t: &Tr, due: chrono::DateTime<Utc>, c: Clock) -> ClockCell {
    let (text, state) = match c {
        Clock::Running { minutes_left } => (t.fill("tracing.left", &[("time", &span(minutes_left))]), "running"),
        Clock::Overdue { minutes_over } => (t.fill("tracing.over", &[("time", &span(minutes_over))]), "overdue"),
        Clock::Done { late: false } => (t.get("tracing.done").to_string(), "done"),
        Clock::Done { late: true } => (t.get("tracing.done_late").to_string(), "done"),
    };
    ClockCell { text, state, due_ms: due.timestamp_millis() }
}

pub struct QueueRow {
    id: i64,
    case_id: i64,
    case_number: String,
    person: String,
    classification: String,
    area_code: String,
    opened: String,
    core: ClockCell,
    report: ClockCell,
    phone: Option<String>,
    site: Option<String>,
    overdue: bool,
}

fn queue_row(t: &Tr, i: Investigation) -> QueueRow {
    let now = Utc::now();
    QueueRow {
        overdue: i.overdue(now),
        core: clock_cell(t, i.core_due_at, i.core_clock(now)),
        report: clock_cell(t, i.report_due_at, i.report_clock(now)),
        phone: i.holder(Part::Phone).map(|a| a.display_name.clone()),
        site: i.holder(Part::Site).map(|a| a.display_name.clone()),
        id: i.id,
        case_id: i.case_id,
        case_number: i.case_number,
        person: i.person_name.unwrap_or_default(),
        classification: t.get(&format!("case.class.{}", i.classification)).to_string(),
        area_code: i.area_code,
        opened: local(i.opened_at),
    }
}

pub struct PositiveRow {
    id: i64,
    person_id: i64,
    name: String,
    area_code: String,
    barcode: String,
    found: String,
}

#[derive(Template)]
#[template(path = "tracing.html")]
struct DeskPage {
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    notice: Option<String>,
    positives: Vec<PositiveRow>,
    queue: Vec<QueueRow>,
    overdue: usize,
    overdue_text: String,
    how_found: Vec<(&'static str, String)>,
    classes: Vec<(&'static str, String)>,
    default_area: String,
}

#[derive(Deserialize)]
pub struct DeskQuery {
    made: Option<String>,
    taken: Option<String>,
}

/// The investigators' desk.
pub async fn desk(t: Tr, caller: Caller, Query(q): Query<DeskQuery>) -> Response {
    let scope = &caller.0;
    let loaded = async { Ok::<_, StoreError>((scope.positives(true).await?, scope.investigation_queue().await?)) };
    let (positives, queue) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let notice = match (q.made, q.taken) {
        (Some(n), _) => Some(t.fill("tracing.made", &[("number", &n)])),
        (_, Some(n)) => Some(t.fill("tracing.taken", &[("number", &n)])),
        _ => None,
    };
    let queue: Vec<QueueRow> = queue.into_iter().map(|i| queue_row(&t, i)).collect();
    let page = DeskPage {
        t,
        user: UserBadge::of(&caller),
        can_write: scope.principal().can(Permission::TracingWrite),
        notice,
        overdue: queue.iter().filter(|r| r.overdue).count(),
        overdue_text: t.fill("tracing.overdue_count", &[("n", &queue.iter().filter(|r| r.overdue).count().to_string())]),
        positives: positives
            .into_iter()
            .map(|p| PositiveRow {
                id: p.id,
                person_id: p.person_id,
                name: p.name,
                area_code: p.area_code,
                barcode: p.barcode,
                found: local(p.found_at),
            })
            .collect(),
        queue,
        how_found: HowFound::ALL.iter().map(|h| (h.as_str(), t.get(&format!("case.found.{}", h.as_str())).to_string())).collect(),
        classes: CaseClass::ALL.iter().map(|c| (c.as_str(), t.get(&format!("case.class.{}", c.as_str())).to_string())).collect(),
        default_area: scope.principal().user.jurisdiction.areas().first().map(|a| a.to_string()).unwrap_or_default(),
    };
    render(&page)
}

/// 一键转病例: a positive made a case; its investigation opens.
pub async fn case_from_positive(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    match caller.0.case_from_positive(id, CaseClass::Asymptomatic, None).await {
        Ok(case) => Redirect::to(&format!("/tracing?made={}", urlencode(&case.external_id))).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct NewCaseForm {
    area_code: String,
    how_found: String,
    classification: String,
    onset: Option<String>,
    number: Option<String>,
}

/// A case recorded by hand (fever clinic, found in quarantine, imported).
pub async fn create_case(t: Tr, caller: Caller, Form(f): Form<NewCaseForm>) -> Response {
    let bad = |key: &str| message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("error.failed"), t.get(key));
    let Ok(area_code) = AreaCode::parse(f.area_code.trim()) else { return bad("area.bad_code_detail") };
    let onset = match f.onset.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => return bad("case.bad_date"),
        },
    };
    let how_found = HowFound::from_text(&f.how_found).unwrap_or(HowFound::Other);
    let new = NewCase {
        external_id: f.number.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        person_id: None,
        positive_id: None,
        area_code,
        classification: CaseClass::from_text(&f.classification).unwrap_or(CaseClass::Confirmed),
        severity: None,
        origin: if how_found == HowFound::Imported { Origin::Imported } else { Origin::Local },
        how_found,
        onset_date: onset,
        sample_date: None,
        report_date: Some(cordon_domain::local_date(Utc::now())),
        place: CasePlace::Home,
        label: None,
        infectors: vec![],
    };
    match caller.0.create_case(new).await {
        Ok(case) => Redirect::to(&format!("/cases/{}", case.id)).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct TakeForm {
    part: String,
    back: Option<String>,
}

/// 接单: the caller takes the phone interview or the site visit.
pub async fn take(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<TakeForm>) -> Response {
    let part = Part::from_text(&f.part).unwrap_or(Part::Phone);
    match caller.0.take_investigation(id, part).await {
        Ok(inv) if f.back.as_deref() == Some("case") => Redirect::to(&format!("/cases/{}", inv.case_id)).into_response(),
        Ok(inv) => Redirect::to(&format!("/tracing?taken={}", urlencode(&inv.case_number))).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

pub struct CandidateRow {
    person_id: i64,
    name: String,
    area_code: String,
    overlap: String,
    venues: String,
    from: String,
}

/// Venue candidates first (longest overlap first), then co-workers on a roster who shared no
/// venue; a venue candidate on the roster too has their workplace named beside the venues.
fn candidate_rows(t: &Tr, venue: Vec<Candidate>, roster: Vec<Colleague>) -> Vec<CandidateRow> {
    let workplace = |c: &Colleague| {
        let team = if c.unit.is_empty() { String::new() } else { format!(" {}", c.unit) };
        t.fill("contacts.on_roster", &[("workplace", &format!("{}{team}", c.workplace))])
    };
    let mut rows: Vec<CandidateRow> = venue
        .into_iter()
        .map(|c| {
            let mut venues = c.venues.join("、");
            if let Some(w) = roster.iter().find(|r| r.person_id == c.person_id) {
                venues = format!("{venues}；{}", workplace(w));
            }
            CandidateRow {
                person_id: c.person_id,
                name: c.name,
                area_code: c.area_code,
                overlap: span(c.overlap_minutes),
                venues,
                from: local(c.first_at),
            }
        })
        .collect();
    for c in &roster {
        if rows.iter().all(|r| r.person_id != c.person_id) {
            rows.push(CandidateRow {
                person_id: c.person_id,
                name: c.name.clone(),
                area_code: c.area_code.clone(),
                overlap: "—".into(),
                venues: workplace(c),
                from: "—".into(),
            });
        }
    }
    rows
}

pub struct ContactRow {
    person_id: i64,
    name: String,
    area_code: String,
    degree: String,
    kinds: String,
    paths: usize,
    status: String,
    proposed: bool,
    handed_over: bool,
    exposure_ids: String,
}

pub struct PlaceRow {
    from: String,
    until: String,
    kind: String,
    place: String,
    detail: String,
}

fn place_rows(t: &Tr, entries: Vec<cordon_store::trajectories::TrajectoryEntry>) -> Vec<PlaceRow> {
    entries
        .into_iter()
        .map(|e| PlaceRow {
            from: local(e.from_at),
            until: e.until_at.map(local).unwrap_or_else(|| "—".into()),
            kind: t.get(&format!("place.{}", e.kind)).to_string(),
            place: e.place,
            detail: e.detail.unwrap_or_default(),
        })
        .collect()
}

fn contact_rows(t: &Tr, contacts: Vec<cordon_store::exposures::Contact>) -> Vec<ContactRow> {
    contacts
        .into_iter()
        .map(|c| ContactRow {
            proposed: c.status == "proposed",
            handed_over: c.status == "handed_over",
            degree: t.get(&format!("contacts.degree.{}", c.degree)).to_string(),
            kinds: c.kinds.iter().map(|k| t.get(&format!("contacts.kind.{k}")).to_string()).collect::<Vec<_>>().join("、"),
            status: t.get(&format!("contacts.status.{}", c.status)).to_string(),
            exposure_ids: c.exposure_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","),
            person_id: c.person_id,
            name: c.name,
            area_code: c.area_code,
            paths: c.paths,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    /// The person's name and masked document, when the case has a person record.
    person: Option<(String, String)>,
    places: Vec<PlaceRow>,
    place_kinds: Vec<(&'static str, String)>,
    candidates: Vec<CandidateRow>,
    contacts: Vec<ContactRow>,
    contact_counts: String,
    kinds: Vec<(&'static str, String)>,
    notice: Option<String>,
    held: Option<String>,
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    case: Case,
    classification: String,
    how_found: String,
    origin: String,
    place: String,
    /// The cluster's id and its "N cases, G generations".
    cluster: Option<(i64, String)>,
    infectors: Vec<(i64, String)>,
    investigation: Option<QueueRow>,
    source: Option<String>,
    reported: bool,
    core_done: bool,
}

#[derive(Deserialize)]
pub struct CaseQuery {
    done: Option<String>,
    /// After a hand-over: how many got an order, how many had one already, who was held and why.
    n: Option<usize>,
    already: Option<usize>,
    held: Option<String>,
}

/// A case with its investigation: take it, mark the core facts, file the report, add an
/// infector, confirm venue candidates and contacts, hand a batch over.
pub async fn case_page(t: Tr, caller: Caller, Path(id): Path<i64>, Query(q): Query<CaseQuery>) -> Response {
    let scope = &caller.0;
    let loaded = async {
        let Some(case) = scope.case(id).await? else { return Ok(None) };
        let inv = scope.investigation_of_case(id).await?;
        let cluster = match case.cluster_id {
            Some(c) => scope.cluster_detail(c).await.ok().flatten(),
            None => None,
        };
        let candidates = if case.person_id.is_some() {
            (scope.venue_candidates(id, &Lookback::default()).await?, scope.roster_candidates(id).await?)
        } else {
            (vec![], vec![])
        };
        let contacts = scope.contacts(id).await?;
        let places = scope.trajectory(id).await?;
        let person = match case.person_id {
            Some(p) => scope.person(p).await?.map(|p| (p.name, p.document.masked())),
            None => None,
        };
        Ok::<_, StoreError>(Some((case, inv, cluster, candidates, contacts, places, person)))
    };
    let (case, inv, cluster, candidates, contacts, places, person) = match loaded.await {
        Ok(Some(x)) => x,
        Ok(None) => return message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("case.none"), t.get("case.none")),
        Err(e) => return failure(t, &caller, e),
    };
    let infectors = cluster
        .as_ref()
        .map(|d| {
            let numbers: std::collections::HashMap<i64, &str> = d.cases.iter().map(|c| (c.id, c.external_id.as_str())).collect();
            d.links.iter().filter(|(_, b)| *b == case.id).map(|(a, _)| (*a, numbers.get(a).copied().unwrap_or("?").to_string())).collect()
        })
        .unwrap_or_default();
    let count = |d: &str| contacts.iter().filter(|c| c.degree == d).count();
    let (close, secondary) = (count("close"), count("secondary"));
    let other = contacts.len() - close - secondary;
    let contact_counts =
        t.fill("contacts.counts", &[("close", &close.to_string()), ("secondary", &secondary.to_string()), ("other", &other.to_string())]);
    let page = CasePage {
        person,
        places: place_rows(&t, places),
        place_kinds: PlaceKind::ALL.iter().map(|k| (k.as_str(), t.get(&format!("place.{}", k.as_str())).to_string())).collect(),
        candidates: candidate_rows(&t, candidates.0, candidates.1),
        contacts: contact_rows(&t, contacts),
        contact_counts,
        kinds: ExposureKind::ALL.iter().map(|k| (k.as_str(), t.get(&format!("contacts.kind.{}", k.as_str())).to_string())).collect(),
        notice: q.done.as_deref().map(|d| match (d, q.n) {
            ("handed_over", Some(n)) => {
                t.fill("contacts.done.handed_over_n", &[("n", &n.to_string()), ("already", &q.already.unwrap_or(0).to_string())])
            }
            _ => t.get(&format!("contacts.done.{d}")).to_string(),
        }),
        held: q.held.filter(|h| !h.is_empty()),
        can_write: scope.principal().can(Permission::TracingWrite),
        classification: t.get(&format!("case.class.{}", case.classification)).to_string(),
        how_found: t.get(&format!("case.found.{}", case.how_found)).to_string(),
        origin: t.get(&format!("case.origin.{}", case.origin)).to_string(),
        place: t.get(&format!("case.place.{}", case.place)).to_string(),
        cluster: cluster.as_ref().map(|d| {
            let (size, gens) = (d.cluster.size.to_string(), d.cluster.generations.to_string());
            (d.cluster.id, t.fill("case.cluster_of", &[("size", &size), ("generations", &gens)]))
        }),
        infectors,
        source: inv.as_ref().and_then(|i| i.source_hypothesis.clone()),
        reported: inv.as_ref().is_some_and(|i| i.report_done_at.is_some()),
        core_done: inv.as_ref().is_some_and(|i| i.core_done_at.is_some()),
        investigation: inv.map(|i| queue_row(&t, i)),
        user: UserBadge::of(&caller),
        case,
        t,
    };
    render(&page)
}

#[derive(Deserialize)]
pub struct ProgressForm {
    step: String,
    source: Option<String>,
}

/// Core facts gathered, or the preliminary report filed.
pub async fn progress(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<ProgressForm>) -> Response {
    let scope = &caller.0;
    let inv = match scope.investigation_of_case(id).await {
        Ok(Some(i)) => i,
        Ok(None) => return message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("case.none"), t.get("case.none")),
        Err(e) => return failure(t, &caller, e),
    };
    let done = match f.step.as_str() {
        "core_done" => scope.core_done(inv.id).await,
        _ => scope.file_report(inv.id, f.source.as_deref().unwrap_or("")).await,
    };
    match done {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) if e.is_refusal() => message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("error.failed"), t.get("case.need_source")),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct InfectorForm {
    number: String,
}

/// Links an infector by case number.
pub async fn add_infector(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<InfectorForm>) -> Response {
    let scope = &caller.0;
    let linked = async {
        let case = scope.case(id).await?.ok_or_else(|| StoreError::Invalid(t.fill("case.missing", &[("id", &id.to_string())])))?;
        let infector = scope
            .case_by_number(case.incident_id, f.number.trim())
            .await?
            .ok_or_else(|| StoreError::Invalid(t.fill("case.no_number", &[("number", f.number.trim())])))?;
        scope.link_cases(infector.id, id).await
    };
    match linked.await {
        Ok(()) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

pub struct ClusterRow {
    id: i64,
    label: String,
    index_case: String,
    index_case_id: i64,
    size: i64,
    generations: i32,
    first: String,
    last: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "clusters.html")]
struct ClustersPage {
    t: Tr,
    user: Option<UserBadge>,
    rows: Vec<ClusterRow>,
}

/// The source's label, or "the cluster of <index case>".
fn cluster_name(t: &Tr, c: &cordon_store::cases::Cluster) -> String {
    c.label.clone().unwrap_or_else(|| t.fill("cluster.of_index", &[("case", c.index_case.as_deref().unwrap_or("?"))]))
}

fn cluster_row(t: &Tr, c: &cordon_store::cases::Cluster, today: NaiveDate) -> ClusterRow {
    ClusterRow {
        active: c.active_on(today),
        id: c.id,
        label: cluster_name(t, c),
        index_case: c.index_case.clone().unwrap_or_default(),
        index_case_id: c.index_case_id.unwrap_or_default(),
        size: c.size,
        generations: c.generations,
        first: date(c.first_date),
        last: date(c.last_date),
    }
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
}

/// Clusters in the jurisdiction, largest first.
pub async fn clusters(t: Tr, caller: Caller) -> Response {
    let list = match caller.0.clusters(&ClusterFilter::default()).await {
        Ok(l) => l,
        Err(e) => return failure(t, &caller, e),
    };
    let today = cordon_domain::local_date(Utc::now());
    let rows = list.into_iter().map(|c| cluster_row(&t, &c, today)).collect();
    render(&ClustersPage { t, user: UserBadge::of(&caller), rows })
}

#[derive(Template)]
#[template(path = "cluster.html")]
struct ClusterPage {
    t: Tr,
    user: Option<UserBadge>,
    row: ClusterRow,
    /// Per generation: the case numbers with their ids.
    generations: Vec<(i32, Vec<(i64, String)>)>,
    chart_json: String,
    /// People reached who are not cases.
    contacts: usize,
}

/// One cluster: its chain drawn as a graph, and its cases by generation.
pub async fn cluster(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    let d = match caller.0.cluster_detail(id).await {
        Ok(Some(d)) => d,
        Ok(None) => return message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("cluster.none"), t.get("cluster.none")),
        Err(e) => return failure(t, &caller, e),
    };
    let today = cordon_domain::local_date(Utc::now());
    // Cases coloured by classification, contacts by degree; proposed contacts drawn faint.
    let mut categories: Vec<String> = CaseClass::ALL.iter().map(|c| t.get(&format!("case.class.{}", c.as_str())).to_string()).collect();
    categories.extend(Degree::ALL.iter().map(|d| t.get(&format!("contacts.degree.{}", d.as_str())).to_string()));
    let mut nodes: Vec<serde_json::Value> = d
        .cases
        .iter()
        .map(|c| {
            let cat = CaseClass::ALL.iter().position(|k| k.as_str() == c.classification).unwrap_or(0);
            serde_json::json!({"id": format!("c{}", c.id), "name": c.external_id, "category": cat, "generation": c.generation,
                               "index": Some(c.id) == d.cluster.index_case_id, "column": c.generation * 4})
        })
        .collect();
    let mut links: Vec<serde_json::Value> =
        d.links.iter().map(|(a, b)| serde_json::json!({"source": format!("c{a}"), "target": format!("c{b}")})).collect();
    let case_of_person: std::collections::HashMap<i64, &cordon_store::cases::Case> =
        d.cases.iter().filter_map(|c| c.person_id.map(|p| (p, c))).collect();
    let generation_of: std::collections::HashMap<i64, i32> = d.cases.iter().map(|c| (c.id, c.generation)).collect();
    for c in &d.contacts {
        let degree = Degree::ALL.iter().position(|k| k.as_str() == c.degree).unwrap_or(0);
        let g = generation_of.get(&c.case_id).copied().unwrap_or(0);
        let column = g * 4 + if c.degree == "secondary" { 2 } else { 1 };
        nodes.push(serde_json::json!({"id": format!("p{}", c.person_id), "name": t.get(&format!("contacts.degree.{}", c.degree)),
                                      "category": CaseClass::ALL.len() + degree, "generation": g, "column": column,
                                      "contact": true, "proposed": c.status == "proposed"}));
        let source = match case_of_person.get(&c.source_person_id) {
            Some(case) => format!("c{}", case.id),
            None => format!("p{}", c.source_person_id),
        };
        links.push(serde_json::json!({"source": source, "target": format!("p{}", c.person_id), "contact": true}));
    }
    let chart_json = serde_json::json!({"categories": categories, "nodes": nodes, "links": links}).to_string();
    let mut generations: Vec<(i32, Vec<(i64, String)>)> = Vec::new();
    for c in &d.cases {
        match generations.last_mut() {
            Some((g, list)) if *g == c.generation => list.push((c.id, c.external_id.clone())),
            _ => generations.push((c.generation, vec![(c.id, c.external_id.clone())])),
        }
    }
    let row = cluster_row(&t, &d.cluster, today);
    let contacts = d.contacts.len();
    render(&ClusterPage { t, user: UserBadge::of(&caller), row, generations, chart_json, contacts })
}

/// The `key=value` pairs of a form body whose values are plain ASCII (ids, codes).
pub(super) fn pairs(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body).split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub(super) fn ids(pairs: &[(String, String)], key: &str) -> Vec<i64> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| v.split("%2C").flat_map(|x| x.split(',')).map(str::to_string).collect::<Vec<_>>())
        .filter_map(|v| v.parse().ok())
        .collect()
}

pub(super) fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Venue candidates ticked on the case page: confirmed as close contacts or place-exposed,
/// or dismissed.
pub async fn decide_candidates(t: Tr, caller: Caller, Path(id): Path<i64>, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let chosen = ids(&form, "person");
    let scope = &caller.0;
    let done = async {
        let found = scope.venue_candidates(id, &Lookback::default()).await?;
        let degree = if value(&form, "as") == Some("place_exposed") { Degree::PlaceExposed } else { Degree::Close };
        let mut new: Vec<NewExposure> = found
            .iter()
            .filter(|c| chosen.contains(&c.person_id))
            .map(|c| NewExposure {
                contact_person_id: c.person_id,
                kind: ExposureKind::Venue,
                degree: Some(degree),
                first_at: Some(c.first_at),
                last_at: Some(c.last_until),
                note: Some(c.venues.join("、")),
            })
            .collect();
        // Co-workers who shared no venue: worked with the case; the last exposure is taken as
        // now until the investigator learns the last shift they shared.
        let now = Utc::now();
        for c in scope.roster_candidates(id).await? {
            if chosen.contains(&c.person_id) && new.iter().all(|n| n.contact_person_id != c.person_id) {
                new.push(NewExposure {
                    contact_person_id: c.person_id,
                    kind: ExposureKind::Work,
                    degree: Some(degree),
                    first_at: None,
                    last_at: Some(now),
                    note: Some(format!("{} {}", c.workplace, c.unit).trim().to_string()),
                });
            }
        }
        match value(&form, "as") {
            Some("dismiss") => scope.dismiss_candidates(id, &new).await.map(|_| "dismissed"),
            _ => scope.record_exposures(id, &new).await.map(|_| "recorded"),
        }
    };
    match done.await {
        Ok(what) => Redirect::to(&format!("/cases/{id}?done={what}#contacts")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct ContactForm {
    id_number: String,
    kind: String,
}

/// A contact named by the case (household, colleague, fellow diner…), by resident id.
pub async fn add_contact(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<ContactForm>) -> Response {
    let scope = &caller.0;
    let done = async {
        let number = f.id_number.trim().to_ascii_uppercase();
        let person = scope
            .person_id_by_document(&number)
            .await?
            .ok_or_else(|| StoreError::Invalid(t.fill("contacts.unknown_person", &[("id", &number)])))?;
        let kind = ExposureKind::from_text(&f.kind).unwrap_or(ExposureKind::Other);
        let now = Utc::now();
        scope
            .record_exposures(
                id,
                &[NewExposure { contact_person_id: person, kind, degree: None, first_at: None, last_at: Some(now), note: None }],
            )
            .await
    };
    match done.await {
        Ok(_) => Redirect::to(&format!("/cases/{id}?done=recorded#contacts")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

/// Proposed secondary contacts confirmed or dismissed, or a batch handed over.
pub async fn contacts_action(t: Tr, caller: Caller, Path(id): Path<i64>, RawForm(body): RawForm) -> Response {
    let form = pairs(&body);
    let scope = &caller.0;
    if value(&form, "action") == Some("handover") {
        // How many went, and who was held and why, said on the case page.
        return match scope.hand_over(id, &ids(&form, "person")).await {
            Ok(h) => {
                let zh = t.zh();
                let held: Vec<&str> = h.refused.iter().map(|(_, r)| r.text(zh)).collect();
                let mut to = format!("/cases/{id}?done=handed_over&n={}&already={}", h.ordered.len(), h.already.len());
                if !held.is_empty() {
                    to.push_str(&format!("&held={}", super::transport::utf8_percent(&held.join("；"))));
                }
                Redirect::to(&format!("{to}#contacts")).into_response()
            }
            Err(e) => failure(t, &caller, e),
        };
    }
    let done = match value(&form, "action") {
        Some("dismiss") => scope.decide_exposures(id, &ids(&form, "exposures"), false).await.map(|_| "dismissed"),
        _ => scope.decide_exposures(id, &ids(&form, "exposures"), true).await.map(|_| "confirmed"),
    };
    match done {
        Ok(what) => Redirect::to(&format!("/cases/{id}?done={what}#contacts")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Deserialize)]
pub struct PlaceForm {
    from: String,
    until: Option<String>,
    kind: String,
    place: String,
    detail: Option<String>,
}

/// `2022-04-12T08:30` from a datetime-local input, read in the local calendar.
fn local_input(s: &str) -> Option<chrono::DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M").ok().map(cordon_domain::from_local)
}

/// A place the case was, entered by hand.
pub async fn add_place(t: Tr, caller: Caller, Path(id): Path<i64>, Form(f): Form<PlaceForm>) -> Response {
    let Some(from_at) = local_input(&f.from) else {
        return message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("error.failed"), t.get("place.bad_time"));
    };
    let until_at = match f.until.as_deref().filter(|u| !u.trim().is_empty()) {
        None => None,
        Some(u) => match local_input(u) {
            Some(u) => Some(u),
            None => return message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("error.failed"), t.get("place.bad_time")),
        },
    };
    let entry = cordon_store::trajectories::NewEntry {
        from_at,
        until_at,
        kind: PlaceKind::from_text(&f.kind).unwrap_or(PlaceKind::Other),
        place: f.place,
        detail: f.detail.filter(|d| !d.trim().is_empty()),
    };
    match caller.0.add_trajectory(id, &[entry]).await {
        Ok(()) => Redirect::to(&format!("/cases/{id}#trajectory")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

/// The case's own place-code scans copied into its trajectory.
pub async fn places_from_checkins(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    match caller.0.trajectory_from_checkins(id).await {
        Ok(_) => Redirect::to(&format!("/cases/{id}#trajectory")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    t: Tr,
    user: Option<UserBadge>,
    case: Case,
    person: Option<(String, String, String)>,
    classification: String,
    how_found: String,
    place: String,
    places: Vec<PlaceRow>,
    counts: Vec<(String, usize)>,
    contacts: Vec<ContactRow>,
    source: String,
    investigators: String,
    core: String,
    report: String,
    printed: String,
}

/// The preliminary investigation report (初步流调报告): one printable page per case.
pub async fn report(t: Tr, caller: Caller, Path(id): Path<i64>) -> Response {
    let scope = &caller.0;
    let loaded = async {
        let Some(case) = scope.case(id).await? else { return Ok(None) };
        let person = match case.person_id {
            Some(p) => scope.person(p).await?,
            None => None,
        };
        let inv = scope.investigation_of_case(id).await?;
        let places = scope.trajectory(id).await?;
        let contacts = scope.contacts(id).await?;
        scope.record_report_view(&case).await?;
        Ok::<_, StoreError>(Some((case, person, inv, places, contacts)))
    };
    let (case, person, inv, places, contacts) = match loaded.await {
        Ok(Some(x)) => x,
        Ok(None) => return message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("case.none"), t.get("case.none")),
        Err(e) => return failure(t, &caller, e),
    };
    let counts = Degree::ALL
        .iter()
        .map(|d| {
            (t.get(&format!("contacts.degree.{}", d.as_str())).to_string(), contacts.iter().filter(|c| c.degree == d.as_str()).count())
        })
        .collect();
    let now = Utc::now();
    let row = inv.as_ref().map(|i| queue_row(&t, i.clone()));
    let page = ReportPage {
        person: person.map(|p| (p.name, p.document.masked(), p.address.unwrap_or_default())),
        classification: t.get(&format!("case.class.{}", case.classification)).to_string(),
        how_found: t.get(&format!("case.found.{}", case.how_found)).to_string(),
        place: t.get(&format!("case.place.{}", case.place)).to_string(),
        places: place_rows(&t, places),
        counts,
        contacts: contact_rows(&t, contacts),
        source: inv.as_ref().and_then(|i| i.source_hypothesis.clone()).unwrap_or_else(|| t.get("report.no_source").to_string()),
        investigators: inv
            .as_ref()
            .map(|i| i.assignments.iter().map(|a| a.display_name.clone()).collect::<Vec<_>>().join("、"))
            .unwrap_or_default(),
        core: row.as_ref().map(|r| r.core.text.clone()).unwrap_or_default(),
        report: row.as_ref().map(|r| r.report.text.clone()).unwrap_or_default(),
        printed: local(now),
        user: UserBadge::of(&caller),
        case,
        t,
    };
    render(&page)
}

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
                open: a.status == "open",
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
