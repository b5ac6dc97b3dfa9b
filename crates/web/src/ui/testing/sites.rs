//! A sampling site's page: its staggered slots (planned from the opening window and the head
//! counts of the grids or villages it serves) and the printable door-to-door list of people its
//! team samples at home. And the frequency suggestion the commander confirms into a next round.

use crate::ui::form::Path;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use cordon_domain::access::Permission;
use cordon_domain::local_offset;
use cordon_domain::person::age_on;
use cordon_domain::refusal;
use cordon_domain::testing::frequency::{AreaTestingHistory, Frequency, FrequencyRules};
use cordon_domain::testing::pooling::PoolPolicy;
use cordon_store::StoreError;
use cordon_store::sites::{AreaHistory, HomeVisit};
use cordon_store::testing::NewRound;
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::percent;
use crate::format::{local, month_day};
use crate::i18n::Tr;
use crate::ui::form::Form;
use crate::ui::{UserBadge, failure, render, said};

pub struct SlotRow {
    window: String,
    label: String,
    expected: u32,
    /// People per station per hour the slot asks of the site.
    pace: u32,
}

pub struct VisitRow {
    why: &'static str,
    recalled: bool,
    name: String,
    age: u32,
    address: String,
    phone_masked: String,
    tags: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "site.html")]
struct SitePage {
    t: Tr,
    user: Option<UserBadge>,
    round_id: i64,
    round_name: String,
    site_id: i64,
    site_name: String,
    address: String,
    stations: i32,
    can_write: bool,
    /// The opening window as `datetime-local` values (Beijing time).
    opens: String,
    hours: i64,
    slots: Vec<SlotRow>,
    visits: Vec<VisitRow>,
    error: Option<String>,
}

pub async fn page(t: Tr, caller: Caller, Path((round_id, site_id)): Path<(i64, i64)>) -> Response {
    site_view(t, &caller, round_id, site_id, None).await
}

async fn site_view(t: Tr, caller: &Caller, round_id: i64, site_id: i64, error: Option<String>) -> Response {
    let scope = &caller.0;
    let today = crate::format::today();
    let loaded = async {
        let round = scope.round(round_id).await?.ok_or_else(|| StoreError::from(refusal!("round.missing", id = round_id)))?;
        let site = scope.site(round_id, site_id).await?;
        let (slots, window) = scope.slots(round_id, site_id).await?;
        let visits =
            if scope.principal().can(Permission::PersonsRead) { scope.door_to_door(round_id, site_id, today).await? } else { vec![] };
        Ok::<_, StoreError>((round, site, slots, window, visits))
    };
    let (round, site, slots, window, visits) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, caller, e),
    };
    let (opens, closes) = window.unwrap_or((round.starts_at, round.target_end_at));
    let stations = site.stations.max(1) as u32;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = SitePage {
        t,
        user: UserBadge::of(caller),
        round_id,
        round_name: round.name,
        site_id,
        site_name: site.name,
        address: site.address,
        stations: site.stations,
        can_write: scope.principal().can(Permission::TestingWrite),
        opens: opens.with_timezone(&local_offset()).format("%Y-%m-%dT%H:%M").to_string(),
        hours: ((closes - opens).num_minutes() as f64 / 60.0).ceil().max(1.0) as i64,
        slots: slots
            .into_iter()
            .map(|s| {
                let minutes = (s.ends_at - s.starts_at).num_minutes().max(1) as u32;
                SlotRow {
                    window: format!("{} – {}", local(s.starts_at), s.ends_at.with_timezone(&local_offset()).format("%H:%M")),
                    label: s.label,
                    pace: (s.expected * 60).div_ceil(minutes * stations),
                    expected: s.expected,
                }
            })
            .collect(),
        visits: visits
            .into_iter()
            .map(|(p, why)| VisitRow {
                why: t.get(match why {
                    HomeVisit::Recalled => "site.visit_recalled",
                    HomeVisit::CannotCome => "site.visit_cannot_come",
                }),
                recalled: why == HomeVisit::Recalled,
                age: age_on(p.birth_date, today),
                address: p.address.clone().unwrap_or_default(),
                phone_masked: crate::format::masked_phone(p.phone.as_deref()),
                tags: p.tags.all(p.birth_date, today).iter().map(|v| t.get(&format!("tag.{}", v.as_str()))).collect(),
                name: p.name,
            })
            .collect(),
        error,
    };
    (status, render(&page)).into_response()
}

