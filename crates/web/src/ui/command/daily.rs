//! The daily report (日报): the day's figures for an area and each area below it, each figure
//! opening the records it counts; signed by the commander (frozen as version 1, corrected with a
//! reason as the next version, the differences shown); printable and exported as xlsx.

use askama::Template;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use cordon_domain::AreaCode;
use cordon_domain::access::Permission;
use cordon_domain::report::{Field, Takes, figure};
use cordon_store::daily::ReportRow;
use cordon_store::scoped::{DailyReport, ReportAsk};
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::percent;
use crate::i18n::Tr;
use crate::ui::form::{Form, Query, checked};
use crate::ui::{UserBadge, failure, form_refused, render};

/// The report asked for, as the page's form and links carry it (empty means the default).
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    date: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    cutoff: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    after: String,
    /// The report a figure's records were opened from (its area), to go back to.
    #[serde(default)]
    report: String,
    notice: Option<String>,
}

impl ReportQuery {
    /// The ask, or what in it does not read.
    fn ask(&self, t: Tr) -> Result<ReportAsk, String> {
        let area = match self.area.trim() {
            "" => None,
            a => Some(AreaCode::parse(a).map_err(|_| t.fill("daily.bad_area", &[("area", a)]))?),
        };
        let day = match self.date.trim() {
            "" => None,
            d => Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| t.fill("daily.bad_date", &[("date", d)]))?),
        };
        let cutoff = match self.cutoff.trim() {
            "" => None,
            c => Some(c.parse::<u32>().ok().filter(|h| (1..=24).contains(h)).ok_or_else(|| t.fill("daily.bad_cutoff", &[("hour", c)]))?),
        };
        Ok(ReportAsk { area, day, cutoff })
    }
}

/// The query string of a report's own links.
fn query_of(r: &DailyReport, area: &str) -> String {
    format!("date={}&area={area}&cutoff={}", r.day, r.cutoff)
}

/// One line of the table: a figure across the areas.
pub struct Line {
    field: &'static str,
    label: String,
    /// A figure taken at the cut-off or when computed, said beside its label.
    takes: Option<String>,
    /// (figure, link to its records, the column's area) per column.
    cells: Vec<(i64, String, String)>,
}

/// The report's sections as the page shows them.
pub struct Section {
    title: String,
    lines: Vec<Line>,
}

/// A signed version as the page lists it.
pub struct VersionLine {
    version: i32,
    signed: String,
    by: String,
    reason: String,
    /// (area, figure, before, after)
    changes: Vec<(String, String, i64, i64)>,
}

#[derive(Template)]
#[template(path = "daily.html")]
struct DailyPage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    title: String,
    /// Said under the title: the window and whether signed or live.
    standing: String,
    signed: bool,
    date: String,
    area: String,
    cutoff: u32,
    /// (code, name, chosen)
    areas: Vec<(String, String, bool)>,
    columns: Vec<String>,
    sections: Vec<Section>,
    /// Where the records now differ from the signed version: (area, figure, signed, now).
    live_changes: Vec<(String, String, i64, i64)>,
    versions: Vec<VersionLine>,
    can_sign: bool,
    closed: bool,
    /// A first signature, or a correction.
    first: bool,
    xlsx: String,
    hours: Vec<u32>,
    /// Today's report to the last hour passed, when another day or cut-off is shown: (label, href).
    today: Option<(String, String)>,
}

fn field_label(t: Tr, f: Field) -> String {
    t.get(&format!("daily.field.{}", f.as_str())).to_string()
}

fn area_name(rows: &[ReportRow], code: &str) -> String {
    rows.iter().find(|r| r.area_code == code).map_or_else(|| code.to_string(), |r| r.name.clone())
}

fn changes(t: Tr, rows: &[ReportRow], d: &[cordon_domain::report::Difference]) -> Vec<(String, String, i64, i64)> {
    d.iter().map(|d| (area_name(rows, &d.area_code), field_label(t, d.field), d.before, d.after)).collect()
}

/// The report's title: 清徐县新冠肺炎疫情日报（2022-04-13）.
fn title_of(t: Tr, r: &DailyReport) -> String {
    t.fill("daily.heading", &[("area", &r.rows.first().map(|r| r.name.clone()).unwrap_or_default()), ("date", &r.day.to_string())])
}

