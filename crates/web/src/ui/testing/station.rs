//! The sampling station: the collector's page for scanning people into tubes, offline-safe.

use crate::ui::form::Query;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use cordon_domain::access::Permission;
use serde::Deserialize;

use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::{UserBadge, failure, message, page_texts, render};

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
    // The page's messages, and one per refusal kind, so that refusals read in the page's language.
    let text = page_texts(
        t,
        &[
            ("opened", "station.opened"),
            ("reopened", "station.reopened"),
            ("scanned", "station.scanned"),
            ("full", "station.full"),
            ("closed", "station.closed"),
            ("failed", "station.failed"),
            ("offline", "station.offline"),
            ("pending", "station.pending"),
            ("no_tube", "station.no_tube"),
            ("sealed", "station.sealed"),
            ("household", "station.household"),
            ("unknown", "station.unknown"),
            ("registered", "station.registered"),
            ("retest", "station.retest"),
            ("refused.tube_full", "refused.tube_full"),
            ("refused.already_in_tube", "refused.already_in_tube"),
            ("refused.already_sampled", "refused.already_sampled"),
            ("refused.other_household", "refused.other_household"),
            ("refused.not_recalled", "refused.not_recalled"),
            ("refused.barcode_used", "refused.barcode_used"),
            ("refused.unknown_tube", "refused.unknown_tube"),
            ("refused.sealed", "refused.sealed"),
            ("refused.empty", "refused.empty"),
            ("refused.busy", "refused.busy"),
            ("refused.site_not_in_round", "refused.site_not_in_round"),
            ("refused.unknown_person", "refused.unknown_person"),
            ("refused.unknown_resident", "refused.unknown_resident"),
            ("refused.barcode_length", "refused.barcode_length"),
            ("refused.barcode_characters", "refused.barcode_characters"),
            ("refused.id.length", "refused.id.length"),
            ("refused.id.characters", "refused.id.characters"),
            ("refused.id.area_prefix", "refused.id.area_prefix"),
            ("refused.id.birth_date", "refused.id.birth_date"),
            ("refused.id.check_digit", "refused.id.check_digit"),
            ("refused.name.empty", "refused.name.empty"),
            ("refused.name.too_long", "refused.name.too_long"),
            ("refused.name.bad_character", "refused.name.bad_character"),
            ("refused.phone", "refused.phone"),
            ("no_id", "station.no_id"),
        ],
    );
    render(&StationPage {
        t,
        user: UserBadge::of(&caller),
        round_id: round.id,
        site_id: site.id,
        round_name: round.name,
        site_name: site.name,
        text_json: text,
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
    // A township reaching outside the caller's jurisdiction offers only the site's own village;
    // any other failure is the page's.
    let subtree = match scope.area_subtree(&township).await {
        Ok(subtree) => subtree,
        Err(cordon_store::StoreError::Forbidden(_)) => vec![],
        Err(e) => return Err(e),
    };
    for a in subtree {
        if a.level() == Some(cordon_domain::AreaLevel::Village) && a.code != site_area {
            out.push((a.code, a.name));
        }
    }
    Ok(out)
}
