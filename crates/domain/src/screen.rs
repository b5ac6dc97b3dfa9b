//! The headquarters' big screen (指挥大屏): the epidemic curve by report or onset date stacked by
//! how cases were found, the daily incidence Rt is estimated from, and the growth over the last
//! week — from one row per case.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use crate::epi::DayCases;
use crate::report::FoundGroup;

/// One case as the curve counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseRow {
    /// The local day it was reported (recorded).
    pub reported: NaiveDate,
    pub onset: Option<NaiveDate>,
    pub group: FoundGroup,
}

/// Which date a case is placed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveBy {
    Report,
    /// Onset; a case without one (asymptomatic) is left out and counted apart.
    Onset,
}

/// Cases per day, per group, over consecutive days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Curve {
    pub days: Vec<NaiveDate>,
    /// Each group's count on each day (every group present, zeros included).
    pub series: BTreeMap<FoundGroup, Vec<u64>>,
    /// Cases with no date to place (by onset: those without one).
    pub undated: u64,
}

/// The days from the earliest case (at most `max_days` before `last`) to `last`.
fn span(dates: impl Iterator<Item = NaiveDate>, last: NaiveDate, max_days: i64) -> Vec<NaiveDate> {
    let floor = last - Duration::days(max_days - 1);
    let first = dates.filter(|d| *d <= last).min().map_or(last, |d| d.max(floor));
    first.iter_days().take_while(|d| *d <= last).collect()
}

/// The curve of `rows` by `by`, ending on `last`, at most `max_days` long.
pub fn curve(rows: &[CaseRow], by: CurveBy, last: NaiveDate, max_days: i64) -> Curve {
    let date = |r: &CaseRow| match by {
        CurveBy::Report => Some(r.reported),
        CurveBy::Onset => r.onset,
    };
    let days = span(rows.iter().filter_map(date), last, max_days);
    let mut series: BTreeMap<FoundGroup, Vec<u64>> = FoundGroup::ALL.iter().map(|g| (*g, vec![0; days.len()])).collect();
    let mut undated = 0;
    for r in rows {
        match date(r) {
            None => undated += 1,
            Some(d) => {
                if let Some(i) = days.first().and_then(|first| usize::try_from((d - *first).num_days()).ok()).filter(|i| *i < days.len()) {
                    series.get_mut(&r.group).expect("every group")[i] += 1;
                }
            }
        }
    }
    Curve { days, series, undated }
}

/// The daily incidence by report date, local and imported, from the first case to `last` (at
/// most `max_days`): what Rt is estimated from.
pub fn incidence(rows: &[CaseRow], last: NaiveDate, max_days: i64) -> (Vec<NaiveDate>, Vec<DayCases>) {
    let c = curve(rows, CurveBy::Report, last, max_days);
    let days = (0..c.days.len())
        .map(|i| {
            let imported = c.series[&FoundGroup::Imported][i];
            let all: u64 = c.series.values().map(|s| s[i]).sum();
            DayCases { local: all - imported, imported }
        })
        .collect();
    (c.days, days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2022, 4, day).unwrap()
    }

    fn row(reported: u32, onset: Option<u32>, group: FoundGroup) -> CaseRow {
        CaseRow { reported: d(reported), onset: onset.map(d), group }
    }

    #[test]
    fn the_curve_stacks_each_day_by_how_cases_were_found() {
        let rows = [
            row(10, Some(8), FoundGroup::Community),
            row(12, Some(11), FoundGroup::InQuarantine),
            row(12, None, FoundGroup::InControl),
            row(13, Some(11), FoundGroup::Imported),
            row(20, None, FoundGroup::Community),
        ];
        let c = curve(&rows, CurveBy::Report, d(13), 60);
        assert_eq!(c.days, vec![d(10), d(11), d(12), d(13)], "from the first case; a case after the last day is left out");
        assert_eq!(c.series[&FoundGroup::Community], vec![1, 0, 0, 0]);
        assert_eq!(c.series[&FoundGroup::InQuarantine], vec![0, 0, 1, 0]);
        assert_eq!(c.series[&FoundGroup::InControl], vec![0, 0, 1, 0]);
        assert_eq!(c.series[&FoundGroup::Imported], vec![0, 0, 0, 1]);
        let c = curve(&rows, CurveBy::Onset, d(13), 60);
        assert_eq!(c.days, vec![d(8), d(9), d(10), d(11), d(12), d(13)]);
        assert_eq!(c.series[&FoundGroup::InQuarantine][3], 1);
        assert_eq!(c.undated, 2, "the two without an onset");
        // At most max_days.
        assert_eq!(curve(&rows, CurveBy::Report, d(13), 2).days, vec![d(12), d(13)]);
        // No case: the last day alone, empty.
        let empty = curve(&[], CurveBy::Report, d(13), 60);
        assert_eq!((empty.days.len(), empty.series[&FoundGroup::Community].clone()), (1, vec![0]));
    }

    #[test]
    fn incidence_splits_local_from_imported_by_report_day() {
        let rows = [row(12, None, FoundGroup::InQuarantine), row(12, None, FoundGroup::Imported), row(13, None, FoundGroup::Community)];
        let (days, inc) = incidence(&rows, d(13), 60);
        assert_eq!(days, vec![d(12), d(13)]);
        assert_eq!(inc, vec![DayCases { local: 1, imported: 1 }, DayCases { local: 1, imported: 0 }]);
    }
}
