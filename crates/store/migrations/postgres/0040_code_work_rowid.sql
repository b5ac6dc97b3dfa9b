-- SQLite's 0040_code_work_rowid.sql keys the refresh's scratch by its row id (one b-tree instead
-- of two). PostgreSQL has no row id: nothing changes here; the logical schema stays the same.

SELECT 1;
