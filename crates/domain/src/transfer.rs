//! Closed-loop transfers (闭环转运): their kinds and deadlines from the time targets, their
//! states, and how a batch of people fills the vehicles at hand.

use crate::access::named_enum;

named_enum! {
    /// What a transfer moves, which sets its deadline.
    TransferKind {
        PositiveToHospital => "positive_to_hospital", "阳性转定点医院";
        ContactToSite => "contact_to_site", "密接转集中隔离";
        ReleaseHome => "release_home", "解除隔离点对点送返";
        MedicalTrip => "medical_trip", "就医转运";
    }
}

/// The provinces' one-character abbreviations a mainland plate starts with.
const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// A vehicle's plate as the board shows it (`晋A·12345`): a province's character, the issuing
/// letter, then up to 6 letters and digits (a new-energy plate has 6; a unit's own numbering on a
/// fleet may be shorter), with or without the dot and spaces as typed. Anything else (`abc`) is
/// refused with the shape it should have.
pub fn plate(s: &str) -> Result<String, crate::refusal::Refusal> {
    let typed = s.trim();
    let compact: String = typed.chars().filter(|c| !matches!(c, ' ' | '·' | '.' | '-' | '•')).flat_map(char::to_uppercase).collect();
    // A plate may end in its kind's character: police, coach, trailer, consulate, emergency.
    let (body, suffix) = ["应急", "警", "学", "挂", "领", "使", "港", "澳"]
        .iter()
        .find_map(|k| compact.strip_suffix(k).map(|b| (b.to_string(), *k)))
        .unwrap_or((compact.clone(), ""));
    let mut chars = body.chars();
    let (province, letter) = (chars.next(), chars.next());
    let rest: String = chars.collect();
    let ok = province.is_some_and(|p| PROVINCES.contains(p))
        && letter.is_some_and(|l| l.is_ascii_uppercase())
        && (1..=6).contains(&rest.chars().count())
        && rest.chars().all(|c| c.is_ascii_alphanumeric());
    match (ok, province, letter) {
        (true, Some(p), Some(l)) => Ok(format!("{p}{l}·{rest}{suffix}")),
        _ => Err(crate::refusal!("refused.plate", plate = typed)),
    }
}

named_enum! {
    TransferStatus {
        Planned => "planned", "待发车";
        Dispatched => "dispatched", "已发车";
        PickedUp => "picked_up", "已接到";
        Arrived => "arrived", "已送达";
        Cancelled => "cancelled", "已取消";
    }
}

named_enum! {
    VehicleKind {
        Bus => "bus", "大巴";
        Ambulance => "ambulance", "负压救护车";
        Car => "car", "小车";
    }
}

impl VehicleKind {
    /// The kinds a confirmed or asymptomatic case may ride to hospital in: a negative-pressure
    /// ambulance, never a bus or car shared with others.
    pub const FOR_CASES: [VehicleKind; 1] = [VehicleKind::Ambulance];
}

/// Whether a case may be sent to hospital in a vehicle of `kind` with `escort`: only in a kind
/// meant for cases ([`VehicleKind::FOR_CASES`]), and never without a named escort (a doctor or
/// nurse of the 120 team). Alone or with other cases only: a busy vehicle is not offered.
pub fn case_ride(kind: VehicleKind, escort: &str) -> Result<(), crate::refusal::Refusal> {
    if !VehicleKind::FOR_CASES.contains(&kind) {
        return Err(crate::refusal!("refused.case_vehicle_kind", kind = crate::refusal::term("dispatch.vehicle", kind.as_str())));
    }
    if escort.trim().is_empty() {
        return Err(crate::refusal!("refused.case_needs_escort"));
    }
    Ok(())
}

