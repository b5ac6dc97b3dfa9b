//! The daily report (日报): each figure counted from the records over the day's window, for an
//! area and per area below it (townships of a county), in one read per table; the records a figure
//! counts listed by the same condition; and the signed versions, frozen as signed.
//!
//! A figure is a condition over its table's rows (and a weight: one per row, or a count the row
//! keeps). The report sums the conditions grouped by the area below; the list of a figure reads
//! the rows meeting the same condition, so a figure and its list cannot disagree.

use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::AreaCode;
use cordon_domain::report::{self as rules, Difference, Field, Figures, Window};
use serde::Serialize;

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Param, Result, Store, StoreError, bind_all, in_areas, with_read_pool, with_write_pool};

/// How the rows a figure lists are shown, and where each leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Listed {
    Case,
    Person,
    Tube,
    Area,
    Site,
    Zone,
}

/// One table's figures.
struct Source {
    /// `FROM …` (no `WHERE`): what the figures read.
    from: &'static str,
    /// What the list joins besides, for its labels.
    join: &'static str,
    /// A condition every figure of the table implies (the window's rows), put first so that an
    /// index on time serves; empty when none does.
    narrow: &'static str,
    /// The id of the page a listed row opens (a case's, a person's), when not its key.
    link: &'static str,
    /// The column giving a row's area.
    area: &'static str,
    /// The listed row: its key (unique, ordered), its label and its time or note.
    key: &'static str,
    label: &'static str,
    at: &'static str,
    listed: Listed,
    /// Rows listed grouped by key (counts kept per hour, beds per room) rather than one by one.
    grouped: bool,
    /// Each figure: its condition (`{start}` and `{end}` stand for the window) and weight.
    fields: &'static [(Field, &'static str, &'static str)],
}

/// A case reported within the day: on its report date when it has one (a case entered late keeps
/// its day), else recorded within the window.
const IN_DAY: &str =
    "(CASE WHEN c.report_date IS NOT NULL THEN c.report_date = {day} ELSE c.created_at >= {start} AND c.created_at < {end} END)";

/// A case reported by the day's end.
const BY_END: &str = "(CASE WHEN c.report_date IS NOT NULL THEN c.report_date <= {day} ELSE c.created_at < {end} END)";

/// A case recorded as asymptomatic (converted since, or not).
const BORN_ASYMPTOMATIC: &str = "(c.classification = 'asymptomatic' OR c.converted_at IS NOT NULL)";

/// A confirmed case became confirmed within the day: converted within the window, or reported
/// confirmed within the day.
const CONFIRMED_IN_DAY: &str =
    "(CASE WHEN c.converted_at IS NOT NULL THEN c.converted_at >= {start} AND c.converted_at < {end} ELSE {in_day} END)";

/// A confirmed case was confirmed by the window's end.
const CONFIRMED_BY_END: &str = "(CASE WHEN c.converted_at IS NOT NULL THEN c.converted_at < {end} ELSE {by_end} END)";

/// A case's hospital stay ended (discharged or died) before the window's end: `e` is the case's
/// earliest end ([`CASES`]).
const ENDED: &str = "(e.ended_at IS NOT NULL AND e.ended_at < {end})";

/// Cases with the earliest end of their stays (a discharge or a death), read once per report
/// rather than once per case and figure.
const CASES: &str = "cases c LEFT JOIN (SELECT case_id, MIN(CASE WHEN discharged_at IS NULL THEN died_at \
     WHEN died_at IS NULL OR discharged_at < died_at THEN discharged_at ELSE died_at END) AS ended_at \
     FROM hospital_stays WHERE discharged_at IS NOT NULL OR died_at IS NOT NULL GROUP BY case_id) e ON e.case_id = c.id";

