//! One row of a line list (病例一览表) as outbreak teams and published studies keep them: case
//! number, who infected the case, dates, the source's cluster label, how found, local or imported.

use chrono::NaiveDate;
use serde::Serialize;

use super::case::{CaseClass, HowFound, Origin};
use crate::area::AreaCode;
use crate::person_row::parse_date;

/// A field of a line-list row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinelistField {
    CaseId,
    Infectors,
    Onset,
    ReportDate,
    ClusterLabel,
    HowFound,
    Origin,
    Classification,
    AreaCode,
}

impl LinelistField {
    pub const ALL: [LinelistField; 9] = [
        LinelistField::CaseId,
        LinelistField::Infectors,
        LinelistField::Onset,
        LinelistField::ReportDate,
        LinelistField::ClusterLabel,
        LinelistField::HowFound,
        LinelistField::Origin,
        LinelistField::Classification,
        LinelistField::AreaCode,
    ];

    pub fn as_str(self) -> &'static str {
        self.aliases()[0]
    }

    /// Header spellings accepted for this field (compared after trimming, case-insensitive).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            LinelistField::CaseId => &["case_id", "病例编号", "病例号", "编号", "id", "patient_id", "病例案号"],
            LinelistField::Infectors => {
                &["infector_ids", "infector_id", "infectors", "contact_with", "传染源", "感染来源病例", "关联病例", "传染源病例编号"]
            }
            LinelistField::Onset => &["onset", "onset_date", "symptom_onset", "show_symptoms", "发病日期"],
            LinelistField::ReportDate => &["report_date", "reported_date", "confirm_date", "报告日期", "确诊日期"],
            LinelistField::ClusterLabel => &["cluster_label", "cluster", "group", "聚集性疫情", "聚集标签", "所属聚集"],
            LinelistField::HowFound => &["how_found", "发现途径", "发现方式"],
            LinelistField::Origin => &["origin", "imported", "case_type", "本土或输入", "来源"],
            LinelistField::Classification => &["classification", "分类", "病例分类"],
            LinelistField::AreaCode => &["area_code", "区划代码"],
        }
    }

    fn from_header(h: &str) -> Option<Self> {
        let h = crate::header::normalize(h);
        LinelistField::ALL.into_iter().find(|f| f.aliases().contains(&h.as_str()))
    }
}

/// A valid line-list row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinelistRow {
    pub case_id: String,
    /// Case numbers of the infectors named, in order, without repeats or the case itself.
    pub infectors: Vec<String>,
    pub onset: Option<NaiveDate>,
    pub report_date: Option<NaiveDate>,
    pub label: Option<String>,
    pub how_found: HowFound,
    pub origin: Origin,
    pub classification: CaseClass,
    pub area_code: Option<AreaCode>,
}

/// A problem with one field of one row, said by a kind each face words in its language, and
/// for a warning what the import did instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinelistError {
    pub field: LinelistField,
    pub reason: crate::refusal::Refusal,
    pub then: Option<crate::refusal::Refusal>,
}

/// Where each field sits in a row, decided once from the header line.
#[derive(Debug, Clone)]
pub struct LinelistColumns {
    index: [Option<usize>; 9],
}

/// Splits a list of case numbers written by hand: `5, 6`, `TJ9; TJ21`, `3、4`, `12，13`.
pub fn split_case_ids(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split([',', ';', '、', '，', '；', '/', '|', ' ']) {
        let part = part.trim();
        if !part.is_empty() && !out.iter().any(|o| o == part) {
            out.push(part.to_string());
        }
    }
    out
}

/// The case numbers a line list's infector cell names, the ways real lists write them: a list
/// of numbers or ids (`5, 6`, `TJ9; TJ21`, `#18219, #18220`, `#1 #2`), or text that names
/// cases with a marker — `案19665、案19816(感染源調查中個案)相關接觸者`, `patient 6207`,
/// `Patient #7`, `病例12`, a range `案20910-20911` (up to 50 cases). Text that names no case
/// (`unknown`, `a confirmed case from Taipei City`, `antibodies positive pilot #3`) names none.
pub fn infector_ids(cell: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |id: String| {
        if !out.contains(&id) {
            out.push(id);
        }
    };
    let cell = without_dates(cell);
    for part in cell.split([',', ';', '、', '，', '；', '/', '|']) {
        let tokens: Vec<&str> = part.split_whitespace().collect();
        if !tokens.is_empty() && tokens.iter().all(|t| bare_id(t).is_some()) {
            tokens.iter().filter_map(|t| bare_id(t)).for_each(|id| push(id.to_string()));
        } else {
            marked_ids(part).into_iter().for_each(&mut push);
        }
    }
    out
}

