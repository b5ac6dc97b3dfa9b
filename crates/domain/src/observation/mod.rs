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
        AwaitingHome => "awaiting_home", "待居家隔离";
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

    /// Whether the person is on their way to a site (given a room, not checked in yet): the
    /// site checks them in. Someone who turned positive there is not checked in again.
    pub fn coming_to_site(self) -> bool {
        matches!(self, Status::AwaitingTransfer | Status::InTransit)
    }

    /// The state of someone serving a stage.
    pub fn serving(stage: StageKind) -> Status {
        match stage {
            StageKind::Centralized => Status::Centralized,
            StageKind::HomeQuarantine => Status::HomeQuarantine,
            StageKind::HomeMonitoring => Status::HomeMonitoring,
        }
    }

    /// Where a new order waits: for a transfer when its plan starts in a site, on the
    /// community's home list when it starts at home (待居家隔离), until the community starts it.
    pub fn waiting_for(entry: StageKind) -> Status {
        match entry {
            StageKind::Centralized => Status::AwaitingTransfer,
            StageKind::HomeQuarantine | StageKind::HomeMonitoring => Status::AwaitingHome,
        }
    }

    /// Where an order stands once its schedule is recomputed. Someone still waiting, with no
    /// room held for them, waits where the new plan starts (`due`, the stage it puts today in);
    /// someone given a room keeps waiting for their ride. Someone at home whom the new plan puts
    /// in a site for the first time (`site_newly_due`: a secondary contact whose close contact
    /// turned positive) waits for a transfer; someone who already served a site and went home
    /// stays home. Everyone else stays where they are: people in a site or on the road move by
    /// check-in and check-out.
    pub fn placed(self, due: Option<StageKind>, has_room: bool, site_newly_due: bool) -> Status {
        use Status::*;
        match (self, due) {
            (AwaitingTransfer | AwaitingHome, Some(stage)) if !has_room => Status::waiting_for(stage),
            (HomeQuarantine | HomeMonitoring, Some(StageKind::Centralized)) if site_newly_due && !has_room => AwaitingTransfer,
            _ => self,
        }
    }

    /// Whether someone in this state may be given a room at a site: waiting for (or on) their
    /// transfer, waiting to start at home, or at home under quarantine when a new rule puts
    /// them in a site.
    pub fn waits_for_room(self) -> bool {
        matches!(self, Status::AwaitingTransfer | Status::AwaitingHome | Status::InTransit | Status::HomeQuarantine)
    }

    /// Where someone given a room at a site stands: a person waiting at home or at home needs
    /// a ride there, so waits for a transfer; others are as they were.
    pub fn given_room(self) -> Status {
        match self {
            Status::AwaitingHome | Status::HomeQuarantine => Status::AwaitingTransfer,
            s => s,
        }
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
                | (AwaitingTransfer, InTransit | AwaitingHome | HomeQuarantine | HomeMonitoring | Released)
                | (AwaitingHome, AwaitingTransfer | InTransit | HomeQuarantine | HomeMonitoring | Released)
                | (InTransit, Centralized | HomeQuarantine | HomeMonitoring)
                | (Centralized, InTransit | HomeQuarantine | HomeMonitoring | Released)
                | (HomeQuarantine, AwaitingTransfer | InTransit | HomeMonitoring | Released)
                | (HomeMonitoring, AwaitingTransfer | InTransit | Released)
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

/// A body temperature as a person types it at a site or a door: digits and a point (`36.8`;
/// `1e1` is not a temperature anyone writes), within what a living body reads (34–43 °C).
pub fn read_temperature(typed: &str) -> Result<f32, crate::refusal::Refusal> {
    let typed = typed.trim();
    let plain = !typed.is_empty() && typed.chars().all(|c| c.is_ascii_digit() || c == '.');
    let t = typed.parse::<f32>().ok().filter(|_| plain).ok_or_else(|| crate::refusal!("quarantine.bad_temperature"))?;
    check_temperature(t)?;
    Ok(t)
}

/// Whether a temperature is one a living body reads (34–43 °C).
pub fn check_temperature(t: f32) -> Result<(), crate::refusal::Refusal> {
    if (34.0..=43.0).contains(&t) { Ok(()) } else { Err(crate::refusal!("refused.temperature_invalid", temperature = t)) }
}

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
    #[test]
    fn a_temperature_reads_as_typed_and_only_as_a_body_reads() {
        assert_eq!(super::read_temperature(" 36.8 "), Ok(36.8));
        for typed in ["", "abc", "1e1", "36,8", "-36"] {
            assert_eq!(super::read_temperature(typed).map_err(|r| r.kind), Err("quarantine.bad_temperature"), "{typed:?}");
        }
        assert_eq!(super::read_temperature("368").map_err(|r| r.kind), Err("refused.temperature_invalid"));
    }

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
        assert_eq!(waiting, [Status::AwaitingTransfer, Status::AwaitingHome, Status::InTransit, Status::HomeQuarantine]);
        for s in waiting {
            assert!(s.given_room() == s || s.may_become(s.given_room()));
        }
        assert_eq!(Status::AwaitingHome.given_room(), Status::AwaitingTransfer, "a room at a site means a ride there");
    }

    #[test]
    fn an_order_whose_plan_starts_at_home_waits_on_the_home_list_not_for_a_transfer() {
        assert_eq!(Status::waiting_for(StageKind::Centralized), Status::AwaitingTransfer);
        assert_eq!(Status::waiting_for(StageKind::HomeQuarantine), Status::AwaitingHome);
        assert_eq!(Status::waiting_for(StageKind::HomeMonitoring), Status::AwaitingHome);
        assert!(Status::AwaitingHome.may_become(Status::HomeQuarantine));
        assert!(Status::AwaitingHome.may_become(Status::HomeMonitoring));
    }

    #[test]
    fn a_recompute_moves_only_people_waiting_or_at_home_and_only_along_allowed_moves() {
        use Status::*;
        let site = Some(StageKind::Centralized);
        let home = Some(StageKind::HomeQuarantine);
        assert_eq!(AwaitingHome.placed(site, false, true), AwaitingTransfer, "a secondary become close goes to a site");
        assert_eq!(AwaitingTransfer.placed(home, false, false), AwaitingHome, "a new rule sends them home");
        assert_eq!(AwaitingTransfer.placed(home, true, false), AwaitingTransfer, "a room held: the ride still comes");
        assert_eq!(HomeQuarantine.placed(site, false, true), AwaitingTransfer);
        assert_eq!(HomeMonitoring.placed(site, false, false), HomeMonitoring, "checked out early: the site is served, home stays");
        assert_eq!(HomeQuarantine.placed(Some(StageKind::HomeMonitoring), false, false), HomeQuarantine, "stages at home move by hand");
        assert_eq!(Centralized.placed(home, true, false), Centralized, "a site checks out");
        assert_eq!(AwaitingHome.placed(None, false, false), AwaitingHome, "a period over waits for its release");
        let stages = [None, site, home, Some(StageKind::HomeMonitoring)];
        for from in Status::ALL.iter().copied() {
            for due in stages {
                for (room, newly) in [(false, false), (false, true), (true, false), (true, true)] {
                    let to = from.placed(due, room, newly);
                    assert!(to == from || from.may_become(to), "{from:?} → {to:?}");
                    assert!(!(room && to == AwaitingHome && from != AwaitingHome), "a room held never sends anyone home");
                }
            }
        }
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
