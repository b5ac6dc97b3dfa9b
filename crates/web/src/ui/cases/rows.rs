//! Rows the case pages share: an investigation with its clocks, the places of a trajectory, the
//! contacts found.

use chrono::Utc;
use cordon_domain::cases::exposure::ExposureStatus;
use cordon_domain::cases::investigation::Part;
use cordon_store::investigations::Investigation;

use crate::format::local;
use crate::i18n::Tr;
use crate::ui::Places;
use crate::ui::clock::{ClockCell, clock_cell};

pub struct QueueRow {
    pub id: i64,
    pub case_id: i64,
    pub case_number: String,
    pub person: String,
    pub classification: String,
    pub area_code: String,
    /// The village (with its township) the case lives in, by name.
    pub place: String,
    pub opened: String,
    pub core: ClockCell,
    pub report: ClockCell,
    pub phone: Option<String>,
    pub site: Option<String>,
    pub overdue: bool,
}

pub(super) fn queue_row(t: &Tr, places: &Places, i: Investigation) -> QueueRow {
    let now = Utc::now();
    QueueRow {
        overdue: i.overdue(now),
        core: clock_cell(t, i.core_due_at, i.core_clock(now)),
        report: clock_cell(t, i.report_due_at, i.report_clock(now)),
        phone: i.holder(Part::Phone).map(|a| a.display_name.clone()),
        site: i.holder(Part::Site).map(|a| a.display_name.clone()),
        id: i.id,
        case_id: i.case_id,
        case_number: i.case_number,
        person: i.person_name.unwrap_or_default(),
        classification: t.get(&format!("case.class.{}", i.classification)).to_string(),
        place: places.name(&i.area_code),
        area_code: i.area_code,
        opened: local(i.opened_at),
    }
}

pub struct ContactRow {
    pub person_id: i64,
    pub name: String,
    pub area_code: String,
    /// Where they live, by name.
    pub place: String,
    pub degree: String,
    pub kinds: String,
    pub paths: usize,
    pub status: String,
    pub proposed: bool,
    pub handed_over: bool,
    pub exposure_ids: String,
}

pub struct PlaceRow {
    pub from: String,
    pub until: String,
    pub kind: String,
    pub place: String,
    pub detail: String,
}

pub(super) fn place_rows(t: &Tr, entries: Vec<cordon_store::trajectories::TrajectoryEntry>) -> Vec<PlaceRow> {
    entries
        .into_iter()
        .map(|e| PlaceRow {
            from: local(e.from_at),
            until: e.until_at.map(local).unwrap_or_else(|| "—".into()),
            kind: t.get(&format!("place.{}", e.kind)).to_string(),
            place: e.place,
            detail: e.detail.unwrap_or_default(),
        })
        .collect()
}

pub(super) fn contact_rows(t: &Tr, places: &Places, contacts: Vec<cordon_store::exposures::Contact>) -> Vec<ContactRow> {
    contacts
        .into_iter()
        .map(|c| ContactRow {
            proposed: c.status == ExposureStatus::Proposed,
            handed_over: c.status == ExposureStatus::HandedOver,
            degree: t.get(&format!("contacts.degree.{}", c.degree)).to_string(),
            kinds: c.kinds.iter().map(|k| t.get(&format!("contacts.kind.{k}")).to_string()).collect::<Vec<_>>().join("、"),
            status: t.get(&format!("contacts.status.{}", c.status)).to_string(),
            exposure_ids: c.exposure_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","),
            person_id: c.person_id,
            name: c.name,
            place: places.name(&c.area_code),
            area_code: c.area_code,
            paths: c.paths,
        })
        .collect()
}
