//! Clusters in the jurisdiction, largest first.

use askama::Template;
use axum::response::Response;
use chrono::NaiveDate;
use cordon_store::cases::ClusterFilter;

use crate::auth::Caller;
use crate::format::{date, today};
use crate::i18n::Tr;
use crate::ui::{UserBadge, failure, render};

pub struct ClusterRow {
    pub id: i64,
    pub label: String,
    pub index_case: String,
    pub index_case_id: i64,
    pub size: i64,
    pub generations: i32,
    pub first: String,
    pub last: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "clusters.html")]
struct ClustersPage {
    t: Tr,
    user: Option<UserBadge>,
    rows: Vec<ClusterRow>,
}

/// The source's label, or "the cluster of <index case>".
pub(super) fn cluster_name(t: &Tr, c: &cordon_store::cases::Cluster) -> String {
    c.label.clone().unwrap_or_else(|| t.fill("cluster.of_index", &[("case", c.index_case.as_deref().unwrap_or("?"))]))
}

pub(super) fn cluster_row(t: &Tr, c: &cordon_store::cases::Cluster, today: NaiveDate) -> ClusterRow {
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

/// Clusters in the jurisdiction, largest first.
pub async fn clusters(t: Tr, caller: Caller) -> Response {
    let list = match caller.0.clusters(&ClusterFilter::default()).await {
        Ok(l) => l,
        Err(e) => return failure(t, &caller, e),
    };
    let today = today();
    let rows = list.into_iter().map(|c| cluster_row(&t, &c, today)).collect();
    render(&ClustersPage { t, user: UserBadge::of(&caller), rows })
}
