//! Coverage of a round ("no household, no person missed"): which parts of an area a round
//! covers, and the area's totals over those parts.

/// Whether an area shares ground with a round: it lies inside one of the round's areas or
/// contains one (area codes nest by prefix).
pub fn shares_ground<'a>(code: &str, round_areas: impl IntoIterator<Item = &'a str>) -> bool {
    round_areas.into_iter().any(|a| code.starts_with(a) || a.starts_with(code))
}

/// Residents expected, sampled and accounted for otherwise in one area of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub expected: i64,
    pub sampled: i64,
    pub exempted: i64,
}

/// An area's totals in a round when only some of its parts are in the round: the sum of those
/// parts, so that people the round never meant to sample are not counted as missing. When every
/// part is in the round the area's own totals stand (people registered at the area itself, not
/// in a part, still count).
pub fn area_totals(own: Counts, parts: &[(Counts, bool)]) -> Counts {
    if parts.iter().all(|(_, inside)| *inside) {
        return own;
    }
    parts.iter().filter(|(_, inside)| *inside).fold(Counts::default(), |t, (c, _)| Counts {
        expected: t.expected + c.expected,
        sampled: t.sampled + c.sampled,
        exempted: t.exempted + c.exempted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_shares_ground_inside_or_around_a_round_area() {
        let round = ["140121100"];
        assert!(shares_ground("140121100201", round), "a village of the township");
        assert!(shares_ground("140121", round), "the county holding it");
        assert!(!shares_ground("140121101", round), "the next township");
    }

    #[test]
    fn a_county_of_which_one_township_is_tested_totals_that_township_only() {
        let c = |expected, sampled, exempted| Counts { expected, sampled, exempted };
        let county = c(40, 15, 2);
        let parts = [(c(20, 15, 2), true), (c(20, 0, 0), false)];
        assert_eq!(area_totals(county, &parts), c(20, 15, 2));
        assert_eq!(area_totals(county, &[(c(20, 15, 2), true), (c(19, 0, 0), true)]), county, "all parts in: own totals");
    }
}
