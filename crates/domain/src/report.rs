//! The daily report (日报) in the national report's shape: the day's new cases split by origin and
//! by how they were found, conversions, discharges, deaths, severe cases, current and cumulative
//! totals, contacts traced and under observation, releases, tests, beds and zones — for an area
//! and each of its townships, over the 24 hours that end at the day's cut-off. The commander signs
//! a day's report: version 1 is frozen; a later signature with a reason makes the next version,
//! and the differences between versions are said figure by figure.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::access::named_enum;
use crate::refusal::Refusal;

named_enum! {
    /// One figure of the report.
    Field {
        NewConfirmedLocal => "new_confirmed_local", "新增本土确诊病例";
        NewConfirmedImported => "new_confirmed_imported", "新增境外输入确诊病例";
        NewAsymptomaticLocal => "new_asymptomatic_local", "新增本土无症状感染者";
        NewAsymptomaticImported => "new_asymptomatic_imported", "新增境外输入无症状感染者";
        NewLocalInQuarantine => "new_local_in_quarantine", "其中隔离管控中发现";
        NewLocalInControl => "new_local_in_control", "其中封控管控区内发现";
        NewLocalCommunity => "new_local_community", "其中社会面筛查发现";
        Converted => "converted", "无症状感染者转为确诊病例";
        Discharged => "discharged", "治愈出院";
        Deaths => "deaths", "死亡";
        SevereNow => "severe_now", "现有重症（含危重症）";
        CurrentConfirmed => "current_confirmed", "现有确诊病例";
        CumulativeConfirmed => "cumulative_confirmed", "累计确诊病例";
        CurrentAsymptomatic => "current_asymptomatic", "尚在医学观察的无症状感染者";
        CumulativeAsymptomatic => "cumulative_asymptomatic", "累计无症状感染者";
        CloseTraced => "close_traced", "累计追踪密切接触者";
        SecondaryTraced => "secondary_traced", "累计追踪次密切接触者";
        CloseObserved => "close_observed", "尚在医学观察的密切接触者";
        SecondaryObserved => "secondary_observed", "尚在医学观察的次密切接触者";
        ReleasedToday => "released_today", "当日解除医学观察";
        TestedPeople => "tested_people", "当日核酸采样人数";
        TestedTubes => "tested_tubes", "当日采样管数";
        BedsUsed => "beds_used", "隔离点在用床位";
        BedsFree => "beds_free", "隔离点空余床位";
        ZonesSealed => "zones_sealed", "封控区（高风险区）";
        ZonesControlled => "zones_controlled", "管控区（中风险区）";
        ZonesPrecaution => "zones_precaution", "防范区（低风险区）";
    }
}

/// When a figure is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// Events within the day's 24 hours.
    Day,
    /// What stands at the cut-off (totals, people under observation, zones).
    AtCutoff,
    /// What stands when the report is computed (beds, severity): a signed report keeps what it
    /// read when signed.
    Now,
}

impl Field {
    pub fn takes(self) -> Takes {
        use Field::*;
        match self {
            NewConfirmedLocal
            | NewConfirmedImported
            | NewAsymptomaticLocal
            | NewAsymptomaticImported
            | NewLocalInQuarantine
            | NewLocalInControl
            | NewLocalCommunity
            | Converted
            | Discharged
            | Deaths
            | ReleasedToday
            | TestedPeople
            | TestedTubes => Takes::Day,
            CurrentConfirmed
            | CumulativeConfirmed
            | CurrentAsymptomatic
            | CumulativeAsymptomatic
            | CloseTraced
            | SecondaryTraced
            | CloseObserved
            | SecondaryObserved
            | ZonesSealed
            | ZonesControlled
            | ZonesPrecaution => Takes::AtCutoff,
            SevereNow | BedsUsed | BedsFree => Takes::Now,
        }
    }

    /// The report's sections, in order, with their fields.
    pub fn sections() -> [(&'static str, &'static [Field]); 5] {
        use Field::*;
        [
            (
                "cases",
                &[
                    NewConfirmedLocal,
                    NewConfirmedImported,
                    NewAsymptomaticLocal,
                    NewAsymptomaticImported,
                    NewLocalInQuarantine,
                    NewLocalInControl,
                    NewLocalCommunity,
                    Converted,
                ],
            ),
            (
                "outcomes",
                &[Discharged, Deaths, SevereNow, CurrentConfirmed, CumulativeConfirmed, CurrentAsymptomatic, CumulativeAsymptomatic],
            ),
            ("contacts", &[CloseTraced, SecondaryTraced, CloseObserved, SecondaryObserved, ReleasedToday]),
            ("tests", &[TestedPeople, TestedTubes, BedsUsed, BedsFree]),
            ("zones", &[ZonesSealed, ZonesControlled, ZonesPrecaution]),
        ]
    }
}

