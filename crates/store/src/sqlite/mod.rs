//! What runs only on the embedded SQLite: the hot paths on the synchronous rusqlite connection
//! (`SqliteBackend::with_bulk`), with prepared statements inside one transaction. The portable
//! queries, and the pure planners both dialects call, stay in the workflow's own module.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::Result;

pub(crate) mod batch;
pub(crate) mod cases;
pub(crate) mod checkins;
pub(crate) mod checkpoints;
pub(crate) mod observation;
pub(crate) mod people;
pub(crate) mod results;
pub(crate) mod station;
pub(crate) mod supplies;
pub(crate) mod writer;

/// A time as the SQLite driver stores it (RFC 3339, so that text order is time order).
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// A stored time read back as the sqlx SQLite driver reads it (RFC 3339, or with a space for the
/// `T`, or without an offset as UTC); none for text that is no time.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
}

/// A synchronous connection of its own, for a bulk load or a long read beside the pools.
pub(crate) fn open(path: &Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Temporary b-trees and statement journals in memory, as on the pools: a statement that may
    // stop part-way (an INSERT … SELECT of 50,000 people) keeps the pages it changes in a
    // statement journal, which SQLite spills to a file past 64 KiB unless temporary storage is
    // memory — a third of a 100,000-person load's time went to writing that file.
    conn.pragma_update(None, "temp_store", "memory")?;
    // A large load touches index pages all over: keep them in memory (256 MiB) and let the WAL
    // grow (up to ~1 GiB) instead of checkpointing the same pages after every batch.
    conn.pragma_update(None, "cache_size", -262_144)?;
    conn.pragma_update(None, "wal_autocheckpoint", 262_144)?;
    // Room for every statement of the one writer's requests (a scan, a door test, a case with
    // its fourteen, …): rusqlite keeps 16 by default, and a statement pushed out is parsed
    // again the next time it runs.
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}
