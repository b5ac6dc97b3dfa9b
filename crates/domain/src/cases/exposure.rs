//! Exposure rules: the look-back window of a case, the degree of a contact, venue co-presence,
//! and the span in which a close contact's own contacts become secondary contacts.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::access::named_enum;
use crate::area::AreaCode;

named_enum! {
    /// How two people met.
    ExposureKind {
        Household => "household", "同住";
        Work => "work", "同事";
        Meal => "meal", "共餐";
        Vehicle => "vehicle", "同乘交通工具";
        Venue => "venue", "同场所";
        Care => "care", "陪护诊疗";
        Other => "other", "其他";
    }
}

named_enum! {
    /// A contact's degree, highest first: the order of the variants is the order of risk.
    Degree {
        Close => "close", "密切接触者";
        Secondary => "secondary", "密接的密接";
        PlaceExposed => "place_exposed", "同场所暴露人员";
        Companion => "companion", "时空伴随者";
        General => "general", "一般接触者";
    }
}

named_enum! {
    /// How far one path from a case to a contact got: proposed by the system, confirmed or
    /// dismissed by the investigator, handed over to observation.
    ExposureStatus {
        Proposed => "proposed", "待确认";
        Confirmed => "confirmed", "已确认";
        HandedOver => "handed_over", "已移交";
        Dismissed => "dismissed", "已排除";
    }
}

named_enum! {
    /// Where an assistance request (协查函) stands.
    AssistStatus {
        Open => "open", "待回复";
        Answered => "answered", "已回复";
    }
}

impl ExposureStatus {
    /// How far a contact reached by two paths got: the furthest of the two (handed over, then
    /// confirmed, then proposed); a dismissed path is not one of the contact's paths.
    pub fn furthest(self, other: ExposureStatus) -> ExposureStatus {
        let rank = |s: ExposureStatus| match s {
            ExposureStatus::HandedOver => 3,
            ExposureStatus::Confirmed => 2,
            ExposureStatus::Proposed | ExposureStatus::Dismissed => 1,
        };
        if rank(other) > rank(self) { other } else { self }
    }
}

impl Degree {
    /// The higher of two degrees: a contact reached through two paths takes the graver one.
    pub fn higher(self, other: Degree) -> Degree {
        self.min(other)
    }

    /// The observation category a contact of this degree is handed over under; lower degrees
    /// are watched by health monitoring, not observed.
    pub fn observation_category(self) -> Option<&'static str> {
        match self {
            Degree::Close => Some("close_contact"),
            Degree::Secondary => Some("secondary_contact"),
            _ => None,
        }
    }
}

/// Where an assistance request (协查函) about a contact living in `contact_area` goes: within the
/// case's own county, to the contact's township; otherwise to the contact's county.
pub fn assist_recipient(contact_area: &AreaCode, case_area: &AreaCode) -> AreaCode {
    let county = |a: &AreaCode| AreaCode::parse(&a.as_str()[..a.as_str().len().min(6)]).ok();
    let township = AreaCode::parse(&contact_area.as_str()[..contact_area.as_str().len().min(9)]).ok();
    match (county(contact_area), county(case_area)) {
        (Some(theirs), Some(ours)) if theirs == ours => township.unwrap_or_else(|| contact_area.clone()),
        (Some(theirs), _) => theirs,
        _ => contact_area.clone(),
    }
}

/// The look-back parameters of a rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookback {
    /// Days before onset (or the positive sample) that count; 2 by national rule, 2–5 allowed.
    pub days: u32,
    /// How long a check-in is taken to last when no exit was scanned.
    pub default_stay: Duration,
}

impl Default for Lookback {
    fn default() -> Self {
        Lookback { days: Lookback::DEFAULT_DAYS, default_stay: Duration::minutes(i64::from(Lookback::DEFAULT_STAY_MINUTES)) }
    }
}

/// What decides a case's look-back window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseDates {
    pub onset: Option<NaiveDate>,
    pub positive_sample: Option<NaiveDate>,
    /// The last negative sample, for cases found by routine repeated testing.
    pub last_negative: Option<NaiveDate>,
    /// When the case was isolated; the window ends there (or now, while at large).
    pub isolated_at: Option<DateTime<Utc>>,
}

