//! The risk-area bulletin (中高风险地区名单): every zone in force over the jurisdiction, by kind,
//! with its place and the day it took its kind, as headquarters published it — printable.

use askama::Template;
use axum::response::Response;
use chrono::Utc;
use cordon_domain::zones::{Scheme, ZoneKind};

use super::kind_label;
use crate::auth::Caller;
use crate::format::{local, month_day};
use crate::i18n::Tr;
use crate::ui::{Places, UserBadge, failure, render};

pub struct Group {
    kind: &'static str,
    label: String,
    /// (place, name, since)
    zones: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "bulletin.html")]
struct BulletinPage {
    t: Tr,
    user: Option<UserBadge>,
    title: String,
    summary: String,
    groups: Vec<Group>,
    /// The line that closes a risk-area bulletin: the rest of the county is low risk.
    rest: Option<String>,
}

pub async fn page(t: Tr, caller: Caller) -> Response {
    let zones = match caller.0.zones_in_force().await {
        Ok(z) => z,
        Err(e) => return failure(t, &caller, e),
    };
    let places = match Places::of(&caller, zones.iter().map(|(z, _)| z.area_code.as_str())).await {
        Ok(p) => p,
        Err(e) => return failure(t, &caller, e),
    };
    // The incident's scheme names the kinds; zones of both schemes are each named their way.
    let scheme = zones.first().map_or(Scheme::RiskAreas, |(_, s)| *s);
    let mut groups = Vec::new();
    for kind in ZoneKind::ALL {
        // Under the risk-area scheme the bulletin names high and medium; the rest is low risk.
        if scheme == Scheme::RiskAreas && *kind == ZoneKind::Precaution {
            continue;
        }
        let mut rows: Vec<(String, String, String, String)> = zones
            .iter()
            .filter(|(z, _)| z.kind == *kind)
            .map(|(z, _)| (z.area_code.clone(), places.name(&z.area_code), z.name.clone(), month_day(z.since)))
            .collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort();
        groups.push(Group {
            kind: kind.as_str(),
            label: kind_label(t, scheme, *kind),
            zones: rows.into_iter().map(|(_, place, name, since)| (place, name, since)).collect(),
        });
    }
    let counts: Vec<String> =
        groups.iter().map(|g| t.fill("zones.bulletin_count", &[("kind", &g.label), ("n", &g.zones.len().to_string())])).collect();
    let as_of = local(Utc::now());
    let summary = if counts.is_empty() {
        t.fill("zones.bulletin_none", &[("at", &as_of)])
    } else {
        t.fill("zones.bulletin_summary", &[("at", &as_of), ("counts", &counts.join(if t.zh() { "、" } else { ", " }))])
    };
    let title = match scheme {
        Scheme::RiskAreas => t.get("zones.bulletin_risk").to_string(),
        Scheme::Zones2021 => t.get("zones.bulletin_2021").to_string(),
    };
    let rest = (scheme == Scheme::RiskAreas && !groups.is_empty()).then(|| t.get("zones.bulletin_rest").to_string());
    render(&BulletinPage { t, user: UserBadge::of(&caller), title, summary, groups, rest })
}
