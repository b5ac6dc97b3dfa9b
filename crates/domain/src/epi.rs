//! The epidemiologists' methods (`cordon epi`): the instantaneous reproduction number Rt by
//! Cori et al. (2013) — the method of EpiEstim's `estimate_R`, with its
//! conventions (1-based day indices, sliding windows, a Gamma prior, imported cases counted in
//! the infectivity but not in the incidence, the first day's cases taken as imported, no
//! estimate for a window that ends before the serial interval's mean) — and the growth rate by a
//! log-linear fit with its doubling time.
//!
//! For a window of days `t_start..=t_end` the posterior of R is Gamma with shape
//! `a + ΣI_local(t)` and scale `1 / (1/b + ΣΛ(t))`, where `a` and `b` come from the prior's mean and
//! standard deviation (5 and 5: shape 1, scale 5) and `Λ(t) = Σ_{s≥1} w(s) (I_local(t−s) +
//! I_imported(t−s))` is the infectivity from the serial interval `w` (`w(0) = 0`).

use statrs::distribution::{ContinuousCDF, Gamma};

/// The quantiles reported for each window, as EpiEstim reports them.
pub const QUANTILES: [f64; 7] = [0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975];

/// One day's new cases: infected here, and imported (infected elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayCases {
    pub local: u64,
    pub imported: u64,
}

/// The prior on R: a Gamma distribution of this mean and standard deviation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prior {
    pub mean: f64,
    pub sd: f64,
}

impl Default for Prior {
    /// EpiEstim's default: mean 5, standard deviation 5.
    fn default() -> Self {
        Prior { mean: 5.0, sd: 5.0 }
    }
}

/// R over one window of days, `t_start..=t_end` (1-based, as EpiEstim numbers them): its
/// posterior, or none for a window that ends on or before the serial interval's mean day (too
/// early for the cases in it to have been infected by cases counted; EpiEstim's NA).
#[derive(Debug, Clone, PartialEq)]
pub struct RtWindow {
    pub t_start: usize,
    pub t_end: usize,
    pub posterior: Option<Posterior>,
}

/// R's posterior over a window: its mean, standard deviation and quantiles at [`QUANTILES`].
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    pub mean: f64,
    pub std: f64,
    pub quantiles: [f64; 7],
}

/// Why R cannot be estimated from what was given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EpiError {
    #[error("the incidence holds no days")]
    NoDays,
    #[error("a window of {window} days does not fit in {days} days (it needs at least one day before it)")]
    WindowTooLong { window: usize, days: usize },
    #[error("the window must be at least one day")]
    NoWindow,
    #[error("the serial interval's mean must be above 1 day (it is {0})")]
    SiMean(f64),
    #[error("the serial interval's standard deviation must be above 0 (it is {0})")]
    SiSd(f64),
    #[error("the serial interval must start at day 0 with probability 0 (it has {0})")]
    SiDayZero(f64),
    #[error("the serial interval's probabilities must sum to 1 (they sum to {0})")]
    SiSum(f64),
    #[error("the serial interval has a negative or non-finite probability on day {0}")]
    SiValue(usize),
    #[error("the prior's mean and standard deviation must be above 0")]
    Prior,
}

/// The serial interval discretised from a Gamma distribution offset by one day, of this mean
/// and standard deviation (in days), for days `0..days` — EpiEstim's `discr_si`: the
/// probability that the interval is `k` days, with `w(0) = 0`.
pub fn discretised_si(mean: f64, sd: f64, days: usize) -> Result<Vec<f64>, EpiError> {
    // (NaN fails both tests.)
    if !mean.is_finite() || mean <= 1.0 {
        return Err(EpiError::SiMean(mean));
    }
    if !sd.is_finite() || sd <= 0.0 {
        return Err(EpiError::SiSd(sd));
    }
    let shape = ((mean - 1.0) / sd).powi(2);
    let scale = sd * sd / (mean - 1.0);
    // So far from a distribution of days that it has no shape (an sd of 1e-200, or 1e200).
    if !(shape.is_finite() && scale.is_finite() && shape > 0.0 && scale > 0.0) {
        return Err(EpiError::SiSd(sd));
    }
    let cdf = |k: f64, shape: f64| -> f64 {
        if k <= 0.0 {
            return 0.0;
        }
        Gamma::new(shape, 1.0 / scale).map(|g| g.cdf(k)).unwrap_or(0.0)
    };
    Ok((0..days)
        .map(|k| {
            let k = k as f64;
            let w = k * cdf(k, shape) + (k - 2.0) * cdf(k - 2.0, shape) - 2.0 * (k - 1.0) * cdf(k - 1.0, shape)
                + shape * scale * (2.0 * cdf(k - 1.0, shape + 1.0) - cdf(k - 2.0, shape + 1.0) - cdf(k, shape + 1.0));
            w.max(0.0)
        })
        .collect())
}