impl Lookback {
    /// Days before onset (or the first positive sample) that a case's movements are traced.
    pub const DEFAULT_DAYS: u32 = 2;
    /// How long a stay with no leaving time is taken to last.
    pub const DEFAULT_STAY_MINUTES: u32 = 60;

    pub fn new(days: u32, default_stay_minutes: u32) -> Result<Lookback, String> {
        if !(2..=5).contains(&days) {
            return Err(format!("look-back of {days} days: allowed 2 to 5"));
        }
        if !(5..=24 * 60).contains(&default_stay_minutes) {
            return Err(format!("default stay of {default_stay_minutes} minutes: allowed 5 to 1440"));
        }
        Ok(Lookback { days, default_stay: Duration::minutes(i64::from(default_stay_minutes)) })
    }

    /// The window in which the case's contacts count: from `days` before onset (asymptomatic:
    /// before the positive sample) — or from the last negative sample, when that is later —
    /// until isolation (or `now`). Midnight boundaries are taken in `tz`, the local calendar.
    pub fn window<Tz: TimeZone>(&self, dates: &CaseDates, now: DateTime<Utc>, tz: &Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let anchor = dates.onset.or(dates.positive_sample)?;
        let mut start = anchor - Duration::days(i64::from(self.days));
        if let Some(neg) = dates.last_negative.filter(|n| *n > start && *n <= anchor) {
            start = neg;
        }
        let start = tz.from_local_datetime(&start.and_hms_opt(0, 0, 0)?).earliest()?.with_timezone(&Utc);
        let end = dates.isolated_at.unwrap_or(now);
        (end > start).then_some((start, end))
    }

    /// How long two stays at one venue overlapped; a stay without an exit lasts the default.
    pub fn overlap(&self, a: Stay, b: Stay) -> Option<Duration> {
        let (a0, a1) = (a.from, a.until.unwrap_or(a.from + self.default_stay));
        let (b0, b1) = (b.from, b.until.unwrap_or(b.from + self.default_stay));
        let (s, e) = (a0.max(b0), a1.min(b1));
        (e > s).then(|| e - s)
    }
}

/// A stay at a place: entry scan and, when scanned, exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stay {
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

/// The degree a person exposed to someone of degree `via` gets: a case's contacts are close
/// (or lower, as judged), a close contact's contacts secondary; nobody is derived further.
pub fn derived_degree(via_is_case: bool, via: Option<Degree>) -> Option<Degree> {
    match (via_is_case, via) {
        (true, _) => Some(Degree::Close),
        (false, Some(Degree::Close)) => Some(Degree::Secondary),
        _ => None,
    }
}

