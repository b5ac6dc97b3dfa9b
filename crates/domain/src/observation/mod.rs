//! Medical observation: rule sets as data, the schedule of each person under observation, and
//! the states an observation order moves through.

pub mod rules;
pub mod schedule;

use crate::access::named_enum;
use crate::cases::exposure::Degree;

pub use rules::{Category, Plan, RuleError, RuleSet, Stage, StageKind};
pub use schedule::{Blocker, Moved, Outcome, Schedule, Taken, after_site};

named_enum! {
    /// Where an observation order stands; `Case` when the person turned positive.
    Status {
        AwaitingTransfer => "awaiting_transfer", "待转运";
        InTransit => "in_transit", "转运中";
        Centralized => "centralized", "集中隔离中";
        HomeQuarantine => "home_quarantine", "居家隔离中";
        HomeMonitoring => "home_monitoring", "居家健康监测中";
        Released => "released", "已解除";
        Case => "case", "转为病例";
    }
}

impl Status {
    /// Where an order ends: released, or become a case. Nothing moves it on.
    pub const FINAL: [Status; 2] = [Status::Released, Status::Case];

    /// Released or a case: nothing more happens to the order.
    pub fn is_final(self) -> bool {
        Self::FINAL.contains(&self)
    }

    /// The state of someone serving a stage.
    pub fn serving(stage: StageKind) -> Status {
        match stage {
            StageKind::Centralized => Status::Centralized,
            StageKind::HomeQuarantine => Status::HomeQuarantine,
            StageKind::HomeMonitoring => Status::HomeMonitoring,
        }
    }

    /// Whether someone in this state may be given a room at a site: waiting for (or on) their
    /// transfer, or at home under quarantine when a new rule puts them in a site.
    pub fn waits_for_room(self) -> bool {
        matches!(self, Status::AwaitingTransfer | Status::InTransit | Status::HomeQuarantine)
    }

    /// Whether an order may move from `self` to `to`. Every open order may become a case.
    /// A person at home goes back in transit when a new rule puts them in a site (a secondary
    /// contact whose close contact turned positive); a person in a site goes home (in a
    /// point-to-point transfer) or is released there.
    pub fn may_become(self, to: Status) -> bool {
        use Status::*;
        if self.is_final() {
            return false;
        }
        matches!(
            (self, to),
            (_, Case)
                | (AwaitingTransfer, InTransit | HomeQuarantine | HomeMonitoring | Released)
                | (InTransit, Centralized | HomeQuarantine | HomeMonitoring)
                | (Centralized, InTransit | HomeQuarantine | HomeMonitoring | Released)
                | (HomeQuarantine, InTransit | HomeMonitoring | Released)
                | (HomeMonitoring, InTransit | Released)
        )
    }
}

/// Leaving a site's room for `to`: the status now and the one the ride home brings. Going home
/// for a home stage is a point-to-point ride, in transit until it arrives; a release takes
/// effect at the door (the ride still takes them home).
pub fn leaving_site(to: Status) -> (Status, Option<Status>) {
    match to {
        Status::HomeQuarantine | Status::HomeMonitoring => (Status::InTransit, Some(to)),
        _ => (to, None),
    }
}

/// What follows when someone traced turns positive and becomes a case (阳性密接的次密接升为密接).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnsPositive {
    /// Their own observation order ends so.
    pub own_order: Status,
    /// The exposures they were the source of move from this degree…
    pub exposures_from: Degree,
    /// …to this one: their contacts are now a case's contacts.
    pub exposures_to: Degree,
    /// The open orders of people traced through them move from this category…
    pub orders_from: Category,
    /// …to this one, and their schedules are recomputed under the rule set in force.
    pub orders_to: Category,
}

/// The rule for a contact who turns positive: their order ends as a case, and their secondary
/// contacts become close contacts, in the exposures and in the orders still open.
pub fn turns_positive() -> TurnsPositive {
    TurnsPositive {
        own_order: Status::Case,
        exposures_from: Degree::Secondary,
        exposures_to: Degree::Close,
        orders_from: Category::SecondaryContact,
        orders_to: Category::CloseContact,
    }
}

/// A temperature at or above this is a fever (37.3 °C).
pub const FEVER_C: f32 = 37.3;

