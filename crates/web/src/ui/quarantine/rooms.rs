//! Rooms and people at a site: rooms added a building at a time, check-in and check-out, a
//! room cleaned or taken out of use.

use crate::ui::form::Path;
use axum::response::Response;
use cordon_domain::observation::RoomStatus;
use cordon_domain::observation::Status;
use serde::Deserialize;

use super::site::{SiteAt, site_outcome};
use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::form::{Form, Query};
use crate::ui::observation::status_label;

#[derive(Deserialize)]
pub struct RoomsForm {
    building: String,
    from_floor: i32,
    to_floor: i32,
    rooms_per_floor: u32,
    beds: u32,
}

pub async fn add_rooms(t: Tr, caller: Caller, Path(site): Path<i64>, Query(at): Query<SiteAt>, Form(f): Form<RoomsForm>) -> Response {
    let done = caller
        .0
        .add_rooms(site, &f.building, (f.from_floor, f.to_floor), f.rooms_per_floor, f.beds)
        .await
        .map(|n| t.fill("quarantine.rooms_added", &[("n", &n.to_string())]));
    site_outcome(t, &caller, site, &at, done).await
}

pub async fn check_in(t: Tr, caller: Caller, Path((site, order)): Path<(i64, i64)>, Query(at): Query<SiteAt>) -> Response {
    let done = caller.0.check_in(site, order).await.map(|o| t.fill("quarantine.checked_in", &[("name", &o.name)]));
    site_outcome(t, &caller, site, &at, done).await
}

#[derive(Deserialize)]
pub struct CheckOutForm {
    /// The status the person leaves for: home quarantine, home monitoring, or released.
    to: Status,
}

pub async fn check_out(
    t: Tr,
    caller: Caller,
    Path((site, order)): Path<(i64, i64)>,
    Query(at): Query<SiteAt>,
    Form(f): Form<CheckOutForm>,
) -> Response {
    let done = caller
        .0
        .check_out(site, order, f.to)
        .await
        .map(|o| t.fill("quarantine.checked_out", &[("name", &o.name), ("to", &status_label(t, o.status.as_str()))]));
    site_outcome(t, &caller, site, &at, done).await
}

#[derive(Deserialize)]
pub struct RoomStatusForm {
    to: RoomStatus,
}

pub async fn room_status(
    t: Tr,
    caller: Caller,
    Path((site, room)): Path<(i64, i64)>,
    Query(at): Query<SiteAt>,
    Form(f): Form<RoomStatusForm>,
) -> Response {
    let done = caller.0.set_room_status(site, room, f.to).await.map(|_| t.get("quarantine.room_saved").to_string());
    site_outcome(t, &caller, site, &at, done).await
}

#[derive(Deserialize)]
pub struct PickedRoomForm {
    room_id: i64,
    to: RoomStatus,
}

/// A room picked from a list (taken out of use: a broken fitting, a staff room).
pub async fn room_status_picked(
    t: Tr,
    caller: Caller,
    Path(site): Path<i64>,
    Query(at): Query<SiteAt>,
    Form(f): Form<PickedRoomForm>,
) -> Response {
    let done = caller.0.set_room_status(site, f.room_id, f.to).await.map(|_| t.get("quarantine.room_saved").to_string());
    site_outcome(t, &caller, site, &at, done).await
}