/// Checks a serial interval given day by day from day 0 (a file's), as EpiEstim does: no
/// probability on day 0, none negative, summing to 1 (within 0.01).
pub fn check_si(si: &[f64]) -> Result<(), EpiError> {
    check_si_days(si)?;
    let sum: f64 = si.iter().sum();
    if (sum - 1.0).abs() > 0.01 {
        return Err(EpiError::SiSum(sum));
    }
    Ok(())
}

/// No probability on day 0, none negative (a discretised one, cut at the series' length, sums
/// to a little under 1 and is taken as it is, as EpiEstim takes it).
fn check_si_days(si: &[f64]) -> Result<(), EpiError> {
    if let Some(day) = si.iter().position(|p| !p.is_finite() || *p < 0.0) {
        return Err(EpiError::SiValue(day));
    }
    match si.first() {
        Some(p) if *p != 0.0 => Err(EpiError::SiDayZero(*p)),
        None => Err(EpiError::SiSum(0.0)),
        _ => Ok(()),
    }
}

/// The infectivity `Λ(t)` of each day (0-based), from all cases before it, local and imported.
pub fn infectivity(days: &[DayCases], si: &[f64]) -> Vec<f64> {
    (0..days.len())
        .map(|t| (1..=t).filter(|s| *s < si.len()).map(|s| si[s] * (days[t - s].local + days[t - s].imported) as f64).sum())
        .collect()
}

/// R for each window of `window` days sliding one day at a time, from days 2–`window + 1` to the
/// last (EpiEstim's default windows: `t_start` 2 to `T − window + 1`). Cases on the first day
/// count as imported (nothing before them could have caused them). A window ending on or before
/// the serial interval's mean (`Σ k·w(k)` over the interval given) has no estimate.
pub fn estimate_rt(days: &[DayCases], si: &[f64], window: usize, prior: Prior) -> Result<Vec<RtWindow>, EpiError> {
    if days.is_empty() {
        return Err(EpiError::NoDays);
    }
    if window == 0 {
        return Err(EpiError::NoWindow);
    }
    if window + 1 > days.len() {
        return Err(EpiError::WindowTooLong { window, days: days.len() });
    }
    if !(prior.mean > 0.0 && prior.sd > 0.0) {
        return Err(EpiError::Prior);
    }
    check_si_days(si)?;
    let mut days = days.to_vec();
    days[0] = DayCases { local: 0, imported: days[0].local + days[0].imported };
    let lambda = infectivity(&days, si);
    let mean_si: f64 = si.iter().enumerate().map(|(k, w)| k as f64 * w).sum();
    let shape_prior = (prior.mean / prior.sd).powi(2);
    let scale_prior = prior.sd * prior.sd / prior.mean;
    // 1-based windows: t_start from 2, t_end = t_start + window − 1, up to the last day.
    (2..=days.len() + 1 - window)
        .map(|t_start| {
            let t_end = t_start + window - 1;
            if t_end as f64 <= mean_si {
                return Ok(RtWindow { t_start, t_end, posterior: None });
            }
            let (cases, infectious) = (t_start - 1..t_end).fold((0.0, 0.0), |(i, l), t| (i + days[t].local as f64, l + lambda[t]));
            let shape = shape_prior + cases;
            let scale = 1.0 / (1.0 / scale_prior + infectious);
            let posterior = Gamma::new(shape, 1.0 / scale).map_err(|_| EpiError::Prior)?;
            Ok(RtWindow {
                t_start,
                t_end,
                posterior: Some(Posterior {
                    mean: shape * scale,
                    std: shape.sqrt() * scale,
                    quantiles: QUANTILES.map(|p| posterior.inverse_cdf(p)),
                }),
            })
        })
        .collect()
}

