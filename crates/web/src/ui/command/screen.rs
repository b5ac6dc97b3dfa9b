//! The headquarters' big screen (指挥大屏): 1920×1080, dark, refreshing itself every 30 seconds
//! from `/api/v1/screen` — the epidemic curve by report or onset date stacked by how cases were
//! found, Rt with its 95 % interval once 12 cases have accumulated, the growth rate and doubling
//! time, the last 24 hours' figures, the round's progress, beds, transfers on the road, zones by
//! kind and overdue clocks. Drawn with the vendored ECharts.

use std::collections::BTreeMap;

use askama::Template;
use axum::Json;
use axum::response::Response;
use chrono::Utc;
use cordon_domain::access::Permission;
use cordon_domain::clocks::ClockKind;
use cordon_domain::epi::{self, DayCases};
use cordon_domain::report::{Field, FoundGroup, figure};
use cordon_domain::screen::{CurveBy, curve, incidence};
use cordon_domain::transfer::TransferStatus;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiResult, Problem};
use crate::i18n::Tr;
use crate::ui::{failure, render};

/// The longest curve shown, in days.
const CURVE_DAYS: i64 = 60;

#[derive(Debug, Serialize, ToSchema)]
pub struct CurveView {
    /// Local days, `2022-04-13`.
    pub days: Vec<String>,
    /// Cases per day by how found: `in_quarantine`, `in_control`, `community`, `imported`.
    pub series: BTreeMap<String, Vec<u64>>,
    /// Cases without the date (by onset: asymptomatic ones).
    pub undated: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RtPoint {
    /// The last day of the 7-day window.
    pub date: String,
    pub mean: f64,
    /// The 95 % credible interval.
    pub lower: f64,
    pub upper: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrowthView {
    /// Per day, by a log-linear fit over the 7 days' local cases to yesterday.
    pub rate: f64,
    /// Days to double (growing) or halve (shrinking).
    pub doubling_days: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScreenRound {
    pub id: i64,
    pub name: String,
    pub expected: i64,
    pub sampled: i64,
    pub exempted: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScreenClock {
    #[schema(schema_with = crate::api::enums::clock_kind)]
    pub clock: String,
    pub overdue: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScreenView {
    pub area_code: String,
    pub area_name: String,
    pub generated_at: chrono::DateTime<Utc>,
    /// The same, as the local time people read (`2022-04-13 21:30`).
    pub updated: String,
    /// The daily report's figures over the last 24 hours (new cases, beds, zones, …).
    pub last_24h: BTreeMap<String, i64>,
    pub curve_by_report: CurveView,
    pub curve_by_onset: CurveView,
    /// Rt over 7-day windows to yesterday (Cori et al.; the Omicron serial interval, mean 3 d,
    /// sd 2 d), once 12 cases have accumulated.
    pub rt: Vec<RtPoint>,
    pub growth: Option<GrowthView>,
    /// The latest round's coverage of the area.
    pub round: Option<ScreenRound>,
    pub transfers_on_road: usize,
    pub transfers_late: usize,
    /// Every clock with overdue items.
    pub overdue: Vec<ScreenClock>,
}

fn curve_view(c: cordon_domain::screen::Curve) -> CurveView {
    CurveView {
        days: c.days.iter().map(|d| d.to_string()).collect(),
        series: c.series.into_iter().map(|(g, v)| (g.to_string(), v)).collect(),
        undated: c.undated,
    }
}

/// The screen as the caller sees it now.
async fn build(caller: &Caller) -> Result<ScreenView, cordon_store::StoreError> {
    let scope = &caller.0;
    let now = Utc::now();
    let today = cordon_domain::local_date(now);
    let (area, figures, rows) = scope.screen(now).await?;
    // Rt and the growth end on yesterday: today is only partly over.
    let yesterday = today.pred_opt().unwrap_or(today);
    let (days, inc) = incidence(&rows, yesterday, CURVE_DAYS);
    let rt = epi::rt_series(&inc, 7)
        .into_iter()
        .map(|(i, p)| RtPoint { date: days[i].to_string(), mean: p.mean, lower: p.quantiles[0], upper: p.quantiles[6] })
        .collect();
    let week: Vec<u64> = inc.iter().rev().take(7).rev().map(|d: &DayCases| d.local).collect();
    let growth = epi::growth(&week).map(|g| GrowthView { rate: g.rate, doubling_days: g.doubling_days });
    // The latest round over the area, if the caller sees rounds.
    let mut round = None;
    if let Ok(rounds) = scope.rounds().await
        && let Some(r) = rounds.iter().filter(|r| r.starts_at <= now).max_by_key(|r| r.starts_at)
        && let Some(c) = scope.coverage(r.id, &area).await?
    {
        round = Some(ScreenRound {
            id: r.id,
            name: r.name.clone(),
            expected: c.area.expected,
            sampled: c.area.sampled,
            exempted: c.area.exempted,
        });
    }
    let transfers = scope.dispatch_board().await.unwrap_or_default();
    let clocks = scope.clock_counts().await?;
    let overdue = ClockKind::ALL
        .iter()
        .map(|k| ScreenClock { clock: k.to_string(), overdue: clocks.iter().filter(|c| c.clock == *k).map(|c| c.overdue).sum() })
        .filter(|c| c.overdue > 0)
        .collect();
    let total = figures.first().map(|r| r.figures.clone()).unwrap_or_default();
    Ok(ScreenView {
        area_name: figures.first().map(|r| r.name.clone()).unwrap_or_default(),
        area_code: area.to_string(),
        generated_at: now,
        updated: cordon_domain::local_minute(now),
        last_24h: Field::ALL.iter().map(|f| (f.to_string(), figure(&total, *f))).collect(),
        curve_by_report: curve_view(curve(&rows, CurveBy::Report, today, CURVE_DAYS)),
        curve_by_onset: curve_view(curve(&rows, CurveBy::Onset, today, CURVE_DAYS)),
        rt,
        growth,
        round,
        transfers_on_road: transfers.iter().filter(|x| matches!(x.status, TransferStatus::Dispatched | TransferStatus::PickedUp)).count(),
        transfers_late: transfers.iter().filter(|x| x.overdue(now)).count(),
        overdue,
    })
}

/// What the headquarters' big screen shows, computed now: the last 24 hours' figures, the
/// epidemic curve by report and by onset date stacked by how found, Rt with its 95 % interval
/// (once 12 cases have accumulated), the growth rate and doubling time, the latest round's
/// progress, transfers on the road and late, overdue clocks. Requires `command.write` or
/// `reports.read`.
#[utoipa::path(get, path = "/api/v1/screen", tag = "reports",
    responses((status = 200, body = ScreenView), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::ReportsRead.as_str()))))]
pub async fn api(caller: Caller) -> ApiResult<Json<ScreenView>> {
    Ok(Json(build(&caller).await?))
}

/// The words screen.js says (`screen.<word>`).
pub(crate) const WORDS: [&str; 24] = [
    "curve",
    "by_report",
    "by_onset",
    "rt",
    "rt_none",
    "growth",
    "doubling",
    "halving",
    "growth_none",
    "round",
    "round_none",
    "beds",
    "used",
    "free",
    "zones",
    "transfers",
    "on_road",
    "late",
    "clocks",
    "clocks_none",
    "last_24h",
    "updated",
    "undated",
    "days",
];

#[derive(Template)]
#[template(path = "screen.html")]
struct ScreenPage {
    t: Tr,
    title: String,
    /// The first data and the labels, for screen.js.
    data: String,
    labels: String,
}

pub(super) async fn page(t: Tr, caller: Caller) -> Response {
    let view = match build(&caller).await {
        Ok(v) => v,
        Err(e) => return failure(t, &caller, e),
    };
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    for g in FoundGroup::ALL {
        labels.insert(format!("group.{}", g.as_str()), t.get(&format!("screen.group.{}", g.as_str())).to_string());
    }
    for f in Field::ALL {
        labels.insert(format!("field.{}", f.as_str()), t.get(&format!("daily.field.{}", f.as_str())).to_string());
    }
    for k in ClockKind::ALL {
        labels.insert(format!("clock.{}", k.as_str()), t.get(&format!("clocks.kind.{}", k.as_str())).to_string());
    }
    for k in WORDS {
        labels.insert(k.to_string(), t.get(&format!("screen.{k}")).to_string());
    }
    let title = t.fill("screen.title", &[("area", &view.area_name)]);
    let data = serde_json::to_string(&view).unwrap_or_default();
    render(&ScreenPage { t, title, data, labels: serde_json::to_string(&labels).unwrap_or_default() })
}