fn sources() -> Vec<Source> {
    vec![
        Source {
            from: CASES,
            join: "",
            narrow: "",
            link: "c.id",
            area: "c.area_code",
            key: "c.id",
            label: "c.external_id",
            at: "c.created_at",
            listed: Listed::Case,
            grouped: false,
            fields: &[
                (Field::NewConfirmedLocal, "c.classification = 'confirmed' AND c.origin = 'local' AND {confirmed_in_day}", "1"),
                (Field::NewConfirmedImported, "c.classification = 'confirmed' AND c.origin = 'imported' AND {confirmed_in_day}", "1"),
                (Field::NewAsymptomaticLocal, "{born_asymptomatic} AND c.origin = 'local' AND {in_day}", "1"),
                (Field::NewAsymptomaticImported, "{born_asymptomatic} AND c.origin = 'imported' AND {in_day}", "1"),
                (
                    Field::NewLocalInQuarantine,
                    "c.classification IN ('confirmed', 'asymptomatic') AND c.origin = 'local' AND c.how_found = 'in_quarantine' AND {in_day}",
                    "1",
                ),
                (
                    Field::NewLocalInControl,
                    "c.classification IN ('confirmed', 'asymptomatic') AND c.origin = 'local' AND c.how_found = 'in_control_area' AND {in_day}",
                    "1",
                ),
                (
                    Field::NewLocalCommunity,
                    "c.classification IN ('confirmed', 'asymptomatic') AND c.origin = 'local' \
                     AND c.how_found NOT IN ('in_quarantine', 'in_control_area') AND {in_day}",
                    "1",
                ),
                (Field::Converted, "c.converted_at >= {start} AND c.converted_at < {end}", "1"),
                (Field::CurrentConfirmed, "c.classification = 'confirmed' AND {confirmed_by_end} AND NOT {ended}", "1"),
                (Field::CumulativeConfirmed, "c.classification = 'confirmed' AND {confirmed_by_end}", "1"),
                (
                    Field::CurrentAsymptomatic,
                    "{born_asymptomatic} AND {by_end} AND (c.converted_at IS NULL OR c.converted_at >= {end}) AND NOT {ended}",
                    "1",
                ),
                (Field::CumulativeAsymptomatic, "{born_asymptomatic} AND {by_end}", "1"),
            ],
        },
        Source {
            from: "hospital_stays s",
            join: "JOIN cases c ON c.id = s.case_id",
            narrow: "",
            link: "s.case_id",
            area: "s.area_code",
            key: "s.id",
            label: "c.external_id",
            at: "COALESCE(s.died_at, s.discharged_at, s.admitted_at)",
            listed: Listed::Case,
            grouped: false,
            fields: &[
                (Field::Discharged, "s.discharged_at >= {start} AND s.discharged_at < {end}", "1"),
                (Field::Deaths, "s.died_at >= {start} AND s.died_at < {end}", "1"),
                (Field::SevereNow, "s.status = 'admitted' AND s.severity IN ('severe', 'critical')", "1"),
            ],
        },
        Source {
            from: "observation_orders o",
            join: "JOIN persons p ON p.id = o.person_id",
            narrow: "",
            link: "o.person_id",
            area: "o.area_code",
            key: "o.id",
            label: "p.name",
            at: "COALESCE(o.released_at, o.created_at)",
            listed: Listed::Person,
            grouped: false,
            fields: &[
                (Field::CloseTraced, "o.category = 'close_contact' AND o.created_at < {end}", "1"),
                (Field::SecondaryTraced, "o.category = 'secondary_contact' AND o.created_at < {end}", "1"),
                (
                    Field::CloseObserved,
                    "o.category = 'close_contact' AND o.created_at < {end} AND ((o.released_at IS NULL AND o.status NOT IN ('released', 'case')) OR o.released_at >= {end})",
                    "1",
                ),
                (
                    Field::SecondaryObserved,
                    "o.category = 'secondary_contact' AND o.created_at < {end} AND ((o.released_at IS NULL AND o.status NOT IN ('released', 'case')) OR o.released_at >= {end})",
                    "1",
                ),
                (Field::ReleasedToday, "o.released_at >= {start} AND o.released_at < {end}", "1"),
            ],
        },
        Source {
            from: "round_hour_counts k",
            join: "LEFT JOIN areas a ON a.code = k.area_code",
            narrow: "k.hour >= {start} AND k.hour < {end}",
            link: "k.area_code",
            area: "k.area_code",
            key: "k.area_code",
            label: "COALESCE(a.name, k.area_code)",
            at: "MIN(k.hour)",
            listed: Listed::Area,
            grouped: true,
            fields: &[(Field::TestedPeople, "k.hour >= {start} AND k.hour < {end}", "k.sampled")],
        },
        Source {
            from: "tubes t",
            join: "",
            narrow: "t.opened_at >= {start} AND t.opened_at < {end}",
            link: "t.id",
            area: "t.area_code",
            key: "t.id",
            label: "t.barcode",
            at: "t.opened_at",
            listed: Listed::Tube,
            grouped: false,
            fields: &[(Field::TestedTubes, "t.opened_at >= {start} AND t.opened_at < {end}", "1")],
        },
        Source {
            from: "rooms r JOIN quarantine_sites q ON q.id = r.site_id",
            join: "",
            narrow: "",
            link: "q.id",
            area: "q.area_code",
            key: "q.id",
            label: "q.name",
            at: "MIN(q.created_at)",
            listed: Listed::Site,
            grouped: true,
            fields: &[
                (Field::BedsUsed, "r.occupants > 0", "r.occupants"),
                (Field::BedsFree, "r.status IN ('free', 'occupied') AND r.beds > r.occupants", "r.beds - r.occupants"),
            ],
        },
        Source {
            from: "zones z",
            join: "",
            narrow: "",
            link: "z.id",
            area: "z.area_code",
            key: "z.id",
            label: "z.name",
            at: "z.designated_at",
            listed: Listed::Zone,
            grouped: false,
            fields: &[
                (
                    Field::ZonesSealed,
                    "z.kind = 'sealed' AND z.designated_at < {end} AND (z.lifted_at IS NULL OR z.lifted_at >= {end})",
                    "1",
                ),
                (
                    Field::ZonesControlled,
                    "z.kind = 'controlled' AND z.designated_at < {end} AND (z.lifted_at IS NULL OR z.lifted_at >= {end})",
                    "1",
                ),
                (
                    Field::ZonesPrecaution,
                    "z.kind = 'precaution' AND z.designated_at < {end} AND (z.lifted_at IS NULL OR z.lifted_at >= {end})",
                    "1",
                ),
            ],
        },
    ]
}

