//! Check-ins on SQLite: prepared INSERTs in one transaction on the synchronous connection.

use crate::contacts::{CheckIn, Graph};
use crate::{Result, SqliteBackend, StoreError};

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

/// Every scan stored, as of one snapshot, with the last `checkin_writes` id it holds; None when
/// one does not fit the graph. On its own connection, so that the writer is not held.
pub(crate) async fn read_graph(b: &SqliteBackend) -> Result<Option<(Graph, i64)>> {
    let path = b.path.clone();
    tokio::task::spawn_blocking(move || -> Result<Option<(Graph, i64)>> {
        let mut conn = super::open(&path)?;
        let tx = conn.transaction()?;
        let watermark: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM checkin_writes", [], |r| r.get(0))?;
        let mut graph = Graph::default();
        {
            let mut stmt = tx.prepare("SELECT person_id, venue_id, at_s, left_s FROM checkins")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let c = CheckIn { person_id: r.get(0)?, venue_id: r.get(1)?, at: r.get(2)?, left: r.get(3)? };
                if !graph.push(&c) {
                    return Ok(None);
                }
            }
        }
        tx.commit()?;
        graph.sort();
        Ok(Some((graph, watermark)))
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?
}