/// The cell with its dates blanked out (`2021/5/15`, `2021-05-15`, `2021.5.15`, `2021年5月15日`),
/// so that a date beside the case numbers names no case.
fn without_dates(cell: &str) -> String {
    let chars: Vec<char> = cell.chars().collect();
    let digits = |from: usize, most: usize| chars[from..].iter().take(most).take_while(|c| c.is_ascii_digit()).count();
    let mut out = String::with_capacity(cell.len());
    let mut i = 0;
    while i < chars.len() {
        let starts = i == 0 || !chars[i - 1].is_ascii_digit();
        if starts && digits(i, 5) == 4 {
            let mut j = i + 4;
            let mut ok = true;
            for sep in [['/', '-', '.', '年'], ['/', '-', '.', '月']] {
                if j < chars.len() && sep.contains(&chars[j]) && digits(j + 1, 3) > 0 && digits(j + 1, 3) <= 2 {
                    j += 1 + digits(j + 1, 2);
                } else {
                    ok = false;
                    break;
                }
            }
            if ok {
                if chars.get(j) == Some(&'日') {
                    j += 1;
                }
                out.push(' ');
                i = j;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A token that is a case number by itself (`5`, `TJ9`, `清徐-1`, `#18219`): it has a digit,
/// no bracket or full stop (text, not a number), and does not start with a marker (`案12` is
/// case 12, read by [`marked_ids`]).
fn bare_id(token: &str) -> Option<&str> {
    let id = token.strip_prefix('#').unwrap_or(token);
    let lower = id.to_ascii_lowercase();
    let marked = MARKERS.iter().any(|m| lower.starts_with(m));
    let text = id.contains(['(', ')', '（', '）', '。', '#']);
    (id.chars().any(|c| c.is_ascii_digit()) && !marked && !text && id.chars().count() <= 64).then_some(id)
}

/// Words that name a case by the number that follows them.
const MARKERS: [&str; 6] = ["案", "病例", "個案", "个案", "patient", "case"];

/// The case numbers named after a marker in free text: 案/病例/個案/个案 N (and a range N-M),
/// patient/case [#]N, and #N with nothing before it.
fn marked_ids(text: &str) -> Vec<String> {
    // ASCII case only: every byte offset stays where it was.
    let lower = text.to_ascii_lowercase();
    let digits = |from: usize| lower[from..].chars().take_while(char::is_ascii_digit).count();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        let rest = &lower[i..];
        let next = rest.chars().next().map_or(1, char::len_utf8);
        let after_marker = match MARKERS.iter().find(|m| rest.starts_with(**m)) {
            // An English word must start at a word boundary (not "showcase 3").
            Some(m) if m.is_ascii() && lower[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphabetic()) => None,
            Some(m) => Some(i + m.len()),
            None if rest.starts_with('#') && lower[..i].trim().is_empty() => Some(i),
            None => None,
        };
        let Some(mut j) = after_marker else {
            i += next;
            continue;
        };
        while let Some(c) = lower[j..].chars().next().filter(|c| [' ', '#', '：', ':'].contains(c)) {
            j += c.len_utf8();
        }
        let n = digits(j);
        if n == 0 {
            i += next;
            continue;
        }
        let first = &lower[j..j + n];
        j += n;
        // A range: 案20910-20911.
        if let Some(dash) = lower[j..].chars().next().filter(|c| ['-', '~', '至'].contains(c)).map(char::len_utf8) {
            let m = digits(j + dash);
            if let (Ok(a), Ok(b)) = (first.parse::<u64>(), lower[j + dash..j + dash + m].parse::<u64>())
                && b > a
                && b - a <= 50
            {
                out.extend((a..=b).map(|k| k.to_string()));
                i = j + dash + m;
                continue;
            }
        }
        out.push(first.to_string());
        i = j;
    }
    out
}

/// An empty cell, or one that says nothing is known (`NA`, `unknown`, `不详`).
fn is_blank(s: &str) -> bool {
    s.is_empty() || ["na", "n/a", "unknown", "不详", "未知", "无"].iter().any(|b| s.eq_ignore_ascii_case(b))
}

impl LinelistColumns {
    /// Maps a header line; fails when there is no case number column.
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut index = [None; 9];
        for (i, h) in headers.into_iter().enumerate() {
            if let Some(f) = LinelistField::from_header(h) {
                index[f as usize].get_or_insert(i);
            }
        }
        if index[LinelistField::CaseId as usize].is_none() {
            return Err("missing required column: case_id (病例编号); optional: infector_ids (传染源), onset (发病日期), \
                        report_date (报告日期), cluster_label (聚集性疫情), how_found (发现途径), origin (本土或输入), \
                        classification (分类), area_code (区划代码)"
                .into());
        }
        Ok(LinelistColumns { index })
    }

    fn get<'r>(&self, row: &'r [&'r str], f: LinelistField) -> &'r str {
        self.index[f as usize].and_then(|i| row.get(i)).map(|s| s.trim()).unwrap_or("")
    }

    /// Reads one row. Only a row that cannot be a record — no case number, or one too long —
    /// is refused (`Err`, every problem named). An optional field that cannot be read (a date
    /// written `2020-11-09 or 2020-11-10` or `2020-06`, an unknown origin) is a warning: the row
    /// is kept with that field empty or at its default, and the warning names it. Empty cells
    /// (or `NA`) take the defaults: local (also when the origin says unknown), confirmed, found
    /// by `other` (imported cases: found as `imported`).
    pub fn parse(&self, row: &[&str]) -> Result<(LinelistRow, Vec<LinelistError>), Vec<LinelistError>> {
        let mut warnings = Vec::new();
        let mut warn = |field, reason, then| warnings.push(LinelistError { field, reason, then: Some(then) });
        let refuse = |reason| Err(vec![LinelistError { field: LinelistField::CaseId, reason, then: None }]);
        let left_empty = || crate::refusal!("row.then.left_empty");
        let case_id = self.get(row, LinelistField::CaseId).to_string();
        if case_id.is_empty() || is_blank(&case_id) {
            return refuse(crate::refusal!("row.empty"));
        } else if case_id.chars().count() > 64 {
            return refuse(crate::refusal!("row.too_long", max = 64));
        }
        let infectors: Vec<String> =
            infector_ids(self.get(row, LinelistField::Infectors)).into_iter().filter(|i| *i != case_id && !is_blank(i)).collect();
        let mut date = |f: LinelistField| {
            let text = self.get(row, f);
            if is_blank(text) || is_unknown(text) {
                None
            } else {
                parse_date(text).map_err(|_| warn(f, crate::refusal!("row.date", value = text), left_empty())).ok()
            }
        };
        let onset = date(LinelistField::Onset);
        let report_date = date(LinelistField::ReportDate);
        let mut label = Some(self.get(row, LinelistField::ClusterLabel)).filter(|l| !is_blank(l));
        if label.is_some_and(|l| l.chars().count() > 200) {
            warn(LinelistField::ClusterLabel, crate::refusal!("row.too_long", max = 200), left_empty());
            label = None;
        }
        let origin = match self.get(row, LinelistField::Origin) {
            t if is_blank(t) || is_unknown(t) => Origin::Local,
            "yes" | "true" | "1" | "Y" | "是" | "境外输入" | "境外" | "境外移入" | "imported case" => Origin::Imported,
            "no" | "false" | "0" | "N" | "否" | "indigenous case" | "local case" => Origin::Local,
            t => Origin::from_text(t).unwrap_or_else(|| {
                warn(LinelistField::Origin, crate::refusal!("row.origin", value = t), crate::refusal!("row.then.taken_as_local"));
                Origin::Local
            }),
        };
        let found_default = if origin == Origin::Imported { HowFound::Imported } else { HowFound::Other };
        let how_found = match self.get(row, LinelistField::HowFound) {
            t if is_blank(t) => found_default,
            t => HowFound::from_text(t).unwrap_or_else(|| {
                warn(
                    LinelistField::HowFound,
                    crate::refusal!("row.how_found", value = t),
                    crate::refusal::Refusal::new(match found_default {
                        HowFound::Imported => "row.then.taken_as_found_imported",
                        _ => "row.then.taken_as_found_other",
                    }),
                );
                found_default
            }),
        };
        let classification = match self.get(row, LinelistField::Classification) {
            t if is_blank(t) => CaseClass::Confirmed,
            t => CaseClass::from_text(t).unwrap_or_else(|| {
                warn(
                    LinelistField::Classification,
                    crate::refusal!("row.classification", value = t),
                    crate::refusal!("row.then.taken_as_confirmed"),
                );
                CaseClass::Confirmed
            }),
        };
        let area_code = match self.get(row, LinelistField::AreaCode) {
            "" => None,
            t => AreaCode::parse(t)
                .map_err(|_| {
                    warn(
                        LinelistField::AreaCode,
                        crate::refusal!("refused.area_code_invalid", code = t),
                        crate::refusal!("row.then.import_area"),
                    )
                })
                .ok(),
        };
        let row = LinelistRow {
            case_id,
            infectors,
            onset,
            report_date,
            label: label.map(str::to_string),
            how_found,
            origin,
            classification,
            area_code,
        };
        Ok((row, warnings))
    }
}

/// A cell that says the value is still being found out or not known (`investigating`,
/// `unknown`, `調查中`): nothing to read, nothing to warn about.
fn is_unknown(s: &str) -> bool {
    let s = s.trim().to_ascii_lowercase();
    ["investigating", "invasgating", "unknown", "no information", "調查中", "调查中", "×"].contains(&s.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_headers_and_a_row_with_two_infectors() {
        let cols = LinelistColumns::from_headers(["\u{feff}病例编号", "传染源", "发病日期", "聚集性疫情", "本土或输入"]).unwrap();
        let (row, warnings) = cols.parse(&["TJ55", "TJ9; TJ21，TJ55", "2020/2/3", "宝坻百货", "本土"]).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(row.infectors, vec!["TJ9", "TJ21"]);
        assert_eq!(row.onset, NaiveDate::from_ymd_opt(2020, 2, 3));
        assert_eq!(row.label.as_deref(), Some("宝坻百货"));
        assert_eq!((row.origin, row.how_found, row.classification), (Origin::Local, HowFound::Other, CaseClass::Confirmed));
    }

    #[test]
    fn infectors_are_read_the_ways_real_lists_write_them() {
        let ids = infector_ids;
        assert_eq!(ids("#18219, #18220"), ["18219", "18220"]);
        assert_eq!(ids("案19665、案19816(感染源調查中個案)相關接觸者。"), ["19665", "19816"]);
        assert_eq!(ids("patient 6207"), ["6207"]);
        assert_eq!(ids("Patient #7"), ["7"]);
        assert_eq!(ids("案20908、案20909、案20910-20912(感染源調查中個案)相關接觸"), ["20908", "20909", "20910", "20911", "20912"]);
        assert_eq!(ids("5"), ["5"]);
        assert_eq!(ids("5; 6;7"), ["5", "6", "7"]);
        assert_eq!(ids("#1 #2"), ["1", "2"]);
        assert_eq!(ids("#3 , 4"), ["3", "4"]);
        assert_eq!(ids("12/13"), ["12", "13"]);
        assert_eq!(ids("TJ9; TJ21，TJ55"), ["TJ9", "TJ21", "TJ55"]);
        assert_eq!(ids("清徐-2、清徐-1"), ["清徐-2", "清徐-1"]);
        assert_eq!(ids("12; patient 40"), ["12", "40"]);
        assert_eq!(ids("a confirmed case from New Taipei City; 301"), ["301"]);
        assert_eq!(ids("病例：12"), ["12"]);
        assert_eq!(ids("案19665之接觸者，2021/5/15確診"), ["19665"], "a date names no case");
        assert_eq!(ids("2021-05-15; 12"), ["12"]);
        assert_eq!(ids("案7（2021年5月3日同住）"), ["7"]);
        let none = [
            "antibodies positive pilot #3",
            "unknown",
            "Investigating",
            "carrier",
            "patient from the US",
            "a confirmed case from Taipei City",
            "showcase 3",
            "",
        ];
        for text in none {
            assert!(ids(text).is_empty(), "{text}: {:?}", ids(text));
        }
        assert_eq!(ids("案1-999"), ["1"], "a range of more than 50 is no range");
    }

    #[test]
    fn imported_cases_are_found_as_imported_unless_told() {
        let cols = LinelistColumns::from_headers(["case_id", "origin", "how_found"]).unwrap();
        assert_eq!(cols.parse(&["1", "imported", ""]).unwrap().0.how_found, HowFound::Imported);
        assert_eq!(cols.parse(&["2", "输入", "发热门诊"]).unwrap().0.how_found, HowFound::FeverClinic);
    }

    #[test]
    fn an_unreadable_optional_field_is_a_warning_and_the_row_is_kept() {
        let cols = LinelistColumns::from_headers(["case_id", "onset", "report_date", "origin", "classification"]).unwrap();
        let (row, warnings) = cols.parse(&["7", "yesterday", "2020-11-09 or 2020-11-10", "abroad", "sick"]).unwrap();
        let fields: Vec<LinelistField> = warnings.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec![LinelistField::Onset, LinelistField::ReportDate, LinelistField::Origin, LinelistField::Classification]);
        assert_eq!((row.case_id.as_str(), row.onset, row.report_date), ("7", None, None));
        assert_eq!((row.origin, row.classification), (Origin::Local, CaseClass::Confirmed));
        let (month, warnings) = cols.parse(&["8", "2020-06", "investigating", "", ""]).unwrap();
        assert_eq!((month.onset, warnings.len()), (None, 1), "a month is no day; investigating is nothing to warn about");
    }

    #[test]
    fn a_row_without_a_case_number_is_refused() {
        let cols = LinelistColumns::from_headers(["case_id", "onset"]).unwrap();
        let errs = cols.parse(&["", "2020-02-01"]).unwrap_err();
        assert_eq!(errs.iter().map(|e| e.field).collect::<Vec<_>>(), [LinelistField::CaseId]);
        assert!(cols.parse(&["N/A", ""]).is_err());
    }

    #[test]
    fn a_file_without_case_numbers_is_not_a_line_list() {
        assert!(LinelistColumns::from_headers(["name", "onset"]).is_err());
    }
}
