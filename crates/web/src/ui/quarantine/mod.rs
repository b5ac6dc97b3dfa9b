//! Quarantine sites (隔离点): the board of sites and beds with who waits for a room, and each
//! site's own page for its head: rooms, arrivals, tests at the door, health checks, cleaning,
//! check-out and the floor restart.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

mod board;
mod care;
mod rooms;
mod site;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/quarantine", get(board::board))
        .route("/quarantine/sites", post(board::create_site))
        .route("/quarantine/assignments", post(board::assign))
        .route("/quarantine/sites/{id}", get(site::site))
        .route("/quarantine/sites/{id}/rooms", post(rooms::add_rooms))
        .route("/quarantine/sites/{id}/rooms/{room}", post(rooms::room_status))
        .route("/quarantine/sites/{id}/room-status", post(rooms::room_status_picked))
        .route("/quarantine/sites/{id}/people/{order}/check-in", post(rooms::check_in))
        .route("/quarantine/sites/{id}/people/{order}/check-out", post(rooms::check_out))
        .route("/quarantine/sites/{id}/tests", post(care::take_test))
        .route("/quarantine/sites/{id}/health", post(care::health))
        .route("/quarantine/sites/{id}/restart", post(care::restart))
}
