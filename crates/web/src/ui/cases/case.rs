//! A case with its investigation: the core facts, the report, an infector, its venue and roster
//! candidates, its contacts.

use crate::ui::form::Path;
use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::access::Permission;
use cordon_domain::cases::case::PlaceKind;
use cordon_domain::cases::exposure::{Degree, ExposureKind, Lookback};
use cordon_domain::refusal;
use cordon_store::StoreError;
use cordon_store::cases::Case;
use cordon_store::checkins::Candidate;
use cordon_store::exposures::Standing;
use cordon_store::workplaces::Colleague;
use serde::Deserialize;

use super::rows::{ContactRow, PlaceRow, QueueRow, contact_rows, place_rows, queue_row};
use crate::auth::Caller;
use crate::format::{local, span};
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::{Places, UserBadge, failure, message, render};

pub struct CandidateRow {
    person_id: i64,
    name: String,
    area_code: String,
    place: String,
    overlap: String,
    venues: String,
    from: String,
    /// Already a case or a contact of another case, in words.
    standing: Option<String>,
    /// A case of the incident: not to be confirmed as a contact.
    is_case: bool,
}

/// Where a candidate already stands, in words: 已是病例 清徐-1, 已是 清徐-1 的密切接触者.
fn standing_text(t: &Tr, s: &Option<Standing>) -> Option<String> {
    s.as_ref().map(|s| match s {
        Standing::Case { number } => t.fill("contacts.standing.case", &[("number", number)]),
        Standing::Contact { number, degree } => {
            t.fill("contacts.standing.contact", &[("number", number), ("degree", t.get(&format!("contacts.degree.{}", degree.as_str())))])
        }
    })
}

/// Venue candidates first (longest overlap first), then co-workers on a roster who shared no
/// venue; a venue candidate on the roster too has their workplace named beside the venues.
fn candidate_rows(t: &Tr, names: &Places, venue: Vec<Candidate>, roster: Vec<Colleague>) -> Vec<CandidateRow> {
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
                standing: standing_text(t, &c.standing),
                is_case: matches!(c.standing, Some(Standing::Case { .. })),
                person_id: c.person_id,
                name: c.name,
                place: names.name(&c.area_code),
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
                standing: standing_text(t, &c.standing),
                is_case: matches!(c.standing, Some(Standing::Case { .. })),
                person_id: c.person_id,
                name: c.name.clone(),
                place: names.name(&c.area_code),
                area_code: c.area_code.clone(),
                overlap: "—".into(),
                venues: workplace(c),
                from: "—".into(),
            });
        }
    }
    rows
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
    /// Why the roster proposed the secondary contacts waiting for a decision, a line each.
    roster_proposals: Vec<String>,
    kinds: Vec<(&'static str, String)>,
    notice: Option<String>,
    /// Opened for a person recorded by hand who was a case already.
    existing: bool,
    held: Option<String>,
    /// The contact form's refusal, and the id as typed.
    contact_refused: Option<(String, String)>,
    t: Tr,
    user: Option<UserBadge>,
    can_write: bool,
    case: Case,
    /// Where the case lives, by name.
    case_place: String,
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

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    done: Option<String>,
    /// After a hand-over: how many got an order, how many had one already, who was held and why.
    n: Option<usize>,
    /// Of those, how many wait on their community's home list.
    home: Option<usize>,
    already: Option<usize>,
    held: Option<String>,
}

/// A case with its investigation: take it, mark the core facts, file the report, add an
/// infector, confirm venue candidates and contacts, hand a batch over.
pub async fn case_page(t: Tr, caller: Caller, Path(id): Path<i64>, Query(q): Query<CaseQuery>) -> Response {
    case_view(t, &caller, id, q, None).await
}

