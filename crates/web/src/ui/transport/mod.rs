//! Transport of tubes (转运): a round's boxes and labs, and a box's receipt at the lab.

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

mod batch;
mod board;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/transport", get(board::round_transport))
        .route("/transport/rounds/{id}/batches", post(board::dispatch))
        .route("/transport/labs", post(board::create_lab))
        .route("/transport/batches/{id}", get(batch::batch))
        .route("/transport/batches/{id}/receipt", post(batch::receive))
}
