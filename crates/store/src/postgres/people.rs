//! People loaded in bulk on PostgreSQL: each batch `COPY`ed into a temporary stage, then merged
//! with set-based `INSERT … ON CONFLICT DO NOTHING` (idempotent, Citus-safe).

use std::fmt::Write as _;

use cordon_domain::NewPerson;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use super::copy_field;
use crate::Result;
use crate::bulk::PERSON_COLUMNS;

/// Makes the connection's stage (emptied at each commit).
pub(crate) async fn stage(conn: &mut PoolConnection<Postgres>) -> Result<()> {
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS person_stage (id_kind TEXT, id_number TEXT, id_tail TEXT, \
         name TEXT, sex TEXT, birth_date DATE, phone TEXT, area_code TEXT, address TEXT, tags BIGINT) \
         ON COMMIT DELETE ROWS",
    )
    .execute(&mut **conn)
    .await?;
    Ok(())
}

/// Stores a batch in one transaction through the stage; returns how many people were new.
pub(crate) async fn write(conn: &mut PoolConnection<Postgres>, batch: &[NewPerson]) -> Result<u64> {
    let mut buf = String::with_capacity(batch.len() * 96);
    for p in batch {
        let birth = p.birth_date.format("%Y-%m-%d").to_string();
        copy_field(&mut buf, Some(p.document.kind()), false);
        copy_field(&mut buf, Some(p.document.number()), false);
        copy_field(&mut buf, Some(&p.document.tail4()), false);
        copy_field(&mut buf, Some(p.name.as_str()), false);
        copy_field(&mut buf, Some(p.sex.as_str()), false);
        copy_field(&mut buf, Some(&birth), false);
        copy_field(&mut buf, p.phone.as_ref().map(|x| x.as_str()), false);
        copy_field(&mut buf, Some(p.area_code.as_str()), false);
        copy_field(&mut buf, p.address.as_deref(), false);
        let _ = writeln!(&mut buf, "{}", p.tags.bits());
    }
    let mut tx = sqlx::Acquire::begin(&mut **conn).await?;
    let mut copy = tx
        .copy_in_raw("COPY person_stage (id_kind, id_number, id_tail, name, sex, birth_date, phone, area_code, address, tags) FROM STDIN")
        .await?;
    copy.send(buf.into_bytes()).await?;
    copy.finish().await?;
    sqlx::query(
        "INSERT INTO households (area_code, address) SELECT DISTINCT area_code, address FROM person_stage \
         WHERE address IS NOT NULL ON CONFLICT (area_code, address) DO NOTHING",
    )
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO persons ({PERSON_COLUMNS}) SELECT s.id_kind, s.id_number, s.id_tail, s.name, s.sex, \
         s.birth_date, s.phone, h.id, s.area_code, s.tags FROM person_stage s LEFT JOIN households h \
         ON h.area_code = s.area_code AND h.address = s.address ON CONFLICT (id_number) DO NOTHING"
    )))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}