/// Whether a health check calls for the site doctor: a fever or any symptom.
pub fn needs_attention(temperature: f32, symptoms: &str) -> bool {
    temperature >= FEVER_C || !symptoms.trim().is_empty()
}

named_enum! {
    /// Where a room of a quarantine site stands.
    RoomStatus {
        Free => "free", "空闲";
        Occupied => "occupied", "已入住";
        Cleaning => "cleaning", "待消杀";
        OutOfUse => "out_of_use", "停用";
    }
}

named_enum! {
    /// What kind of building a quarantine site is.
    SiteKind {
        Hotel => "hotel", "酒店";
        Dormitory => "dormitory", "宿舍";
        PurposeBuilt => "purpose_built", "方舱式隔离点";
        Other => "other", "其他";
    }
}

impl RoomStatus {
    /// Whether a room may move to `to` by hand: a cleaned room is free again, an empty room may
    /// be taken out of use and back. Occupied and emptied rooms move by check-in and check-out
    /// only ([`RoomStatus::after_check_out`]).
    pub fn may_become(self, to: RoomStatus) -> bool {
        use RoomStatus::*;
        matches!((self, to), (Cleaning, Free) | (Free, OutOfUse) | (OutOfUse, Free) | (Cleaning, OutOfUse))
    }

    /// A room's status once one of its `occupants` has left: the last one leaves it to be
    /// cleaned before anyone else moves in; others leave it as it was.
    pub fn after_check_out(self, occupants: u32) -> RoomStatus {
        if occupants <= 1 { RoomStatus::Cleaning } else { self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_who_turns_positive_ends_as_a_case_and_their_secondary_contacts_become_close() {
        let r = turns_positive();
        assert!(r.own_order.is_final());
        assert_eq!((r.exposures_from, r.exposures_to), (Degree::Secondary, Degree::Close));
        assert_eq!((r.orders_from, r.orders_to), (Category::SecondaryContact, Category::CloseContact));
    }

    #[test]
    fn orders_move_forward_and_end_as_released_or_case() {
        use Status::*;
        assert!(AwaitingTransfer.may_become(InTransit));
        assert!(InTransit.may_become(Centralized));
        assert!(Centralized.may_become(HomeMonitoring));
        assert!(HomeMonitoring.may_become(Released));
        assert!(HomeQuarantine.may_become(InTransit));
        assert!(!Released.may_become(Case));
        assert!(!Case.may_become(Released));
        assert!(!HomeMonitoring.may_become(Centralized));
        assert!(!InTransit.may_become(Released));
        assert!(Status::ALL.iter().filter(|s| !s.is_final()).all(|s| s.may_become(Case)));
        assert_eq!(Status::serving(StageKind::HomeQuarantine), HomeQuarantine);
        assert_eq!("in_transit".parse::<Status>().unwrap(), InTransit);
    }

    #[test]
    fn going_home_for_a_home_stage_rides_first_and_a_release_is_at_the_door() {
        assert_eq!(leaving_site(Status::HomeMonitoring), (Status::InTransit, Some(Status::HomeMonitoring)));
        assert_eq!(leaving_site(Status::Released), (Status::Released, None));
    }

    #[test]
    fn only_people_on_their_way_or_at_home_wait_for_a_room() {
        let waiting: Vec<Status> = Status::ALL.iter().copied().filter(|s| s.waits_for_room()).collect();
        assert_eq!(waiting, [Status::AwaitingTransfer, Status::InTransit, Status::HomeQuarantine]);
    }

    #[test]
    fn rooms_are_cleaned_before_reuse_and_fevers_are_flagged() {
        use RoomStatus::*;
        assert!(Cleaning.may_become(Free));
        assert!(!Occupied.may_become(Free), "check-out empties a room");
        assert!(!Free.may_become(Occupied), "check-in fills a room");
        assert_eq!(Occupied.after_check_out(1), Cleaning, "the last one out leaves it to be cleaned");
        assert_eq!(Occupied.after_check_out(2), Occupied);
        assert!(needs_attention(37.3, "") && needs_attention(36.5, "咳嗽") && !needs_attention(37.2, " "));
    }
}