/// One area's figures (a field absent counts 0).
pub type Figures = BTreeMap<Field, i64>;

/// The figure `f` of `figures`.
pub fn figure(figures: &Figures, f: Field) -> i64 {
    figures.get(&f).copied().unwrap_or(0)
}

/// The report's cut-off: the hour of the day (1–24, 24 being midnight at the day's end) its 24
/// hours end at.
pub const DEFAULT_CUTOFF: u32 = 24;

/// The 24 hours a day's report covers: from the previous day's cut-off to the day's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    /// The day reported (a case's report date places it in its day's report).
    pub day: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The window of `day` with its cut-off at `cutoff` o'clock local time.
pub fn window(day: NaiveDate, cutoff: u32) -> Result<Window, Refusal> {
    if !(1..=24).contains(&cutoff) {
        return Err(crate::refusal!("refused.report.cutoff", hour = cutoff));
    }
    let midnight = crate::local_offset()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("a fixed offset has one local time")
        .with_timezone(&Utc);
    let end = midnight + Duration::hours(i64::from(cutoff));
    Ok(Window { day, start: end - Duration::hours(24), end })
}

/// The latest day whose window has ended by `now` (the report a commander signs in the
/// morning is the day before's at a midnight cut-off).
pub fn latest_closed_day(now: DateTime<Utc>, cutoff: u32) -> NaiveDate {
    let today = crate::local_date(now);
    match window(today, cutoff) {
        Ok(w) if w.end <= now => today,
        _ => today.pred_opt().unwrap_or(today),
    }
}

/// The latest cut-off today has passed (the last whole local hour, 1–23), for a report of today
/// so far: none in the first hour of the day.
pub fn passed_cutoff_today(now: DateTime<Utc>) -> Option<u32> {
    use chrono::Timelike;
    let hour = now.with_timezone(&crate::local_offset()).hour();
    (hour >= 1).then_some(hour)
}

named_enum! {
    /// How a new infection came to light, as the report and the epidemic curve split them.
    FoundGroup {
        InQuarantine => "in_quarantine", "隔离管控中发现";
        InControl => "in_control", "封控管控区内发现";
        Community => "community", "社会面发现";
        Imported => "imported", "境外输入";
    }
}

impl FoundGroup {
    /// The group of a case found this way, of this origin (the report's condition, in code).
    pub fn of(how_found: crate::cases::case::HowFound, origin: crate::cases::case::Origin) -> FoundGroup {
        use crate::cases::case::{HowFound, Origin};
        match (origin, how_found) {
            (Origin::Imported, _) => FoundGroup::Imported,
            (_, HowFound::InQuarantine) => FoundGroup::InQuarantine,
            (_, HowFound::InControlArea) => FoundGroup::InControl,
            _ => FoundGroup::Community,
        }
    }
}

/// One figure that changed between two versions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    pub area_code: String,
    pub field: Field,
    pub before: i64,
    pub after: i64,
}

/// The figures taken by the day or at its cut-off that differ between `before` and `after` (rows
/// by area code), areas in `after`'s order then any only in `before`, fields in their order.
/// Figures read when computed (beds, severe cases) move on their own and are no correction.
pub fn differences(before: &[(String, Figures)], after: &[(String, Figures)]) -> Vec<Difference> {
    let old: BTreeMap<&str, &Figures> = before.iter().map(|(a, f)| (a.as_str(), f)).collect();
    let new: BTreeMap<&str, &Figures> = after.iter().map(|(a, f)| (a.as_str(), f)).collect();
    let empty = Figures::new();
    let mut areas: Vec<&str> = after.iter().map(|(a, _)| a.as_str()).collect();
    areas.extend(before.iter().map(|(a, _)| a.as_str()).filter(|a| !new.contains_key(a)));
    let mut out = Vec::new();
    for area in areas {
        let (b, a) = (old.get(area).copied().unwrap_or(&empty), new.get(area).copied().unwrap_or(&empty));
        for &field in Field::ALL.iter().filter(|f| f.takes() != Takes::Now) {
            let (x, y) = (figure(b, field), figure(a, field));
            if x != y {
                out.push(Difference { area_code: area.to_string(), field, before: x, after: y });
            }
        }
    }
    out
}

