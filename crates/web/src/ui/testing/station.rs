//! The sampling station: the collector's page for scanning people into tubes, offline-safe.

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use cordon_domain::access::Permission;
use serde::Deserialize;

use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::{UserBadge, failure, message, render};

#[derive(Template)]
#[template(path = "station.html")]
struct StationPage {
    t: Tr,
    user: Option<UserBadge>,
    round_id: i64,
    site_id: i64,
    round_name: String,
    site_name: String,
    /// The messages the station script shows, in the page's language.
    text_json: String,
    /// Villages a resident met on the spot can be registered in (the site's own first).
    villages: Vec<(String, String)>,
}

#[derive(Deserialize)]
pub struct StationQuery {
    round: i64,
    site: i64,
}

pub async fn station(t: Tr, caller: Caller, Query(q): Query<StationQuery>) -> Response {
    let scope = &caller.0;
    if let Err(e) = scope.require(Permission::TestingWrite) {
        return failure(t, &caller, e);
    }
    let round = match scope.round(q.round).await {
        Ok(Some(r)) => r,
        Ok(None) => return message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("rounds.none"), t.get("rounds.none")),
        Err(e) => return failure(t, &caller, e),
    };
    let site = match scope.sites(round.id).await {
        Ok(sites) => match sites.into_iter().find(|s| s.id == q.site) {
            Some(s) => s,
            None => return message(t, Some(&caller), StatusCode::NOT_FOUND, t.get("rounds.none"), t.get("rounds.none")),
        },
        Err(e) => return failure(t, &caller, e),
    };
    let villages = match station_villages(scope, &site.area_code).await {
        Ok(v) => v,
        Err(e) => return failure(t, &caller, e),
    };
    let keys = [
        "opened",
        "scanned",
        "full",
        "closed",
        "failed",
        "offline",
        "pending",
        "no_tube",
        "sealed",
        "household",
        "unknown",
        "registered",
        "retest",
    ];
    // And one message per refusal kind, so that refusals read in the page's language.
    let refusals = [
        "tube_full",
        "already_in_tube",
        "already_sampled",
        "other_household",
        "not_recalled",
        "barcode_used",
        "unknown_tube",
        "sealed",
        "empty",
        "busy",
        "site_not_in_round",
        "unknown_person",
    ];
    let text: serde_json::Map<String, serde_json::Value> = keys
        .iter()
        .map(|k| k.to_string())
        .chain(refusals.iter().map(|k| format!("refusal.{k}")))
        .map(|k| {
            let v = serde_json::Value::from(t.get(&format!("station.{k}")));
            (k, v)
        })
        .collect();
    render(&StationPage {
        t,
        user: UserBadge::of(&caller),
        round_id: round.id,
        site_id: site.id,
        round_name: round.name,
        site_name: site.name,
        text_json: serde_json::Value::Object(text).to_string(),
        villages,
    })
}

/// The villages near a site where a person met there may live: the site's own area first, then
/// the other villages of its township inside the jurisdiction.
async fn station_villages(scope: &cordon_store::scoped::Scoped, site_area: &str) -> cordon_store::Result<Vec<(String, String)>> {
    let Ok(code) = cordon_domain::AreaCode::parse(site_area) else { return Ok(vec![]) };
    let township = if code.level() == cordon_domain::AreaLevel::Village { code.parent().unwrap_or(code.clone()) } else { code.clone() };
    let mut out = Vec::new();
    if let Some(own) = scope.area(&code).await? {
        out.push((own.code, own.name));
    }
    if let Ok(subtree) = scope.area_subtree(&township).await {
        for a in subtree {
            if a.level() == Some(cordon_domain::AreaLevel::Village) && a.code != site_area {
                out.push((a.code, a.name));
            }
        }
    }
    Ok(out)
}
