//! A checkpoint's passage, written on the one writer's connection: `checkpoints.rs` decides, this
//! writes the row ([`crate::checkpoints::INSERT_PASSAGE`]).

use crate::Result;
use crate::checkpoints::{INSERT_PASSAGE, PassageRow};

/// Inserts one passage and answers its id; `None` when its client id was logged already.
pub(crate) fn insert_passage(c: &rusqlite::Connection, row: &PassageRow) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension as _;
    let id = c
        .prepare_cached(&crate::sqlite_sql(INSERT_PASSAGE))?
        .query_row(
            rusqlite::params![
                row.checkpoint_id,
                row.area_code,
                row.person_id,
                row.id_number,
                row.plate,
                row.direction,
                row.medical_exit,
                row.colour,
                row.decision,
                row.reasons,
                super::time(row.passed_at),
                row.recorded_by,
                row.client_id,
                row.received_at.map(super::time),
                row.by_hand
            ],
            |r| r.get(0),
        )
        .optional()?;
    Ok(id)
}
