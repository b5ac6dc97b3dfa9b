//! Failed sign-ins and when they lock: the rule behind the sign-in page's throttle.
//!
//! Failures are counted three ways. Five wrong passwords for one account from one address lock
//! that pair only, so a stranger guessing the commander's password does not lock the commander
//! out of their own desk. Twenty from one address, whatever the accounts, lock the address (a
//! guesser trying many names). Fifty for one account from addresses it has never signed in from
//! lock the account for strangers only: its owner still signs in from an address they used before.
//! Each lock lasts [`LOCK_MINUTES`] from the failure that set it; failures older than
//! [`WINDOW_MINUTES`] are forgotten.

use chrono::{DateTime, Duration, Utc};

/// How long a lock holds.
pub const LOCK_MINUTES: i64 = 15;
/// How far back failures count.
pub const WINDOW_MINUTES: i64 = 15;

/// What failures are counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One account from one address.
    Pair,
    /// One address, any account.
    Address,
    /// One account from addresses it has not signed in from before.
    Account,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Pair, Scope::Address, Scope::Account];

    /// Failures within the window that set a lock.
    pub fn limit(self) -> u32 {
        match self {
            Scope::Pair => 5,
            Scope::Address => 20,
            Scope::Account => 50,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Pair => "pair",
            Scope::Address => "address",
            Scope::Account => "account",
        }
    }

    /// The key failures are counted under: the account name folded to lower case, the address
    /// as written.
    pub fn key(self, username: &str, addr: &str) -> String {
        let user = username.trim().to_lowercase();
        match self {
            Scope::Pair => format!("{user} {addr}"),
            Scope::Address => addr.to_string(),
            Scope::Account => user,
        }
    }

    /// Whether this count applies to a sign-in from an address the account has (or has not)
    /// signed in from before.
    pub fn applies(self, familiar: bool) -> bool {
        !(self == Scope::Account && familiar)
    }
}

/// The failures counted under one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub failures: u32,
    /// The first failure still counted.
    pub since: DateTime<Utc>,
    /// Set when the count reached the limit.
    pub locked_until: Option<DateTime<Utc>>,
}

impl Tally {
    /// Minutes left (rounded up) while locked at `now`.
    pub fn blocked(&self, now: DateTime<Utc>) -> Option<i64> {
        let until = self.locked_until.filter(|u| *u > now)?;
        let seconds = (until - now).num_seconds();
        Some((seconds + 59) / 60)
    }

    /// The tally after one more failure at `now`: a lapsed count starts again; reaching the
    /// limit locks. The second field says whether this failure set the lock (to be recorded).
    pub fn after_failure(prev: Option<Tally>, scope: Scope, now: DateTime<Utc>) -> (Tally, bool) {
        let live = prev.filter(|t| now - t.since < Duration::minutes(WINDOW_MINUTES) || t.blocked(now).is_some());
        let mut t = match live {
            Some(t) => Tally { failures: t.failures + 1, ..t },
            None => Tally { failures: 1, since: now, locked_until: None },
        };
        let locks = t.blocked(now).is_none() && t.failures >= scope.limit();
        if locks {
            t.locked_until = Some(now + Duration::minutes(LOCK_MINUTES));
            // A new count starts behind the lock.
            t.failures = 0;
            t.since = now;
        }
        (t, locks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_650_000_000, 0).unwrap() + Duration::minutes(minute)
    }

    fn fail(scope: Scope, times: u32, minute: i64, prev: Option<Tally>) -> (Tally, u32) {
        let (mut t, mut locks) = (prev, 0);
        for _ in 0..times {
            let (next, locked) = Tally::after_failure(t, scope, at(minute));
            locks += u32::from(locked);
            t = Some(next);
        }
        (t.unwrap(), locks)
    }

    #[test]
    fn the_fifth_failure_of_a_pair_locks_it_for_fifteen_minutes_and_is_recorded_once() {
        let (t, locks) = fail(Scope::Pair, 4, 0, None);
        assert_eq!((t.blocked(at(0)), locks), (None, 0));
        let (t, locks) = fail(Scope::Pair, 1, 1, Some(t));
        assert_eq!((t.blocked(at(1)), locks), (Some(15), 1));
        assert_eq!(t.blocked(at(15)), Some(1));
        assert_eq!(t.blocked(at(16)), None);
        // More failures while locked do not lock again or lengthen the lock.
        let (t2, locks) = fail(Scope::Pair, 10, 2, Some(t));
        assert_eq!((t2.locked_until, locks), (t.locked_until, 0));
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_lock() {
        let mut t = None;
        for minute in [0, 16, 32, 48, 64, 80] {
            let (next, locked) = Tally::after_failure(t, Scope::Pair, at(minute));
            assert!(!locked);
            t = Some(next);
        }
        assert_eq!(t.unwrap().failures, 1);
    }

    #[test]
    fn each_scope_has_its_limit_and_the_account_count_spares_familiar_addresses() {
        assert_eq!(fail(Scope::Address, 19, 0, None).1, 0);
        assert_eq!(fail(Scope::Address, 20, 0, None).1, 1);
        assert_eq!(fail(Scope::Account, 50, 0, None).1, 1);
        assert!(Scope::Account.applies(false) && !Scope::Account.applies(true));
        assert!(Scope::Pair.applies(true) && Scope::Address.applies(true));
        assert_eq!(Scope::Pair.key(" Commander ", "10.0.0.1"), "commander 10.0.0.1");
        assert_eq!(Scope::Account.key("Commander", "10.0.0.1"), "commander");
    }
}
