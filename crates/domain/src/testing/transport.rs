//! Transport of tubes from sampling sites to labs: what a receipt check finds (tubes missing from
//! the box, barcodes that were not in it), and lab turnaround figures.

use std::collections::BTreeSet;

use serde::Serialize;

/// What the lab found when it scanned a box against its list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ReceiptCheck {
    /// In the batch and scanned.
    pub received: Vec<String>,
    /// In the batch, not scanned (yet).
    pub missing: Vec<String>,
    /// Scanned, not in the batch.
    pub extra: Vec<String>,
}

/// Compares the barcodes a batch was sent with against those scanned at receipt. Each list is
/// sorted and without repeats; scanning a barcode twice counts it once.
pub fn check_receipt<'a>(sent: impl IntoIterator<Item = &'a str>, scanned: impl IntoIterator<Item = &'a str>) -> ReceiptCheck {
    let sent: BTreeSet<&str> = sent.into_iter().collect();
    let scanned: BTreeSet<&str> = scanned.into_iter().collect();
    ReceiptCheck {
        received: sent.intersection(&scanned).map(|s| s.to_string()).collect(),
        missing: sent.difference(&scanned).map(|s| s.to_string()).collect(),
        extra: scanned.difference(&sent).map(|s| s.to_string()).collect(),
    }
}

/// Lab turnaround targets in hours (DOMAIN: fever clinic ≤ 6 h, routine ≤ 12 h, voluntary ≤ 24 h).
pub const ROUTINE_TURNAROUND_HOURS: i64 = 12;

/// Turnaround of a set of tubes, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Turnaround {
    pub tubes: usize,
    pub p50: Option<i64>,
    pub p90: Option<i64>,
    pub max: Option<i64>,
    /// Tubes that took longer than the target.
    pub over_target: usize,
}

/// Nearest-rank percentiles of durations in minutes, and how many exceed `target_minutes`.
pub fn turnaround(mut minutes: Vec<i64>, target_minutes: i64) -> Turnaround {
    minutes.sort_unstable();
    let rank = |p: usize| -> Option<i64> {
        if minutes.is_empty() {
            return None;
        }
        let k = (p * minutes.len()).div_ceil(100).max(1);
        Some(minutes[k - 1])
    };
    Turnaround {
        tubes: minutes.len(),
        p50: rank(50),
        p90: rank(90),
        max: minutes.last().copied(),
        over_target: minutes.iter().filter(|m| **m > target_minutes).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_lists_what_is_missing_and_what_was_not_sent() {
        let check = check_receipt(["A1", "A2", "A3"], ["A3", "A1", "B9", "A1"]);
        assert_eq!(check.received, ["A1", "A3"]);
        assert_eq!(check.missing, ["A2"]);
        assert_eq!(check.extra, ["B9"]);
    }

    #[test]
    fn turnaround_uses_nearest_rank_percentiles() {
        let t = turnaround((1..=10).map(|h| h * 60).collect(), 12 * 60);
        assert_eq!((t.tubes, t.p50, t.p90, t.max), (10, Some(300), Some(540), Some(600)));
        assert_eq!(t.over_target, 0);
        let t = turnaround(vec![800, 30, 700], 12 * 60);
        assert_eq!((t.p50, t.p90, t.max, t.over_target), (Some(700), Some(800), Some(800), 1));
        assert_eq!(turnaround(vec![], 720), Turnaround::default());
    }

    proptest::proptest! {
        #[test]
        fn every_sent_barcode_is_received_or_missing(sent in proptest::collection::vec("[A-C][0-9]", 0..12), scanned in proptest::collection::vec("[A-D][0-9]", 0..12)) {
            let check = check_receipt(sent.iter().map(String::as_str), scanned.iter().map(String::as_str));
            let sent: BTreeSet<_> = sent.iter().cloned().collect();
            let back: BTreeSet<_> = check.received.iter().chain(&check.missing).cloned().collect();
            proptest::prop_assert_eq!(sent.clone(), back);
            proptest::prop_assert!(check.extra.iter().all(|e| !sent.contains(e)));
        }

        #[test]
        fn percentiles_are_ordered(minutes in proptest::collection::vec(0i64..5000, 1..50)) {
            let t = turnaround(minutes, 720);
            proptest::prop_assert!(t.p50 <= t.p90 && t.p90 <= t.max);
        }
    }
}
