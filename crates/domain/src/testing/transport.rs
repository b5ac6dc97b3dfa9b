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

/// How a tube reached the lab that sends a result for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Journey<'a> {
    /// A single tube taken at a door (a re-test of a recalled pool, an observation test) is
    /// carried straight to a lab by the team that took it, not boxed at a site.
    pub carried_by_hand: bool,
    /// The tube's site sends its tubes to labs in boxes in this round (it sent at least one): a
    /// site that hands its tubes to the lab directly sends none.
    pub round_boxed: bool,
    /// The box the tube was sent in, if any.
    pub boxed: Option<Boxed<'a>>,
    /// The lab whose receipt scan found the tube in a box it was not listed in, if any.
    pub extra_at: Option<i64>,
}

/// The box a tube was sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boxed<'a> {
    pub lab_id: i64,
    pub label: &'a str,
    /// The lab has scanned the box in.
    pub box_received: bool,
    /// The tube was scanned at that receipt.
    pub tube_received: bool,
}

/// Why a lab may not send a result for a tube.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReceived<'a> {
    /// The tube's box went to another lab.
    OtherLab { label: &'a str },
    /// The tube's box has not been scanned in yet.
    BoxNotReceived { label: &'a str },
    /// The box was scanned in without this tube.
    MissingAtReceipt { label: &'a str },
    /// A tube of a round that sends boxes, never put in one.
    NeverBoxed,
}

/// Whether `lab_id` may send a result for a tube that travelled so (the chain of custody:
/// sealed → boxed → received → resulted). A tube in a box: only from the box's lab, once the
/// box was received with the tube in it. A tube found as an extra at a lab's receipt: from that
/// lab. A pooled tube of a round that sends boxes and was never boxed: from no lab — the barcode
/// is more likely mistyped than the tube walked over. A single tube taken at a door and carried
/// by hand, or a tube of a round that sends no boxes (tubes handed to the lab directly): from
/// any lab.
pub fn result_may_come_from<'a>(journey: &Journey<'a>, lab_id: i64) -> Result<(), NotReceived<'a>> {
    if journey.extra_at == Some(lab_id) {
        return Ok(());
    }
    match journey.boxed {
        Some(b) if b.lab_id != lab_id => Err(NotReceived::OtherLab { label: b.label }),
        Some(b) if !b.box_received => Err(NotReceived::BoxNotReceived { label: b.label }),
        Some(b) if !b.tube_received => Err(NotReceived::MissingAtReceipt { label: b.label }),
        Some(_) => Ok(()),
        None if journey.round_boxed && !journey.carried_by_hand => Err(NotReceived::NeverBoxed),
        None => Ok(()),
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
    fn a_result_comes_only_from_the_lab_that_received_the_tube() {
        let boxed = |lab_id, box_received, tube_received| Boxed { lab_id, label: "东关-01", box_received, tube_received };
        let j = |boxed, round_boxed, carried_by_hand, extra_at| Journey { carried_by_hand, round_boxed, boxed, extra_at };
        assert_eq!(result_may_come_from(&j(Some(boxed(1, true, true)), true, false, None), 1), Ok(()));
        assert_eq!(
            result_may_come_from(&j(Some(boxed(1, true, true)), true, false, None), 2),
            Err(NotReceived::OtherLab { label: "东关-01" })
        );
        assert_eq!(
            result_may_come_from(&j(Some(boxed(1, false, false)), true, false, None), 1),
            Err(NotReceived::BoxNotReceived { label: "东关-01" }),
            "on the road"
        );
        assert_eq!(
            result_may_come_from(&j(Some(boxed(1, true, false)), true, false, None), 1),
            Err(NotReceived::MissingAtReceipt { label: "东关-01" })
        );
        assert_eq!(result_may_come_from(&j(None, true, false, None), 1), Err(NotReceived::NeverBoxed), "a mistyped barcode, likely");
        assert_eq!(result_may_come_from(&j(None, true, false, Some(1)), 1), Ok(()), "found in another box at this lab's receipt");
        assert_eq!(result_may_come_from(&j(None, true, true, None), 1), Ok(()), "a door re-test carried by hand");
        assert_eq!(result_may_come_from(&j(None, false, false, None), 1), Ok(()), "a round that sends no boxes");
        assert_eq!(
            result_may_come_from(&j(Some(boxed(1, true, true)), true, true, None), 2),
            Err(NotReceived::OtherLab { label: "东关-01" }),
            "a boxed door tube still goes to its box's lab"
        );
    }

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
