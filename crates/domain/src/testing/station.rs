//! The sampling station's rules: a sampler opens a tube, scans people into it, and closes it.
//! Pure decisions about one scan; the store applies them and makes retries harmless.

use serde::{Deserialize, Serialize};

use super::pooling::PoolSize;

/// An open tube as the station sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenTube {
    pub pool: PoolSize,
    /// How many people it holds.
    pub held: usize,
    /// The people known to be in it, in order, for the check that nobody goes in twice. The
    /// station leaves it empty: it reads each person's earlier sample, and [`admit`] answers a
    /// scan into the same tube as a repeat before this tube's rule is asked.
    pub members: Vec<i64>,
    /// For household tubes: the household being sampled (set by the first member).
    pub household: Option<i64>,
    /// For household tubes: how many people live in that household.
    pub household_size: usize,
}

/// Where and when someone was already sampled in this round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierSample {
    pub barcode: String,
    pub site: String,
    pub at: String,
}

/// Why a scan is refused; each says what the sampler should do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum ScanRefusal {
    #[error("the tube is full ({capacity} people): close it and open a new tube")]
    TubeFull { capacity: usize },
    #[error("already in this tube: scan the next person")]
    AlreadyInTube,
    #[error("already sampled in this round (tube {}, {}, {}): do not sample again", .earlier.barcode, .earlier.site, .earlier.at)]
    AlreadySampled { earlier: EarlierSample },
    #[error("this tube is for one household: open a new tube for another household")]
    OtherHousehold,
    #[error("this person has no open recall in this round: re-test tubes are for recalled members of a positive pool")]
    NotRecalled,
    #[error("tube {barcode} is sealed: open a new tube")]
    Sealed { barcode: String },
    #[error("no person {person} in the register: register them first")]
    UnknownPerson { person: i64 },
}

/// Where the round already has a person's sample, as the station finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Earlier {
    Nowhere,
    /// In the tube being scanned: the scan is a repeat.
    ThisTube,
    /// In another tube of the round.
    Elsewhere(EarlierSample),
}

/// The tube a scan goes into, as the round's checks need it.
#[derive(Debug, Clone, Copy)]
pub struct TubeFacts<'a> {
    pub barcode: &'a str,
    pub sealed: bool,
    /// A single tube re-sampling a recalled member of a positive pool.
    pub retest: bool,
}

/// What the station knows of the person scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// In the register.
    pub known: bool,
    pub earlier: Earlier,
    /// Has an open recall in this round (what a re-test tube asks).
    pub recalled: bool,
}

/// A scan that passed the round's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    /// Goes to the tube's own rule ([`OpenTube::scan`]: room, household).
    New,
    /// Already in this tube: answered as it was, nothing changes.
    Repeat,
}

/// The round's checks on one scan, the same for a scan at the station and for a device's batch,
/// in the order the sampler hears them: a person already in this tube is a repeat; an unknown
/// person, someone sampled in another tube of the round (a re-test tube looks only at its own),
/// a sealed tube, and a re-test tube for someone without an open recall are refused.
pub fn admit(tube: TubeFacts<'_>, person: i64, c: &Candidate) -> Result<Admitted, ScanRefusal> {
    if c.earlier == Earlier::ThisTube {
        return Ok(Admitted::Repeat);
    }
    if !c.known {
        return Err(ScanRefusal::UnknownPerson { person });
    }
    if let (false, Earlier::Elsewhere(earlier)) = (tube.retest, &c.earlier) {
        return Err(ScanRefusal::AlreadySampled { earlier: earlier.clone() });
    }
    if tube.sealed {
        return Err(ScanRefusal::Sealed { barcode: tube.barcode.to_string() });
    }
    if tube.retest && !c.recalled {
        return Err(ScanRefusal::NotRecalled);
    }
    Ok(Admitted::New)
}

impl From<ScanRefusal> for crate::refusal::Refusal {
    /// The scan's refusal as the faces say it (`refused.tube_full`, …), a conflict with the tube's
    /// or the round's state.
    fn from(r: ScanRefusal) -> Self {
        use crate::refusal::Refusal;
        match r {
            ScanRefusal::TubeFull { capacity } => Refusal::conflict("refused.tube_full").with("capacity", capacity),
            ScanRefusal::AlreadyInTube => Refusal::conflict("refused.already_in_tube"),
            ScanRefusal::AlreadySampled { earlier } => Refusal::conflict("refused.already_sampled")
                .with("barcode", earlier.barcode)
                .with("site", earlier.site)
                .with("at", earlier.at),
            ScanRefusal::OtherHousehold => Refusal::conflict("refused.other_household"),
            ScanRefusal::NotRecalled => Refusal::conflict("refused.not_recalled"),
            ScanRefusal::Sealed { barcode } => Refusal::conflict("refused.sealed").with("barcode", barcode),
            ScanRefusal::UnknownPerson { person } => Refusal::missing("refused.unknown_person").with("person", person),
        }
    }
}

/// What happens after an accepted scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterScan {
    /// Room for more.
    Open { remaining: usize },
    /// The tube has reached its pool size and is sealed.
    Sealed,
}

impl OpenTube {
    pub fn new(pool: PoolSize) -> Self {
        OpenTube { pool, held: 0, members: vec![], household: None, household_size: 0 }
    }

    fn capacity(&self) -> usize {
        self.pool.capacity(self.household_size)
    }

