//! The scoped door to the daily report: the headquarters (`command.write` or `reports.read`)
//! reads the report of an area of its jurisdiction and the records behind each figure; the
//! commander (`command.write`) signs it.

use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;
use cordon_domain::report::{self as rules, Difference, Field, Window};
use serde::Serialize;

use super::Scoped;
use crate::daily::{ListedRow, ReportRow, Version};
use crate::{Result, StoreError};

/// A day's report as it is read: the latest signed version when there is one, else the live
/// figures — saying which — and, for a signed one, what the records say differently now.
#[derive(Debug, Clone, Serialize)]
pub struct DailyReport {
    pub area_code: String,
    pub day: NaiveDate,
    pub cutoff: u32,
    pub window: Window,
    /// `signed` or `live`.
    pub status: &'static str,
    /// The signed version shown, if any, and how many there are.
    pub version: Option<i32>,
    pub versions: usize,
    pub signed_at: Option<DateTime<Utc>>,
    pub signed_by: Option<String>,
    pub reason: Option<String>,
    /// The area's total first, then each area below it.
    pub rows: Vec<ReportRow>,
    /// Where the live figures now differ from the signed version (a correction would change).
    pub live_differences: Vec<Difference>,
    /// Whether the window has ended (a report may be signed only then).
    pub closed: bool,
}

/// Which report is asked for: the area (the caller's first when absent), the day (the latest
/// closed when absent) and the cut-off hour (the signed version's, or 24).
#[derive(Debug, Clone, Default)]
pub struct ReportAsk {
    pub area: Option<AreaCode>,
    pub day: Option<NaiveDate>,
    pub cutoff: Option<u32>,
}

impl Scoped {
    fn reads_reports(&self) -> Result<()> {
        self.require_any(&[Permission::CommandWrite, Permission::ReportsRead])
    }

    /// The area asked for, inside the jurisdiction; the caller's first area when none.
    fn report_area(&self, area: Option<&AreaCode>) -> Result<AreaCode> {
        let area = match area {
            Some(a) => a.clone(),
            None => self.principal.user.jurisdiction.areas().first().cloned().ok_or_else(|| refused!("refused.report.no_area"))?,
        };
        self.inside(&area)?;
        Ok(area)
    }

    /// The day asked for (the latest closed when absent) and its cut-off: the one asked for,
    /// else the signed versions', else 24.
    async fn report_day(&self, area: &AreaCode, ask: &ReportAsk, now: DateTime<Utc>) -> Result<(NaiveDate, u32)> {
        let day = ask.day.unwrap_or_else(|| rules::latest_closed_day(now, ask.cutoff.unwrap_or(rules::DEFAULT_CUTOFF)));
        let cutoff = match ask.cutoff {
            Some(c) => c,
            None => self.store.daily_versions(area, day).await?.last().map_or(rules::DEFAULT_CUTOFF, |v| v.cutoff as u32),
        };
        Ok((day, cutoff))
    }

    /// The day's report of an area (see [`DailyReport`]).
    pub async fn daily_report(&self, ask: &ReportAsk) -> Result<DailyReport> {
        self.reads_reports()?;
        let area = self.report_area(ask.area.as_ref())?;
        let now = Utc::now();
        let (day, cutoff) = self.report_day(&area, ask, now).await?;
        let versions = self.store.daily_versions(&area, day).await?;
        // A signed report is read at its own cut-off; another cut-off reads the records live.
        let signed = versions.last().filter(|v| v.cutoff as u32 == cutoff);
        let window = rules::window(day, cutoff)?;
        let live = self.store.daily_figures(&area, &window).await?;
        let pairs = |rows: &[ReportRow]| -> Vec<(String, rules::Figures)> {
            rows.iter().map(|r| (r.area_code.clone(), r.figures.clone())).collect()
        };
        let report = match signed {
            Some(v) => DailyReport {
                area_code: area.to_string(),
                day,
                cutoff,
                window,
                status: "signed",
                version: Some(v.version),
                versions: versions.len(),
                signed_at: Some(v.signed_at),
                signed_by: Some(v.signed_by_name.clone()),
                reason: v.reason.clone(),
                live_differences: rules::differences(&pairs(&v.rows), &pairs(&live)),
                rows: v.rows.clone(),
                closed: window.end <= now,
            },
            None => DailyReport {
                area_code: area.to_string(),
                day,
                cutoff,
                window,
                status: "live",
                version: None,
                versions: versions.len(),
                signed_at: None,
                signed_by: None,
                reason: None,
                rows: live,
                live_differences: Vec::new(),
                closed: window.end <= now,
            },
        };
        Ok(report)
    }

    /// The records `field` counts in the report asked for, by key after `after`.
    pub async fn daily_list(&self, ask: &ReportAsk, field: Field, after: Option<&str>) -> Result<(Window, Vec<ListedRow>)> {
        self.reads_reports()?;
        if matches!(crate::daily::listed_of(field), crate::daily::Listed::Case | crate::daily::Listed::Person) {
            self.require(Permission::PersonsRead)?;
        }
        let area = self.report_area(ask.area.as_ref())?;
        let (day, cutoff) = self.report_day(&area, ask, Utc::now()).await?;
        let window = rules::window(day, cutoff)?;
        Ok((window, self.store.daily_list(&area, &window, field, after).await?))
    }

    /// The signed versions of the day's report, each with what changed from the one before.
    pub async fn daily_versions(&self, area: Option<&AreaCode>, day: NaiveDate) -> Result<Vec<Version>> {
        self.reads_reports()?;
        let area = self.report_area(area)?;
        self.store.daily_versions(&area, day).await
    }

    /// Signs the day's report as the records now say (`command.write`): version 1, or with a
    /// reason the next.
    pub async fn sign_daily(&self, ask: &ReportAsk, reason: &str) -> Result<Version> {
        self.require(Permission::CommandWrite)?;
        if cordon_domain::access::read_only(&self.principal.permissions) {
            return Err(StoreError::from(cordon_domain::refusal!("refused.user.read_only", name = self.principal.user.display_name)));
        }
        let area = self.report_area(ask.area.as_ref())?;
        let now = Utc::now();
        let (day, cutoff) = self.report_day(&area, ask, now).await?;
        self.store.sign_daily(&self.actor, &area, day, cutoff, reason, now).await
    }

    /// What the big screen shows of the caller's first area: the report's figures over the last
    /// 24 hours to `now`, and one row per case for the curve and Rt.
    pub async fn screen(&self, now: DateTime<Utc>) -> Result<(AreaCode, Vec<ReportRow>, Vec<cordon_domain::screen::CaseRow>)> {
        self.reads_reports()?;
        let area = self.report_area(None)?;
        let window = Window { day: cordon_domain::local_date(now), start: now - chrono::Duration::hours(24), end: now };
        let figures = self.store.daily_figures(&area, &window).await?;
        let rows = self.store.case_rows(&area).await?;
        Ok((area, figures, rows))
    }
}