/// The case page, with the contact form's refusal and what was typed in it, if any.
pub(super) async fn case_view(t: Tr, caller: &Caller, id: i64, q: CaseQuery, contact_refused: Option<(String, String)>) -> Response {
    let scope = &caller.0;
    let loaded = async {
        let Some(case) = scope.case(id).await? else { return Ok(None) };
        let cluster = async {
            match case.cluster_id {
                Some(c) => scope.cluster_detail(c).await,
                None => Ok(None),
            }
        };
        let lookback = Lookback::default();
        let candidates = async {
            match case.person_id {
                Some(_) => tokio::try_join!(scope.venue_candidates(id, &lookback), scope.roster_candidates(id)),
                None => Ok((vec![], vec![])),
            }
        };
        let person = async {
            match case.person_id {
                Some(p) => Ok(scope.person(p).await?.map(|p| (p.name, p.document.masked()))),
                None => Ok(None),
            }
        };
        let (inv, cluster, candidates, contacts, places, person, proposals) = tokio::try_join!(
            scope.investigation_of_case(id),
            cluster,
            candidates,
            scope.contacts(id),
            scope.trajectory(id),
            person,
            scope.roster_proposals(id)
        )?;
        Ok::<_, StoreError>(Some((case, inv, cluster, candidates, contacts, places, person, proposals)))
    };
    let (case, inv, cluster, candidates, contacts, places, person, proposals) = match loaded.await {
        Ok(Some(x)) => x,
        Ok(None) => return message(t, Some(caller), StatusCode::NOT_FOUND, t.get("case.none"), t.get("case.none")),
        Err(e) => return failure(t, caller, e),
    };
    let codes = std::iter::once(case.area_code.as_str())
        .chain(candidates.0.iter().map(|c| c.area_code.as_str()))
        .chain(candidates.1.iter().map(|c| c.area_code.as_str()))
        .chain(contacts.iter().map(|c| c.area_code.as_str()));
    let names = match Places::of(caller, codes).await {
        Ok(n) => n,
        Err(e) => return failure(t, caller, e),
    };
    let infectors = cluster
        .as_ref()
        .map(|d| {
            let numbers: std::collections::HashMap<i64, &str> = d.cases.iter().map(|c| (c.id, c.external_id.as_str())).collect();
            d.links.iter().filter(|(_, b)| *b == case.id).map(|(a, _)| (*a, numbers.get(a).copied().unwrap_or("?").to_string())).collect()
        })
        .unwrap_or_default();
    let count = |d: Degree| contacts.iter().filter(|c| c.degree == d).count();
    let (close, secondary) = (count(Degree::Close), count(Degree::Secondary));
    let other = contacts.len() - close - secondary;
    let contact_counts =
        t.fill("contacts.counts", &[("close", &close.to_string()), ("secondary", &secondary.to_string()), ("other", &other.to_string())]);
    let page = CasePage {
        person,
        places: place_rows(&t, places),
        place_kinds: PlaceKind::ALL.iter().map(|k| (k.as_str(), t.get(&format!("place.{}", k.as_str())).to_string())).collect(),
        candidates: candidate_rows(&t, &names, candidates.0, candidates.1),
        contacts: contact_rows(&t, &names, contacts),
        contact_counts,
        roster_proposals: proposals
            .iter()
            .map(|p| {
                let n = p.people.to_string();
                if p.unit.is_empty() {
                    t.fill("contacts.roster_whole", &[("workplace", &p.workplace), ("n", &n)])
                } else {
                    t.fill("contacts.roster_team", &[("workplace", &p.workplace), ("unit", &p.unit), ("n", &n)])
                }
            })
            .collect(),
        kinds: ExposureKind::ALL.iter().map(|k| (k.as_str(), t.get(&format!("contacts.kind.{}", k.as_str())).to_string())).collect(),
        existing: q.done.as_deref() == Some("existing"),
        // A `done` the page does not know (a mistyped or crafted address) says nothing.
        notice: q.done.as_deref().filter(|d| *d != "existing").and_then(|d| match (d, q.n) {
            ("handed_over", Some(n)) => {
                let home = q.home.unwrap_or(0).min(n);
                Some(t.fill(
                    "contacts.done.handed_over_n",
                    &[
                        ("n", &n.to_string()),
                        ("transfer", &(n - home).to_string()),
                        ("home", &home.to_string()),
                        ("already", &q.already.unwrap_or(0).to_string()),
                    ],
                ))
            }
            _ => t.try_get(&format!("contacts.done.{d}")).map(str::to_string),
        }),
        held: q.held.filter(|h| !h.is_empty()),
        contact_refused,
        can_write: scope.principal().can(Permission::TracingWrite),
        // The same reading as the ward's: a confirmed case with its clinical type, and when it
        // was converted from an asymptomatic infection.
        classification: {
            let severity = case.severity.as_deref().and_then(|s| s.parse::<cordon_domain::cases::case::Severity>().ok());
            let (class, severity) = cordon_domain::cases::case::clinical(case.classification, severity);
            let mut text = t.get(&format!("case.class.{}", class.as_str())).to_string();
            if let Some(sv) = severity {
                text.push_str(&format!(" · {}", t.get(&format!("treatment.severity.{}", sv.as_str()))));
            }
            if let Some(at) = case.converted_at {
                text.push_str(&t.fill("case.converted_at", &[("at", &local(at))]));
            }
            text
        },
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
        investigation: inv.map(|i| queue_row(&t, &names, i)),
        user: UserBadge::of(caller),
        case_place: names.name(&case.area_code),
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
        let case = scope.case(id).await?.ok_or_else(|| StoreError::from(refusal!("case.missing", id = id)))?;
        if f.number.trim().is_empty() {
            return Err(StoreError::from(refusal!("case.infector_empty")));
        }
        let infector = scope
            .case_by_number(case.incident_id, f.number.trim())
            .await?
            .ok_or_else(|| StoreError::from(refusal!("case.no_number", number = f.number.trim())))?;
        scope.link_cases(infector.id, id).await
    };
    match linked.await {
        Ok(()) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}
