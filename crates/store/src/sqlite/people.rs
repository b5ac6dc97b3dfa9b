//! People loaded in bulk on SQLite: prepared INSERTs in one transaction a batch, with the
//! households already met kept in memory.

use std::collections::HashMap;
use std::path::Path;

use cordon_domain::NewPerson;
use cordon_domain::person::{Reimport, Stored};

use crate::Result;
use crate::bulk::{PERSON_COLUMNS, Written};

/// A bulk load's own connection, and the household ids it has met.
pub(crate) struct PeopleWriter {
    conn: rusqlite::Connection,
    /// Household ids by area code, then address.
    households: HashMap<String, HashMap<String, i64>>,
}

impl PeopleWriter {
    pub(crate) fn open(path: &Path) -> Result<PeopleWriter> {
        Ok(PeopleWriter { conn: super::open(path)?, households: HashMap::new() })
    }

    /// Stores a batch in one transaction; says how many people were new and which members
    /// differ from the person already stored. After a failure the households met are forgotten
    /// (the transaction that made some of them rolled back).
    pub(crate) fn write(&mut self, batch: &[NewPerson]) -> Result<Written> {
        let r = self.write_batch(batch);
        if r.is_err() {
            self.households.clear();
        }
        r
    }

    fn write_batch(&mut self, batch: &[NewPerson]) -> Result<Written> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut written = Written::default();
        {
            let mut add_household = tx.prepare_cached(
                "INSERT INTO households (area_code, address) VALUES (?1, ?2) ON CONFLICT (area_code, address) DO NOTHING",
            )?;
            let mut find_household = tx.prepare_cached("SELECT id FROM households WHERE area_code = ?1 AND address = ?2")?;
            let mut add_person = tx.prepare_cached(&format!(
                "INSERT INTO persons ({PERSON_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (id_number) DO NOTHING"
            ))?;
            let mut stored = tx.prepare_cached(
                "SELECT p.name, p.phone, p.area_code, h.address FROM persons p LEFT JOIN households h ON h.id = p.household_id \
                 WHERE p.id_number = ?1",
            )?;
            let mut correct = tx.prepare_cached(
                "UPDATE persons SET name = ?2, phone = COALESCE(?3, phone), household_id = COALESCE(?4, household_id) WHERE id_number = ?1",
            )?;
            for (i, p) in batch.iter().enumerate() {
                let area = p.area_code.as_str();
                let household = match &p.address {
                    None => None,
                    Some(addr) => match self.households.get(area).and_then(|m| m.get(addr.as_str())) {
                        Some(id) => Some(*id),
                        None => {
                            let id = if add_household.execute((area, addr))? == 1 {
                                tx.last_insert_rowid()
                            } else {
                                find_household.query_row((area, addr), |r| r.get(0))?
                            };
                            self.households.entry(area.to_string()).or_default().insert(addr.clone(), id);
                            Some(id)
                        }
                    },
                };
                let birth = p.birth_date.format("%Y-%m-%d").to_string();
                let added = add_person.execute(rusqlite::params![
                    p.document.kind(),
                    p.document.number(),
                    p.document.tail4(),
                    p.name.as_str(),
                    p.sex.as_str(),
                    birth,
                    p.phone.as_ref().map(|x| x.as_str()),
                    household,
                    area,
                    p.tags.bits(),
                ])? as u64;
                written.inserted += added;
                if added == 0 {
                    let decision = stored.query_row([p.document.number()], |r| {
                        let (name, phone, area, address): (String, Option<String>, String, Option<String>) =
                            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                        Ok(p.reimport(Stored { name: &name, phone: phone.as_deref(), area_code: &area, address: address.as_deref() }))
                    })?;
                    if let Reimport::Updated(_) = decision {
                        correct.execute(rusqlite::params![
                            p.document.number(),
                            p.name.as_str(),
                            p.phone.as_ref().map(|x| x.as_str()),
                            household
                        ])?;
                    }
                    written.note(i, decision);
                }
            }
        }
        tx.commit()?;
        Ok(written)
    }
}