/// The span in which a close contact's household and colleagues become secondary contacts:
/// from the close contact's first exposure to the case until the close contact was isolated
/// (or `now`).
pub fn secondary_span(
    first_exposure: DateTime<Utc>,
    isolated_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    (first_exposure, isolated_at.unwrap_or(now).max(first_exposure))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_met_twice_shows_the_furthest_path() {
        use ExposureStatus::*;
        assert_eq!(Proposed.furthest(Confirmed), Confirmed);
        assert_eq!(HandedOver.furthest(Confirmed), HandedOver);
        assert_eq!(Confirmed.furthest(Proposed), Confirmed);
        assert_eq!(Proposed.furthest(Proposed), Proposed);
    }
    use chrono::FixedOffset;
    use proptest::prelude::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn shanghai() -> FixedOffset {
        crate::local_offset()
    }

    #[test]
    fn window_starts_two_days_before_onset_at_local_midnight() {
        let dates = CaseDates {
            onset: Some(d("2022-04-10")),
            positive_sample: Some(d("2022-04-11")),
            last_negative: None,
            isolated_at: Some(t("2022-04-11T20:00:00+08:00")),
        };
        let (s, e) = Lookback::default().window(&dates, t("2022-04-12T00:00:00Z"), &shanghai()).unwrap();
        assert_eq!(s, t("2022-04-08T00:00:00+08:00"));
        assert_eq!(e, t("2022-04-11T20:00:00+08:00"));
    }

    #[test]
    fn asymptomatic_window_counts_from_the_positive_sample_and_a_later_negative_shortens_it() {
        let mut dates = CaseDates { onset: None, positive_sample: Some(d("2022-04-11")), last_negative: None, isolated_at: None };
        let now = t("2022-04-12T00:00:00Z");
        let lb = Lookback::new(4, 60).unwrap();
        assert_eq!(lb.window(&dates, now, &shanghai()).unwrap().0, t("2022-04-07T00:00:00+08:00"));
        dates.last_negative = Some(d("2022-04-09"));
        assert_eq!(lb.window(&dates, now, &shanghai()).unwrap(), (t("2022-04-09T00:00:00+08:00"), now));
        // A negative older than the window changes nothing.
        dates.last_negative = Some(d("2022-04-01"));
        assert_eq!(lb.window(&dates, now, &shanghai()).unwrap().0, t("2022-04-07T00:00:00+08:00"));
    }

    #[test]
    fn window_needs_a_date_and_lookback_stays_within_the_rule() {
        let none = CaseDates { onset: None, positive_sample: None, last_negative: None, isolated_at: None };
        assert!(Lookback::default().window(&none, t("2022-04-12T00:00:00Z"), &shanghai()).is_none());
        assert!(Lookback::new(1, 60).is_err());
        assert!(Lookback::new(6, 60).is_err());
        assert!(Lookback::new(5, 0).is_err());
    }

    #[test]
    fn stays_without_exit_last_the_default() {
        let lb = Lookback::default();
        let a = Stay { from: t("2022-04-10T10:00:00Z"), until: None };
        let b = Stay { from: t("2022-04-10T10:45:00Z"), until: Some(t("2022-04-10T12:00:00Z")) };
        assert_eq!(lb.overlap(a, b), Some(Duration::minutes(15)));
        let c = Stay { from: t("2022-04-10T11:00:00Z"), until: None };
        assert_eq!(lb.overlap(a, c), None, "touching stays do not overlap");
    }

    #[test]
    fn assistance_goes_to_the_township_at_home_and_the_county_elsewhere() {
        let a = |s: &str| AreaCode::parse(s).unwrap();
        assert_eq!(assist_recipient(&a("140121101201"), &a("140121100201")), a("140121101"));
        assert_eq!(assist_recipient(&a("140105001002"), &a("140121100201")), a("140105"));
        assert_eq!(Degree::Close.observation_category(), Some("close_contact"));
        assert_eq!(Degree::PlaceExposed.observation_category(), None);
    }

    #[test]
    fn two_paths_keep_the_graver_degree() {
        assert_eq!(Degree::Secondary.higher(Degree::Close), Degree::Close);
        assert_eq!(Degree::General.higher(Degree::PlaceExposed), Degree::PlaceExposed);
        assert_eq!(derived_degree(true, None), Some(Degree::Close));
        assert_eq!(derived_degree(false, Some(Degree::Close)), Some(Degree::Secondary));
        assert_eq!(derived_degree(false, Some(Degree::Secondary)), None);
    }

    proptest! {
        #[test]
        fn overlap_is_symmetric_and_never_longer_than_either_stay(
            a0 in 0i64..10_000, al in proptest::option::of(1i64..500), b0 in 0i64..10_000, bl in proptest::option::of(1i64..500)
        ) {
            let base = t("2022-04-10T00:00:00Z");
            let a = Stay { from: base + Duration::minutes(a0), until: al.map(|l| base + Duration::minutes(a0 + l)) };
            let b = Stay { from: base + Duration::minutes(b0), until: bl.map(|l| base + Duration::minutes(b0 + l)) };
            let lb = Lookback::default();
            prop_assert_eq!(lb.overlap(a, b), lb.overlap(b, a));
            if let Some(o) = lb.overlap(a, b) {
                prop_assert!(o <= Duration::minutes(al.unwrap_or(60)) && o <= Duration::minutes(bl.unwrap_or(60)));
            }
        }
    }
}
