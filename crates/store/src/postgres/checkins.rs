//! Check-ins on PostgreSQL: `COPY` straight into the table, through a staging table only when a
//! batch repeats stored scans.

use futures_util::StreamExt;

use super::copy_field;
use crate::contacts::{CheckIn, Graph};
use crate::{PgBackend, Result, StoreError};

/// Stores scans, a stored one changing nothing, and leaves the batch's `checkin_writes` row:
/// how many were new, that row's id, and the scans (see `Store::write_checkins`).
pub(crate) async fn write(b: &PgBackend, rows: Vec<CheckIn>) -> Result<(u64, i64, Vec<CheckIn>)> {
    let buf = copy_text(&rows).into_bytes();
    let mut conn = b.pool.acquire().await?;
    let mut tx = sqlx::Acquire::begin(&mut *conn).await?;
    // Most batches are new scans: COPY them straight in. A batch that repeats a
    // stored scan fails at the repeat, goes back to the savepoint, and is staged
    // instead, where a repeat changes nothing.
    let mut first_try = sqlx::Acquire::begin(&mut *tx).await?;
    let mut copy = first_try.copy_in_raw("COPY checkins (person_id, venue_id, at_s, left_s) FROM STDIN").await?;
    copy.send(&buf[..]).await?;
    let n = match copy.finish().await {
        Ok(n) => {
            first_try.commit().await?;
            n
        }
        Err(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()) => {
            first_try.rollback().await?;
            sqlx::query(
                "CREATE TEMP TABLE IF NOT EXISTS checkin_stage (person_id BIGINT, venue_id BIGINT, at_s BIGINT, left_s BIGINT) ON COMMIT DELETE ROWS",
            )
            .execute(&mut *tx)
            .await?;
            let mut copy = tx.copy_in_raw("COPY checkin_stage (person_id, venue_id, at_s, left_s) FROM STDIN").await?;
            copy.send(buf).await?;
            copy.finish().await?;
            sqlx::query(
                "INSERT INTO checkins (person_id, venue_id, at_s, left_s) SELECT person_id, venue_id, at_s, left_s FROM checkin_stage ON CONFLICT DO NOTHING",
            )
            .execute(&mut *tx)
            .await?
            .rows_affected()
        }
        Err(e) => return Err(e.into()),
    };
    let id: i64 =
        sqlx::query_scalar("INSERT INTO checkin_writes (rows) VALUES ($1) RETURNING id").bind(n as i64).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok((n, id, rows))
}

/// Scans as `COPY … FROM STDIN` text.
pub(crate) fn copy_text(rows: &[CheckIn]) -> String {
    let mut buf = String::with_capacity(rows.len() * 40);
    for c in rows {
        copy_field(&mut buf, Some(&c.person_id.to_string()), false);
        copy_field(&mut buf, Some(&c.venue_id.to_string()), false);
        copy_field(&mut buf, Some(&c.at.to_string()), false);
        copy_field(&mut buf, c.left.map(|l| l.to_string()).as_deref(), true);
    }
    buf
}

/// Every scan stored, as of one snapshot (`COPY … TO STDOUT` in a repeatable-read transaction),
/// with the last `checkin_writes` id it holds; None when one does not fit the graph.
pub(crate) async fn read_graph(b: &PgBackend) -> Result<Option<(Graph, i64)>> {
    let mut tx = b.pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let watermark: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0)::BIGINT FROM checkin_writes").fetch_one(&mut *tx).await?;
    let mut graph = Graph::default();
    {
        let mut stream = tx.copy_out_raw("COPY checkins (person_id, venue_id, at_s, left_s) TO STDOUT").await?;
        let mut carry: Vec<u8> = Vec::new();
        let mut fits = true;
        while let Some(chunk) = stream.next().await {
            carry.extend_from_slice(&chunk?);
            let Some(end) = carry.iter().rposition(|b| *b == b'\n') else { continue };
            for line in carry[..end].split(|b| *b == b'\n') {
                let c = parse_copy_line(line)
                    .ok_or_else(|| StoreError::Task(format!("unreadable check-in row {:?}", String::from_utf8_lossy(line))))?;
                fits &= graph.push(&c);
            }
            carry.drain(..=end);
        }
        if !fits {
            return Ok(None);
        }
    }
    tx.commit().await?;
    graph.sort();
    Ok(Some((graph, watermark)))
}

/// One row of `COPY … TO STDOUT` text: four tab-separated integers, `\N` for no exit.
fn parse_copy_line(line: &[u8]) -> Option<CheckIn> {
    let mut f = line.split(|b| *b == b'\t');
    let mut int = || -> Option<Option<i64>> {
        let field = f.next()?;
        if field == b"\\N" {
            return Some(None);
        }
        std::str::from_utf8(field).ok()?.parse().ok().map(Some)
    };
    Some(CheckIn { person_id: int()??, venue_id: int()??, at: int()??, left: int()? })
}