pub(super) async fn page(t: Tr, caller: Caller, Query(q): Query<ReportQuery>) -> Response {
    let ask = match q.ask(t) {
        Ok(a) => a,
        Err(msg) => return form_refused(t, Some(&caller), &msg),
    };
    let loaded = async {
        let r = caller.0.daily_report(&ask).await?;
        let code = AreaCode::parse(&r.area_code).ok();
        let versions = caller.0.daily_versions(code.as_ref(), r.day).await?;
        let mut areas = Vec::new();
        for home in caller.0.home_areas().await? {
            let children = match AreaCode::parse(&home.code) {
                Ok(c) if c.level().child().is_some() => caller.0.area_children(&c).await?,
                _ => Vec::new(),
            };
            areas.push((home.code, home.name));
            areas.extend(children.into_iter().map(|c| (c.code, format!("　{}", c.name))));
        }
        Ok::<_, cordon_store::StoreError>((r, versions, areas))
    };
    let (r, versions, areas) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let columns: Vec<String> = r.rows.iter().map(|row| row.name.clone()).collect();
    let sections = Field::sections()
        .iter()
        .map(|(key, fields)| Section {
            title: t.get(&format!("daily.section.{key}")).to_string(),
            lines: fields
                .iter()
                .map(|f| Line {
                    field: f.as_str(),
                    label: field_label(t, *f),
                    takes: match f.takes() {
                        Takes::Day => None,
                        Takes::AtCutoff => Some(t.get("daily.at_cutoff").to_string()),
                        Takes::Now => Some(t.get(if r.status == "signed" { "daily.at_signing" } else { "daily.now" }).to_string()),
                    },
                    cells: r
                        .rows
                        .iter()
                        .map(|row| {
                            let href = format!(
                                "/reports/daily/records?{}&field={}&report={}",
                                query_of(&r, &row.area_code),
                                f.as_str(),
                                r.area_code
                            );
                            (figure(&row.figures, *f), href, row.name.clone())
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let window = t.fill(
        "daily.window",
        &[("from", &cordon_domain::local_minute(r.window.start)), ("to", &cordon_domain::local_minute(r.window.end))],
    );
    let standing = match (r.version, &r.signed_at, &r.signed_by) {
        (Some(v), Some(at), Some(by)) => {
            format!(
                "{window} · {}",
                t.fill("daily.signed", &[("version", &v.to_string()), ("by", by), ("at", &cordon_domain::local_minute(*at))])
            )
        }
        _ => format!("{window} · {}", t.get("daily.live")),
    };
    let version_lines = versions
        .iter()
        .rev()
        .map(|v| VersionLine {
            version: v.version,
            signed: cordon_domain::local_minute(v.signed_at),
            by: v.signed_by_name.clone(),
            reason: v.reason.clone().unwrap_or_default(),
            changes: changes(t, &v.rows, &v.differences),
        })
        .collect();
    let p = caller.0.principal();
    render(&DailyPage {
        t,
        user: UserBadge::of(&caller),
        notice: q.notice,
        title: title_of(t, &r),
        standing,
        signed: r.status == "signed",
        date: r.day.to_string(),
        area: r.area_code.clone(),
        cutoff: r.cutoff,
        areas: areas.into_iter().map(|(c, n)| (c.clone(), n, c == r.area_code)).collect(),
        columns,
        sections,
        live_changes: changes(t, &r.rows, &r.live_differences),
        versions: version_lines,
        can_sign: p.can(Permission::CommandWrite) && !cordon_domain::access::read_only(&p.permissions),
        closed: r.closed,
        first: r.versions == 0,
        xlsx: format!("/reports/daily.xlsx?{}", query_of(&r, &r.area_code)),
        hours: (1..=24).collect(),
        today: today_so_far(t, &r, chrono::Utc::now()),
    })
}

/// A link to today's report to the last whole hour passed (a headquarters' report of the day so
/// far, signed at a cut-off such as 15:00), unless that is what is shown.
fn today_so_far(t: Tr, r: &DailyReport, now: chrono::DateTime<chrono::Utc>) -> Option<(String, String)> {
    let hour = cordon_domain::report::passed_cutoff_today(now)?;
    let today = cordon_domain::local_date(now);
    if r.day == today && r.cutoff <= hour {
        return None;
    }
    let href = format!("/reports/daily?date={today}&area={}&cutoff={hour}", r.area_code);
    Some((t.fill("daily.today_so_far", &[("hour", &hour.to_string())]), href))
}

#[derive(Debug, Deserialize)]
pub struct SignForm {
    date: String,
    area: String,
    cutoff: String,
    #[serde(default)]
    reason: String,
    #[serde(default, deserialize_with = "checked")]
    confirm: bool,
}

pub(super) async fn sign(t: Tr, caller: Caller, Form(f): Form<SignForm>) -> Response {
    let q = ReportQuery { date: f.date, area: f.area, cutoff: f.cutoff, ..Default::default() };
    let ask = match q.ask(t) {
        Ok(a) => a,
        Err(msg) => return form_refused(t, Some(&caller), &msg),
    };
    if !f.confirm {
        return form_refused(t, Some(&caller), t.get("daily.confirm_needed"));
    }
    match caller.0.sign_daily(&ask, &f.reason).await {
        Ok(v) => {
            let said = t.fill("daily.signed_now", &[("version", &v.version.to_string())]);
            Redirect::to(&format!(
                "/reports/daily?date={}&area={}&cutoff={}&notice={}",
                q.date.trim(),
                q.area.trim(),
                v.cutoff,
                percent(&said)
            ))
            .into_response()
        }
        Err(e) => failure(t, &caller, e),
    }
}

#[derive(Template)]
#[template(path = "daily_records.html")]
struct RecordsPage {
    t: Tr,
    user: Option<UserBadge>,
    title: String,
    field_label: String,
    window: String,
    back: String,
    /// (label, area, time, n, link)
    rows: Vec<(String, String, String, i64, Option<String>)>,
    total: i64,
    next: Option<String>,
}

pub(super) async fn records(t: Tr, caller: Caller, Query(q): Query<ReportQuery>) -> Response {
    let ask = match q.ask(t) {
        Ok(a) => a,
        Err(msg) => return form_refused(t, Some(&caller), &msg),
    };
    let Ok(field) = q.field.parse::<Field>() else {
        return form_refused(t, Some(&caller), &t.fill("daily.bad_field", &[("field", &q.field)]));
    };
    let loaded = async {
        let (window, rows) = caller.0.daily_list(&ask, field, Some(q.after.trim()).filter(|a| !a.is_empty())).await?;
        let area = match &ask.area {
            Some(a) => a.clone(),
            None => caller
                .0
                .principal()
                .user
                .jurisdiction
                .areas()
                .first()
                .cloned()
                .ok_or_else(|| cordon_store::StoreError::from(cordon_domain::refusal!("refused.report.no_area")))?,
        };
        let codes: Vec<&str> = rows.iter().map(|r| r.area_code.as_str()).chain([area.as_str()]).collect();
        let places = crate::ui::Places::of(&caller, codes).await?;
        Ok::<_, cordon_store::StoreError>((window, rows, area, places))
    };
    let (window, rows, area, places) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let cutoff = ask.cutoff.unwrap_or(cordon_domain::report::DEFAULT_CUTOFF);
    let day = cordon_domain::local_date(window.end - chrono::Duration::hours(i64::from(cutoff)));
    let base = format!("date={day}&area={area}&cutoff={cutoff}");
    let report = Some(q.report.trim()).filter(|r| AreaCode::parse(r).is_ok()).unwrap_or(area.as_str());
    let next = (rows.len() as i64 == cordon_store::daily::LIST_PAGE)
        .then(|| rows.last().map(|r| format!("/reports/daily/records?{base}&field={}&after={}&report={report}", field.as_str(), r.key)))
        .flatten();
    render(&RecordsPage {
        t,
        user: UserBadge::of(&caller),
        title: places.name(area.as_str()),
        field_label: field_label(t, field),
        window: t.fill(
            "daily.window",
            &[("from", &cordon_domain::local_minute(window.start)), ("to", &cordon_domain::local_minute(window.end))],
        ),
        back: format!("/reports/daily?date={day}&area={report}&cutoff={cutoff}"),
        total: rows.iter().map(|r| r.n).sum(),
        rows: rows
            .into_iter()
            .map(|r| (r.label, places.name(&r.area_code), r.at.map(cordon_domain::local_minute).unwrap_or_default(), r.n, r.link))
            .collect(),
        next,
    })
}

/// The report as a workbook: one sheet, the figures in their cells (a row per figure, a column
/// per area), with the title, the window and the version above.
pub(super) async fn xlsx(t: Tr, caller: Caller, Query(q): Query<ReportQuery>) -> Response {
    let ask = match q.ask(t) {
        Ok(a) => a,
        Err(msg) => return form_refused(t, Some(&caller), &msg),
    };
    let r = match caller.0.daily_report(&ask).await {
        Ok(r) => r,
        Err(e) => return failure(t, &caller, e),
    };
    match workbook(t, &r) {
        Ok(bytes) => {
            let name = format!("daily-{}-{}.xlsx", r.area_code, r.day);
            (
                [
                    (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!("daily report workbook: {e}");
            form_refused(t, Some(&caller), t.get("error.failed_detail"))
        }
    }
}

fn workbook(t: Tr, r: &DailyReport) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(t.get("daily.sheet"))?;
    let bold = Format::new().set_bold();
    sheet.write_string_with_format(0, 0, title_of(t, r), &bold)?;
    let window = t.fill(
        "daily.window",
        &[("from", &cordon_domain::local_minute(r.window.start)), ("to", &cordon_domain::local_minute(r.window.end))],
    );
    let standing = match (r.version, &r.signed_by) {
        (Some(v), Some(by)) => t.fill(
            "daily.signed",
            &[("version", &v.to_string()), ("by", by), ("at", &r.signed_at.map(cordon_domain::local_minute).unwrap_or_default())],
        ),
        _ => t.get("daily.live").to_string(),
    };
    sheet.write_string(1, 0, format!("{window} · {standing}"))?;
    sheet.write_string_with_format(3, 0, t.get("daily.figure"), &bold)?;
    for (i, row) in r.rows.iter().enumerate() {
        sheet.write_string_with_format(3, (i + 1) as u16, &row.name, &bold)?;
    }
    let mut at = 4u32;
    for (key, fields) in Field::sections() {
        sheet.write_string_with_format(at, 0, t.get(&format!("daily.section.{key}")), &bold)?;
        at += 1;
        for f in fields {
            sheet.write_string(at, 0, field_label(t, *f))?;
            for (i, row) in r.rows.iter().enumerate() {
                sheet.write_number(at, (i + 1) as u16, figure(&row.figures, *f) as f64)?;
            }
            at += 1;
        }
    }
    sheet.set_column_width(0, 36)?;
    book.save_to_buffer()
}
