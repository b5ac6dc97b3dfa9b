//! The zone map (风险区域地图): an area's outlines drawn with the vendored ECharts, each area
//! coloured by the strictest zone over it; a click on a coloured area opens its zone. Beside the
//! map, the parts of the area with their zones — the same answer as a list, for a phone and for
//! areas with no outline imported.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use cordon_domain::AreaCode;
use cordon_domain::zones::{Scheme, ZoneKind};
use serde::Deserialize;

use super::kind_label;
use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::form::Query;
use crate::ui::{Places, UserBadge, failure, message, render};

pub struct Part {
    code: String,
    name: String,
    /// Whether the part has parts of its own to drill into.
    drill: bool,
    /// (zone id, kind, label) of the zone colouring it.
    zone: Option<(i64, &'static str, String)>,
    partly: bool,
}

#[derive(Template)]
#[template(path = "zone_map.html")]
struct MapPage {
    t: Tr,
    user: Option<UserBadge>,
    area: String,
    area_name: String,
    /// The area one level up, while it is still the caller's: (code, name).
    up: Option<(String, String)>,
    /// (kind, label) of each kind, strictest first.
    legend: Vec<(&'static str, String)>,
    /// What the map's script says: the kinds' labels and its own words, as JSON.
    words: String,
    shapes: i64,
    missing: Option<String>,
    parts: Vec<Part>,
    /// Whether the caller may upload outlines (the commander).
    can_import: bool,
}

#[derive(Debug, Deserialize)]
pub struct MapQuery {
    area: Option<String>,
}

pub async fn page(t: Tr, caller: Caller, Query(q): Query<MapQuery>) -> Response {
    let area = match q.area.as_deref().filter(|a| !a.is_empty()).map(AreaCode::parse).transpose() {
        Ok(a) => a,
        Err(_) => return message(t, Some(&caller), StatusCode::BAD_REQUEST, t.get("area.bad_code"), t.get("area.bad_code_detail")),
    };
    let map = match caller.0.zone_map(area.as_ref(), false).await {
        Ok(m) => m,
        Err(e) => return failure(t, &caller, e),
    };
    let up_code = map.area.parent().filter(|p| caller.0.principal().user.jurisdiction.contains(p));
    let places = match Places::of(&caller, std::iter::once(map.area.as_str()).chain(up_code.as_ref().map(|c| c.as_str()))).await {
        Ok(p) => p,
        Err(e) => return failure(t, &caller, e),
    };
    // The zones' scheme names the kinds (the bulletin's way: risk areas when none is in force).
    let scheme = map.zones.first().map_or(Scheme::RiskAreas, |(_, s)| *s);
    let schemes: std::collections::HashMap<i64, Scheme> = map.zones.iter().map(|(z, s)| (z.id, *s)).collect();
    let legend: Vec<(&'static str, String)> = ZoneKind::ALL.iter().map(|k| (k.as_str(), kind_label(t, scheme, *k))).collect();
    let mut words = serde_json::Map::new();
    for (kind, label) in &legend {
        words.insert((*kind).to_string(), label.clone().into());
    }
    for (key, text) in [
        ("none", t.get("zones.map_none")),
        ("partly", t.get("zones.map_partly")),
        ("open_zone", t.get("zones.map_open_zone")),
        ("failed", t.get("zones.map_failed")),
    ] {
        words.insert(key.to_string(), text.into());
    }
    let parts = map
        .parts
        .into_iter()
        .map(|(a, cover)| Part {
            drill: a.level().is_some_and(|l| l.child().is_some()),
            zone: cover.map(|c| (c.zone_id, c.kind.as_str(), kind_label(t, schemes.get(&c.zone_id).copied().unwrap_or(scheme), c.kind))),
            partly: cover.is_some_and(|c| c.partly),
            code: a.code,
            name: a.name,
        })
        .collect();
    let missing = (map.without_boundary > 0).then(|| t.fill("zones.map_missing", &[("n", &map.without_boundary.to_string())]));
    render(&MapPage {
        t,
        user: UserBadge::of(&caller),
        area_name: places.name(map.area.as_str()),
        up: up_code.map(|c| (c.to_string(), places.name(c.as_str()))),
        area: map.area.to_string(),
        legend,
        words: serde_json::Value::Object(words).to_string(),
        shapes: map.with_boundary,
        missing,
        parts,
        can_import: caller.0.principal().can(cordon_domain::access::Permission::CommandWrite),
    })
}