/// An epidemic's growth over a span of days: the rate per day and the time it takes to double
/// (or, shrinking, to halve).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Growth {
    /// r, per day: the slope of ln(cases) over the days.
    pub rate: f64,
    /// ln 2 / |r| days; `None` when r is 0.
    pub doubling_days: Option<f64>,
}

/// The growth rate by a least-squares line through ln(cases) of each day with cases (days
/// without any have no logarithm and are left out); `None` with fewer than two such days or
/// all on one day.
pub fn growth(counts: &[u64]) -> Option<Growth> {
    let points: Vec<(f64, f64)> = counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(t, c)| (t as f64, (*c as f64).ln())).collect();
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let (mt, my) = points.iter().fold((0.0, 0.0), |(a, b), (t, y)| (a + t / n, b + y / n));
    let (sty, stt) = points.iter().fold((0.0, 0.0), |(a, b), (t, y)| (a + (t - mt) * (y - my), b + (t - mt) * (t - mt)));
    if stt == 0.0 {
        return None;
    }
    let rate = sty / stt;
    Some(Growth { rate, doubling_days: (rate != 0.0).then(|| std::f64::consts::LN_2 / rate.abs()) })
}

/// The Omicron serial interval's mean and standard deviation in days (DOMAIN.md: the default).
pub const OMICRON_SI: (f64, f64) = (3.0, 2.0);

/// Rt is shown once this many cases have accumulated (fewer say nothing about spread).
pub const RT_MIN_CASES: u64 = 12;