/// Whether contacts may be seated for a site in vehicles of these kinds: some people and at
/// least one vehicle are chosen, and no negative-pressure ambulance — those are kept for cases
/// (a positive must reach hospital within 2 hours; contacts ride a bus or a car).
pub fn contact_ride(people: usize, kinds: &[VehicleKind]) -> Result<(), crate::refusal::Refusal> {
    if people == 0 {
        return Err(crate::refusal!("refused.plan_needs_people"));
    }
    if kinds.is_empty() {
        return Err(crate::refusal!("refused.plan_needs_vehicle"));
    }
    if kinds.iter().any(|k| VehicleKind::FOR_CASES.contains(k)) {
        return Err(crate::refusal!("refused.contacts_in_ambulance"));
    }
    Ok(())
}

impl TransferStatus {
    /// A transfer still under way: its vehicle is busy and its people are not yet there.
    pub const OPEN: [TransferStatus; 3] = [TransferStatus::Planned, TransferStatus::Dispatched, TransferStatus::PickedUp];
}

impl TransferKind {
    /// Hours from the person's identification to arrival (DOMAIN time targets: a positive in
    /// hospital within 2 h, close contacts in centralized quarantine within 12 h; a released
    /// person home the same morning).
    /// When a transfer of this kind must have arrived, counted from `from` (the person's
    /// identification: the case made, the contact handed over, the release).
    pub fn deadline(self, from: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        from + chrono::Duration::hours(self.deadline_hours())
    }

    pub fn deadline_hours(self) -> i64 {
        match self {
            TransferKind::PositiveToHospital => 2,
            TransferKind::ContactToSite => 12,
            TransferKind::ReleaseHome => 4,
            // A medical need called in to the hotline (a dialysis, a birth): at hospital
            // within 2 hours of the request.
            TransferKind::MedicalTrip => 2,
        }
    }
}

impl TransferStatus {
    /// Still under way (one of [`TransferStatus::OPEN`]).
    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// The next step of a transfer (cancelling is allowed until pick-up).
    pub fn may_become(self, to: TransferStatus) -> bool {
        use TransferStatus::*;
        matches!((self, to), (Planned, Dispatched) | (Dispatched, PickedUp) | (PickedUp, Arrived) | (Planned | Dispatched, Cancelled))
    }
}

/// Fills vehicles in the order given with `people` passengers: each vehicle's seats less one
/// for the escort, a positive case alone in an ambulance. Answers the passengers per vehicle
/// used and how many are left without a seat.
pub fn fill_vehicles(people: usize, seats: &[u32]) -> (Vec<usize>, usize) {
    let mut left = people;
    let mut out = Vec::new();
    for &s in seats {
        if left == 0 {
            break;
        }
        let room = (s.saturating_sub(1) as usize).max(1);
        let take = room.min(left);
        out.push(take);
        left -= take;
    }
    (out, left)
}

#[cfg(test)]
mod tests {
    #[test]
    fn contacts_ride_a_chosen_bus_or_car_never_an_ambulance_kept_for_cases() {
        use VehicleKind::{Ambulance, Bus, Car};
        let kind = |n, kinds: &[VehicleKind]| contact_ride(n, kinds).map_err(|r| r.kind);
        assert_eq!(kind(3, &[Bus, Car]), Ok(()));
        assert_eq!(kind(0, &[Bus]), Err("refused.plan_needs_people"));
        assert_eq!(kind(3, &[]), Err("refused.plan_needs_vehicle"));
        assert_eq!(kind(3, &[Bus, Ambulance]), Err("refused.contacts_in_ambulance"));
    }

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_transfer_is_open_until_it_arrives_or_is_called_off() {
        let open: Vec<TransferStatus> = TransferStatus::ALL.iter().copied().filter(|s| s.is_open()).collect();
        assert_eq!(open, [TransferStatus::Planned, TransferStatus::Dispatched, TransferStatus::PickedUp]);
        assert!(!TransferStatus::Arrived.is_open() && !TransferStatus::Cancelled.is_open());
    }

