//! Check-ins on SQLite: prepared INSERTs in one transaction on the synchronous connection.

use crate::contacts::CheckIn;
use crate::{Result, SqliteBackend};

/// Stores scans, a stored one changing nothing, and leaves the batch's `checkin_writes` row:
/// how many were new, that row's id, and the scans (see `Store::write_checkins`).
pub(crate) async fn write(b: &SqliteBackend, rows: Vec<CheckIn>) -> Result<(u64, i64, Vec<CheckIn>)> {
    b.with_bulk(move |conn| {
        let tx = conn.transaction()?;
        let mut n = 0;
        {
            let mut add = tx.prepare_cached(
                "INSERT INTO checkins (person_id, venue_id, at_s, left_s) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )?;
            for c in &rows {
                n += add.execute(rusqlite::params![c.person_id, c.venue_id, c.at, c.left])? as u64;
            }
        }
        let id: i64 = tx.query_row("INSERT INTO checkin_writes (rows) VALUES (?1) RETURNING id", [n as i64], |r| r.get(0))?;
        tx.commit()?;
        Ok((n, id, rows))
    })
    .await
}
