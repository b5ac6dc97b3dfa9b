//! People loaded in bulk on PostgreSQL: each batch `COPY`ed into a temporary stage, then merged
//! with set-based `INSERT … ON CONFLICT DO NOTHING` (idempotent, Citus-safe).

use std::fmt::Write as _;

use std::collections::HashMap;

use cordon_domain::NewPerson;
use cordon_domain::person::Stored;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use super::copy_field;
use crate::Result;
use crate::bulk::{PERSON_COLUMNS, Written};

/// A stored person as a re-import compares with it: id number, name, phone, area, address.
type StoredRow = (String, String, Option<String>, String, Option<String>);

/// A person's id kind, id number, its last four, name, sex, birth date and phone in COPY text,
/// each followed by a tab.
pub(crate) fn copy_person_head(buf: &mut String, p: &NewPerson) {
    let birth = p.birth_date.format("%Y-%m-%d").to_string();
    copy_field(buf, Some(p.document.kind()), false);
    copy_field(buf, Some(p.document.number()), false);
    copy_field(buf, Some(&p.document.tail4()), false);
    copy_field(buf, Some(p.name.as_str()), false);
    copy_field(buf, Some(p.sex.as_str()), false);
    copy_field(buf, Some(&birth), false);
    copy_field(buf, p.phone.as_ref().map(|x| x.as_str()), false);
}

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

/// Stores a batch in one transaction through the stage; says how many people were new and which
/// members differ from the person already stored (looked for only when some were not new).
pub(crate) async fn write(conn: &mut PoolConnection<Postgres>, batch: &[NewPerson]) -> Result<Written> {
    let mut buf = String::with_capacity(batch.len() * 96);
    for p in batch {
        copy_person_head(&mut buf, p);
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
    let mut written = Written { inserted: done.rows_affected(), ..Default::default() };
    if written.inserted < batch.len() as u64 {
        let stored: Vec<StoredRow> = sqlx::query_as(
            "SELECT DISTINCT p.id_number, p.name, p.phone, p.area_code, h.address FROM person_stage s \
             JOIN persons p ON p.id_number = s.id_number LEFT JOIN households h ON h.id = p.household_id \
             WHERE s.name IS DISTINCT FROM p.name OR s.phone IS DISTINCT FROM p.phone \
             OR s.area_code IS DISTINCT FROM p.area_code OR s.address IS DISTINCT FROM h.address",
        )
        .fetch_all(&mut *tx)
        .await?;
        let stored: HashMap<&str, _> =
            stored.iter().map(|(id, name, phone, area, address)| (id.as_str(), (name, phone, area, address))).collect();
        for (i, p) in batch.iter().enumerate() {
            let Some((name, phone, area, address)) = stored.get(p.document.number()) else { continue };
            written.note(i, p.reimport(Stored { name, phone: phone.as_deref(), area_code: area, address: address.as_deref() }));
        }
        // The corrections in one statement, from the rows as written.
        let corrected: Vec<&NewPerson> = written.updated.iter().map(|(i, _)| &batch[*i]).collect();
        if !corrected.is_empty() {
            sqlx::query(
                "UPDATE persons p SET name = v.name, phone = COALESCE(v.phone, p.phone), household_id = COALESCE(h.id, p.household_id) \
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v (id_number, name, phone, area_code, address) \
                 LEFT JOIN households h ON h.area_code = v.area_code AND h.address = v.address WHERE p.id_number = v.id_number",
            )
            .bind(corrected.iter().map(|p| p.document.number().to_string()).collect::<Vec<_>>())
            .bind(corrected.iter().map(|p| p.name.as_str().to_string()).collect::<Vec<_>>())
            .bind(corrected.iter().map(|p| p.phone.as_ref().map(|x| x.as_str().to_string())).collect::<Vec<_>>())
            .bind(corrected.iter().map(|p| p.area_code.as_str().to_string()).collect::<Vec<_>>())
            .bind(corrected.iter().map(|p| p.address.clone()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(written)
}
