//! Backups of the embedded SQLite database while it serves, and putting one back. PostgreSQL has
//! its own tools for both (`pg_dump` / `pg_restore`; the README gives the commands).

use std::path::{Path, PathBuf};

use crate::{Backend, Result, Store, StoreError, sqlite_path};

impl Store {
    /// Writes a copy of the SQLite database to `to` while requests go on: `VACUUM INTO` reads
    /// the database in one read transaction, so the copy is the database as it was at one instant
    /// (every committed write before it, nothing half-written), compacted. Refuses to overwrite.
    pub async fn backup(&self, to: &Path) -> Result<()> {
        match &*self.backend {
            Backend::Sqlite(b) => {
                if to.exists() {
                    return Err(StoreError::Backup(format!("{} already exists: name a new file", to.display())));
                }
                let path = to.to_str().ok_or_else(|| StoreError::Backup(format!("{}: not a UTF-8 path", to.display())))?;
                sqlx::query("VACUUM INTO $1").bind(path).execute(&b.read).await?;
                Ok(())
            }
            Backend::Postgres(_) => {
                Err(StoreError::Backup("on PostgreSQL, back up with pg_dump -Fc (the README gives the commands)".into()))
            }
        }
    }
}

/// What [`restore`] put in place.
#[derive(Debug, Clone)]
pub struct Restored {
    pub path: PathBuf,
    /// The migrations the backup had applied (the server brings it up to date when it opens it).
    pub migrations: i64,
}

/// Puts the backup `from` in place of the SQLite database `url` (the server must be stopped).
/// The backup is checked first — `PRAGMA integrity_check` must say ok and it must be a Cordon
/// database — and copied beside the target before it replaces it in one rename, so a failed
/// restore leaves the old database as it was.
pub fn restore(from: &Path, url: &str) -> Result<Restored> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(StoreError::Backup("on PostgreSQL, restore with pg_restore (the README gives the commands)".into()));
    }
    let migrations = {
        let conn = rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| StoreError::Backup(format!("{}: cannot be opened: {e}", from.display())))?;
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| StoreError::Backup(format!("{}: not an SQLite database: {e}", from.display())))?;
        if check != "ok" {
            return Err(StoreError::Backup(format!("{}: the integrity check failed: {check}", from.display())));
        }
        conn.query_row("SELECT COUNT(*) FROM _sqlx_migrations WHERE success", [], |r| r.get::<_, i64>(0))
            .map_err(|_| StoreError::Backup(format!("{}: not a Cordon database", from.display())))?
    };
    let target = sqlite_path(url);
    let mut staging = target.clone().into_os_string();
    staging.push(".restoring");
    let staging = PathBuf::from(staging);
    std::fs::copy(from, &staging)?;
    std::fs::File::open(&staging)?.sync_all()?;
    // The old database's write-ahead log belongs to the old file: it must not be replayed into
    // the restored one.
    for suffix in ["-wal", "-shm"] {
        let mut side = target.clone().into_os_string();
        side.push(suffix);
        match std::fs::remove_file(PathBuf::from(side)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    std::fs::rename(&staging, &target)?;
    Ok(Restored { path: target, migrations })
}