/// R over sliding windows of `window` days as the big screen shows it: with the Omicron serial
/// interval and the default prior, for each window that has an estimate and ends on a day by
/// which at least [`RT_MIN_CASES`] cases (local and imported) have accumulated — as (the
/// window's last day, 0-based; its posterior).
pub fn rt_series(days: &[DayCases], window: usize) -> Vec<(usize, Posterior)> {
    let si = match discretised_si(OMICRON_SI.0, OMICRON_SI.1, days.len().max(2)) {
        Ok(si) => si,
        Err(_) => return Vec::new(),
    };
    let Ok(windows) = estimate_rt(days, &si, window, Prior::default()) else { return Vec::new() };
    let mut cumulative = Vec::with_capacity(days.len());
    let mut n = 0;
    for d in days {
        n += d.local + d.imported;
        cumulative.push(n);
    }
    windows
        .into_iter()
        .filter_map(|w| {
            let last = w.t_end - 1;
            w.posterior.filter(|_| cumulative[last] >= RT_MIN_CASES).map(|p| (last, p))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * b.abs().max(1.0)
    }

    /// A worked example: 20 days of a county's cases (two imported on the first day, three
    /// later), the Omicron serial interval (mean 3, sd 2), windows of 7 days, the default prior.
    /// The expected figures were computed independently, from the formulas above, with SciPy's
    /// Gamma distribution (`scipy.stats.gamma.cdf` for the discretisation, `.ppf` for the
    /// quantiles).
    fn worked() -> Vec<DayCases> {
        let local = [0, 1, 2, 2, 3, 5, 6, 8, 10, 12, 15, 14, 16, 18, 17, 15, 13, 12, 10, 8];
        let imported = [2, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        local.iter().zip(imported).map(|(l, i)| DayCases { local: *l, imported: i }).collect()
    }

    #[test]
    fn the_serial_interval_is_discretised_as_epiestim_does() {
        let si = discretised_si(3.0, 2.0, 8).unwrap();
        let want = [0.0, 0.213061319425, 0.309636243492, 0.187803875036, 0.113908808222, 0.069089184598, 0.041904708713, 0.025416490621];
        for (k, (got, want)) in si.iter().zip(want).enumerate() {
            assert!(close(*got, want), "day {k}: {got} against {want}");
        }
        assert!(close(discretised_si(3.0, 2.0, 200).unwrap().iter().sum(), 1.0), "the whole of it sums to 1");
        assert_eq!(discretised_si(1.0, 2.0, 8), Err(EpiError::SiMean(1.0)));
        assert_eq!(discretised_si(3.0, 0.0, 8), Err(EpiError::SiSd(0.0)));
        assert!(matches!(discretised_si(f64::NAN, 2.0, 8), Err(EpiError::SiMean(_))));
        assert!(matches!(discretised_si(3.0, f64::NAN, 8), Err(EpiError::SiSd(_))));
    }

    #[test]
    fn rt_over_sliding_weeks_matches_the_worked_example() {
        let si = discretised_si(3.0, 2.0, 20).unwrap();
        let rt = estimate_rt(&worked(), &si, 7, Prior::default()).unwrap();
        assert_eq!(rt.len(), 13, "t_start 2 to 14");
        assert!(rt.iter().all(|w| w.posterior.is_some()), "every window ends after the mean of 3 days");
        let want: [(usize, usize, f64, f64, [f64; 7]); 3] = [
            (
                2,
                8,
                2.0097008558,
                0.3797977624,
                [1.3354316237, 1.4283689593, 1.7421954976, 1.9858271428, 2.2512029923, 2.6724831214, 2.8195803307],
            ),
            (
                8,
                14,
                1.5249958279,
                0.1572913097,
                [1.2323518605, 1.2758206155, 1.4161647618, 1.5195914637, 1.6279369336, 1.7926068136, 1.8483482051],
            ),
            (
                14,
                20,
                0.9185768110,
                0.0947439639,
                [0.7423035665, 0.7684868450, 0.8530227342, 0.9153215079, 0.9805830872, 1.0797715115, 1.1133471769],
            ),
        ];
        for (t_start, t_end, mean, std, quantiles) in want {
            let window = rt.iter().find(|w| w.t_start == t_start).unwrap();
            assert_eq!(window.t_end, t_end);
            let w = window.posterior.as_ref().unwrap();
            assert!(close(w.mean, mean) && close(w.std, std), "{w:?}");
            for (got, want) in w.quantiles.iter().zip(quantiles) {
                assert!(close(*got, want), "window {t_start}: {got} against {want}");
            }
        }
    }

    #[test]
    fn the_first_days_cases_count_as_imported_and_imported_ones_are_not_in_the_incidence() {
        let si = discretised_si(3.0, 2.0, 20).unwrap();
        let mut moved = worked();
        moved[0] = DayCases { local: 2, imported: 0 };
        assert_eq!(estimate_rt(&moved, &si, 7, Prior::default()), estimate_rt(&worked(), &si, 7, Prior::default()));
        // One more case on day 12 (the 13th) raises R of the windows holding it if local, and
        // lowers it if imported (more infectivity behind the same local cases).
        let base = estimate_rt(&worked(), &si, 7, Prior::default()).unwrap();
        let mut local = worked();
        local[12].local += 1;
        let mut imported = worked();
        imported[12].imported += 1;
        let (l, i) = (estimate_rt(&local, &si, 7, Prior::default()).unwrap(), estimate_rt(&imported, &si, 7, Prior::default()).unwrap());
        // The window ending on day 13 holds the case but none of the days it infects.
        let mean = |rt: &[RtWindow], at: usize| rt[at].posterior.as_ref().unwrap().mean;
        let ending = base.iter().position(|w| w.t_end == 13).unwrap();
        assert!(mean(&l, ending) > mean(&base, ending));
        assert_eq!(i[ending], base[ending], "an imported case is not in the incidence");
        let later = base.iter().position(|w| w.t_start == 10).unwrap();
        assert!(mean(&i, later) < mean(&base, later), "but in the infectivity of the days after it");
    }

    #[test]
    fn a_window_ending_before_the_serial_intervals_mean_has_no_estimate() {
        // A mean of 15 days (discretised over the 20 days: Σ k·w(k) a little under 15).
        let si = discretised_si(15.0, 5.0, 20).unwrap();
        let mean_si: f64 = si.iter().enumerate().map(|(k, w)| k as f64 * w).sum();
        let rt = estimate_rt(&worked(), &si, 7, Prior::default()).unwrap();
        for w in &rt {
            assert_eq!(w.posterior.is_some(), w.t_end as f64 > mean_si, "{w:?} against a mean of {mean_si}");
        }
        assert!(rt.first().unwrap().posterior.is_none() && rt.last().unwrap().posterior.is_some());
        assert_eq!(discretised_si(3.0, 1e-200, 8), Err(EpiError::SiSd(1e-200)), "no shape to discretise");
    }

    #[test]
    fn what_cannot_be_estimated_is_said() {
        let si = discretised_si(3.0, 2.0, 20).unwrap();
        assert_eq!(estimate_rt(&[], &si, 7, Prior::default()), Err(EpiError::NoDays));
        assert_eq!(estimate_rt(&worked()[..7], &si, 7, Prior::default()), Err(EpiError::WindowTooLong { window: 7, days: 7 }));
        assert_eq!(estimate_rt(&worked(), &si, 0, Prior::default()), Err(EpiError::NoWindow));
        assert_eq!(estimate_rt(&worked(), &si, 7, Prior { mean: 0.0, sd: 5.0 }), Err(EpiError::Prior));
        assert_eq!(check_si(&[0.1, 0.9]), Err(EpiError::SiDayZero(0.1)));
        assert_eq!(check_si(&[0.0, 0.5, 0.4]), Err(EpiError::SiSum(0.9)));
        assert_eq!(check_si(&[0.0, 1.2, -0.2]), Err(EpiError::SiValue(2)));
        assert_eq!(check_si(&[0.0, 0.3, 0.7]), Ok(()));
    }

    #[test]
    fn the_growth_rate_and_doubling_time_come_from_a_log_linear_fit() {
        let g = growth(&[1, 2, 4, 8, 16]).unwrap();
        assert!(close(g.rate, std::f64::consts::LN_2) && close(g.doubling_days.unwrap(), 1.0), "{g:?}");
        let halving = growth(&[40, 20, 10, 5]).unwrap();
        assert!(close(halving.rate, -std::f64::consts::LN_2) && close(halving.doubling_days.unwrap(), 1.0));
        let gaps = growth(&[0, 1, 0, 4]).unwrap();
        assert!(close(gaps.rate, std::f64::consts::LN_2), "days without cases left out: {gaps:?}");
        assert_eq!(growth(&[3, 3, 3]).map(|g| (g.rate, g.doubling_days)), Some((0.0, None)));
        assert_eq!(growth(&[0, 5, 0]), None);
    }

    #[test]
    fn the_screens_rt_starts_once_twelve_cases_have_accumulated_and_follows_estimate_rt() {
        // 3 imported on day 0, then local cases: 0,1,1,2,2,3,3,4,5,6,8,10.
        let local = [0u64, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10];
        let mut days: Vec<DayCases> = local.iter().map(|l| DayCases { local: *l, imported: 0 }).collect();
        days[0].imported = 3;
        let series = rt_series(&days, 7);
        let si = discretised_si(OMICRON_SI.0, OMICRON_SI.1, days.len()).unwrap();
        let all = estimate_rt(&days, &si, 7, Prior::default()).unwrap();
        // Cumulative cases reach 12 on day 5 (0-based: 3 + 1 + 1 + 2 + 2 + 3).
        let reached = days
            .iter()
            .scan(0, |n, d| {
                *n += d.local + d.imported;
                Some(*n)
            })
            .position(|n| n >= RT_MIN_CASES)
            .unwrap();
        assert_eq!(reached, 5);
        assert!(!series.is_empty());
        assert!(series.iter().all(|(last, _)| *last >= reached));
        // Each shown estimate is estimate_rt's for the window ending that day.
        for (last, p) in &series {
            let w = all.iter().find(|w| w.t_end - 1 == *last).unwrap();
            assert_eq!(w.posterior.as_ref(), Some(p));
        }
        assert_eq!(series.len(), all.iter().filter(|w| w.posterior.is_some()).count());
        // Growing incidence: R above 1 at the end.
        assert!(series.last().unwrap().1.mean > 1.0);
        // A quiet start: estimates exist from the window ending on day 7, but 12 cases are
        // reached only on day 12 (1 + 1 + 1 + 2 + 3 + 5 = 13).
        let local = [0u64, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 5, 8];
        let mut quiet: Vec<DayCases> = local.iter().map(|l| DayCases { local: *l, imported: 0 }).collect();
        quiet[0].imported = 1;
        let si = discretised_si(OMICRON_SI.0, OMICRON_SI.1, quiet.len()).unwrap();
        let all = estimate_rt(&quiet, &si, 7, Prior::default()).unwrap();
        assert_eq!(all.iter().find(|w| w.posterior.is_some()).map(|w| w.t_end - 1), Some(7));
        let shown: Vec<usize> = rt_series(&quiet, 7).iter().map(|(last, _)| *last).collect();
        assert_eq!(shown, vec![12, 13]);
        // Fewer than 12 in all: nothing shown.
        let few: Vec<DayCases> = (0..10).map(|i| DayCases { local: u64::from(i % 2 == 0), imported: 0 }).collect();
        assert!(rt_series(&few, 7).is_empty());
    }
}