/// A correction keeps the figures read when the first version was signed (beds, severe cases):
/// `after` takes `before`'s.
pub fn keep_signed_now(before: &Figures, after: &mut Figures) {
    for &f in Field::ALL.iter().filter(|f| f.takes() == Takes::Now) {
        match before.get(&f) {
            Some(n) => after.insert(f, *n),
            None => after.remove(&f),
        };
    }
}

/// What signing the day asks: its window ended by `now`; a first signature needs no reason; a
/// correction (there is a version already) needs a reason and at least one figure changed.
/// Returns the reason kept (trimmed), if any.
pub fn check_sign(
    window: &Window,
    now: DateTime<Utc>,
    latest: Option<u32>,
    reason: &str,
    changed: usize,
) -> Result<Option<String>, Refusal> {
    if window.end > now {
        return Err(crate::refusal!("refused.report.open", end = crate::local_minute(window.end)));
    }
    let reason = reason.trim();
    if reason.chars().count() > 500 {
        return Err(crate::refusal!("refused.report.reason_long", max = 500));
    }
    match latest {
        None => Ok((!reason.is_empty()).then(|| reason.to_string())),
        Some(v) if changed == 0 => Err(crate::refusal!("refused.report.unchanged", version = v)),
        Some(_) if reason.is_empty() => Err(crate::refusal!("refused.report.reason")),
        Some(_) => Ok(Some(reason.to_string())),
    }
}

