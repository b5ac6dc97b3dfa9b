//! Staggered sampling (错峰采样): a site's opening window shared out among the grids, buildings
//! or villages it serves, each called in its own slot so that queues stay short and people do
//! not crowd. Slot lengths follow head counts, on a 5-minute grid, in the given order.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A part of the area a site serves, with the people expected from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub area_code: String,
    pub label: String,
    pub people: u32,
}

/// One slot: who is called, when, and how many are expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub area_code: String,
    pub label: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub expected: u32,
}

const STEP_MINUTES: i64 = 5;

/// Shares `[opens, closes)` among `parts` in order, each slot's length proportional to its head
/// count (at least one 5-minute step); the last slot ends when the site closes. Parts with
/// nobody get no slot. Empty when the window is shorter than one step per part.
pub fn stagger(parts: &[Part], opens: DateTime<Utc>, closes: DateTime<Utc>) -> Vec<Slot> {
    let parts: Vec<&Part> = parts.iter().filter(|p| p.people > 0).collect();
    let steps = (closes - opens).num_minutes() / STEP_MINUTES;
    if parts.is_empty() || steps < parts.len() as i64 {
        return vec![];
    }
    let total: u64 = parts.iter().map(|p| u64::from(p.people)).sum();
    // Every part gets one step; the rest are shared by head count (largest remainders last).
    let spare = steps - parts.len() as i64;
    let mut given: Vec<i64> = parts.iter().map(|p| 1 + (spare as u64 * u64::from(p.people) / total) as i64).collect();
    let left = steps - given.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((spare as u64 * u64::from(parts[i].people)) % total));
    for &i in order.iter().cycle().take(left.max(0) as usize) {
        given[i] += 1;
    }
    let mut at = opens;
    let mut out = Vec::with_capacity(parts.len());
    for (i, (p, n)) in parts.iter().zip(given).enumerate() {
        let ends = if i + 1 == parts.len() { closes } else { at + Duration::minutes(n * STEP_MINUTES) };
        out.push(Slot { area_code: p.area_code.clone(), label: p.label.clone(), starts_at: at, ends_at: ends, expected: p.people });
        at = ends;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2022-04-13T{h:02}:{m:02}:00+08:00")).unwrap().with_timezone(&Utc)
    }

    fn part(label: &str, people: u32) -> Part {
        Part { area_code: "140121100201".into(), label: label.into(), people }
    }

    #[test]
    fn slots_follow_head_counts_and_fill_the_window() {
        let slots = stagger(&[part("第1网格", 600), part("第2网格", 300), part("第3网格", 300)], at(18, 0), at(22, 0));
        let minutes: Vec<i64> = slots.iter().map(|s| (s.ends_at - s.starts_at).num_minutes()).collect();
        assert_eq!(minutes, vec![120, 60, 60]);
        assert_eq!((slots[0].starts_at, slots[2].ends_at), (at(18, 0), at(22, 0)));
        assert_eq!(slots[1].expected, 300);
    }

    #[test]
    fn empty_parts_get_no_slot_and_a_too_short_window_gives_none() {
        assert_eq!(stagger(&[part("空网格", 0), part("第1网格", 5)], at(8, 0), at(9, 0)).len(), 1);
        assert!(stagger(&[part("a", 5), part("b", 5)], at(8, 0), at(8, 5)).is_empty());
    }

    proptest! {
        #[test]
        fn slots_never_overlap_and_cover_the_window(people in proptest::collection::vec(1u32..5000, 1..40), hours in 1i64..24) {
            let parts: Vec<Part> = people.iter().enumerate().map(|(i, n)| part(&format!("第{i}网格"), *n)).collect();
            let opens = at(6, 0);
            let closes = opens + Duration::hours(hours);
            let slots = stagger(&parts, opens, closes);
            if (hours * 60 / STEP_MINUTES) < parts.len() as i64 {
                prop_assert!(slots.is_empty());
            } else {
                prop_assert_eq!(slots.len(), parts.len());
                prop_assert_eq!(slots[0].starts_at, opens);
                prop_assert_eq!(slots.last().unwrap().ends_at, closes);
                for w in slots.windows(2) {
                    prop_assert_eq!(w[0].ends_at, w[1].starts_at);
                }
                for s in &slots {
                    prop_assert!(s.ends_at - s.starts_at >= Duration::minutes(STEP_MINUTES));
                }
            }
        }
    }
}