/// `sql` with the window's placeholders numbered after `params` (and their values added when
/// the text asks for them; a query binds only what it names).
fn with_window(sql: &str, window: &Window, params: &mut Vec<Param>) -> String {
    let mut sql = sql
        .replace("{confirmed_in_day}", CONFIRMED_IN_DAY)
        .replace("{confirmed_by_end}", CONFIRMED_BY_END)
        .replace("{born_asymptomatic}", BORN_ASYMPTOMATIC)
        .replace("{in_day}", IN_DAY)
        .replace("{by_end}", BY_END)
        .replace("{ended}", ENDED);
    let values = [("{start}", Param::Time(window.start)), ("{end}", Param::Time(window.end)), ("{day}", Param::Date(window.day))];
    for (name, value) in values {
        if sql.contains(name) {
            params.push(value);
            sql = sql.replace(name, &format!("${}", params.len()));
        }
    }
    sql
}

/// The rows of a report: the area's total first, then each area below it that has a code of
/// its own (a county's townships; figures kept at the county itself count in its total only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReportRow {
    pub area_code: String,
    pub name: String,
    pub figures: Figures,
}

/// One row a figure counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedRow {
    /// The record's id (a case, order's person, tube, site or zone), or an area's code.
    pub key: String,
    pub label: String,
    pub area_code: String,
    pub at: Option<DateTime<Utc>>,
    /// What the row adds to the figure (1 but for counts kept per area and beds).
    pub n: i64,
    pub listed: Listed,
    /// The record's own page, when the row opens one.
    pub link: Option<String>,
}

/// A signed version of a day's report.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub id: i64,
    pub version: i32,
    pub cutoff: i32,
    pub signed_at: DateTime<Utc>,
    /// The account's username and name.
    pub signed_by: String,
    pub signed_by_name: String,
    pub reason: Option<String>,
    pub rows: Vec<ReportRow>,
    /// What changed from the version before (empty for the first).
    pub differences: Vec<Difference>,
}

/// How the records of `field` are listed (people's and cases' names need `persons.read`).
pub fn listed_of(field: Field) -> Listed {
    sources().into_iter().find(|s| s.fields.iter().any(|(f, _, _)| *f == field)).map_or(Listed::Area, |s| s.listed)
}

/// The longest list a figure answers in one page.
pub const LIST_PAGE: i64 = 200;

