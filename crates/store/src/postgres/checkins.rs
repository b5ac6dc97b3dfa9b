//! Check-ins on PostgreSQL: `COPY` straight into the table, through a staging table only when a
//! batch repeats stored scans.

use crate::bulk::copy_field;
use crate::contacts::CheckIn;
use crate::{PgBackend, Result};

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
