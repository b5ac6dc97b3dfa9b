//! The sampling station's rules: a sampler opens a tube, scans people into it, and closes it.
//! Pure decisions about one scan; the store applies them and makes retries harmless.

use serde::{Deserialize, Serialize};

use super::pooling::PoolSize;

/// An open tube as the station sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenTube {
    pub pool: PoolSize,
    /// People already scanned into it, in order.
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
        OpenTube { pool, members: vec![], household: None, household_size: 0 }
    }

    fn capacity(&self) -> usize {
        self.pool.capacity(self.household_size)
    }

    /// Decides one scan of `person` (living in `household` of `household_size` people), given
    /// whether they were sampled earlier in the round. On success the person is added.
    pub fn scan(
        &mut self,
        person: i64,
        household: Option<i64>,
        household_size: usize,
        earlier: Option<EarlierSample>,
    ) -> Result<AfterScan, ScanRefusal> {
        if self.members.contains(&person) {
            return Err(ScanRefusal::AlreadyInTube);
        }
        if let Some(earlier) = earlier {
            return Err(ScanRefusal::AlreadySampled { earlier });
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
        if self.members.len() >= self.capacity() {
            return Err(ScanRefusal::TubeFull { capacity: self.capacity() });
        }
        self.members.push(person);
        let remaining = self.capacity() - self.members.len();
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
            assert_eq!(t.scan(p, None, 1, None), Ok(AfterScan::Open { remaining: (9 - p) as usize }));
        }
        assert_eq!(t.scan(9, None, 1, None), Ok(AfterScan::Sealed));
        assert_eq!(t.scan(10, None, 1, None), Err(ScanRefusal::TubeFull { capacity: 10 }));
    }

    #[test]
    fn refusals_tell_the_sampler_what_to_do() {
        let mut t = OpenTube::new(PoolSize::People(10));
        t.scan(1, None, 1, None).unwrap();
        assert_eq!(t.scan(1, None, 1, None), Err(ScanRefusal::AlreadyInTube));
        let earlier = EarlierSample { barcode: "QX00000001".into(), site: "东关村1号点".into(), at: "19:42".into() };
        let refusal = t.scan(2, None, 1, Some(earlier)).unwrap_err();
        assert!(refusal.to_string().contains("QX00000001") && refusal.to_string().contains("do not sample again"));
        assert_eq!(t.members, vec![1]);
    }

    #[test]
    fn a_household_tube_takes_exactly_one_household() {
        let mut t = OpenTube::new(PoolSize::Household);
        assert_eq!(t.scan(1, Some(7), 3, None), Ok(AfterScan::Open { remaining: 2 }));
        assert_eq!(t.scan(9, Some(8), 2, None), Err(ScanRefusal::OtherHousehold));
        assert_eq!(t.scan(2, Some(7), 3, None), Ok(AfterScan::Open { remaining: 1 }));
        assert_eq!(t.scan(3, Some(7), 3, None), Ok(AfterScan::Sealed));
    }

    proptest! {
        #[test]
        fn a_tube_never_holds_more_than_its_pool_or_anyone_twice(
            size in proptest::sample::select(vec![1u8, 5, 10, 20]),
            scans in proptest::collection::vec(0i64..30, 0..60),
        ) {
            let mut t = OpenTube::new(PoolSize::People(size));
            for p in scans {
                let _ = t.scan(p, None, 1, None);
            }
            prop_assert!(t.members.len() <= usize::from(size));
            let mut unique = t.members.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), t.members.len());
        }
    }
}
