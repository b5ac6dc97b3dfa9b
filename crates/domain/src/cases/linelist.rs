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

/// A problem with one field of one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinelistError {
    pub field: LinelistField,
    pub reason: String,
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

    /// Validates one row; every bad field is reported. Empty cells (or `NA`) take the defaults:
    /// local (also when the origin says unknown), confirmed, found by `other` (imported cases:
    /// found as `imported`).
    pub fn parse(&self, row: &[&str]) -> Result<LinelistRow, Vec<LinelistError>> {
        let mut errors = Vec::new();
        let mut fail = |field, reason: String| errors.push(LinelistError { field, reason });
        let case_id = self.get(row, LinelistField::CaseId).to_string();
        if case_id.is_empty() {
            fail(LinelistField::CaseId, "is empty".into());
        } else if case_id.chars().count() > 64 {
            fail(LinelistField::CaseId, "is longer than 64 characters".into());
        }
        let infectors: Vec<String> =
            split_case_ids(self.get(row, LinelistField::Infectors)).into_iter().filter(|i| *i != case_id && !is_blank(i)).collect();
        let mut date = |f: LinelistField| {
            let text = self.get(row, f);
            if is_blank(text) { None } else { parse_date(text).map_err(|r| fail(f, r)).ok() }
        };
        let onset = date(LinelistField::Onset);
        let report_date = date(LinelistField::ReportDate);
        let label = Some(self.get(row, LinelistField::ClusterLabel)).filter(|l| !is_blank(l));
        if label.is_some_and(|l| l.chars().count() > 200) {
            fail(LinelistField::ClusterLabel, "is longer than 200 characters".into());
        }
        let origin = match self.get(row, LinelistField::Origin) {
            t if is_blank(t) || t.eq_ignore_ascii_case("investigating") => Some(Origin::Local),
            "yes" | "true" | "1" | "Y" | "是" | "境外输入" | "imported case" => Some(Origin::Imported),
            "no" | "false" | "0" | "N" | "否" | "indigenous case" | "local case" => Some(Origin::Local),
            t => Origin::from_text(t).or_else(|| {
                fail(LinelistField::Origin, format!("{t:?}: local/本土 or imported/输入"));
                None
            }),
        };
        let how_found = match self.get(row, LinelistField::HowFound) {
            "" if origin == Some(Origin::Imported) => Some(HowFound::Imported),
            "" => Some(HowFound::Other),
            t => HowFound::from_text(t).or_else(|| {
                let known: Vec<String> = HowFound::ALL.iter().map(|h| format!("{}/{}", h.as_str(), h.label_zh())).collect();
                fail(LinelistField::HowFound, format!("{t:?} is not one of {}", known.join(", ")));
                None
            }),
        };
        let classification = match self.get(row, LinelistField::Classification) {
            "" => Some(CaseClass::Confirmed),
            t => CaseClass::from_text(t).or_else(|| {
                fail(LinelistField::Classification, format!("{t:?}: confirmed/确诊病例, asymptomatic/无症状感染者 or suspected/疑似病例"));
                None
            }),
        };
        let area_code = match self.get(row, LinelistField::AreaCode) {
            "" => None,
            t => AreaCode::parse(t).map_err(|e| fail(LinelistField::AreaCode, e.to_string())).ok(),
        };
        match (origin, how_found, classification) {
            (Some(origin), Some(how_found), Some(classification)) if errors.is_empty() => Ok(LinelistRow {
                case_id,
                infectors,
                onset,
                report_date,
                label: label.map(str::to_string),
                how_found,
                origin,
                classification,
                area_code,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_headers_and_a_row_with_two_infectors() {
        let cols = LinelistColumns::from_headers(["\u{feff}病例编号", "传染源", "发病日期", "聚集性疫情", "本土或输入"]).unwrap();
        let row = cols.parse(&["TJ55", "TJ9; TJ21，TJ55", "2020/2/3", "宝坻百货", "本土"]).unwrap();
        assert_eq!(row.infectors, vec!["TJ9", "TJ21"]);
        assert_eq!(row.onset, NaiveDate::from_ymd_opt(2020, 2, 3));
        assert_eq!(row.label.as_deref(), Some("宝坻百货"));
        assert_eq!((row.origin, row.how_found, row.classification), (Origin::Local, HowFound::Other, CaseClass::Confirmed));
    }

    #[test]
    fn imported_cases_are_found_as_imported_unless_told() {
        let cols = LinelistColumns::from_headers(["case_id", "origin", "how_found"]).unwrap();
        assert_eq!(cols.parse(&["1", "imported", ""]).unwrap().how_found, HowFound::Imported);
        assert_eq!(cols.parse(&["2", "输入", "发热门诊"]).unwrap().how_found, HowFound::FeverClinic);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let cols = LinelistColumns::from_headers(["case_id", "onset", "report_date", "origin", "classification"]).unwrap();
        let errs = cols.parse(&["", "yesterday", "14/01/2020", "abroad", "sick"]).unwrap_err();
        let fields: Vec<LinelistField> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec![LinelistField::CaseId, LinelistField::Onset, LinelistField::Origin, LinelistField::Classification]);
    }

    #[test]
    fn a_file_without_case_numbers_is_not_a_line_list() {
        assert!(LinelistColumns::from_headers(["name", "onset"]).is_err());
    }
}
