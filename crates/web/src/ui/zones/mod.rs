//! Zones (风险区域): the list of zones over the jurisdiction with the form to draw one, and each
//! zone's page with its countdown, the people inside and the commander's acts on it.

use axum::Router;
use axum::routing::{get, post};
use cordon_domain::zones::{Countdown, Scheme, ZoneKind};
use cordon_store::StoreError;
use cordon_store::zones::Extent;

use crate::AppState;
use crate::auth::Caller;
use crate::format::month_day;
use crate::i18n::Tr;

mod bulletin;
mod list;
mod map;
mod zone;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/zones", get(list::page))
        .route("/zones/draw", post(list::designate))
        .route("/zones/bulletin", get(bulletin::page))
        .route("/zones/map", get(map::page))
        .route("/zones/{id}", get(zone::page))
        .route("/zones/{id}/extend", post(zone::extend))
        .route("/zones/{id}/act", post(zone::act))
}

/// A kind as the zone's scheme names it.
pub(crate) fn kind_label(t: Tr, scheme: Scheme, kind: ZoneKind) -> String {
    let key = match scheme {
        Scheme::Zones2021 => format!("zones.kind_2021.{}", kind.as_str()),
        Scheme::RiskAreas => format!("zones.kind_risk.{}", kind.as_str()),
    };
    t.get(&key).to_string()
}

/// What a zone's countdown says in one line: ready, the earliest day, or waiting on the county.
pub(crate) fn countdown_line(t: Tr, scheme: Scheme, c: &Countdown) -> String {
    let to = c.to.map(|k| kind_label(t, scheme, k));
    match (c.ready, to, c.earliest) {
        (true, Some(to), _) => t.fill("zones.ready_down", &[("to", &to)]),
        (true, None, _) => t.get("zones.ready_lift").to_string(),
        (false, Some(to), Some(day)) => t.fill("zones.earliest_down", &[("day", &month_day(day)), ("to", &to)]),
        (false, None, Some(day)) => t.fill("zones.earliest_lift", &[("day", &month_day(day))]),
        (false, _, None) => t.get("zones.waiting").to_string(),
    }
}

/// An area typed into a form: its code, or a name that matches exactly one area of the
/// jurisdiction (a name found nowhere, or twice, is refused with the name).
pub(crate) async fn place(caller: &Caller, token: &str) -> Result<cordon_domain::AreaCode, StoreError> {
    let token = token.trim();
    if token.bytes().all(|b| b.is_ascii_digit()) {
        return cordon_domain::AreaCode::parse(token)
            .map_err(|_| cordon_domain::refusal!("refused.area_code_invalid", code = token).into());
    }
    let mut found = caller.0.areas_named(token).await?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(cordon_domain::refusal!("refused.zone.unknown_place", name = token).into()),
        n => Err(cordon_domain::refusal!("refused.zone.ambiguous_place", name = token, n = n).into()),
    }
}

/// Places typed into a form: area codes or names (东关村), household ids, case numbers (清徐-1),
/// each list split at commas, 、 or spaces. A name that matches no area of the jurisdiction, or
/// several, is refused with the name.
pub(crate) async fn typed_extent(caller: &Caller, areas: &str, households: &str, cases: &str) -> Result<Extent, StoreError> {
    let split = |s: &str| -> Vec<String> {
        s.split([',', '，', '、', ';', '；', ' ', '\n', '\r', '\t']).map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect()
    };
    let mut extent = Extent::default();
    for token in split(areas) {
        extent.areas.push(place(caller, &token).await?);
    }
    for token in split(households) {
        let id = token.parse::<i64>().map_err(|_| StoreError::from(cordon_domain::refusal!("refused.zone.bad_household", text = token)))?;
        extent.households.push(id);
    }
    let numbers = split(cases);
    if !numbers.is_empty() {
        let incidents = caller.0.incidents().await?;
        'number: for number in numbers {
            for incident in &incidents {
                if let Some(case) = caller.0.case_by_number(incident.id, &number).await? {
                    extent.case_ids.push(case.id);
                    continue 'number;
                }
            }
            return Err(StoreError::from(cordon_domain::refusal!("refused.zone.unknown_case", number = number)));
        }
    }
    Ok(extent)
}