    /// Decides one scan of `person` (living in `household` of `household_size` people) that
    /// passed the round's checks ([`admit`]): room in the tube, and one household in a household
    /// tube. On success the person is added.
    pub fn scan(&mut self, person: i64, household: Option<i64>, household_size: usize) -> Result<AfterScan, ScanRefusal> {
        if self.members.contains(&person) {
            return Err(ScanRefusal::AlreadyInTube);
        }
        if self.pool == PoolSize::Household {
            match (self.household, household) {
                (None, h) => {
                    self.household = h;
                    self.household_size = household_size.max(1);
                }
                (Some(mine), Some(theirs)) if mine == theirs => {}
                _ => return Err(ScanRefusal::OtherHousehold),
            }
        }
        if self.held >= self.capacity() {
            return Err(ScanRefusal::TubeFull { capacity: self.capacity() });
        }
        self.members.push(person);
        self.held += 1;
        let remaining = self.capacity() - self.held;
        Ok(if remaining == 0 { AfterScan::Sealed } else { AfterScan::Open { remaining } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_ten_tube_takes_ten_then_seals() {
        let mut t = OpenTube::new(PoolSize::People(10));
        for p in 0..9 {
            assert_eq!(t.scan(p, None, 1), Ok(AfterScan::Open { remaining: (9 - p) as usize }));
        }
        assert_eq!(t.scan(9, None, 1), Ok(AfterScan::Sealed));
        assert_eq!(t.scan(10, None, 1), Err(ScanRefusal::TubeFull { capacity: 10 }));
    }

    #[test]
    fn a_tube_known_by_its_count_seals_at_its_size() {
        // As the station reads it: nine held, nobody listed.
        let mut t = OpenTube { held: 9, ..OpenTube::new(PoolSize::People(10)) };
        assert_eq!(t.scan(42, None, 1), Ok(AfterScan::Sealed));
        assert_eq!(t.held, 10);
        assert_eq!(t.scan(43, None, 1), Err(ScanRefusal::TubeFull { capacity: 10 }));
        let mut five = OpenTube { held: 3, ..OpenTube::new(PoolSize::People(5)) };
        assert_eq!(five.scan(1, None, 1), Ok(AfterScan::Open { remaining: 1 }));
    }

    #[test]
    fn refusals_tell_the_sampler_what_to_do() {
        let mut t = OpenTube::new(PoolSize::People(10));
        t.scan(1, None, 1).unwrap();
        assert_eq!(t.scan(1, None, 1), Err(ScanRefusal::AlreadyInTube));
        assert_eq!(t.members, vec![1]);
    }

    #[test]
    fn the_rounds_checks_come_in_the_order_the_sampler_hears_them() {
        let earlier = EarlierSample { barcode: "QX00000001".into(), site: "东关村1号点".into(), at: "19:42".into() };
        let round = TubeFacts { barcode: "QX00000002", sealed: false, retest: false };
        let sealed = TubeFacts { sealed: true, ..round };
        let retest = TubeFacts { barcode: "RT00000001", sealed: false, retest: true };
        let person = |earlier: Earlier, recalled: bool| Candidate { known: true, earlier, recalled };
        // A repeat of a scan in this tube changes nothing, even once the tube is sealed.
        assert_eq!(admit(sealed, 1, &person(Earlier::ThisTube, false)), Ok(Admitted::Repeat));
        assert_eq!(admit(round, 1, &person(Earlier::Nowhere, false)), Ok(Admitted::New));
        let unknown = Candidate { known: false, ..person(Earlier::Nowhere, false) };
        assert_eq!(admit(round, 7, &unknown), Err(ScanRefusal::UnknownPerson { person: 7 }));
        // Sampled elsewhere is said before the sealed tube: it is what the sampler must know.
        let twice = admit(sealed, 1, &person(Earlier::Elsewhere(earlier.clone()), false)).unwrap_err();
        assert_eq!(twice, ScanRefusal::AlreadySampled { earlier: earlier.clone() });
        assert!(twice.to_string().contains("QX00000001") && twice.to_string().contains("do not sample again"));
        assert_eq!(admit(sealed, 1, &person(Earlier::Nowhere, false)), Err(ScanRefusal::Sealed { barcode: "QX00000002".into() }));
        // A re-test tube looks only at its own samples, and takes only the recalled.
        assert_eq!(admit(retest, 1, &person(Earlier::Elsewhere(earlier.clone()), true)), Ok(Admitted::New));
        assert_eq!(admit(retest, 1, &person(Earlier::Nowhere, false)), Err(ScanRefusal::NotRecalled));
    }

    #[test]
    fn a_household_tube_takes_exactly_one_household() {
        let mut t = OpenTube::new(PoolSize::Household);
        assert_eq!(t.scan(1, Some(7), 3), Ok(AfterScan::Open { remaining: 2 }));
        assert_eq!(t.scan(9, Some(8), 2), Err(ScanRefusal::OtherHousehold));
        assert_eq!(t.scan(2, Some(7), 3), Ok(AfterScan::Open { remaining: 1 }));
        assert_eq!(t.scan(3, Some(7), 3), Ok(AfterScan::Sealed));
    }

    proptest! {
        #[test]
        fn a_tube_never_holds_more_than_its_pool_or_anyone_twice(
            size in proptest::sample::select(vec![1u8, 5, 10, 20]),
            scans in proptest::collection::vec(0i64..30, 0..60),
        ) {
            let mut t = OpenTube::new(PoolSize::People(size));
            for p in scans {
                let _ = t.scan(p, None, 1);
            }
            prop_assert!(t.members.len() <= usize::from(size));
            prop_assert_eq!(t.held, t.members.len());
            let mut unique = t.members.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), t.members.len());
        }
    }
}
