//! How many sampling sites, stations, samplers and sampling groups a population needs to be
//! sampled by a deadline (NHC 2022: a site per 2,000–3,000 residents, a station per 600–800,
//! samplers = population ÷ 360 for a 24-hour round; a local figure of ~1,800 samples per group per day).

use serde::{Deserialize, Serialize};

/// The ratios behind a plan; every number is a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SizingRules {
    pub residents_per_site: (u32, u32),
    pub residents_per_station: (u32, u32),
    /// Residents per sampler for a round finished in 24 hours.
    pub residents_per_sampler_24h: u32,
    pub samples_per_group_per_day: u32,
}

impl Default for SizingRules {
    fn default() -> Self {
        SizingRules {
            residents_per_site: (2_000, 3_000),
            residents_per_station: (600, 800),
            residents_per_sampler_24h: 360,
            samples_per_group_per_day: 1_800,
        }
    }
}

/// What a round needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizingPlan {
    /// Fewest and most sites by the per-site ratio.
    pub sites: (u32, u32),
    pub stations: (u32, u32),
    /// Samplers needed to finish by the deadline.
    pub samplers: u32,
    /// Sampling groups needed to finish by the deadline.
    pub groups: u32,
}

fn div_ceil(a: u64, b: u64) -> u32 {
    a.div_ceil(b.max(1)) as u32
}

impl SizingRules {
    /// The plan for `population` people sampled within `hours` (a shorter deadline needs more
    /// hands; sites and stations follow the population).
    pub fn plan(&self, population: u32, hours: u32) -> SizingPlan {
        let pop = u64::from(population);
        let hours = u64::from(hours.max(1));
        SizingPlan {
            sites: (div_ceil(pop, u64::from(self.residents_per_site.1)), div_ceil(pop, u64::from(self.residents_per_site.0))),
            stations: (div_ceil(pop, u64::from(self.residents_per_station.1)), div_ceil(pop, u64::from(self.residents_per_station.0))),
            samplers: div_ceil(pop * 24, u64::from(self.residents_per_sampler_24h) * hours),
            groups: div_ceil(pop * 24, u64::from(self.samples_per_group_per_day) * hours),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn qingxu_east_in_six_hours() {
        // 119,246 people sampled in 6 hours (the seed scenario).
        let plan = SizingRules::default().plan(119_246, 6);
        assert_eq!(plan.sites, (40, 60));
        assert_eq!(plan.stations, (150, 199));
        assert_eq!(plan.samplers, 1_325);
        assert_eq!(plan.groups, 265);
    }

    #[test]
    fn a_day_long_round_uses_the_plain_ratio() {
        assert_eq!(SizingRules::default().plan(3_600, 24).samplers, 10);
    }

    proptest! {
        #[test]
        fn a_shorter_deadline_never_needs_fewer_hands(pop in 1u32..20_000_000, h in 1u32..72) {
            let r = SizingRules::default();
            let (slow, fast) = (r.plan(pop, h + 1), r.plan(pop, h));
            prop_assert!(fast.samplers >= slow.samplers && fast.groups >= slow.groups);
            prop_assert!(fast.sites.0 <= fast.sites.1 && fast.stations.0 <= fast.stations.1);
        }
    }
}