impl Store {
    /// The live figures of `area` over `window`: the total, then each child area's (every child
    /// area listed, those with nothing at zero).
    pub async fn daily_figures(&self, area: &AreaCode, window: &Window) -> Result<Vec<ReportRow>> {
        let width = area.level().child().map_or(area.as_str().len(), |c| c.code_len());
        let mut by_child: std::collections::BTreeMap<String, Figures> = std::collections::BTreeMap::new();
        for s in sources() {
            let mut params = Vec::new();
            let narrow = if s.narrow.is_empty() { String::new() } else { format!("{} AND ", with_window(s.narrow, window, &mut params)) };
            let inside = in_areas(s.area, std::slice::from_ref(area), &mut params).expect("one area");
            let sums: Vec<String> = s
                .fields
                .iter()
                .map(|(_, cond, weight)| {
                    let cond = with_window(cond, window, &mut params);
                    format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN {weight} ELSE 0 END), 0) AS BIGINT)")
                })
                .collect();
            let sql = format!(
                // Grouped by the area's own code, in its index's order (no sort of the rows), and
                // gathered to the level below in Rust.
                "SELECT {a}, {sums} FROM {from} WHERE {narrow}{inside} GROUP BY {a}",
                a = s.area,
                sums = sums.join(", "),
                from = s.from
            );
            let rows: Vec<(String, Vec<i64>)> = with_read_pool!(self, pool => {
                use sqlx::Row as _;
                let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let code: String = row.try_get(0)?;
                    let mut v = Vec::with_capacity(s.fields.len());
                    for i in 0..s.fields.len() {
                        v.push(row.try_get::<i64, _>(i + 1)?);
                    }
                    out.push((code, v));
                }
                out
            });
            for (code, v) in rows {
                let figures = by_child.entry(code.chars().take(width).collect()).or_default();
                for ((field, _, _), n) in s.fields.iter().zip(v) {
                    if n != 0 {
                        *figures.entry(*field).or_default() += n;
                    }
                }
            }
        }
        let total = rules::total(by_child.values());
        let mut rows = vec![ReportRow { area_code: area.to_string(), name: String::new(), figures: total }];
        if width > area.as_str().len() {
            for child in self.area_children(area).await? {
                let figures = by_child.remove(&child.code).unwrap_or_default();
                rows.push(ReportRow { area_code: child.code, name: child.name, figures });
            }
        }
        if let Some(a) = self.area(area).await? {
            rows[0].name = a.name;
        }
        Ok(rows)
    }

    /// The rows `field` counts in `area` over `window`, by key after `after`, at most
    /// [`LIST_PAGE`]; the weights of every page add up to the figure.
    pub async fn daily_list(&self, area: &AreaCode, window: &Window, field: Field, after: Option<&str>) -> Result<Vec<ListedRow>> {
        let all = sources();
        let (s, cond, weight) = all
            .iter()
            .find_map(|s| s.fields.iter().find(|(f, _, _)| *f == field).map(|(_, c, w)| (s, *c, *w)))
            .expect("every field has a source");
        let mut params = Vec::new();
        let inside = in_areas(s.area, std::slice::from_ref(area), &mut params).expect("one area");
        let cond = with_window(cond, window, &mut params);
        // Keys compare as the column does: numbers as numbers, codes as text.
        let key_is_text = s.listed == Listed::Area;
        let page = match after {
            Some(k) if key_is_text => {
                params.push(Param::Text(k.to_string()));
                format!(" AND {} > ${}", s.key, params.len())
            }
            Some(k) => {
                params.push(Param::Int(k.parse().map_err(|_| refused!("refused.report.after"))?));
                format!(" AND {} > ${}", s.key, params.len())
            }
            None => String::new(),
        };
        let (key, label, at, area_col, link) = (s.key, s.label, s.at, s.area, s.link);
        let from = format!("{} {}", s.from, s.join);
        let text = |col: &str| if col.ends_with("code") { col.to_string() } else { format!("CAST({col} AS TEXT)") };
        let (key_text, link_text) = (text(key), text(link));
        let sql = if s.grouped {
            format!(
                "SELECT {key_text}, MIN({label}), MIN({area_col}), {at}, CAST(SUM({weight}) AS BIGINT), MIN({link_text}) FROM {from} \
                 WHERE {inside} AND {cond}{page} GROUP BY {key} ORDER BY {key} LIMIT {LIST_PAGE}"
            )
        } else {
            format!(
                "SELECT {key_text}, {label}, {area_col}, {at}, CAST({weight} AS BIGINT), {link_text} FROM {from} \
                 WHERE {inside} AND {cond}{page} ORDER BY {key} LIMIT {LIST_PAGE}"
            )
        };
        type Row = (String, String, String, Option<DateTime<Utc>>, i64, String);
        let rows: Vec<Row> = with_read_pool!(self, pool =>
            bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(key, label, area_code, at, n, id)| {
                // A case's stay opens the case; an order its person.
                let link = match s.listed {
                    Listed::Case => Some(format!("/cases/{id}")),
                    Listed::Person => Some(format!("/persons/{id}")),
                    Listed::Zone => Some(format!("/zones/{id}")),
                    Listed::Site => Some(format!("/quarantine/sites/{id}")),
                    Listed::Area => Some(format!("/areas/{id}")),
                    Listed::Tube => None,
                };
                ListedRow { key, label, area_code, at, n, listed: s.listed, link }
            })
            .collect())
    }

    /// The signed versions of `area`'s report of `day`, oldest first, each with what changed
    /// from the one before.
    pub async fn daily_versions(&self, area: &AreaCode, day: NaiveDate) -> Result<Vec<Version>> {
        type VersionRow = (i64, i32, i32, DateTime<Utc>, String, Option<String>, Option<String>, String);
        let rows: Vec<VersionRow> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT d.id, d.version, d.cutoff, d.signed_at, d.signed_by, u.display_name, d.reason, d.figures FROM daily_reports d \
             LEFT JOIN users u ON u.username = d.signed_by WHERE d.area_code = $1 AND d.day = $2 ORDER BY d.version")
            .bind(area.as_str()).bind(day).fetch_all(pool).await?);
        let mut out: Vec<Version> = Vec::with_capacity(rows.len());
        for (id, version, cutoff, signed_at, signed_by, name, reason, figures) in rows {
            let rows: Vec<ReportRow> = serde_json::from_str(&figures).map_err(StoreError::corrupt)?;
            let differences = out.last().map(|p| rules::differences(&pairs(&p.rows), &pairs(&rows))).unwrap_or_default();
            let signed_by_name = name.unwrap_or_else(|| signed_by.clone());
            out.push(Version { id, version, cutoff, signed_at, signed_by, signed_by_name, reason, rows, differences });
        }
        Ok(out)
    }

    /// Signs `area`'s report of `day` at `cutoff` o'clock as it reads now: version 1, or (with a
    /// reason, and only when a figure changed) the next version.
    pub(crate) async fn sign_daily(
        &self,
        actor: &Actor,
        area: &AreaCode,
        day: NaiveDate,
        cutoff: u32,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Version> {
        let window = rules::window(day, cutoff)?;
        let mut rows = self.daily_figures(area, &window).await?;
        let versions = self.daily_versions(area, day).await?;
        let latest = versions.last();
        if let Some(v) = latest {
            if v.cutoff as u32 != cutoff {
                return Err(refused!("refused.report.cutoff_differs", hour = v.cutoff));
            }
            // A correction corrects the day: the beds and severe cases stay as first signed.
            for row in &mut rows {
                let before = v.rows.iter().find(|r| r.area_code == row.area_code).map(|r| r.figures.clone()).unwrap_or_default();
                rules::keep_signed_now(&before, &mut row.figures);
            }
        }
        let differences = latest.map(|v| rules::differences(&pairs(&v.rows), &pairs(&rows))).unwrap_or_default();
        let reason = rules::check_sign(&window, now, latest.map(|v| v.version as u32), reason, differences.len())?;
        let version = latest.map_or(1, |v| v.version + 1);
        let figures = serde_json::to_string(&rows).map_err(StoreError::corrupt)?;
        let after = serde_json::json!({
            "day": day, "version": version, "cutoff": cutoff, "reason": reason, "differences": differences.len(),
        });
        let change = |id: i64| Change::new("sign", "daily_report", id).area(area.as_str()).after(after.clone());
        let written: Result<i64> = async { Ok(with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO daily_reports (area_code, day, version, cutoff, window_start, window_end, figures, reason, signed_at, signed_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
                .bind(area.as_str()).bind(day).bind(version).bind(cutoff as i32).bind(window.start).bind(window.end)
                .bind(&figures).bind(&reason).bind(now).bind(&actor.name).fetch_one(&mut *tx).await?;
            tx.append(actor, &change(id)).await?;
            tx.commit().await?;
            id
        })) }
        .await;
        // Two signatures of one version at once: the second is told to read the report again.
        let id = match written {
            Err(StoreError::Refused(r)) if r.kind == "refused.duplicate" => return Err(refused!("refused.report.signed_meanwhile")),
            other => other?,
        };
        let signed_by_name = self.user_by_name(&actor.name).await?.map_or_else(|| actor.name.clone(), |u| u.display_name);
        Ok(Version {
            id,
            version,
            cutoff: cutoff as i32,
            signed_at: now,
            signed_by: actor.name.clone(),
            signed_by_name,
            reason,
            rows,
            differences,
        })
    }
}

fn pairs(rows: &[ReportRow]) -> Vec<(String, Figures)> {
    rows.iter().map(|r| (r.area_code.clone(), r.figures.clone())).collect()
}
