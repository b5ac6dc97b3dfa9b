//! What runs only on the embedded SQLite: the hot paths on the synchronous rusqlite connection
//! (`SqliteBackend::with_bulk`), with prepared statements inside one transaction. The portable
//! queries, and the pure planners both dialects call, stay in the workflow's own module.

use chrono::{DateTime, Utc};

pub(crate) mod batch;
pub(crate) mod checkins;
pub(crate) mod observation;
pub(crate) mod results;

/// A time as the SQLite driver stores it (RFC 3339, so that text order is time order).
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}