/// Adds `rows` together (an area's total from its townships).
pub fn total<'a>(rows: impl IntoIterator<Item = &'a Figures>) -> Figures {
    let mut out = Figures::new();
    for r in rows {
        for (f, n) in r {
            *out.entry(*f).or_insert(0) += n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_runs_from_the_cut_off_before_to_its_own_in_local_time() {
        let d = NaiveDate::from_ymd_opt(2022, 4, 13).unwrap();
        let w = window(d, 24).unwrap();
        assert_eq!(w.start, Utc.with_ymd_and_hms(2022, 4, 12, 16, 0, 0).unwrap());
        assert_eq!(w.end, Utc.with_ymd_and_hms(2022, 4, 13, 16, 0, 0).unwrap());
        // Reported at 15:00: from 15:00 the day before.
        let w = window(d, 15).unwrap();
        assert_eq!(w.start, Utc.with_ymd_and_hms(2022, 4, 12, 7, 0, 0).unwrap());
        assert_eq!(w.end, Utc.with_ymd_and_hms(2022, 4, 13, 7, 0, 0).unwrap());
        assert_eq!(window(d, 0).unwrap_err().kind, "refused.report.cutoff");
        assert_eq!(window(d, 25).unwrap_err().kind, "refused.report.cutoff");
    }

    #[test]
    fn the_latest_closed_day_is_yesterday_until_todays_cut_off() {
        // 09:00 local on the 14th.
        let now = Utc.with_ymd_and_hms(2022, 4, 14, 1, 0, 0).unwrap();
        assert_eq!(latest_closed_day(now, 24), NaiveDate::from_ymd_opt(2022, 4, 13).unwrap());
        assert_eq!(latest_closed_day(now, 8), NaiveDate::from_ymd_opt(2022, 4, 14).unwrap());
        assert_eq!(latest_closed_day(now, 9), NaiveDate::from_ymd_opt(2022, 4, 14).unwrap());
        assert_eq!(latest_closed_day(now, 10), NaiveDate::from_ymd_opt(2022, 4, 13).unwrap());
        // At 09:40 today's report to 09:00 is closed; none in the day's first hour.
        assert_eq!(passed_cutoff_today(now + chrono::Duration::minutes(40)), Some(9));
        let past_midnight = Utc.with_ymd_and_hms(2022, 4, 13, 16, 30, 0).unwrap();
        assert_eq!(passed_cutoff_today(past_midnight), None);
        let closed = window(crate::local_date(now), passed_cutoff_today(now).unwrap()).unwrap();
        assert!(closed.end <= now);
    }

    fn figs(pairs: &[(Field, i64)]) -> Figures {
        pairs.iter().copied().collect()
    }

    #[test]
    fn differences_name_each_changed_figure_of_each_area() {
        let before = vec![
            ("140121".to_string(), figs(&[(Field::NewConfirmedLocal, 3), (Field::Deaths, 0)])),
            ("140121100".to_string(), figs(&[(Field::NewConfirmedLocal, 3)])),
            ("140121101".to_string(), figs(&[(Field::Deaths, 4)])),
        ];
        let after = vec![
            ("140121".to_string(), figs(&[(Field::NewConfirmedLocal, 4), (Field::Deaths, 0), (Field::BedsFree, 0)])),
            ("140121100".to_string(), figs(&[(Field::NewConfirmedLocal, 4)])),
        ];
        let d = differences(&before, &after);
        let said: Vec<(&str, Field, i64, i64)> = d.iter().map(|d| (d.area_code.as_str(), d.field, d.before, d.after)).collect();
        assert_eq!(
            said,
            vec![
                ("140121", Field::NewConfirmedLocal, 3, 4),
                ("140121100", Field::NewConfirmedLocal, 3, 4),
                ("140121101", Field::Deaths, 4, 0),
            ]
        );
        assert!(differences(&after, &after).is_empty());
        // Beds move by the hour; that is no correction.
        let mut later = after.clone();
        later[0].1.insert(Field::BedsUsed, 40);
        later[0].1.insert(Field::SevereNow, 2);
        assert!(differences(&after, &later).is_empty());
        let mut corrected = later[0].1.clone();
        corrected.insert(Field::Deaths, 1);
        keep_signed_now(&after[0].1, &mut corrected);
        assert_eq!(corrected, figs(&[(Field::NewConfirmedLocal, 4), (Field::Deaths, 1), (Field::BedsFree, 0)]));
    }

    #[test]
    fn signing_waits_for_the_cut_off_and_a_correction_needs_a_reason_and_a_change() {
        let w = window(NaiveDate::from_ymd_opt(2022, 4, 13).unwrap(), 24).unwrap();
        let before = w.end - Duration::minutes(1);
        assert_eq!(check_sign(&w, before, None, "", 0).unwrap_err().kind, "refused.report.open");
        assert_eq!(check_sign(&w, w.end, None, "", 0).unwrap(), None);
        assert_eq!(check_sign(&w, w.end, Some(1), "补报 1 例", 0).unwrap_err().kind, "refused.report.unchanged");
        assert_eq!(check_sign(&w, w.end, Some(1), "  ", 2).unwrap_err().kind, "refused.report.reason");
        assert_eq!(check_sign(&w, w.end, Some(1), " 补报 1 例 ", 2).unwrap(), Some("补报 1 例".to_string()));
        assert_eq!(check_sign(&w, w.end, None, &"长".repeat(501), 0).unwrap_err().kind, "refused.report.reason_long");
    }

    #[test]
    fn every_field_is_in_one_section_and_totals_add_up() {
        let listed: Vec<Field> = Field::sections().iter().flat_map(|(_, fs)| fs.iter().copied()).collect();
        let mut sorted = listed.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), listed.len());
        assert_eq!(sorted, Field::ALL.to_vec());
        let t = total([&figs(&[(Field::Deaths, 1)]), &figs(&[(Field::Deaths, 2), (Field::BedsFree, 5)])]);
        assert_eq!(t, figs(&[(Field::Deaths, 3), (Field::BedsFree, 5)]));
    }

    #[test]
    fn a_new_infection_is_grouped_as_the_report_splits_it() {
        use crate::cases::case::{HowFound, Origin};
        assert_eq!(FoundGroup::of(HowFound::InQuarantine, Origin::Local), FoundGroup::InQuarantine);
        assert_eq!(FoundGroup::of(HowFound::InControlArea, Origin::Local), FoundGroup::InControl);
        assert_eq!(FoundGroup::of(HowFound::FeverClinic, Origin::Local), FoundGroup::Community);
        assert_eq!(FoundGroup::of(HowFound::MassTesting, Origin::Local), FoundGroup::Community);
        assert_eq!(FoundGroup::of(HowFound::InQuarantine, Origin::Imported), FoundGroup::Imported);
    }

    #[test]
    fn figures_read_back_from_json_as_they_were_written() {
        let f = figs(&[(Field::TestedPeople, 119_246), (Field::ZonesSealed, 2)]);
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, r#"{"tested_people":119246,"zones_sealed":2}"#);
        assert_eq!(serde_json::from_str::<Figures>(&json).unwrap(), f);
    }
}
