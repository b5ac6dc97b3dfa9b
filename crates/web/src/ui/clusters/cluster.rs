//! One cluster: its chain drawn as a graph, and its cases by generation.

use crate::ui::form::Path;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use cordon_domain::cases::case::CaseClass;
use cordon_domain::cases::exposure::{Degree, ExposureStatus};

use super::list::{ClusterRow, cluster_row};
use crate::auth::Caller;
use crate::format::today;
use crate::i18n::Tr;
use crate::ui::{UserBadge, failure, message, render};

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
    let today = today();
    // Cases coloured by classification, contacts by degree; proposed contacts drawn faint.
    let mut categories: Vec<String> = CaseClass::ALL.iter().map(|c| t.get(&format!("case.class.{}", c.as_str())).to_string()).collect();
    categories.extend(Degree::ALL.iter().map(|d| t.get(&format!("contacts.degree.{}", d.as_str())).to_string()));
    let mut nodes: Vec<serde_json::Value> = d
        .cases
        .iter()
        .map(|c| {
            let cat = CaseClass::ALL.iter().position(|k| *k == c.classification).unwrap_or(0);
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
        let degree = Degree::ALL.iter().position(|k| *k == c.degree).unwrap_or(0);
        let g = generation_of.get(&c.case_id).copied().unwrap_or(0);
        let column = g * 4 + if c.degree == Degree::Secondary { 2 } else { 1 };
        nodes.push(serde_json::json!({"id": format!("p{}", c.person_id), "name": t.get(&format!("contacts.degree.{}", c.degree)),
                                      "category": CaseClass::ALL.len() + degree, "generation": g, "column": column,
                                      "contact": true, "proposed": c.status == ExposureStatus::Proposed,
                                      "case": format!("c{}", c.case_id)}));
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
