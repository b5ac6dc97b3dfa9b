//! Bulk ingest of people: the fast paths behind imports and the demo generator. SQLite writes
//! through one rusqlite connection with prepared statements (`sqlite::people`); PostgreSQL stages
//! each batch with `COPY` and merges it with set-based `INSERT … ON CONFLICT DO NOTHING`
//! (`postgres::people`). Either way, re-writing a person already stored changes nothing unless
//! the row corrects them ([`cordon_domain::NewPerson::reimport`]).

use cordon_domain::NewPerson;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use crate::sqlite::people::PeopleWriter;
use crate::{Backend, Result, Store, StoreError};

/// The columns of a person as both dialects' loads write them.
pub(crate) const PERSON_COLUMNS: &str = "id_kind, id_number, id_tail, name, sex, birth_date, phone, household_id, area_code, tags";

/// Writes batches of validated people; re-writing a person already stored changes nothing unless
/// the row corrects their name, phone or address.
pub struct PersonWriter {
    inner: Inner,
}

enum Inner {
    // An Option so that the connection can move into a blocking task and come back.
    Sqlite(Option<PeopleWriter>),
    Postgres(PoolConnection<Postgres>),
}

impl Store {
    /// A writer for bulk person loads. On SQLite it holds its own write connection for its life.
    pub async fn person_writer(&self) -> Result<PersonWriter> {
        let inner = match &*self.backend {
            Backend::Sqlite(b) => {
                let path = b.path.clone();
                let writer =
                    tokio::task::spawn_blocking(move || PeopleWriter::open(&path)).await.map_err(|e| StoreError::Task(e.to_string()))??;
                Inner::Sqlite(Some(writer))
            }
            Backend::Postgres(b) => {
                let mut conn = b.pool.acquire().await?;
                crate::postgres::people::stage(&mut conn).await?;
                Inner::Postgres(conn)
            }
        };
        Ok(PersonWriter { inner })
    }
}

/// What a batch did.
#[derive(Debug, Default)]
pub struct Written {
    /// People newly stored.
    pub inserted: u64,
    /// Members of the batch (by index) whose stored person they corrected, with the fields
    /// ([`cordon_domain::person::Reimport::Updated`]).
    pub updated: Vec<(usize, Vec<&'static str>)>,
    /// Members whose stored person lives in another area: nothing changed; the fields that differ.
    pub kept: Vec<(usize, Vec<&'static str>)>,
}

impl Written {
    /// Notes what member `i` of the batch does to its stored person.
    pub(crate) fn note(&mut self, i: usize, decision: cordon_domain::person::Reimport) {
        use cordon_domain::person::Reimport;
        match decision {
            Reimport::Same => {}
            Reimport::Updated(fields) => self.updated.push((i, fields)),
            Reimport::Kept(fields) => self.kept.push((i, fields)),
        }
    }
}

impl PersonWriter {
    /// Stores a batch in one transaction; returns how many people were new.
    pub async fn write(&mut self, batch: Vec<NewPerson>) -> Result<u64> {
        Ok(self.write_checked(batch).await?.inserted)
    }

    /// Like [`PersonWriter::write`], also saying which members corrected people already stored
    /// under their ids, and which differ from them and changed nothing.
    pub async fn write_checked(&mut self, batch: Vec<NewPerson>) -> Result<Written> {
        match &mut self.inner {
            Inner::Sqlite(slot) => {
                let mut writer = slot.take().ok_or_else(|| StoreError::Task("writer lost after an earlier failure".into()))?;
                let (writer, result) = tokio::task::spawn_blocking(move || {
                    let r = writer.write(&batch);
                    (writer, r)
                })
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?;
                *slot = Some(writer);
                result
            }
            Inner::Postgres(conn) => crate::postgres::people::write(conn, &batch).await,
        }
    }
}