#[derive(Deserialize)]
pub struct SlotForm {
    /// `2022-04-13T18:00`, Beijing time.
    opens: String,
    hours: i64,
}

/// Plans the site's slots over the window given, back to the site page.
pub async fn plan_slots(t: Tr, caller: Caller, Path((round_id, site_id)): Path<(i64, i64)>, Form(f): Form<SlotForm>) -> Response {
    let opens = NaiveDateTime::parse_from_str(&f.opens, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|n| local_offset().from_local_datetime(&n).single())
        .map(|d| d.with_timezone(&Utc));
    let Some(opens) = opens else { return site_view(t, &caller, round_id, site_id, Some(t.get("site.bad_time").to_string())).await };
    if !(1..=72).contains(&f.hours) {
        return site_view(t, &caller, round_id, site_id, Some(t.get("site.bad_hours").to_string())).await;
    }
    match caller.0.plan_slots(round_id, site_id, opens, opens + Duration::hours(f.hours)).await {
        Ok(_) => Redirect::to(&format!("/testing/rounds/{round_id}/sites/{site_id}")).into_response(),
        Err(e) if e.is_refusal() => site_view(t, &caller, round_id, site_id, Some(said(t, &e))).await,
        Err(e) => failure(t, &caller, e),
    }
}

/// One row of the frequency table on the rounds page.
pub struct FrequencyRow {
    pub area_code: String,
    pub name: String,
    pub recent_positives: i64,
    pub last_positive: String,
    pub suggestion: &'static str,
    pub days: u32,
    pub next: String,
}

/// The suggested testing frequency of each of the caller's areas, from their history.
pub fn frequency_rows(t: Tr, history: Vec<AreaHistory>, now: DateTime<Utc>) -> Vec<FrequencyRow> {
    let rules = FrequencyRules::default();
    history
        .into_iter()
        .map(|h| {
            let days_since = h.last_positive_at.map(|at| (now - at).num_days().max(0) as u32);
            let f = rules.suggest(&AreaTestingHistory {
                case_in_recent_rounds: h.recent_positives > 0,
                days_since_last_case: days_since,
                is_quarantine_site: false,
                zone: h.zone,
            });
            FrequencyRow {
                area_code: h.area_code,
                name: h.name,
                recent_positives: h.recent_positives,
                last_positive: h.last_positive_at.map(local).unwrap_or_else(|| "—".into()),
                suggestion: t.get(match f {
                    Frequency::Daily => "frequency.daily",
                    Frequency::EveryOtherDay => "frequency.every_other_day",
                    Frequency::Every5Days => "frequency.every_5_days",
                }),
                days: f.interval_days(),
                next: local(next_start(now, f.interval_days())),
            }
        })
        .collect()
}

/// The next round starts at 08:00 Beijing time, `days` days from now.
fn next_start(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let day = (now.with_timezone(&local_offset()) + Duration::days(i64::from(days))).date_naive();
    let eight = day.and_hms_opt(8, 0, 0).expect("valid time");
    local_offset().from_local_datetime(&eight).single().map(|d| d.with_timezone(&Utc)).unwrap_or(now)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    area: String,
    name: String,
    days: u32,
}

/// The commander confirms a suggestion: the next round over the area, on the suggested day.
pub async fn confirm_frequency(t: Tr, caller: Caller, Form(f): Form<ConfirmForm>) -> Response {
    let planned = async {
        let area = cordon_domain::AreaCode::parse(&f.area).map_err(|_| StoreError::from(refusal!("refused.bad_area", code = f.area)))?;
        let starts_at = next_start(Utc::now(), f.days.clamp(1, 14));
        let name = t.fill("frequency.round_name", &[("area", &f.name), ("day", &month_day(cordon_domain::local_date(starts_at)))]);
        caller
            .0
            .create_round(NewRound { name, starts_at, target_end_at: None, areas: vec![(area, None)], policy: PoolPolicy::default() })
            .await
    };
    match planned.await {
        Ok(round) => Redirect::to(&format!("/testing?planned={}", percent(&round.name))).into_response(),
        Err(e) => failure(t, &caller, e),
    }
}