    #[test]
    fn a_positive_is_due_in_hospital_in_two_hours_a_contact_at_a_site_in_twelve_and_home_in_four() {
        let planned = chrono::DateTime::parse_from_rfc3339("2022-04-13T01:30:00+08:00").unwrap().to_utc();
        let due = |k: TransferKind| (k.deadline(planned) - planned).num_hours();
        assert_eq!(due(TransferKind::PositiveToHospital), 2);
        assert_eq!(due(TransferKind::ContactToSite), 12);
        assert_eq!(due(TransferKind::ReleaseHome), 4);
    }

    #[test]
    fn a_case_rides_in_an_ambulance_with_an_escort_and_nothing_else() {
        assert!(case_ride(VehicleKind::Ambulance, "120 急救 张医生").is_ok());
        assert_eq!(case_ride(VehicleKind::Bus, "张医生").unwrap_err().kind, "refused.case_vehicle_kind");
        assert_eq!(case_ride(VehicleKind::Car, "张医生").unwrap_err().arg("kind"), Some("car"));
        assert_eq!(case_ride(VehicleKind::Ambulance, "  ").unwrap_err().kind, "refused.case_needs_escort");
    }

    #[test]
    fn the_park_staff_fill_seventeen_buses() {
        // 327 people, 20-seat buses with one escort each: 17 buses.
        let (loads, left) = fill_vehicles(327, &[20; 20]);
        assert_eq!((loads.len(), left), (18, 0));
        assert_eq!(loads[..17].iter().sum::<usize>(), 323);
        let (loads, left) = fill_vehicles(327, &[21; 17]);
        assert_eq!((loads.len(), loads.iter().sum::<usize>(), left), (17, 327, 0));
        let (loads, left) = fill_vehicles(5, &[4]);
        assert_eq!((loads, left), (vec![3], 2));
        assert_eq!(TransferKind::PositiveToHospital.deadline_hours(), 2);
        let at = chrono::DateTime::parse_from_rfc3339("2022-04-14T01:30:00+08:00").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(TransferKind::PositiveToHospital.deadline(at).to_rfc3339(), "2022-04-13T19:30:00+00:00", "in hospital by 03:30");
        assert_eq!(TransferKind::ContactToSite.deadline(at) - at, chrono::Duration::hours(12));
        assert!(TransferStatus::Planned.may_become(TransferStatus::Dispatched));
        assert!(!TransferStatus::Planned.may_become(TransferStatus::Arrived));
        assert!(!TransferStatus::PickedUp.may_become(TransferStatus::Cancelled));
    }

    proptest! {
        #[test]
        fn nobody_is_seated_twice_or_lost(people in 0usize..500, seats in proptest::collection::vec(1u32..60, 0..30)) {
            let (loads, left) = fill_vehicles(people, &seats);
            prop_assert_eq!(loads.iter().sum::<usize>() + left, people);
            prop_assert!(loads.len() <= seats.len());
            for (l, s) in loads.iter().zip(&seats) {
                prop_assert!(*l >= 1 && *l < (*s as usize).max(2));
            }
        }
    }

    #[test]
    fn a_plate_is_read_as_typed_and_refused_when_it_is_no_plate() {
        for (typed, shown) in [
            ("晋A·12345", "晋A·12345"),
            ("晋a12345", "晋A·12345"),
            ("晋A D1001", "晋A·D1001"),
            ("晋A·120", "晋A·120"),
            ("粤B·D12345", "粤B·D12345"),
            ("晋A·1234警", "晋A·1234警"),
            ("晋A 0123应急", "晋A·0123应急"),
        ] {
            assert_eq!(plate(typed).as_deref(), Ok(shown), "{typed}");
        }
        for bad in ["abc", "晋·12345", "AB12345", "晋A·", "晋A·1234567", "晋A·12-34?"] {
            assert_eq!(plate(bad).map_err(|r| r.kind), Err("refused.plate"), "{bad}");
        }
    }
}
